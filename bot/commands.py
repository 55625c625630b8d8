"""The bot's commands, in one registry: each command's name, usage, help text, menu text,
whether it is for admins only, and its handler.

Everything that lists commands is built from `COMMANDS`: the command menu (`menu`: the
public commands for everyone, every command in each admin's private chat), the `/help`
text (`usages`), the usage a handler sends back for a wrong argument (`usage`), and the
Application's handler table (`callback`, with the admin check in front of admin commands).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass

from telegram import BotCommand, Update

from bot.context import CitebotContext
from bot.handlers import admin, asking, browsing, citations, feedback, jobs
from bot.handlers.access import admins_only

Handler = Callable[[Update, CitebotContext], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Command:
    """One bot command. `usage` is how it is typed ("/ask QUESTION"), `help` what it does
    (shown in /help and with a wrong argument), `menu` the short text of the command menu."""

    name: str
    usage: str
    help: str
    menu: str
    handler: Handler
    admin_only: bool = False

    @property
    def usage_line(self) -> str:
        """"/ask QUESTION — answer a question…": the line of /help and of a usage reply."""
        return f"{self.usage} — {self.help}"

    @property
    def callback(self) -> Handler:
        """The handler the Application runs: behind the admin check when admin-only."""
        return admins_only(self.name, self.handler) if self.admin_only else self.handler

    def bot_command(self) -> BotCommand:
        return BotCommand(self.name, self.menu)


class CommandRegistry:
    """The commands in the order they are shown: public ones first, then admin ones."""

    def __init__(self, commands: Iterable[Command]) -> None:
        self._commands = {command.name: command for command in commands}

    def __iter__(self) -> Iterator[Command]:
        return iter(self._commands.values())

    def __contains__(self, name: object) -> bool:
        return name in self._commands

    def __getitem__(self, name: str) -> Command:
        return self._commands[name]

    @property
    def public(self) -> list[Command]:
        return [c for c in self if not c.admin_only]

    @property
    def admin(self) -> list[Command]:
        return [c for c in self if c.admin_only]

    def visible(self, *, admin: bool) -> list[Command]:
        """The commands someone may use: every one for an admin, else the public ones."""
        return list(self) if admin else self.public

    def usage(self, name: str) -> str:
        """The usage line of `/name` (see `Command.usage_line`)."""
        return self[name].usage_line

    def usages(self, *, admin: bool) -> list[str]:
        """The usage lines /help lists: the admin commands only to admins."""
        return [c.usage_line for c in self.visible(admin=admin)]

    def menu(self, *, admin: bool) -> list[BotCommand]:
        """The command menu (setMyCommands): the admin commands only in admins' chats."""
        return [c.bot_command() for c in self.visible(admin=admin)]


COMMANDS = CommandRegistry([
    Command("ask", "/ask QUESTION",
            "answer a question from the articles, with sources; start it with "
            "since:YYYY-MM-DD and/or until:YYYY-MM-DD to use only the articles published in "
            "that range",
            "Ask a question about the articles", asking.ask_command),
    Command("source", "/source N",
            "show the exact quote behind source [N] of my last answer (reply to an older "
            "answer to look up one of its sources)",
            "Show the quote behind source N of an answer", citations.source_command),
    Command("search", "/search WORDS", "list the articles that mention these words",
            "Find articles that mention some words", browsing.search_command),
    Command("latest", "/latest [N] [since:YYYY-MM-DD] [until:YYYY-MM-DD]",
            "the newest articles (default 10, at most 50), optionally only those published "
            "in that range",
            "The newest articles", browsing.latest_command),
    Command("help", "/help", "what I can do",
            "What I can do, with example questions", browsing.help_command),
    Command("start", "/start", "hello and how to ask",
            "Hello and how to ask", browsing.start_command),
    Command("stats", "/stats [chart]",
            "articles, passages, model and last reindex, and the last 7 days' questions "
            "answered / declined and 👍 / 👎 (chart: the week as a chart)",
            "Collection and usage numbers, or a weekly chart", feedback.stats_command,
            admin_only=True),
    Command("reindex", "/reindex [full]",
            "re-read every source and rebuild the index (full: re-embed everything)",
            "Re-read the sources and rebuild the index", jobs.reindex_command,
            admin_only=True),
    Command("add", "/add PATH_OR_URL", "add a file, a folder or a web article",
            "Add a file, a folder or a web article", admin.add_command, admin_only=True),
    Command("feeds", "/feeds [add URL | remove URL]",
            "list the followed RSS/Atom feeds, follow a new one, or stop following one (its "
            "articles stay)",
            "List, follow or stop following feeds", admin.feeds_command, admin_only=True),
    Command("refresh", "/refresh",
            "poll the followed feeds now and add their new and changed articles",
            "Poll the followed feeds now", jobs.refresh_command, admin_only=True),
    Command("remove", "/remove ORIGIN_OR_URL",
            "delete one article (its URL, or its origin as the CLI shows it) so that it is "
            "no longer cited",
            "Delete one article", admin.remove_command, admin_only=True),
])
