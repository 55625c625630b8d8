"""Feedback on answers and the usage numbers admins see.

A press on 👍 / 👎 under an answer records the user's vote (one per user and answer; a new
press replaces it); after a 👎 the answer's keyboard offers the reasons, and a reason
press records a 👎 with that reason. The keyboard is re-drawn with the vote counts (only
when it changes: Telegram refuses an edit that changes nothing). `/stats` (admins) adds
the last days' answered / declined / 👍 / 👎 to the collection's numbers, and
`/stats chart` sends the week as a PNG chart (`bot.charts`).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from telegram import InlineKeyboardMarkup, InputFile, ReplyParameters, Update
from telegram.error import BadRequest

from bot import render
from bot.context import CitebotContext
from bot.feedback import DEFAULT_DAYS, DOWN, Vote, parse_feedback_callback
from bot.handlers.messaging import command_argument, reply, reply_usage

CHART_DAYS = 7


async def on_feedback_button(update: Update, context: CitebotContext) -> None:
    """A press on 👍, 👎 or a reason under an answer."""
    query, chat, user = update.callback_query, update.effective_chat, update.effective_user
    if query is None or chat is None or user is None:
        return
    vote = parse_feedback_callback(query.data)
    logged = await context.state.call(context.chatlog.answer, vote.answer_id) if vote else None
    if vote is None or logged is None or logged.chat_id != chat.id:
        await query.answer("That answer is no longer available.")
        return
    await context.state.call(context.feedback.record, vote, user.id)
    if query.message is not None:
        await _redraw_keyboard(context, query.message, vote)
    await query.answer(_thanks(vote))  # last: once the user sees it, the buttons are current


def _thanks(vote: Vote) -> str:
    if vote.reason:
        return render.render_feedback_noted(vote.reason)
    return render.FEEDBACK_WHY if vote.vote == DOWN else render.FEEDBACK_THANKS


async def _redraw_keyboard(context: CitebotContext, message: object, vote: Vote) -> None:
    """The answer's buttons with the new counts; the reasons offered right after a plain 👎."""
    citations = await context.state.call(context.chatlog.citations, vote.answer_id)
    votes = await context.state.call(context.feedback.counts, vote.answer_id)
    markup = render.answer_keyboard(vote.answer_id, citations, votes=votes,
                                    ask_reason=vote.vote == DOWN and vote.reason is None)
    current = getattr(message, "reply_markup", None)
    if isinstance(current, InlineKeyboardMarkup) and current == markup:
        return
    try:
        await context.bot.edit_message_reply_markup(
            message.chat_id, message.message_id, reply_markup=markup)  # type: ignore[attr-defined]
    except BadRequest as error:  # e.g. two presses at once: the second edit changes nothing
        if "not modified" not in str(error).lower():
            raise


async def stats_command(update: Update, context: CitebotContext) -> None:
    """/stats (admins): the collection, then the last days' questions and votes;
    `/stats chart`: the week as a PNG chart."""
    argument = (command_argument(update.effective_message) if update.effective_message
                else "").lower()
    if argument == "chart":
        await send_chart(update, context)
        return
    if argument:
        await reply_usage(update, context, "stats")
        return
    stats = await asyncio.to_thread(context.library.stats)
    usage = await asyncio.to_thread(context.feedback.usage, DEFAULT_DAYS)
    await reply(update, context,
                render.render_stats(stats) + "\n\n" + render.render_usage_stats(usage))


async def send_chart(update: Update, context: CitebotContext) -> None:
    """The week's questions, answers, votes and added articles as one PNG photo."""
    chat, message = update.effective_chat, update.effective_message
    if chat is None:
        return
    png = await asyncio.to_thread(_render_chart, context, CHART_DAYS)
    await context.bot.send_photo(
        chat.id, InputFile(png, filename="citebot-week.png"),
        caption=f"The last {CHART_DAYS} days",
        reply_parameters=ReplyParameters(message.message_id, allow_sending_without_reply=True)
        if message else None)


def _render_chart(context: CitebotContext, days: int) -> bytes:
    from bot.charts import weekly_chart  # matplotlib is imported only for a chart

    first = (datetime.now(UTC).date() - timedelta(days=days - 1)).isoformat()
    return weekly_chart(context.feedback.daily(days), context.library.added_per_day(first))
