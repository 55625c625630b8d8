"""`JobRunner` holds the bot's one notion of "busy": a background job it runs, a short
write a handler holds, or a write the Library is doing (here a real ingest in another
thread, holding the Library's write lock)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import render
from bot.handlers.jobs import BackgroundJob, JobRunner
from index.library import Library, Progress
from index.settings import Settings
from tests.conftest import SAMPLES


@pytest.fixture
def library(tmp_path: Path) -> Iterator[Library]:
    opened = Library(Settings.from_env(tmp_path / "store"))
    yield opened
    opened.close()


def test_a_claimed_job_makes_the_runner_busy_until_released(library: Library) -> None:
    runner = JobRunner(library, progress_interval=0.1)
    assert not runner.busy and runner.busy_text() is None and runner.activity() is None
    job = BackgroundJob(kind="reindex", full=True)
    assert runner.try_claim(job)
    assert runner.busy and runner.activity() == "a reindex"
    assert runner.busy_text() == render.render_busy(job.text(), "reindex")
    assert "Reindexing (full)…" in str(runner.busy_text())
    assert not runner.try_claim(BackgroundJob(kind="refresh", feeds=2))
    with runner.short_write() as free:
        assert not free
    runner.release(BackgroundJob(kind="reindex"))  # another job: nothing changes
    assert runner.running is job
    runner.release(job)
    assert not runner.busy


def test_a_short_write_keeps_jobs_and_other_writes_out(library: Library) -> None:
    runner = JobRunner(library, progress_interval=0.1)
    with runner.short_write() as free:
        assert free and runner.busy
        assert runner.busy_text() == render.render_busy(None)
        assert runner.activity() == "an ingest or removal"
        assert not runner.try_claim(BackgroundJob(kind="refresh", feeds=1))
        with runner.short_write() as again:
            assert not again
    assert not runner.busy and runner.try_claim(BackgroundJob(kind="refresh", feeds=1))


def test_a_write_the_library_is_doing_counts_as_busy(library: Library) -> None:
    runner = JobRunner(library, progress_interval=0.1)
    reading, go_on = threading.Event(), threading.Event()

    def progress(update: Progress) -> None:  # called inside the Library's write lock
        reading.set()
        go_on.wait(30)

    writer = threading.Thread(target=library.ingest, args=([SAMPLES],),
                              kwargs={"build_index": False, "progress": progress})
    writer.start()
    try:
        assert reading.wait(30), "the ingest did not start"
        assert runner.busy and runner.busy_text() == render.render_busy(None)
        assert not runner.try_claim(BackgroundJob(kind="reindex"))
    finally:
        go_on.set()
        writer.join(60)
    assert not runner.busy
