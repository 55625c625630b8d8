"""The quote behind a source: a tap on an answer's `[n]` button, or /source N (of the
answer replied to, else of the chat's latest answer), shows the cited span in bold in its
article context. A button posts its quote once per answer (a second tap, or two taps at
once, get a notice instead of a repeat). Answers are found in the chat log, so this works
after a restart, and on any replica when the log is in PostgreSQL.
"""

from __future__ import annotations

import asyncio

from telegram import Message, Update

from bot import render
from bot.chatlog import LoggedAnswer
from bot.context import CitebotContext
from bot.handlers.messaging import (
    command_argument,
    replied_bot_message,
    reply,
    reply_usage,
    send_answer_parts,
    send_parts,
    small_number,
)


async def answer_replied_to(update: Update, context: CitebotContext, replied: Message | None
                            ) -> LoggedAnswer | None:
    """The logged answer that `replied` (one of the bot's messages) belongs to, if any; a
    message of an answer still being sent is looked up once its sending has settled.

    When the first look-up misses, it is always made again after `settle`, even when there
    was nothing left to wait for: the answer may have been linked, and its sending ended,
    between the two (a replica's send finishing just then)."""
    chat = update.effective_chat
    if replied is None or chat is None:
        return None
    lookup = context.chatlog.answer_for_message
    found = await context.state.call(lookup, chat.id, replied.message_id)
    if found is None:
        await context.in_flight.settle(chat.id)
        found = await context.state.call(lookup, chat.id, replied.message_id)
    return found


async def on_citation_button(update: Update, context: CitebotContext) -> None:
    """A tap on a `[n]` button: the quote behind that citation."""
    query = update.callback_query
    chat = update.effective_chat
    if query is None or chat is None:
        return
    parsed = render.parse_citation_callback(query.data)
    chatlog, call = context.chatlog, context.state.call
    logged = await call(chatlog.answer, parsed[0]) if parsed else None
    if parsed is None or logged is None or logged.chat_id != chat.id:
        await query.answer("That answer is no longer available.")
        return
    answer_id, n = parsed
    known = await call(chatlog.citation, answer_id, n) is not None
    if known and not await call(chatlog.claim_citation_display, answer_id, n):
        await query.answer(render.QUOTE_ALREADY_SHOWN)
        return
    await query.answer()
    message_id = query.message.message_id if query.message else None
    await show_citation(update, context, answer_id, n, reply_to=message_id)


async def source_command(update: Update, context: CitebotContext) -> None:
    """/source N — citation N of the replied-to answer, else of the chat's latest answer."""
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None:
        return
    number = small_number(command_argument(message).strip("[]# "), 4)
    if number is None:
        await reply_usage(update, context, "source")
        return
    replied = replied_bot_message(message, context.bot.id)
    target = (await answer_replied_to(update, context, replied) if replied
              else await context.state.call(context.chatlog.latest_answer, chat.id))
    if target is None:
        await reply(update, context, "That message isn't one of my answers." if replied
                    else "There is no answer to look up yet: ask me a question first.")
        return
    await show_citation(update, context, target.id, number, reply_to=message.message_id)


async def show_citation(update: Update, context: CitebotContext, answer_id: int, n: int,
                        reply_to: int | None) -> None:
    """Send the quote of citation `n` of answer `answer_id` in its article context."""
    chat = update.effective_chat
    citations = await context.state.call(context.chatlog.citations, answer_id)
    citation = next((c for c in citations if c.n == n), None)
    if chat is None:
        return
    if citation is None:
        text = render.render_no_such_source(len(citations))
        await send_parts(context, chat.id, [text], reply_to=reply_to)
        return
    article = await asyncio.to_thread(context.library.article, citation.article_id)
    parts = render.render_citation(citation, article.body if article else None)
    await send_answer_parts(context, chat.id, answer_id, parts, reply_to=reply_to)
