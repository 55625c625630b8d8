"""The error handler: any exception a handler raises is logged (the token redacted by the
logging guard of `bot.app`), and the user is told something went wrong, in one line. A
database that can't be reached (`StorageUnavailableError`: the collection's, or the bot's
own state on PostgreSQL) is one line of the log, not a traceback, and the user is told to
try again in a minute (a button press by its notice); so is a write refused because another
process sharing the collection is writing (`StoreBusyError`, e.g. `/add` on one replica
while another refreshes the feeds), with the usual "busy" reply."""

from __future__ import annotations

import logging
from contextlib import suppress

from telegram import Update
from telegram.error import BadRequest, Forbidden, NetworkError, TelegramError

from bot import render
from bot.context import CitebotContext
from bot.handlers.messaging import reply
from index.storage.interfaces import StorageUnavailableError, StoreBusyError

logger = logging.getLogger(__name__)


async def on_error(update: object, context: CitebotContext) -> None:
    """Log any error and tell the user (unless they blocked the bot or removed it)."""
    error = context.error
    if isinstance(error, StorageUnavailableError | StoreBusyError):
        logger.warning("update not handled: %s", error)
    elif isinstance(error, NetworkError) and not isinstance(error, BadRequest):
        logger.warning("network error: %s", error)
    else:
        logger.error("error while handling an update", exc_info=error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    if isinstance(error, Forbidden):
        return  # blocked by the user or removed from the group
    with suppress(TelegramError):
        if isinstance(error, StorageUnavailableError):
            await _storage_unavailable(update, context)
        elif isinstance(error, StoreBusyError):
            await reply(update, context, render.render_busy(None))
        else:
            await reply(update, context, render.SOMETHING_WENT_WRONG)


async def _storage_unavailable(update: Update, context: CitebotContext) -> None:
    """Tell the user the database is out of reach: a button press gets a notice, a
    message a reply."""
    if update.callback_query is not None:
        await update.callback_query.answer(render.STORAGE_UNAVAILABLE_SHORT)
        return
    await reply(update, context, render.STORAGE_UNAVAILABLE)
