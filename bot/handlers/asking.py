"""Questions: a text message (in groups only when the bot is mentioned or replied to) or
/ask is rate-limited, read for `since:`/`until:` filters, answered by the Library in a
worker thread, saved to the chat log, and sent with one citation button per source and
👍 / 👎 buttons (`bot.handlers.feedback`). A message that only greets or thanks
(`bot.small_talk`) gets a hello or a you're welcome, not an answer. A reply to an answer
is a follow-up, asked together with the earlier question; so is, in a private chat, a short
message that leans on the answer just before it ("why?", `bot.follow_up`). An answer that
can't be saved (the database went away after answering) is still sent, without its
buttons, and the log says why in one line.
"""

from __future__ import annotations

import asyncio
import logging

from telegram import InlineKeyboardMarkup, Update

from bot import render
from bot.chatlog import LoggedAnswer
from bot.context import CitebotContext
from bot.follow_up import is_recent, leans_on_earlier
from bot.handlers.citations import answer_replied_to
from bot.handlers.messaging import (
    command_argument,
    is_private,
    link_sent,
    mentions_bot,
    replied_bot_message,
    reply,
    reply_usage,
    send_answer_parts,
    send_parts,
    typing,
    user_key,
    without_mention,
)
from bot.handlers.streaming import StreamedAnswer
from bot.ratelimit import Verdict
from bot.small_talk import small_talk
from index.filters import DateFilterError, DateRange, leading_date_filters
from index.library import NotIndexedError
from index.qa.answer import Answer
from index.storage.interfaces import StorageUnavailableError

logger = logging.getLogger(__name__)

async def on_text(update: Update, context: CitebotContext) -> None:
    """A text message: a question in private chats; in groups only when the bot is
    mentioned or replied to (other chatter is ignored silently)."""
    message = update.effective_message
    if message is None or not message.text:
        return
    replied = replied_bot_message(message, context.bot.id)
    username = context.bot.username
    if not is_private(update) and replied is None and not mentions_bot(message, username):
        return
    question = without_mention(message.text, username)
    if not question:
        await reply(update, context, render.render_mention_hint(username))
        return
    talk = small_talk(question)
    if talk is not None:  # "hi", "thanks!" (also as a reply to an answer): no question
        user = update.effective_user
        await reply(update, context,
                    render.render_small_talk(talk, user.first_name if user else None))
        return
    follow_up_of = await answer_replied_to(update, context, replied)
    if follow_up_of is None and replied is None and is_private(update) and leans_on_earlier(
            question):
        follow_up_of = await _recent_answer(update, context)
    await answer_question(update, context, question, follow_up_of=follow_up_of)


async def _recent_answer(update: Update, context: CitebotContext) -> LoggedAnswer | None:
    """The chat's latest answer if it was given within `FOLLOW_UP_WINDOW` (a message that
    leans on it without replying to it follows it up)."""
    chat = update.effective_chat
    if chat is None:
        return None
    latest = await context.state.call(context.chatlog.latest_answer, chat.id,
                                      with_citations=False)
    return latest if latest is not None and is_recent(latest.created_at) else None


async def ask_command(update: Update, context: CitebotContext) -> None:
    """/ask QUESTION (a reply to an answer makes it a follow-up)."""
    message = update.effective_message
    if message is None:
        return
    question = without_mention(command_argument(message), context.bot.username)
    if not question:
        await reply_usage(update, context, "ask")
        return
    replied = replied_bot_message(message, context.bot.id)
    await answer_question(update, context, question,
                          follow_up_of=await answer_replied_to(update, context, replied))


async def on_other_message(update: Update, context: CitebotContext) -> None:
    """A photo, sticker, file, voice note… in a private chat: say that questions are text."""
    await reply(update, context, render.TEXT_ONLY)


async def answer_question(update: Update, context: CitebotContext, question: str,
                          follow_up_of: LoggedAnswer | None = None) -> None:
    """Rate-limit, ask the Library, save the answer, send it with its citation buttons."""
    chat, message = update.effective_chat, update.effective_message
    if chat is None or message is None:
        return
    try:
        question, dates = leading_date_filters(question)
    except DateFilterError as error:
        await reply(update, context,
                    render.render_date_usage(error, context.commands.usage("ask")))
        return
    if not question:
        await reply_usage(update, context, "ask")
        return
    if not await within_rate_limit(update, context):
        return
    limit = context.config.max_question_chars
    question, note = truncate_question(question, limit)
    note = " ".join(n for n in (render.render_date_note(dates.since, dates.until), note)
                    if n) or None
    # A reply to an answer follows up its question: both are searched together (the most
    # recent `limit` characters of the earlier one).
    earlier = follow_up_of.question[-limit:].lstrip() if follow_up_of is not None else None
    if context.library.settings.llm.enabled:
        # Verified sentences appear as they come (bot/handlers/streaming.py); the streamed
        # message exists before its answer is logged, so replies to it wait for the link.
        stream = StreamedAnswer(context, chat.id, message.message_id,
                                context.config.progress_interval)
        async with context.in_flight.sending(chat.id):
            answer = await _ask(update, context, question, dates, stream, earlier)
            if answer is not None:
                answer_id = await _record(update, context, answer)
                sent = await stream.finish(render.render_answer(answer, note=note),
                                           _keyboard(answer_id, answer))
                if answer_id is not None:
                    await link_sent(context, answer_id, chat.id, sent)
        return
    answer = await _ask(update, context, question, dates, None, earlier)
    if answer is None:
        return
    answer_id = await _record(update, context, answer)
    parts = render.render_answer(answer, note=note)
    if answer_id is None:
        await send_parts(context, chat.id, parts, reply_to=message.message_id)
        return
    await send_answer_parts(context, chat.id, answer_id, parts, reply_to=message.message_id,
                            markup=_keyboard(answer_id, answer))


def _keyboard(answer_id: int | None, answer: Answer) -> InlineKeyboardMarkup | None:
    """The answer's buttons; none when it could not be logged (they would lead nowhere)."""
    return render.answer_keyboard(answer_id, answer.citations) if answer_id is not None \
        else None


async def _ask(update: Update, context: CitebotContext, question: str, dates: DateRange,
               stream: StreamedAnswer | None, earlier: str | None) -> Answer | None:
    """The Library's answer (in a worker thread, "typing…" meanwhile), or None after
    telling the user why there is none."""
    chat = update.effective_chat
    assert chat is not None
    async with typing(context, chat.id):
        try:
            return await asyncio.to_thread(
                context.library.ask, question, since=dates.since, until=dates.until,
                on_sentence=stream.on_sentence if stream else None, earlier=earlier)
        except NotIndexedError:
            await reply(update, context, render.NOT_INDEXED)
        except StorageUnavailableError as error:
            logger.warning("question not answered: %s", error)
            await reply(update, context, render.STORAGE_UNAVAILABLE)
    return None


async def _record(update: Update, context: CitebotContext, answer: Answer) -> int | None:
    """Log the answer in the chat log with the question searched (a follow-up with its
    earlier question) and the index generation it came from; its id, or None when the log
    can't be reached (said in one line of the log)."""
    chat, user = update.effective_chat, update.effective_user
    assert chat is not None

    def record() -> int:
        return context.chatlog.record_answer(
            chat.id, user.id if user else None, answer.question, answer,
            context.library.index_generation())

    try:
        return await context.state.call(record)
    except StorageUnavailableError as error:
        logger.warning("answer sent without its buttons, it could not be logged: %s", error)
        return None


def truncate_question(question: str, limit: int) -> tuple[str, str | None]:
    """The question cut to `limit` characters, with a note when it was cut."""
    question = question.strip()
    if len(question) <= limit:
        return question, None
    return question[:limit], render.render_truncation_note(limit)


async def within_rate_limit(update: Update, context: CitebotContext) -> bool:
    """True if the user may ask now; tells them to slow down once per window otherwise."""
    limiter = context.limiter
    key = user_key(update)
    verdict = await context.state.call(limiter.check, key)
    if verdict is Verdict.WARN:
        retry_in = await context.state.call(limiter.retry_in, key)
        await reply(update, context, render.render_slow_down(
            limiter.limit, limiter.window, retry_in))
    return verdict is Verdict.ALLOW
