"""Writes that take a while, and the one notion of "busy".

`JobRunner` is the single place that knows whether the collection is being written: a
background job it runs (a reindex or a feed refresh, `BackgroundJob`), a short write a
handler holds (/add, /remove, following a feed: `exclusive_write`), or a write the Library
itself is doing (`Library.is_busy`). A background job runs its Library work in a worker
thread and edits its one progress message as it goes, then once more with the report.

The handlers here start those jobs: /reindex, /refresh (admins; the registry adds the admin
check) and `scheduled_refresh`, the JobQueue job that refreshes the feeds every so often.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Literal

from telegram import Bot, Update
from telegram.error import TelegramError

from bot import render
from bot.context import CitebotContext
from bot.handlers.messaging import command_argument, reply, reply_usage, user_label
from index.library import IngestReport, Library, Progress
from index.storage.interfaces import StorageError

logger = logging.getLogger(__name__)

JobKind = Literal["reindex", "refresh"]


@dataclass
class BackgroundJob:
    """A reindex (`full` or not) or a refresh of `feeds` feeds, with the message that shows
    its progress (none for a scheduled refresh: `chat_id` is None)."""

    kind: JobKind
    full: bool = False
    feeds: int = 0
    chat_id: int | None = None
    message_id: int = 0
    started: float = field(default_factory=time.monotonic)
    articles_seen: int = 0
    progress: Progress | None = None

    @property
    def what(self) -> str:
        return "feed refresh" if self.kind == "refresh" else "reindex"

    def update(self, progress: Progress) -> None:
        """The Library's progress callback (called in the worker thread)."""
        if progress.stage == "reading":
            self.articles_seen = max(self.articles_seen, progress.articles_seen)
        self.progress = progress

    def text(self) -> str:
        """The progress message (identical progress gives identical text)."""
        if self.kind == "refresh":
            return render.render_refresh_progress(
                feeds=self.feeds, articles_seen=self.articles_seen, progress=self.progress)
        return render.render_reindex_progress(
            full=self.full, articles_seen=self.articles_seen, progress=self.progress)

    def work(self, library: Library) -> IngestReport:
        """The Library call this job makes (in a worker thread)."""
        if self.kind == "refresh":
            return library.refresh(progress=self.update)
        return library.reindex(full=self.full, progress=self.update)

    def report_text(self, report: IngestReport) -> str:
        if self.kind == "refresh":
            return render.render_refresh_report(report)
        return render.render_reindex_report(report, full=self.full)


class JobRunner:
    """Runs background jobs one at a time and tells whether any write is going on."""

    def __init__(self, library: Library, progress_interval: float) -> None:
        self.library = library
        self.progress_interval = progress_interval
        self.running: BackgroundJob | None = None
        self._short_write = False

    # -- busy -------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """Is the collection being written: a job, a short write, or the Library itself?"""
        return self.running is not None or self._short_write or self.library.is_busy()

    def busy_text(self) -> str | None:
        """Why a write can't start now (for the user), or None when nothing is running."""
        if self.running is not None:
            return render.render_busy(self.running.text(), self.running.what)
        return render.render_busy(None) if self.busy else None

    def activity(self) -> str | None:
        """What is running (for the log), or None."""
        if self.running is not None:
            return f"a {self.running.what}"
        return "an ingest or removal" if self.busy else None

    # -- claiming ---------------------------------------------------------------------

    def try_claim(self, job: BackgroundJob) -> bool:
        """Mark `job` as running unless something is (checked and marked at once, with no
        await between, so nothing starts in between)."""
        if self.busy:
            return False
        self.running = job
        return True

    def release(self, job: BackgroundJob) -> None:
        if self.running is job:
            self.running = None

    @contextmanager
    def short_write(self) -> Iterator[bool]:
        """Yields False while something else writes; else True, with the write marked as
        running until the block ends."""
        if self.busy:
            yield False
            return
        self._short_write = True
        try:
            yield True
        finally:
            self._short_write = False

    # -- running ----------------------------------------------------------------------

    async def run(self, bot: Bot, job: BackgroundJob) -> None:
        """Run a claimed `job`'s Library work in a worker thread; edit its progress message
        at most once per interval (only when its text changed), then once more with the
        report. Errors are logged and shown, never raised; the job is released in any case."""
        work = asyncio.ensure_future(asyncio.to_thread(job.work, self.library))
        shown = job.text()
        try:
            while not work.done():
                await asyncio.wait({work}, timeout=self.progress_interval)
                if not work.done() and job.text() != shown:
                    shown = job.text()
                    await self._edit_quietly(bot, job, shown)
            final = job.report_text(work.result())
            logger.info("%s finished: %s", job.what, work.result().summary())
        except StorageError as error:  # the database went away, or another process writes
            logger.warning("%s failed: %s", job.what, error)
            final = render.render_failure(f"{job.what.capitalize()} failed", error)
        except Exception as error:
            logger.exception("%s failed", job.what)
            final = render.render_failure(f"{job.what.capitalize()} failed", error)
        finally:
            self.release(job)
        await self._edit_quietly(bot, job, final)

    @staticmethod
    async def _edit_quietly(bot: Bot, job: BackgroundJob, text: str) -> None:
        """Edit the progress message (if the job has one); a failed edit is logged, not
        fatal to the job."""
        if job.chat_id is None or not job.message_id:
            return
        try:
            await bot.edit_message_text(text, job.chat_id, job.message_id)
        except TelegramError as error:
            logger.warning("could not edit the %s progress message: %s", job.what, error)


@asynccontextmanager
async def exclusive_write(update: Update, context: CitebotContext) -> AsyncIterator[bool]:
    """A short write (/add, /remove, following a feed): yields False, after telling the
    user why, while another write runs; else True, the write marked as running until the
    block ends."""
    with context.jobs.short_write() as free:
        if not free:
            await reply(update, context, context.jobs.busy_text() or render.render_busy(None))
        yield free


async def start_job(update: Update, context: CitebotContext, job: BackgroundJob) -> bool:
    """Claim the runner for `job` (else say why not), send its progress message in the
    update's chat, and run it in the background. True when it started."""
    runner, chat = context.jobs, update.effective_chat
    if chat is None:
        return False
    if not runner.try_claim(job):
        await reply(update, context, runner.busy_text() or render.render_busy(None))
        return False
    job.chat_id = chat.id
    try:
        sent = await reply(update, context, job.text())
    except BaseException:
        runner.release(job)
        raise
    job.message_id = sent[0].message_id
    context.application.create_task(runner.run(context.bot, job), update=update,
                                    name=f"citebot-{job.kind}")
    return True


# --------------------------------------------------------------------------------------
# The commands and the scheduled job
# --------------------------------------------------------------------------------------


async def reindex_command(update: Update, context: CitebotContext) -> None:
    """/reindex [full]: runs in the background, editing one progress message."""
    message = update.effective_message
    if message is None:
        return
    argument = command_argument(message).lower()
    if argument not in ("", "full"):
        await reply_usage(update, context, "reindex")
        return
    job = BackgroundJob(kind="reindex", full=argument == "full")
    if await start_job(update, context, job):
        logger.info("reindex%s started by user %s", " (full)" if job.full else "",
                    user_label(update))


async def refresh_command(update: Update, context: CitebotContext) -> None:
    """/refresh: poll the feeds now, in the background, editing one progress message like
    /reindex."""
    message = update.effective_message
    if message is None:
        return
    if command_argument(message):
        await reply_usage(update, context, "refresh")
        return
    feeds = await asyncio.to_thread(context.library.feeds)
    if (busy := context.jobs.busy_text()) is not None:  # said before "no feeds", as ever
        await reply(update, context, busy)
        return
    if not feeds:
        await reply(update, context, render.render_no_feeds())
        return
    if await start_job(update, context, BackgroundJob(kind="refresh", feeds=len(feeds))):
        logger.info("feed refresh started by user %s", user_label(update))


async def scheduled_refresh(context: CitebotContext) -> None:
    """The JobQueue job: refresh the feeds (no progress message), unless a reindex, refresh
    or ingest is running; the report goes to the log (a storage failure as one line).
    Never raises."""
    runner = context.jobs
    try:
        feeds = await asyncio.to_thread(context.library.feeds)
        if not feeds:
            logger.debug("scheduled feed refresh: no feeds are followed")
            return
        period = context.config.refresh_seconds
        if not await asyncio.to_thread(context.library.claim_scheduled_refresh, period):
            logger.info("scheduled feed refresh skipped: another process sharing the "
                        "collection has run it this period")
            return
        try:
            job = BackgroundJob(kind="refresh", feeds=len(feeds))
            if not runner.try_claim(job):
                logger.info("scheduled feed refresh skipped: %s is running", runner.activity())
                return
            logger.info("scheduled feed refresh of %d feeds started", len(feeds))
            await runner.run(context.bot, job)
        finally:
            await asyncio.to_thread(context.library.end_scheduled_refresh)
    except StorageError as error:  # e.g. the database is down: one line each period
        logger.warning("scheduled feed refresh skipped: %s", error)
    except Exception:
        logger.exception("scheduled feed refresh failed")
