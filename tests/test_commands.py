"""The command registry (`bot.commands`) is the one list of the bot's commands: every
command in it has a handler, and is documented in /help, in the command menu and in the
README's table of bot commands — seen through the real python-telegram-bot stack against
the Bot API stand-in, as a user and as an admin."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from telegram.ext import CommandHandler

from bot.commands import COMMANDS
from index.library import Library
from index.settings import Settings
from tests import test_bot
from tests.conftest import PROJECT
from tests.telegram_standin import TelegramStandin, telegram_standin_fixture  # noqa: F401
from tests.test_bot import ADMIN, ALICE, ask, make_config, running_bot, text_of

standin = test_bot.standin
README_TABLE_HEADER = "| command | who | what it does |"


@pytest.fixture
def library(tmp_path: Path) -> Iterator[Library]:
    """An empty collection: nothing here asks a question."""
    opened = Library(Settings.from_env(tmp_path / "store"))
    yield opened
    opened.close()


def readme_rows() -> dict[str, str]:
    """Each bot command named in the README's table of bot commands → its "who" cell."""
    lines = (PROJECT / "README.md").read_text(encoding="utf-8").splitlines()
    start = lines.index(README_TABLE_HEADER) + 2
    rows: dict[str, str] = {}
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        first, who = re.split(r"(?<!\\)\|", line)[1:3]
        for name in re.findall(r"`/([a-z_]+)", first):
            assert name not in rows, f"/{name} has two rows in the README"
            rows[name] = who.strip()
    return rows


def test_every_command_has_one_handler_in_the_application(
    standin: TelegramStandin, library: Library
) -> None:
    with running_bot(make_config(standin), library) as app:
        handled = [name for handler in app.handlers[0] if isinstance(handler, CommandHandler)
                   for name in handler.commands]
    assert sorted(handled) == sorted(command.name for command in COMMANDS)


def test_every_command_is_documented_in_help_the_menu_and_the_readme(
    standin: TelegramStandin, library: Library
) -> None:
    with running_bot(make_config(standin), library):
        user_help = text_of(ask(standin, ALICE, ALICE, "/help"))
        admin_help = text_of(ask(standin, ADMIN, ADMIN, "/help"))
    everyone_menu = {c["command"]: c["description"] for c in standin.commands()}
    admin_menu = {c["command"]: c["description"]
                  for c in standin.commands({"type": "chat", "chat_id": ADMIN})}
    readme = readme_rows()

    for command in COMMANDS:
        assert command.usage_line in admin_help, command.name
        assert (command.usage_line in user_help) is not command.admin_only, command.name
        assert admin_menu.get(command.name) == command.menu, command.name
        assert (command.name in everyone_menu) is not command.admin_only, command.name
        assert readme.get(command.name) == ("admins" if command.admin_only else "everyone"), (
            f"/{command.name} in README.md")
    assert list(everyone_menu) == [c.name for c in COMMANDS.public]
    assert list(admin_menu) == [c.name for c in COMMANDS]
    assert set(readme) == {c.name for c in COMMANDS}, "a README row names no command"
    admin_names = ", ".join(c.name for c in COMMANDS.admin[:-1])
    assert f"({admin_names} and {COMMANDS.admin[-1].name} are for admins only)" in admin_help
