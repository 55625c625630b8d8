"""A reindex skips files unchanged since they were last read (size + mtime, or the same
bytes), says how many, and leaves the vector index alone when nothing changed; every real
change is still found. Real files, real store, real model."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from index.library import Library
from index.settings import Settings

LONG_AGO = time.time() - 3600  # older than SETTLE_SECONDS: a remembered state is trusted


def _age(path: Path) -> None:
    os.utime(path, (LONG_AGO, LONG_AGO))


@pytest.fixture
def library(samples: Path, data_dir: Path) -> Iterator[Library]:
    opened = Library(Settings.from_env(data_dir=data_dir))
    report = opened.ingest([samples])
    assert report.added == 11 and report.unchanged_files == 0
    yield opened
    opened.close()


def _article_file(samples: Path) -> Path:
    return samples / "presse-citron-huawei-ai-chips.txt"


def test_a_reindex_with_nothing_changed_reads_no_file_and_keeps_the_index(
        library: Library) -> None:
    generation = library.generations.live_generation()
    report = library.reindex()
    assert (report.unchanged_files, report.unchanged, report.changed) == (11, 11, 0)
    assert report.embedded == report.embedded_sentences == 0
    assert report.vectors == library.generations.record().vectors > 0
    assert library.generations.live_generation() == generation
    assert "11 unchanged files not read again" in report.summary()
    assert not library.ask("Which processors has Huawei decided to focus on?").abstained


def test_a_touched_file_with_the_same_bytes_is_skipped_by_its_hash(
        library: Library, samples: Path) -> None:
    path = _article_file(samples)
    os.utime(path, (LONG_AGO - 60, LONG_AGO - 60))
    generation = library.generations.live_generation()
    report = library.reindex()
    assert (report.unchanged_files, report.changed) == (11, 0)
    assert library.generations.live_generation() == generation


def test_changed_added_and_deleted_files_are_all_found(library: Library,
                                                       samples: Path) -> None:
    generation = library.generations.live_generation()
    changed = _article_file(samples)
    text = changed.read_text(encoding="utf-8")
    assert "dedicated to inference" in text
    changed.write_text(text.replace("dedicated to inference", "dedicated to inferring"),
                       encoding="utf-8")
    _age(changed)
    added = samples / "new-article.txt"
    added.write_text("Zorvik harbour reopens\n\nThe harbour of Zorvik reopened on Monday "
                     "after repairs to its sea wall.\n", encoding="utf-8")
    _age(added)
    deleted = next(p for p in sorted(samples.glob("*.txt")) if p != changed and p != added)
    deleted.unlink()
    report = library.reindex()
    assert (report.added, report.updated, report.removed) == (1, 1, 1)
    assert report.unchanged_files == 9
    assert library.generations.live_generation() != generation
    again = library.reindex()
    assert (again.unchanged_files, again.changed) == (11, 0)


def test_an_article_removed_by_hand_comes_back_at_the_next_reindex(
        library: Library, samples: Path) -> None:
    origin = str(_article_file(samples).resolve())
    assert library.remove(origin)
    report = library.reindex()
    assert (report.added, report.unchanged_files) == (1, 10)


def test_articles_stored_without_an_index_are_indexed_by_a_reindex(
        library: Library, samples: Path) -> None:
    extra = samples.parent / "extra"
    extra.mkdir()
    (extra / "note.txt").write_text("Zorvik opens a bridge\n\nA footbridge over the Wye "
                                    "opened in Zorvik on Tuesday.\n", encoding="utf-8")
    _age(extra / "note.txt")
    assert library.ingest([extra], build_index=False).added == 1
    vectors = library.generations.record().vectors
    report = library.reindex()
    assert report.changed == 0 and report.unchanged_files == 12
    assert library.generations.record().vectors > vectors  # the new passages are in


def test_a_file_written_just_now_is_read_again_until_it_settles(
        library: Library, samples: Path) -> None:
    fresh = samples / "fresh.txt"
    fresh.write_text("Zorvik harbour reopens\n\nThe harbour of Zorvik reopened on Monday "
                     "after repairs to its sea wall.\n", encoding="utf-8")
    assert library.reindex().added == 1
    assert library.reindex().unchanged_files == 11  # too recent to be trusted yet
    _age(fresh)
    library.reindex()
    assert library.reindex().unchanged_files == 12


def test_a_full_reindex_reads_every_file(library: Library) -> None:
    report = library.reindex(full=True)
    assert (report.unchanged_files, report.unchanged) == (0, 11)
