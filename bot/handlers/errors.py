"""The error handler: any exception a handler raises is logged (the token redacted by the
logging guard of `bot.app`), and the user is told something went wrong, in one line."""

from __future__ import annotations

import logging
from contextlib import suppress

from telegram import Update
from telegram.error import BadRequest, Forbidden, NetworkError, TelegramError

from bot import render
from bot.context import CitebotContext
from bot.handlers.messaging import reply

logger = logging.getLogger(__name__)


async def on_error(update: object, context: CitebotContext) -> None:
    """Log any error and tell the user (unless they blocked the bot or removed it)."""
    error = context.error
    if isinstance(error, NetworkError) and not isinstance(error, BadRequest):
        logger.warning("network error: %s", error)
    else:
        logger.error("error while handling an update", exc_info=error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    if isinstance(error, Forbidden):
        return  # blocked by the user or removed from the group
    with suppress(TelegramError):
        await reply(update, context, render.SOMETHING_WENT_WRONG)
