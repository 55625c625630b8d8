"""Nobody let in: admin commands, the allowlists of users and chats, what `/add` may read,
and the bot token, which never reaches a log, a reply, a crash message or the disk.

Everything runs end to end: the real bot over real HTTP against the Bot API stand-in.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from telegram import Update
from telegram.ext import CommandHandler, ContextTypes

from bot import render
from bot.access import MAX_REMEMBERED, AccessPolicy
from bot.cli import main
from bot.commands import COMMANDS
from bot.config import BotConfig
from index.library import Library
from index.settings import SettingsError
from tests import test_bot
from tests.conftest import PROJECT
from tests.local_web import COUNCIL_STORY, LocalWeb, Reply, article_page
from tests.telegram_standin import TelegramStandin, telegram_standin_fixture  # noqa: F401
from tests.test_bot import (
    ADMIN,
    ALICE,
    ARTICLES,
    BMW_QUESTION,
    BOB,
    BOT_NAME,
    CAROL,
    GROUP,
    HUAWEI_QUESTION,
    WAIT,
    ask,
    buttons,
    free_port,
    make_config,
    running_bot,
    text_of,
    write_articles,
)

indexed_store = test_bot.indexed_store
store = test_bot.store
library = test_bot.library
standin = test_bot.standin

JSON = dict[str, Any]
OTHER_GROUP = -100600
PRIVATE_BOT = "Sorry, this bot is private."
ADMIN_ONLY = "only for the bot's admins"
ADMIN_COMMANDS = {command.name for command in COMMANDS.admin}


def settle(standin: TelegramStandin, seconds: float = 0.7) -> None:
    """Wait until the bot has fetched every update, then a little for it to act on them."""
    standin.wait_for(lambda: not standin.pending_updates(), timeout=WAIT, what="no pending")
    time.sleep(seconds)


def refusals(standin: TelegramStandin, chat_id: int) -> list[JSON]:
    return [m for m in standin.sent_messages(chat_id) if PRIVATE_BOT in text_of(m)]


# --------------------------------------------------------------------------------------
# Admin commands
# --------------------------------------------------------------------------------------


def test_admin_commands_are_refused_to_everyone_else_in_private_and_in_groups(
    standin: TelegramStandin, library: Library, tmp_path: Path
) -> None:
    folder = tmp_path / "more"
    write_articles(folder, 2)
    standin.add_chat(GROUP, chat_type="group", title="Newsroom")
    group = {"chat_type": "group"}
    before = library.stats()
    with running_bot(make_config(standin), library):
        for command in ("/stats", "/reindex", "/reindex full", f"/add {folder}",
                        "/add https://example.com/story", "/add"):
            name = command.split()[0][1:]
            private = ask(standin, BOB, BOB, command)
            assert text_of(private) == f"Sorry, /{name} is only for the bot's admins.", command
            for addressed in (command, command.replace(f"/{name}", f"/{name}@{BOT_NAME}")):
                in_group = ask(standin, GROUP, CAROL, addressed, **group)
                assert ADMIN_ONLY in text_of(in_group), addressed
        helped = text_of(ask(standin, GROUP, CAROL, "/help", **group))
        assert "/reindex" not in helped and "/stats" not in helped and "/add" not in helped
        assert not [c for c in standin.commands() if c["command"] in ADMIN_COMMANDS]

        stats = ask(standin, GROUP, ADMIN, f"/stats@{BOT_NAME}", **group)
        assert f"Articles: {ARTICLES}" in text_of(stats)
        assert "Usage: /reindex [full]" in text_of(
            ask(standin, GROUP, ADMIN, "/reindex now", **group))

    after = library.stats()
    assert (after["articles"], after["last_reindex"]) == (before["articles"],
                                                          before["last_reindex"])
    assert not [m for m in standin.sent_messages() if "Reindexing" in text_of(m)]


# --------------------------------------------------------------------------------------
# Allowlists
# --------------------------------------------------------------------------------------


def test_users_not_on_the_allowlist_are_told_once_then_ignored(
    standin: TelegramStandin, library: Library
) -> None:
    config = make_config(standin, allowed_users=frozenset({ALICE}))
    standin.add_chat(GROUP, chat_type="group", title="Newsroom", bot_is_admin=True)
    group = {"chat_type": "group"}
    with running_bot(config, library):
        assert "[1]" in text_of(ask(standin, ALICE, ALICE, HUAWEI_QUESTION))
        assert "Articles:" in text_of(ask(standin, ADMIN, ADMIN, "/stats")), "admins always"

        told = ask(standin, BOB, BOB, BMW_QUESTION)
        assert text_of(told).startswith(PRIVATE_BOT)
        assert f"your user id is {BOB}" in text_of(told)
        for text in (BMW_QUESTION, "/start", "/help", "/source 1", "/stats", "/frobnicate",
                     *[f"question {i}?" for i in range(20)]):
            standin.add_user_message(BOB, BOB, text)

        # In a group, Carol is refused once when she addresses the bot; her chatter and
        # her further attempts get nothing, and Bob (told in private already) nothing.
        answer = ask(standin, GROUP, ALICE, f"@{BOT_NAME} {HUAWEI_QUESTION}", **group)
        standin.add_user_message(GROUP, CAROL, "Lunch at noon, anyone?", **group)
        carol = ask(standin, GROUP, CAROL, f"/ask@{BOT_NAME} {BMW_QUESTION}", **group)
        assert text_of(carol).startswith(PRIVATE_BOT)
        assert f"this chat's id is {GROUP}, your user id is {CAROL}" in text_of(carol)
        for text in (f"@{BOT_NAME} {BMW_QUESTION}", f"/ask {BMW_QUESTION}", "/help"):
            standin.add_user_message(GROUP, CAROL, text, **group)
            standin.add_user_message(GROUP, BOB, text, **group)
        since = standin.mark()
        standin.add_callback_query(GROUP, BOB, answer["message_id"],
                                   buttons(answer)[0]["callback_data"])
        settle(standin)

        assert len(standin.sent_messages(BOB)) == 1
        assert len(refusals(standin, GROUP)) == 1
        group_replies = [text_of(m) for m in standin.sent_messages(GROUP)]
        assert len(group_replies) == 2, group_replies  # Alice's answer, Carol's refusal
        pressed = [c for c in standin.calls[since:] if c.method == "answerCallbackQuery"]
        assert len(pressed) == 1 and not pressed[0].params.get("text"), "answered silently"
        assert not [c for c in standin.calls[since:] if c.method == "sendMessage"]


def test_chats_not_on_the_allowlist_get_one_refusal_per_chat(
    standin: TelegramStandin, library: Library
) -> None:
    config = make_config(standin, allowed_chats=frozenset({GROUP}))
    group = {"chat_type": "group"}
    standin.add_chat(GROUP, chat_type="group", title="Newsroom")
    standin.add_chat(OTHER_GROUP, chat_type="group", title="Elsewhere", bot_is_admin=True)
    with running_bot(config, library):
        assert "[1]" in text_of(ask(standin, GROUP, BOB, f"/ask {HUAWEI_QUESTION}", **group))

        private = ask(standin, ALICE, ALICE, HUAWEI_QUESTION)
        assert text_of(private).startswith(PRIVATE_BOT)
        standin.add_user_message(ALICE, ALICE, "/start")

        standin.add_user_message(OTHER_GROUP, BOB, "Lunch at noon, anyone?", **group)
        standin.add_user_message(OTHER_GROUP, BOB, "/roll 2d6", **group)  # another bot's
        told = ask(standin, OTHER_GROUP, BOB, f"@{BOT_NAME} {BMW_QUESTION}", **group)
        assert f"this chat's id is {OTHER_GROUP}" in text_of(told)
        for user in (BOB, CAROL, ALICE):
            standin.add_user_message(OTHER_GROUP, user, f"/ask@{BOT_NAME} {BMW_QUESTION}",
                                     **group)
        admin = ask(standin, OTHER_GROUP, ADMIN, f"/ask {BMW_QUESTION}", **group)
        assert "150,000" in text_of(admin), "admins are always allowed"
        settle(standin)

    assert len(standin.sent_messages(ALICE)) == 1
    assert len(refusals(standin, OTHER_GROUP)) == 1
    assert len(standin.sent_messages(OTHER_GROUP)) == 2  # the refusal, the admin's answer


def test_access_policy_rules_window_and_memory() -> None:
    open_policy = AccessPolicy(admin_ids=frozenset({1}))
    assert not open_policy.restricted and open_policy.allows(5, 5)

    both = AccessPolicy(admin_ids=frozenset({1}), allowed_users=frozenset({2, 3}),
                        allowed_chats=frozenset({3, -10}), window=60)
    assert both.allows(1, -99), "admins pass everywhere"
    assert both.allows(2, -10) and both.allows(3, 3)
    assert not both.allows(2, 2), "user allowed, but not their private chat"
    assert not both.allows(4, -10), "chat allowed, but not the user"
    assert not both.allows(None, -10)

    assert both.should_tell(4, -10, now=0) and not both.should_tell(4, -10, now=59)
    assert both.should_tell(5, -10, now=1), "per user when the chat is allowed"
    assert both.should_tell(4, -20, now=2) and not both.should_tell(6, -20, now=3), (
        "per chat when the chat is refused")
    assert both.should_tell(4, -10, now=61), "again after the window"

    flood = AccessPolicy(allowed_users=frozenset({1}), window=60)
    for user in range(MAX_REMEMBERED * 2):
        assert flood.should_tell(user + 10, user + 10, now=user / 1000)
    assert len(flood._told_at) <= MAX_REMEMBERED + 1


def test_allowlists_from_the_environment_and_serve_flags(tmp_path: Path) -> None:
    token = "123456:" + "A" * 35
    config = BotConfig.load({"TELEGRAM_BOT_TOKEN": token, "CITEBOT_ALLOWED_USERS": "7, 8",
                             "CITEBOT_ALLOWED_CHATS": "-100123 9",
                             "CITEBOT_ADD_FOLDERS": f"{tmp_path}/a:{tmp_path}/b"})
    assert config.allowed_users == {7, 8} and config.allowed_chats == {-100123, 9}
    assert config.add_folders == (tmp_path / "a", tmp_path / "b")
    flags = BotConfig.load({"TELEGRAM_BOT_TOKEN": token, "CITEBOT_ALLOWED_USERS": "7"},
                           overrides={"allowed_users": "5", "allowed_chats": "-1"})
    assert flags.allowed_users == {5} and flags.allowed_chats == {-1}
    assert BotConfig.load({"TELEGRAM_BOT_TOKEN": token}).allowed_users == frozenset()
    with pytest.raises(SettingsError, match="CITEBOT_ALLOWED_USERS: '-7'"):
        BotConfig.load({"TELEGRAM_BOT_TOKEN": token, "CITEBOT_ALLOWED_USERS": "-7"})
    with pytest.raises(SettingsError, match="CITEBOT_ALLOWED_CHATS: 'newsroom'"):
        BotConfig.load({"TELEGRAM_BOT_TOKEN": token, "CITEBOT_ALLOWED_CHATS": "newsroom"})

    result = CliRunner().invoke(main, [
        "--data-dir", str(tmp_path / "store"), "serve", "--env-file", str(tmp_path / "none"),
        "--token", token, "--allowed-users", "alice", "--allowed-chats=-100123"])
    assert result.exit_code == 2
    assert "CITEBOT_ALLOWED_USERS: 'alice' is not a numeric Telegram user id" in result.stderr


# --------------------------------------------------------------------------------------
# What /add may read
# --------------------------------------------------------------------------------------


def test_add_refuses_internal_addresses_and_paths_outside_its_folders(
    standin: TelegramStandin, library: Library, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CITEBOT_ALLOW_PRIVATE_URLS", raising=False)
    allowed, outside = tmp_path / "allowed", tmp_path / "outside"
    write_articles(allowed, 1)
    write_articles(outside, 1, first=5)
    os.symlink(outside, allowed / "escape")
    config = make_config(standin, add_folders=(allowed,))
    with LocalWeb() as web, running_bot(config, library):
        url = web.route("/news/bridge", Reply(article_page(
            title="Council approves the river bridge", paragraphs=COUNCIL_STORY)))
        port = url.split(":")[2].split("/")[0]
        internal = [url, f"http://localhost:{port}/news/bridge", f"http://[::1]:{port}/",
                    f"http://127.1:{port}/news/bridge", f"http://2130706433:{port}/",
                    f"http://0.0.0.0:{port}/", "http://169.254.169.254/latest/meta-data/",
                    "http://10.0.0.1/admin", "http://192.168.1.1/", "http://[fd00::1]/"]
        for target in internal:
            refused = text_of(ask(standin, ADMIN, ADMIN, f"/add {target}"))
            assert refused.startswith(f"❌ Could not add {target}"), refused
            assert "refused:" in refused, refused
        assert web.requests == [], "nothing was fetched"

        for target in (outside, allowed / "escape", allowed / ".." / "outside",
                       Path("/etc/passwd")):
            refused = text_of(ask(standin, ADMIN, ADMIN, f"/add {target}"))
            assert "outside the folders /add may read" in refused, (target, refused)
        added = text_of(ask(standin, ADMIN, ADMIN, f"/add {allowed}"))
        assert "Added 1 · changed 0" in added, added
    assert library.stats()["articles"] == ARTICLES + 1


# --------------------------------------------------------------------------------------
# The token
# --------------------------------------------------------------------------------------


def leaks(text: str, token: str) -> list[str]:
    secret = token.split(":", 1)[1]
    return [s for s in (token, secret, secret[:16], secret[-16:]) if s in text]


def test_the_token_never_reaches_logs_replies_or_disk(
    standin: TelegramStandin, library: Library, store: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    config = make_config(standin)
    token = standin.token

    async def boom(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        raise RuntimeError(f"POST {config.api_url}{token}/sendMessage failed (token {token})")

    with running_bot(config, library) as app:
        for name in ("httpx", "httpcore", "telegram", "telegram.ext", "asyncio"):
            caplog.set_level(logging.DEBUG, logger=name)
        app.add_handler(CommandHandler("boom", boom), group=1)

        assert "[1]" in text_of(ask(standin, ALICE, ALICE, HUAWEI_QUESTION))
        stats = ask(standin, ADMIN, ADMIN, "/stats")
        assert "Articles:" in text_of(stats)

        standin.inject_error("sendMessage", 500)  # the answer fails; the apology is sent
        since = standin.mark()
        standin.add_user_message(ALICE, ALICE, BMW_QUESTION)
        standin.wait_for_message(ALICE, lambda m: render.SOMETHING_WENT_WRONG in text_of(m),
                                 timeout=WAIT, since=since)
        standin.inject_error("getUpdates", 502)
        since = standin.mark()
        standin.add_user_message(BOB, BOB, "/boom")  # "unknown command", then the crash
        standin.wait_for_message(BOB, lambda m: text_of(m) == render.SOMETHING_WENT_WRONG,
                                 timeout=WAIT, since=since)
        assert "[1]" in text_of(ask(standin, BOB, BOB, HUAWEI_QUESTION)), "still serving"

    assert [(c.method, c.status) for c in standin.errors(include_injected=True)] == [
        ("sendMessage", 500), ("getUpdates", 502)]
    assert "HTTP Request" in caplog.text and "[redacted]" in caplog.text
    assert "RuntimeError: POST" in caplog.text, "the handler's crash was logged"
    assert leaks(caplog.text, token) == []
    for record in caplog.records:
        assert leaks(str(record.__dict__), token) == [], record.getMessage()
    replies = " ".join(c.params.get("text", "") for c in standin.calls
                       if c.method in ("sendMessage", "editMessageText"))
    assert leaks(replies, token) == []
    for path in store.rglob("*"):
        if path.is_file():
            assert token.split(":")[1].encode() not in path.read_bytes(), path


def run_serve(env: dict[str, str], store: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "bot.cli", "--data-dir", str(store), "serve",
               "--env-file", str(store / "none.env")]
    return subprocess.run(command, cwd=PROJECT, env={**os.environ, "PYTHONUNBUFFERED": "1",
                                                     **env},
                          capture_output=True, text=True, timeout=120, check=False)


def test_failed_startups_print_no_token(store: Path) -> None:
    with TelegramStandin() as standin:
        wrong = standin.token.split(":")[0] + ":" + "Zq9" * 12
        rejected = run_serve({"TELEGRAM_BOT_TOKEN": wrong, "CITEBOT_ADMIN_IDS": str(ADMIN),
                              "CITEBOT_TELEGRAM_API_URL": f"{standin.base_url}/bot"}, store)
        assert [(c.method, c.status) for c in standin.errors()] == [("getMe", 401)]
    assert rejected.returncode == 2, rejected.stderr
    assert "Telegram rejected the bot token" in rejected.stderr
    assert leaks(rejected.stdout + rejected.stderr, wrong) == []

    unreachable = run_serve({"TELEGRAM_BOT_TOKEN": wrong,
                             "CITEBOT_TELEGRAM_API_URL": f"http://127.0.0.1:{free_port()}/bot"},
                            store)
    assert unreachable.returncode == 2, unreachable.stderr
    assert "cannot reach the Telegram Bot API" in unreachable.stderr
    assert leaks(unreachable.stdout + unreachable.stderr, wrong) == []

    malformed = run_serve({"TELEGRAM_BOT_TOKEN": wrong + "!"}, store)
    assert malformed.returncode == 2 and "malformed" in malformed.stderr
    assert leaks(malformed.stdout + malformed.stderr, wrong) == []
