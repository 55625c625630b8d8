"""The admins' short writes: /add a file, folder or web page, /remove one article, and
/feeds (list, follow, stop following). Each write holds the job runner while it runs, so
it never overlaps a reindex, a refresh or another write. The registry lets only admins in.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from telegram import Update

from bot import render
from bot.context import CitebotContext
from bot.handlers.jobs import exclusive_write
from bot.handlers.messaging import (
    command_argument,
    reply,
    reply_usage,
    target_chat,
    typing,
    user_label,
)
from index.library import IngestReport, Library
from index.sources.fetch import FetchError
from index.targets import is_web_address, removal_candidates

logger = logging.getLogger(__name__)


async def required_argument(update: Update, context: CitebotContext, command: str
                            ) -> str | None:
    """The argument of `/command`, or None after sending its usage when there is none."""
    message = update.effective_message
    if message is None:
        return None
    argument = command_argument(message)
    if not argument:
        await reply_usage(update, context, command)
        return None
    return argument


# --------------------------------------------------------------------------------------
# /add and /remove
# --------------------------------------------------------------------------------------


async def add_command(update: Update, context: CitebotContext) -> None:
    """/add PATH_OR_URL: ingest a file, folder or web article and index it."""
    target = await required_argument(update, context, "add")
    if target is None:
        return
    if not is_web_address(target) and not context.config.may_add_path(Path(target)):
        logger.warning("refused /add of %s: outside the folders /add may read", target)
        await reply(update, context, render.render_failure(
            f"Could not add {target}", "that path is outside the folders /add may read "
            "(CITEBOT_ADD_FOLDERS)"))
        return
    async with exclusive_write(update, context) as free:
        if not free:
            return
        try:
            async with typing(context, target_chat(update)):
                report = await ingest_target(context.library, target)
        except (FetchError, FileNotFoundError) as error:
            text = render.render_failure(f"Could not add {target}", error)
        else:
            text = render.render_ingest_report(f"Added {target}", report)
    # Replied after the write is over: a retry right after the reply is not "busy".
    await reply(update, context, text)


async def ingest_target(library: Library, target: str) -> IngestReport:
    """Ingest a web address or a local path (in a worker thread)."""
    if is_web_address(target):
        return await asyncio.to_thread(library.ingest_url, target)
    path = Path(target).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"no such file or folder: {target}")
    return await asyncio.to_thread(library.ingest, [path])


async def remove_command(update: Update, context: CitebotContext) -> None:
    """/remove ORIGIN_OR_URL: delete one article with its passages and vectors."""
    target = await required_argument(update, context, "remove")
    if target is None:
        return
    removed = None
    async with exclusive_write(update, context) as free:
        if not free:
            return
        for origin in removal_candidates(target):
            if await asyncio.to_thread(context.library.remove, origin):
                removed = origin
                break
    if removed is not None:
        logger.info("article %s removed by user %s", removed, user_label(update))
    await reply(update, context, render.render_removed(target, removed))


# --------------------------------------------------------------------------------------
# /feeds
# --------------------------------------------------------------------------------------


async def feeds_command(update: Update, context: CitebotContext) -> None:
    """/feeds: list the followed feeds; /feeds add URL; /feeds remove URL."""
    message = update.effective_message
    if message is None:
        return
    words = command_argument(message).split()
    if not words:
        feeds = await asyncio.to_thread(context.library.feeds)
        await reply(update, context, render.render_feeds(feeds))
        return
    action = words[0].lower()
    if len(words) != 2 or action not in ("add", "remove"):
        await reply_usage(update, context, "feeds")
        return
    if action == "add":
        await follow_feed(update, context, words[1])
    else:
        await unfollow_feed(update, context, words[1])


async def follow_feed(update: Update, context: CitebotContext, url: str) -> None:
    """Follow the feed at `url` (polled once by `Library.add_feed` to check it)."""
    existing = await asyncio.to_thread(context.library.feed, url)
    if existing is not None:
        await reply(update, context, render.render_feed_added(existing, already=True))
        return
    async with exclusive_write(update, context) as free:
        if not free:
            return
        try:
            async with typing(context, target_chat(update)):
                feed = await asyncio.to_thread(context.library.add_feed, url)
        except FetchError as error:
            logger.info("could not follow feed %s: %s", url, error)
            text = render.render_failure(f"Could not follow {url}", error)
        else:
            logger.info("feed %s followed by user %s", feed.url, user_label(update))
            text = render.render_feed_added(feed, already=False)
    await reply(update, context, text)


async def unfollow_feed(update: Update, context: CitebotContext, url: str) -> None:
    """Stop following the feed at `url`; its articles stay."""
    async with exclusive_write(update, context) as free:
        if not free:
            return
        feed = await asyncio.to_thread(context.library.feed, url)
        report = (await asyncio.to_thread(context.library.remove_feed, url)
                  if feed else None)
    if report is None:
        feed = None
    else:
        logger.info("feed %s unfollowed by user %s", url, user_label(update))
    await reply(update, context, render.render_feed_removed(url, feed))
