"""The Telegram bot end to end: the real Application (PTB v22) over real HTTP against the
Bot API stand-in, with a real Library (SQLite + FAISS + the real model) on the samples.

The samples are ingested once per module; each test works on its own copy of the store.
Every test ends with no Telegram error provoked (`standin.errors() == []`, injected
errors aside).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from telegram.ext import Application

from bot import render
from bot.app import build_application, webhook_options
from bot.chatlog import SQLiteChatLog
from bot.cli import main
from bot.config import BotConfig, WebhookConfig
from index.library import Library
from index.qa.answer import HEDGE_NOTE
from index.settings import Settings, SettingsError
from tests.conftest import PROJECT, SAMPLES
from tests.local_web import COUNCIL_STORY, LocalWeb, Reply, article_page
from tests.telegram_standin import (
    TelegramStandin,
    parse_html,
    telegram_standin_fixture,  # noqa: F401
    utf16_len,
)

ADMIN, ALICE, BOB, CAROL = 1001, 2002, 3003, 4004
GROUP = -100500
BOT_NAME = "citebot_test_bot"
HUAWEI_QUESTION = "What kind of AI chips does Huawei want to focus on?"
HUAWEI_TITLE = "Huawei, soon to be the Chinese emperor of AI chips ?"
BMW_QUESTION = "When will BMW reach 150,000 sales in Asia?"
TWO_SOURCE_QUESTION = "How many visitors did the Zorblat festivals draw?"
OFF_TOPIC_QUESTION = "Who won the 2014 FIFA World Cup final in Brazil?"
WAIT = 30.0

JSON = dict[str, Any]

# Two similar stories from two outlets, so that one answer cites two sources.
FESTIVALS = {
    "lyon-zorblat.txt": """---
outlet: Lyon Daily
url: https://lyon.example.com/zorblat
published_at: 2031-05-02
---
Zorblat festival in Lyon draws a crowd

The Zorblat festival in Lyon drew 40,000 visitors, the organisers said. Street performers \
filled the old town on Saturday.
""",
    "porto-zorblat.txt": """---
outlet: Porto News
url: https://porto.example.com/zorblat
published_at: 2031-06-10
---
Zorblat festival in Porto draws a crowd

The Zorblat festival in Porto drew 25,000 visitors, the council said. Musicians played by \
the river until dawn.
""",
}
ARTICLES = 13


# --------------------------------------------------------------------------------------
# Fixtures and helpers
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def indexed_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 11 samples and two festival stories, ingested once for the module (copied per
    test by `store`)."""
    root = tmp_path_factory.mktemp("bot-collection")
    articles = root / "articles"
    shutil.copytree(SAMPLES, articles)
    for name, text in FESTIVALS.items():
        articles.joinpath(name).write_text(text, encoding="utf-8")
    library = Library(Settings.from_env(root / "store"))
    try:
        report = library.ingest([articles])
        assert report.added == ARTICLES
    finally:
        library.close()
    return root / "store"


@pytest.fixture
def store(indexed_store: Path, tmp_path: Path) -> Path:
    target = tmp_path / "store"
    shutil.copytree(indexed_store, target)
    return target


@pytest.fixture
def library(store: Path) -> Iterator[Library]:
    opened = Library(Settings.from_env(store))
    yield opened
    opened.close()


@pytest.fixture
def standin(telegram_standin: TelegramStandin) -> Iterator[TelegramStandin]:
    """The stand-in; after the test, no Telegram error may have been provoked."""
    yield telegram_standin
    assert telegram_standin.errors() == []


def make_config(standin: TelegramStandin, **changes: Any) -> BotConfig:
    config = BotConfig(
        token=standin.token, admin_ids=frozenset({ADMIN}), api_url=f"{standin.base_url}/bot",
        progress_interval=0.2,
    )
    return replace(config, **changes)


async def _start(app: Application, config: BotConfig) -> None:
    """What `run_polling` / `run_webhook` do before idling (post_init included)."""
    await app.initialize()
    if app.post_init:
        await app.post_init(app)
    if config.webhook:
        await app.updater.start_webhook(**webhook_options(config.webhook))
    else:
        await app.updater.start_polling(poll_interval=0, timeout=1,
                                        allowed_updates=["message", "callback_query"])
    await app.start()


async def _stop(app: Application) -> None:
    if app.updater.running:
        await app.updater.stop()
    if app.running:
        await app.stop()
    await app.shutdown()
    if app.post_shutdown:
        await app.post_shutdown(app)


@contextmanager
def running_bot(config: BotConfig, library: Library) -> Iterator[Application]:
    """`build_application(config, library)` running in a thread with its own event loop."""
    app = build_application(config, library)
    ready = threading.Event()
    state: dict[str, Any] = {}

    async def run() -> None:
        state["loop"], state["stop"] = asyncio.get_running_loop(), asyncio.Event()
        try:
            await _start(app, config)
        finally:
            ready.set()
        await state["stop"].wait()
        await _stop(app)

    def thread_main() -> None:
        try:
            asyncio.run(run())
        except BaseException as error:  # reported by the test thread
            state["error"] = error
            ready.set()

    thread = threading.Thread(target=thread_main, name="citebot-test-bot", daemon=True)
    thread.start()
    assert ready.wait(WAIT), "the bot did not start"
    if "error" in state:
        raise state["error"]
    try:
        yield app
    finally:
        state["loop"].call_soon_threadsafe(state["stop"].set)
        thread.join(WAIT)
        assert not thread.is_alive(), "the bot did not stop"
        if "error" in state:
            raise state["error"]


def text_of(message: JSON) -> str:
    return message.get("text", "")


def replying_to(message_id: int) -> Callable[[JSON], bool]:
    def check(message: JSON) -> bool:
        return message.get("reply_to_message", {}).get("message_id") == message_id
    return check


def ask(standin: TelegramStandin, chat_id: int, user_id: int, text: str, **options: Any
        ) -> JSON:
    """Send `text` as a user and return the bot's first reply to it."""
    since = standin.mark()
    update = standin.add_user_message(chat_id, user_id, text, **options)
    return standin.wait_for_message(
        chat_id, replying_to(update["message"]["message_id"]), timeout=WAIT, since=since)


def all_buttons(message: JSON) -> list[JSON]:
    return [b for row in message.get("reply_markup", {}).get("inline_keyboard", []) for b in row]


def buttons(message: JSON) -> list[JSON]:
    """The citation buttons of an answer (not its 👍 / 👎 row)."""
    return [b for b in all_buttons(message) if b["callback_data"].startswith("c:")]


def feedback_buttons(message: JSON) -> dict[str, JSON]:
    """The feedback buttons of an answer by their callback data's last part: "up",
    "down", and after a 👎 "source", "missed", "unknown"."""
    return {b["callback_data"].rsplit(":", 1)[1]: b for b in all_buttons(message)
            if b["callback_data"].startswith("f:")}


def logged_answer(store: Path, chat_id: int, message_id: int) -> tuple[Any, list[Any]]:
    """The answer bot.sqlite links to a bot message, with its citations (the bot links a
    message just after sending it, so wait a little)."""
    log = SQLiteChatLog(store)
    try:
        deadline = time.monotonic() + 10
        while (answer := log.answer_for_message(chat_id, message_id)) is None:
            assert time.monotonic() < deadline, f"message {message_id} is not in bot.sqlite"
            time.sleep(0.05)
        return answer, log.citations(answer.id)
    finally:
        log.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --------------------------------------------------------------------------------------
# Private chats: answers, citation buttons, /source, abstention
# --------------------------------------------------------------------------------------


def test_private_question_gets_a_cited_answer_and_a_button_shows_the_quote(
    standin: TelegramStandin, library: Library, store: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    config = make_config(standin)
    with running_bot(config, library):
        caplog.set_level(logging.INFO, logger="httpx")  # httpx logs URLs with the token
        assert [c["command"] for c in standin.commands()] == [
            "ask", "source", "search", "latest", "help", "start"]

        answer = ask(standin, ALICE, ALICE, HUAWEI_QUESTION)
        assert "[1]" in text_of(answer) and "Huawei" in text_of(answer)
        assert "Sources\n[1] " + HUAWEI_TITLE in text_of(answer)
        assert "Presse-citron" in text_of(answer)
        links = [e for e in answer["entities"] if e["type"] == "text_link"]
        assert links and links[0]["url"].startswith("https://www.presse-citron.net/")
        keyboard = buttons(answer)
        assert keyboard and all(len(b["callback_data"].encode()) <= 64 for b in keyboard)
        assert re.fullmatch(r"c:\d+:1", keyboard[0]["callback_data"])
        assert {"chat_id": ALICE, "action": "typing"} in standin.chat_actions()

        citation = logged_answer(store, ALICE, answer["message_id"])[1][0]
        body = library.article(citation.article_id).body
        assert body[citation.start : citation.end] == citation.quote

        since = standin.mark()
        standin.add_callback_query(ALICE, ALICE, answer["message_id"],
                                   keyboard[0]["callback_data"])
        quote = standin.wait_for_message(ALICE, replying_to(answer["message_id"]),
                                         timeout=WAIT, since=since)
        assert citation.quote in text_of(quote)
        bold = [text_of(quote)[e["offset"] : e["offset"] + e["length"]]
                for e in quote["entities"] if e["type"] == "bold"]
        assert citation.quote in bold
        assert any(e["type"] == "blockquote" for e in quote["entities"])
        assert standin.callback_answers(), "the button press was answered"

        since = standin.mark()
        standin.add_callback_query(ALICE, ALICE, answer["message_id"],
                                   keyboard[0]["callback_data"])
        standin.wait_for(lambda: len(standin.callback_answers()) == 2, WAIT, "a second answer")
        assert standin.callback_answers()[-1].get("text") == render.QUOTE_ALREADY_SHOWN
        assert not [c for c in standin.calls[since:] if c.method == "sendMessage"], \
            "a second tap posts no second identical quote"

        nothing = ask(standin, ALICE, ALICE, OFF_TOPIC_QUESTION)
        assert text_of(nothing) == "I couldn't find that in the articles I have."
        assert not buttons(nothing) and set(feedback_buttons(nothing)) == {"up", "down"}

    assert "HTTP Request" in caplog.text and "[redacted]" in caplog.text
    secret = standin.token.split(":")[1]
    assert secret not in caplog.text
    assert all(secret not in str(r.__dict__) for r in caplog.records)


def test_source_n_works_on_an_older_answer_after_a_restart(
    standin: TelegramStandin, store: Path
) -> None:
    config = make_config(standin)
    library = Library(Settings.from_env(store))
    with running_bot(config, library):
        older = ask(standin, ALICE, ALICE, TWO_SOURCE_QUESTION)
        assert len(buttons(older)) >= 2, text_of(older)
        newer = ask(standin, ALICE, ALICE, "games maker honour")
        assert len(buttons(newer)) == 1
    library.close()
    expected = logged_answer(store, ALICE, older["message_id"])[1][1]

    restarted = Library(Settings.from_env(store))
    try:
        with running_bot(config, restarted):
            quote = ask(standin, ALICE, ALICE, "/source 2",
                        reply_to_message_id=older["message_id"])
            assert expected.quote in text_of(quote)
            assert text_of(quote).startswith(f"[2] {expected.title}")

            latest = ask(standin, ALICE, ALICE, "/source 2")
            assert text_of(latest) == "That answer has only source 1."
    finally:
        restarted.close()


# --------------------------------------------------------------------------------------
# Groups
# --------------------------------------------------------------------------------------


def test_group_answers_mentions_ask_and_replies_and_ignores_chatter(
    standin: TelegramStandin, library: Library, store: Path, caplog: pytest.LogCaptureFixture
) -> None:
    standin.add_chat(GROUP, chat_type="group", title="Newsroom", bot_is_admin=True)
    group = {"chat_type": "group"}
    with running_bot(make_config(standin), library):
        caplog.set_level(logging.INFO)
        chatter = standin.add_user_message(GROUP, BOB, "Lunch at noon, anyone?", **group)
        command_for_others = standin.add_user_message(GROUP, BOB, "/roll 2d6", **group)

        mention = ask(standin, GROUP, ALICE, f"@{BOT_NAME} {BMW_QUESTION}", **group)
        assert "150,000" in text_of(mention) and "[1]" in text_of(mention)

        asked = ask(standin, GROUP, CAROL, f"/ask@{BOT_NAME} {HUAWEI_QUESTION}", **group)
        assert HUAWEI_TITLE in text_of(asked)

        follow_up = ask(standin, GROUP, BOB, "and when did that happen?",
                        reply_to_message_id=asked["message_id"], **group)
        assert HUAWEI_TITLE in text_of(follow_up), "the follow-up keeps the question's topic"
        logged, _ = logged_answer(store, GROUP, follow_up["message_id"])
        assert logged.question == f"{HUAWEI_QUESTION} and when did that happen?"

    ignored = {chatter["message"]["message_id"], command_for_others["message"]["message_id"]}
    assert not standin.pending_updates() and not standin.suppressed_updates()
    replies = [m.get("reply_to_message", {}).get("message_id")
               for m in standin.sent_messages(GROUP)]
    assert not ignored & set(replies)
    assert len(standin.sent_messages(GROUP)) == 3
    assert "Lunch" not in caplog.text


def test_a_reply_sent_before_the_bot_learns_its_answers_id_is_still_a_follow_up(
    standin: TelegramStandin, library: Library, store: Path
) -> None:
    """The gap: Telegram shows the answer (users can reply to it) before the bot has the
    response of its sendMessage. The stand-in holds that response open while the reply
    is delivered and handled, so the reply always lands in the gap."""
    with running_bot(make_config(standin), library):
        standin.hold_responses("sendMessage")
        since = standin.mark()
        question = standin.add_user_message(ALICE, ALICE, BMW_QUESTION)
        answer = standin.wait_for_message(
            ALICE, replying_to(question["message"]["message_id"]), timeout=WAIT, since=since)
        reply = standin.add_user_message(ALICE, ALICE, "and in which year?",
                                         reply_to_message_id=answer["message_id"])
        reply_id = reply["update_id"]
        standin.wait_for_call("getUpdates", lambda call: any(
            u["update_id"] == reply_id for u in call.result or []), timeout=WAIT, since=since)
        time.sleep(0.5)  # the bot handles the reply while the answer's response is held
        assert logged_answer_or_none(store, ALICE, answer["message_id"]) is None, \
            "the stand-in held the answer's response: the bot could not have linked it yet"
        standin.release_responses("sendMessage")
        follow_up = standin.wait_for_message(
            ALICE, replying_to(reply["message"]["message_id"]), timeout=WAIT, since=since)
        logged, _ = logged_answer(store, ALICE, follow_up["message_id"])
        assert logged.question == f"{BMW_QUESTION} and in which year?"


def test_greetings_and_thanks_get_a_hello_and_a_welcome_not_an_answer(
    standin: TelegramStandin, library: Library, store: Path
) -> None:
    standin.add_chat(GROUP, chat_type="group", title="Newsroom", bot_is_admin=True)
    group = {"chat_type": "group"}
    with running_bot(make_config(standin), library):
        hello = ask(standin, ALICE, ALICE, "Hi there! 👋")
        assert "I answer questions about the news articles" in text_of(hello)
        assert not all_buttons(hello)
        how = ask(standin, ALICE, ALICE, "what can you do?")
        assert "Just send me a question" in text_of(how)

        answer = ask(standin, GROUP, ALICE, f"@{BOT_NAME} {BMW_QUESTION}", **group)
        assert "150,000" in text_of(answer)
        thanks = ask(standin, GROUP, BOB, "thanks a lot!",
                     reply_to_message_id=answer["message_id"], **group)
        assert text_of(thanks).startswith("You're welcome"), "a thank-you is no follow-up"
        assert logged_answer_or_none(store, GROUP, thanks["message_id"]) is None
        nudged = ask(standin, GROUP, CAROL, f"@{BOT_NAME} ok", **group)
        assert "Ask me anything" in text_of(nudged)

        still_a_question = ask(standin, ALICE, ALICE, f"hi, {BMW_QUESTION.lower()}")
        assert "150,000" in text_of(still_a_question) and "[1]" in text_of(still_a_question)
    assert standin.errors() == []


def test_in_a_private_chat_a_message_leaning_on_the_last_answer_follows_it_up(
    standin: TelegramStandin, library: Library, store: Path
) -> None:
    standin.add_chat(GROUP, chat_type="group", title="Newsroom", bot_is_admin=True)
    cafes = "how many internet cafes did china shut down"
    with running_bot(make_config(standin), library):
        first = ask(standin, ALICE, ALICE, cafes)
        assert "12,575" in text_of(first)
        why = ask(standin, ALICE, ALICE, "why?")  # not sent as a reply
        assert "operating illegally" in text_of(why)
        logged, _ = logged_answer(store, ALICE, why["message_id"])
        assert logged.question == f"{cafes} why?"
        alone = ask(standin, ALICE, ALICE, BMW_QUESTION)
        logged, _ = logged_answer(store, ALICE, alone["message_id"])
        assert logged.question == BMW_QUESTION, "a question that stands alone is no follow-up"

        group = {"chat_type": "group"}
        ask(standin, GROUP, BOB, f"@{BOT_NAME} {cafes}", **group)
        in_group = ask(standin, GROUP, BOB, f"@{BOT_NAME} why?", **group)
        logged, _ = logged_answer(store, GROUP, in_group["message_id"])
        assert logged.question == "why?", "in a group only a reply follows an answer up"
    assert standin.errors() == []


def test_an_answer_the_model_doubts_says_so_above_it(standin: TelegramStandin,
                                                      library: Library) -> None:
    with running_bot(make_config(standin), library):
        doubted = ask(standin, ALICE, ALICE, "what is the name of google's ceo")
        assert text_of(doubted).startswith(HEDGE_NOTE)
        assert buttons(doubted), "still cited: the reader can check the quote"
        sure = ask(standin, ALICE, ALICE, BMW_QUESTION)
        assert HEDGE_NOTE not in text_of(sure)
    assert standin.errors() == []


def logged_answer_or_none(store: Path, chat_id: int, message_id: int) -> Any:
    log = SQLiteChatLog(store)
    try:
        return log.answer_for_message(chat_id, message_id)
    finally:
        log.close()


# --------------------------------------------------------------------------------------
# Admin: /reindex, /add, /stats
# --------------------------------------------------------------------------------------


def write_articles(folder: Path, count: int, first: int = 0) -> None:
    """`count` small synthetic articles (long headlines, a URL and a date each)."""
    folder.mkdir(exist_ok=True)
    for i in range(first, first + count):
        title = f"Long headline number {i:03d} about regional trade, farming and weather " * 2
        folder.joinpath(f"extra-{i:03d}.txt").write_text(
            f"---\noutlet: Example Gazette & Co\nurl: https://news.example.com/story/{i}\n"
            f"published_at: 2030-01-{(i % 28) + 1:02d}\n---\n{title.strip()}\n\n"
            f"Story {i} says that farmers <and> traders met on day {i} to talk about rain. "
            f"They agreed that the harvest of year {2000 + i} was late.\n",
            encoding="utf-8")


def reindex_with_a_question(standin: TelegramStandin, command: str
                            ) -> tuple[JSON, JSON, JSON, list[Any]]:
    """An admin starts `command`; meanwhile a user asks and the admin tries a second
    reindex. (progress message, answer, final progress edit, the calls since the start)."""
    since = standin.mark()
    progress = ask(standin, ADMIN, ADMIN, command)
    assert text_of(progress).startswith("🔄 Reindexing")
    question = standin.add_user_message(ALICE, ALICE, BMW_QUESTION)
    again = ask(standin, ADMIN, ADMIN, "/reindex")
    assert text_of(again).startswith("A reindex is already running:\n\n🔄 Reindexing")
    answer = standin.wait_for_message(
        ALICE, replying_to(question["message"]["message_id"]), timeout=WAIT, since=since)
    final = standin.wait_for_message(
        ADMIN, lambda m: "finished" in text_of(m), timeout=WAIT, since=since)
    assert final["message_id"] == progress["message_id"]
    return answer, progress, final, standin.calls[since:]


def answered_before_the_final_edit(calls: list[Any]) -> bool:
    edits = [i for i, c in enumerate(calls) if c.method == "editMessageText"]
    answered = next(i for i, c in enumerate(calls) if c.method == "sendMessage"
                    and c.ok and c.result["chat"]["id"] == ALICE)
    return answered < edits[-1]


def test_reindex_is_for_admins_and_edits_one_progress_message(
    standin: TelegramStandin, library: Library, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    with running_bot(make_config(standin), library):
        refused = ask(standin, BOB, BOB, "/reindex")
        assert "only for the bot's admins" in text_of(refused)
        assert any("refused /reindex" in r.getMessage() and str(BOB) in r.getMessage()
                   for r in caplog.records)
        assert "@None" not in caplog.text, "a user without a username is named by id only"
        assert "only for the bot's admins" in text_of(ask(standin, BOB, BOB, "/stats"))

        _, progress, final, calls = reindex_with_a_question(standin, "/reindex full")
        assert "Reindexing (full)" in text_of(progress)
        assert "Full reindex finished in " in text_of(final)
        assert f"Added 0 · changed 0 · removed 0 · unchanged {ARTICLES}" in text_of(final)
        assert "Errors: 0" in text_of(final)
        progress_edits = [c.params["text"] for c in calls if c.method == "editMessageText"][:-1]
        assert any(f"Articles read: {ARTICLES}" in t for t in progress_edits)
        assert all(a != b for a, b in itertools.pairwise(progress_edits))

        stats = ask(standin, ADMIN, ADMIN, "/stats")
        assert f"Articles: {ARTICLES}" in text_of(stats) and "all-MiniLM-L6-v2" in text_of(stats)


def test_questions_are_answered_from_the_old_index_while_a_reindex_runs(
    standin: TelegramStandin, store: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "feed"
    write_articles(folder, 1)
    library = Library(Settings.from_env(store))
    try:
        library.ingest([folder])
        write_articles(folder, 120, first=1)  # new files: the reindex has work to do
        with running_bot(make_config(standin), library):
            answer, _, final, calls = reindex_with_a_question(standin, "/reindex")
            assert "150,000" in text_of(answer) and "[1]" in text_of(answer)
            assert answered_before_the_final_edit(calls)
            assert "Reindex finished" in text_of(final) and "Added 120 · changed 0" in text_of(
                final)
            progress_edits = [c.params["text"] for c in calls
                              if c.method == "editMessageText"][:-1]
            assert any(f"Articles read: {ARTICLES + 121}" in t for t in progress_edits)
    finally:
        library.close()


def test_questions_are_answered_while_a_full_reindex_runs(
    standin: TelegramStandin, library: Library
) -> None:
    with running_bot(make_config(standin), library):
        answer, _, _, calls = reindex_with_a_question(standin, "/reindex full")
        assert answered_before_the_final_edit(calls)
        assert "150,000" in text_of(answer)


def test_add_a_folder_then_latest_is_split_into_valid_messages(
    standin: TelegramStandin, library: Library, tmp_path: Path
) -> None:
    folder = tmp_path / "more"
    write_articles(folder, 45)
    folder.joinpath("chart.png").write_bytes(b"\x89PNG")
    with running_bot(make_config(standin), library):
        added = ask(standin, ADMIN, ADMIN, f"/add {folder}")
        assert "Added 45 · changed 0 · removed 0" in text_of(added), text_of(added)
        assert "Not articles, left out: 1 .png" in text_of(added)
        # Sentence-mean passage vectors: every new sentence is embedded, no passage is.
        embedded = re.search(r"Embedded: 0 passages, (\d+) sentences", text_of(added))
        assert embedded and int(embedded.group(1)) >= 45, text_of(added)

        missing = ask(standin, ADMIN, ADMIN, f"/add {tmp_path / 'nowhere'}")
        assert "no such file or folder" in text_of(missing)

        since = standin.mark()
        standin.add_user_message(ALICE, ALICE, "/latest 50")
        standin.wait_for(lambda: len(standin.sent_messages(ALICE)) >= 3, timeout=WAIT)
        time.sleep(0.5)
        parts = [c.params["text"] for c in standin.calls[since:] if c.method == "sendMessage"]
        assert len(parts) >= 3
        texts = []
        for part in parts:
            assert utf16_len(part) <= 4096
            texts.append(parse_html(part)[0])
        entries = re.findall(r"^(\d+)\. ", "\n".join(texts), flags=re.MULTILINE)
        assert entries == [str(i) for i in range(1, 51)]
        assert "Example Gazette & Co · 2030-01-" in texts[0]


def test_add_a_web_article_by_url_and_fetch_errors_are_shown(
    standin: TelegramStandin, library: Library
) -> None:
    with LocalWeb() as web:
        url = web.route("/news/bridge", Reply(article_page(
            title="Council approves the river bridge", paragraphs=COUNCIL_STORY)))
        with running_bot(make_config(standin), library):
            refused = ask(standin, ADMIN, ADMIN, f"/add {url}")
            assert text_of(refused).startswith(f"❌ Could not add {url}")

        # Settings are read once, as a library opens: the same collection, allowed to fetch
        # the local (loopback) server.
        allowing = Library(replace(library.settings, allow_private_urls=True))
        try:
            with running_bot(make_config(standin), allowing):
                added = ask(standin, ADMIN, ADMIN, f"/add {url}")
                assert "Added 1 · changed 0" in text_of(added), text_of(added)

                answer = ask(standin, ALICE, ALICE,
                             "How much will the footbridge over the Wye cost?")
                assert "12 million pounds" in text_of(answer)
                assert "Council approves the river bridge" in text_of(answer)
        finally:
            allowing.close()


# --------------------------------------------------------------------------------------
# Limits and failures
# --------------------------------------------------------------------------------------


def test_rate_limit_says_slow_down_once_and_long_questions_are_truncated(
    standin: TelegramStandin, library: Library
) -> None:
    config = make_config(standin, questions_per_window=1, rate_window_seconds=60)
    with running_bot(config, library):
        long_question = HUAWEI_QUESTION + " Please be thorough." * 100
        answer = ask(standin, ALICE, ALICE, long_question)
        assert text_of(answer).startswith(
            "Your question was very long: I used its first 1000 characters.")
        assert "[1]" in text_of(answer)

        slow = ask(standin, ALICE, ALICE, BMW_QUESTION)
        assert text_of(slow).startswith("Slow down a little")
        flood = standin.add_user_message(ALICE, ALICE, BMW_QUESTION)
        ask(standin, ALICE, ALICE, "/help")  # processed after the flood message
        replies = [m.get("reply_to_message", {}).get("message_id")
                   for m in standin.sent_messages(ALICE)]
        assert flood["message"]["message_id"] not in replies

        other = ask(standin, BOB, BOB, "/source 1")
        assert text_of(other) == "There is no answer to look up yet: ask me a question first."


def test_a_429_from_telegram_is_waited_out_and_the_message_still_arrives(
    standin: TelegramStandin, library: Library
) -> None:
    with running_bot(make_config(standin), library):
        standin.inject_error("sendMessage", 429, retry_after=1)
        started = time.monotonic()
        hello = ask(standin, ALICE, ALICE, "/start")
        assert time.monotonic() - started >= 1.0
        assert "I answer questions about the news articles" in text_of(hello)
        injected = standin.errors(include_injected=True)
        assert [(c.method, c.status) for c in injected] == [("sendMessage", 429)]


def test_network_errors_while_polling_do_not_stop_the_bot(
    standin: TelegramStandin, library: Library
) -> None:
    with running_bot(make_config(standin), library):
        standin.inject_error("getUpdates", 502)
        helped = ask(standin, ALICE, ALICE, "/help")
        assert "Example questions" in text_of(helped)
        assert "/reindex" not in text_of(helped), "admin commands are listed to admins only"
        assert "/reindex" in text_of(ask(standin, ADMIN, ADMIN, "/help"))
        assert [(c.method, c.status) for c in standin.errors(include_injected=True)] == [
            ("getUpdates", 502)]


def test_unknown_commands_and_wrong_arguments_get_usage_hints(
    standin: TelegramStandin, library: Library
) -> None:
    with running_bot(make_config(standin), library):
        hints = {
            "/frobnicate": "I don't know the command /frobnicate",
            "/source two": "Usage: /source N",
            "/latest 999": "Usage: /latest [N]",
            "/ask": "Usage: /ask QUESTION",
            "/search": "Usage: /search WORDS",
            "/reindex now": "only for the bot's admins",
        }
        for command, hint in hints.items():
            assert hint in text_of(ask(standin, BOB, BOB, command)), command
        assert "Usage: /reindex [full]" in text_of(ask(standin, ADMIN, ADMIN, "/reindex now"))
        assert "Usage: /add PATH_OR_URL" in text_of(ask(standin, ADMIN, ADMIN, "/add"))


def test_search_lists_matching_articles_with_dates(
    standin: TelegramStandin, library: Library
) -> None:
    with running_bot(make_config(standin), library):
        found = ask(standin, ALICE, ALICE, "/search BMW sales")
        assert not text_of(found).startswith("Sorry, something went wrong"), text_of(found)
        assert text_of(found).startswith("Articles matching “BMW sales”"), text_of(found)
        assert "BMW drives record sales in Asia · BBC News · 2005-01-26" in text_of(found)
        none = ask(standin, ALICE, ALICE, "/search zanzibar")
        assert text_of(none) == "No articles match “zanzibar”."


def test_webhook_mode_accepts_updates_with_the_secret_only(
    standin: TelegramStandin, library: Library
) -> None:
    port = free_port()
    webhook = WebhookConfig(url=f"http://127.0.0.1:{port}/telegram", secret="s3cret-Token_1",
                            listen="127.0.0.1", port=port, path="telegram")
    with running_bot(make_config(standin, webhook=webhook), library):
        assert standin.webhook is not None and standin.webhook["secret_token"] == webhook.secret
        forged = {"update_id": 1, "message": {
            "message_id": 1, "date": 0, "text": "/start",
            "chat": {"id": ALICE, "type": "private"},
            "from": {"id": ALICE, "is_bot": False, "first_name": "Mallory"}}}
        assert standin.post_update_to_webhook(None, forged, secret_token="wrong") == 403
        hello = ask(standin, ALICE, ALICE, "/start")  # delivered by POST with the secret
        assert "Hello, Alice!" in text_of(hello)
    assert all(d["status"] == 200 for d in standin.webhook_deliveries())
    assert not any("Mallory" in text_of(m) for m in standin.sent_messages())


# --------------------------------------------------------------------------------------
# `citebot serve`: configuration errors
# --------------------------------------------------------------------------------------


def serve(store: Path, env: dict[str, str | None], *args: str) -> Any:
    base = {"TELEGRAM_BOT_TOKEN": None, "CITEBOT_TELEGRAM_API_URL": None,
            "CITEBOT_ADMIN_IDS": None}
    return CliRunner().invoke(main, ["--data-dir", str(store), "serve",
                                     "--env-file", str(store / "none.env"), *args],
                              env={**base, **env})


def test_citebot_serve_runs_the_bot_until_interrupted(
    standin: TelegramStandin, store: Path
) -> None:
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": standin.token,
           "CITEBOT_TELEGRAM_API_URL": f"{standin.base_url}/bot",
           "CITEBOT_ADMIN_IDS": str(ADMIN), "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "bot.cli", "--data-dir", str(store), "serve",
               "--env-file", str(store / "none.env"), "--rate-limit", "5"]
    process = subprocess.Popen(command, cwd=PROJECT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        standin.wait_for(lambda: standin.commands(), timeout=WAIT, what="setMyCommands")
        answer = ask(standin, ALICE, ALICE, BMW_QUESTION)
        assert "150,000" in text_of(answer) and buttons(answer)
    finally:
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=WAIT)
    assert process.returncode == 0, stderr
    assert "citebot is running as @citebot_test_bot" in stderr
    assert "starting in polling mode" in stderr
    assert standin.token.split(":")[1] not in stdout + stderr


@pytest.mark.parametrize("token", [None, "not-a-token", "12345:short"])
def test_serve_without_a_valid_token_exits_with_a_clear_error(store: Path,
                                                              token: str | None) -> None:
    result = serve(store, {"TELEGRAM_BOT_TOKEN": token})
    assert result.exit_code == 2
    assert "error:" in result.stderr and "TELEGRAM_BOT_TOKEN" in result.stderr
    assert "@BotFather" in result.stderr
    if token:
        assert token not in result.output


def test_serve_with_a_rejected_token_exits_with_a_clear_error_and_no_token_in_logs(
    store: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with TelegramStandin() as standin:
        wrong = standin.token.split(":")[0] + ":" + "X" * 35
        result = serve(store, {"TELEGRAM_BOT_TOKEN": wrong,
                               "CITEBOT_TELEGRAM_API_URL": f"{standin.base_url}/bot"})
        assert result.exit_code == 2, result.output
        assert "Telegram rejected the bot token" in result.stderr
        assert [(c.method, c.status) for c in standin.errors()] == [("getMe", 401)]
    assert wrong not in result.output and "X" * 35 not in result.output
    assert "X" * 35 not in caplog.text


def test_serve_reads_settings_from_a_dotenv_file(store: Path, tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("# bot settings\nTELEGRAM_BOT_TOKEN='broken'\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["--data-dir", str(store), "serve", "--env-file",
                                       str(env_file)], env={"TELEGRAM_BOT_TOKEN": None})
    assert result.exit_code == 2
    assert "malformed" in result.stderr and "broken" not in result.output


def test_config_flags_win_over_the_environment_which_wins_over_dotenv(tmp_path: Path) -> None:
    token = "123456:" + "A" * 35
    env_file = tmp_path / ".env"
    env_file.write_text(
        f'export TELEGRAM_BOT_TOKEN="{token}"\n# admins\nCITEBOT_ADMIN_IDS=1, 2\n'
        "CITEBOT_RATE_LIMIT=5\nCITEBOT_WEBHOOK_URL=https://bot.example.com/hook\n",
        encoding="utf-8")
    config = BotConfig.load({"CITEBOT_RATE_LIMIT": "7", "CITEBOT_ADMIN_IDS": "3"},
                            env_file=env_file, overrides={"admin_ids": "9,10", "model": None})
    assert config.token == token and config.admin_ids == {9, 10}
    assert config.questions_per_window == 7 and config.rate_window_seconds == 60
    assert config.api_url == "https://api.telegram.org/bot"
    assert config.file_url == "https://api.telegram.org/file/bot"
    assert config.webhook is not None and config.webhook.path == "hook"
    assert len(config.webhook.secret) >= 32, "a random secret when none is configured"
    assert token not in repr(config) and config.webhook.secret not in repr(config)

    with pytest.raises(SettingsError, match="CITEBOT_ADMIN_IDS: 'alice'"):
        BotConfig.load({"TELEGRAM_BOT_TOKEN": token, "CITEBOT_ADMIN_IDS": "alice"})
    with pytest.raises(SettingsError, match="CITEBOT_TELEGRAM_API_URL"):
        BotConfig.load({"TELEGRAM_BOT_TOKEN": token, "CITEBOT_TELEGRAM_API_URL": "localhost"})
    with pytest.raises(SettingsError, match="CITEBOT_RATE_LIMIT must be a number"):
        BotConfig.load({"TELEGRAM_BOT_TOKEN": token, "CITEBOT_RATE_LIMIT": "lots"})
    with pytest.raises(SettingsError, match="CITEBOT_WEBHOOK_SECRET"):
        BotConfig.load({"TELEGRAM_BOT_TOKEN": token, "CITEBOT_WEBHOOK_URL": "https://x.org/h",
                        "CITEBOT_WEBHOOK_SECRET": "has spaces"})
