"""Looking around the collection: /start, /help (built from the command registry), /search,
/latest, and the hint for a command the bot doesn't have.
"""

from __future__ import annotations

import asyncio

from telegram import Update

from bot import render
from bot.context import CitebotContext
from bot.handlers.messaging import (
    command_argument,
    command_name,
    is_private,
    reply,
    reply_usage,
    small_number,
)
from index.filters import DateFilterError, date_filters_anywhere

LATEST_DEFAULT, LATEST_MAX = 10, 50
SEARCH_LIMIT = 10


async def start_command(update: Update, context: CitebotContext) -> None:
    """/start: hello and how to ask."""
    user = update.effective_user
    await reply(update, context, render.render_start(user.first_name if user else None))


async def help_command(update: Update, context: CitebotContext) -> None:
    """/help: how to ask, example questions, and the commands this user may use."""
    user = update.effective_user
    is_admin = context.is_admin(user.id if user else None)
    commands = context.commands
    admin_names = [c.name for c in commands.admin] if is_admin else []
    await reply(update, context, render.render_help(commands.usages(admin=is_admin),
                                                    admin_commands=admin_names))


async def search_command(update: Update, context: CitebotContext) -> None:
    """/search WORDS: matching articles with their dates."""
    message = update.effective_message
    query = command_argument(message) if message else ""
    if not query:
        await reply_usage(update, context, "search")
        return
    found = await asyncio.to_thread(context.library.search_articles, query, SEARCH_LIMIT)
    await reply(update, context, render.render_search_results(query, found))


async def latest_command(update: Update, context: CitebotContext) -> None:
    """/latest [N] [since:DATE] [until:DATE]: the newest articles."""
    message = update.effective_message
    argument = command_argument(message) if message else ""
    try:
        argument, dates = date_filters_anywhere(argument)
    except DateFilterError as error:
        await reply(update, context,
                    render.render_date_usage(error, context.commands.usage("latest")))
        return
    limit = small_number(argument, 3) if argument else LATEST_DEFAULT
    if limit is None or not 1 <= limit <= LATEST_MAX:
        await reply_usage(update, context, "latest")
        return
    articles = await asyncio.to_thread(context.library.latest, limit,
                                       since=dates.since, until=dates.until)
    await reply(update, context, render.render_latest(articles))


async def unknown_command(update: Update, context: CitebotContext) -> None:
    """A command the bot doesn't have: a usage hint (in groups only if addressed to us)."""
    message = update.effective_message
    if message is None:
        return
    name, target = command_name(message)
    username = (context.bot.username or "").lower()
    if target is not None and target.lower() != username:
        return  # another bot's command
    if not is_private(update) and target is None:
        return  # "/foo" in a group may be for another bot
    await reply(update, context, render.render_unknown_command(name))
