"""Who gets through: `access_gate` runs before every other handler (group -1) and stops
updates from users and chats the allowlists leave out (see `bot.access.AccessPolicy`);
`admins_only` wraps the handler of every admin command of the registry, so that anyone else
gets a polite refusal, logged, before the command looks at its arguments.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from contextlib import suppress
from functools import wraps

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop

from bot import render
from bot.context import CitebotContext
from bot.handlers.messaging import (
    command_name,
    is_private,
    mentions_bot,
    replied_bot_message,
    reply,
    user_label,
)

logger = logging.getLogger(__name__)

Handler = Callable[[Update, CitebotContext], Awaitable[None]]


async def access_gate(update: Update, context: CitebotContext) -> None:
    """Runs before every other handler (group -1): an update from a user or chat that is
    not allowed is stopped here. When it was meant for the bot, the sender is told once per
    window (see `bot.access`); everything else from them is ignored."""
    access = context.access
    if not access.restricted:
        return
    user, chat = update.effective_user, update.effective_chat
    user_id, chat_id = (user.id if user else None), (chat.id if chat else None)
    if access.allows(user_id, chat_id):
        return
    query = update.callback_query
    if addressed_to_bot(update, context) and access.should_tell(user_id, chat_id):
        logger.info("refused user %s in chat %s: not in the allowlist", user_id, chat_id)
        text = render.render_not_allowed(user_id, chat_id, private=is_private(update))
        with suppress(TelegramError):
            if query is not None:
                await query.answer(render.NOT_ALLOWED_SHORT)
            else:
                await reply(update, context, text)
    elif query is not None:
        with suppress(TelegramError):
            await query.answer()  # stops the button's spinner, says nothing
    raise ApplicationHandlerStop


def addressed_to_bot(update: Update, context: CitebotContext) -> bool:
    """Would the bot answer this update? In private chats always; in groups for a button,
    one of its commands, a mention or a reply to one of its messages."""
    if update.callback_query is not None or is_private(update):
        return True
    message = update.effective_message
    if message is None or not message.text:
        return False
    username = context.bot.username
    if message.text.startswith("/"):
        name, target = command_name(message)
        if target is not None:
            return target.lower() == (username or "").lower()
        return name.lower() in context.commands
    return (replied_bot_message(message, context.bot.id) is not None
            or mentions_bot(message, username))


async def is_admin_or_refuse(update: Update, context: CitebotContext, command: str) -> bool:
    """True for admins; anyone else gets a polite refusal and the attempt is logged."""
    user = update.effective_user
    if context.is_admin(user.id if user else None):
        return True
    logger.warning("refused /%s from non-admin user %s", command, user_label(update))
    await reply(update, context, render.render_admin_only(command))
    return False


def admins_only(command: str, handler: Handler) -> Handler:
    """`handler` for admins; a refusal (see `is_admin_or_refuse`) for everyone else."""

    @wraps(handler)
    async def guarded(update: Update, context: CitebotContext) -> None:
        if await is_admin_or_refuse(update, context, command):
            await handler(update, context)

    return guarded
