"""What every handler does with messages: read a command and its argument, tell whether a
message is meant for the bot, send HTML replies (several parts in order), show "typing…",
and answer with a command's usage.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, suppress

from telegram import InlineKeyboardMarkup, Message, ReplyParameters, Update
from telegram.constants import ChatAction, ChatType
from telegram.error import TelegramError

from bot import render
from bot.context import CitebotContext
from index.storage.interfaces import StorageUnavailableError

logger = logging.getLogger(__name__)

TYPING_REFRESH_SECONDS = 4.5


# --------------------------------------------------------------------------------------
# Sending
# --------------------------------------------------------------------------------------


async def send_parts(
    context: CitebotContext,
    chat_id: int,
    parts: Sequence[str],
    *,
    reply_to: int | None = None,
    markup: InlineKeyboardMarkup | None = None,
) -> list[Message]:
    """Send HTML messages in order; the first replies to `reply_to`, the last has `markup`."""
    sent: list[Message] = []
    for number, part in enumerate(parts):
        first, last = number == 0, number == len(parts) - 1
        sent.append(await context.bot.send_message(
            chat_id, part,
            reply_parameters=ReplyParameters(reply_to, allow_sending_without_reply=True)
            if first and reply_to else None,
            reply_markup=markup if last else None,
        ))
    return sent


async def send_answer_parts(
    context: CitebotContext,
    chat_id: int,
    answer_id: int,
    parts: Sequence[str],
    *,
    reply_to: int | None = None,
    markup: InlineKeyboardMarkup | None = None,
) -> list[Message]:
    """`send_parts` for messages that show answer `answer_id`: each is linked to it in the
    chat log as soon as Telegram returns it, and a reply that arrives meanwhile waits for
    the link (`InFlight`)."""
    sent: list[Message] = []
    async with context.in_flight.sending(chat_id):
        for number, part in enumerate(parts):
            message = (await send_parts(
                context, chat_id, [part], reply_to=reply_to if number == 0 else None,
                markup=markup if number == len(parts) - 1 else None))[0]
            await link_sent(context, answer_id, chat_id, [message])
            sent.append(message)
    return sent


async def link_sent(context: CitebotContext, answer_id: int, chat_id: int,
                    messages: Sequence[Message]) -> None:
    """Link sent messages to their answer in the chat log. If the log can't be reached the
    message stays sent (it just can't be replied to as a follow-up): one line in the log."""
    try:
        await context.state.call(context.chatlog.link_messages, answer_id, chat_id,
                                 [m.message_id for m in messages])
    except StorageUnavailableError as error:
        logger.warning("answer %s was sent but its messages could not be linked: %s",
                       answer_id, error)


async def reply(update: Update, context: CitebotContext, text: str | Sequence[str]
                ) -> list[Message]:
    """Answer the update's message with one text or several parts (HTML)."""
    message = update.effective_message
    chat = update.effective_chat
    if chat is None:
        return []
    parts = [text] if isinstance(text, str) else list(text)
    return await send_parts(context, chat.id, parts,
                            reply_to=message.message_id if message else None)


async def reply_usage(update: Update, context: CitebotContext, command: str) -> None:
    """Answer with how `/command` is used (from the command registry)."""
    await reply(update, context, render.render_usage(context.commands.usage(command)))


@asynccontextmanager
async def typing(context: CitebotContext, chat_id: int) -> AsyncIterator[None]:
    """Show "typing…" in the chat until the block ends (refreshed every few seconds)."""

    async def show_typing() -> None:
        with suppress(TelegramError):
            await context.bot.send_chat_action(chat_id, ChatAction.TYPING)

    async def keep_typing() -> None:
        while True:
            await asyncio.sleep(TYPING_REFRESH_SECONDS)
            await show_typing()

    await show_typing()
    task = asyncio.create_task(keep_typing())
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task


# --------------------------------------------------------------------------------------
# Reading messages
# --------------------------------------------------------------------------------------


def command_argument(message: Message) -> str:
    """The text after `/command` (newlines kept), stripped."""
    parts = (message.text or "").split(maxsplit=1)
    return parts[1].strip() if len(parts) > 1 else ""


def command_name(message: Message) -> tuple[str, str | None]:
    """(`command`, `botname` or None) of a message starting with `/command[@botname]`."""
    first = (message.text or "").split(maxsplit=1)[0] if message.text else ""
    name, _, target = first.lstrip("/").partition("@")
    return name, target or None


def small_number(text: str, digits: int) -> int | None:
    """`text` as a number of at most `digits` ASCII digits, else None ("²" or "٣" are
    digits to `str.isdigit` but not numbers a user meant to type)."""
    return int(text) if re.fullmatch(rf"[0-9]{{1,{digits}}}", text) else None


def is_private(update: Update) -> bool:
    return update.effective_chat is not None and update.effective_chat.type == ChatType.PRIVATE


def replied_bot_message(message: Message, bot_id: int) -> Message | None:
    """The bot's message that `message` replies to, if it replies to the bot."""
    target = message.reply_to_message
    if target is not None and target.from_user is not None and target.from_user.id == bot_id:
        return target
    return None


def mentions_bot(message: Message, username: str | None) -> bool:
    if not username:
        return False
    handle = f"@{username}".lower()
    mentions = message.parse_entities(["mention"]).values()
    return any(m.lower() == handle for m in mentions)


def without_mention(text: str, username: str | None) -> str:
    if not username:
        return text.strip()
    return re.sub(rf"@{re.escape(username)}\b", " ", text, flags=re.IGNORECASE).strip()


def user_key(update: Update) -> int:
    """Whom a rate limit counts: the user, else the chat."""
    user = update.effective_user
    chat = update.effective_chat
    return user.id if user else (chat.id if chat else 0)


def user_label(update: Update) -> str:
    """The user for the log: "123 (@name)", "123" for a user without a username, or "?"."""
    user = update.effective_user
    if user is None:
        return "?"
    return f"{user.id} (@{user.username})" if user.username else str(user.id)


def target_chat(update: Update) -> int:
    """The chat an update came from (every update a command handler sees has one)."""
    chat = update.effective_chat
    assert chat is not None
    return chat.id
