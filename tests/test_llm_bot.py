"""The LLM reader in the Telegram bot: the real Application over HTTP against the Bot API
stand-in, the real Library, and the OpenAI-compatible stand-in as the model.

A verified answer appears sentence by sentence in one message (edited no more often than the
interval, a 429 waited out) that ends with the citation buttons; an unverified one never
shows, and the extractive answer is sent as usual; /stats counts both.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from index.library import Library
from index.settings import LlmSettings, Settings
from tests import test_bot
from tests.llm_standin import LlmStandin, Script
from tests.telegram_standin import (
    TelegramStandin,
    telegram_standin_fixture,  # noqa: F401
)
from tests.test_bot import (
    ADMIN,
    ALICE,
    WAIT,
    ask,
    buttons,
    logged_answer,
    make_config,
    running_bot,
    text_of,
)

# The bot tests' fixtures: the samples ingested once, a copy per test, the Bot API stand-in.
indexed_store = test_bot.indexed_store
store = test_bot.store
standin = test_bot.standin

QUESTION = "What annual sales figure in Asia is BMW aiming for by 2008?"
FIRST = "BMW wants to sell 150,000 cars a year in Asia by 2008 [1]. "
SECOND = "Last year it sold nearly 95,000 cars there, up 2.6% on 2003 [1]."
INTERVAL = 1.0


@pytest.fixture
def model() -> Iterator[LlmStandin]:
    server = LlmStandin().start()
    yield server
    server.stop()


@pytest.fixture
def reading_library(store: Path, model: LlmStandin) -> Iterator[Library]:
    settings = replace(Settings.from_env(store), llm=LlmSettings(
        url=model.url, model="standin", api_key="sk-secret", timeout=5.0, enabled=True))
    library = Library(settings)
    yield library
    library.close()


def test_a_verified_answer_appears_sentence_by_sentence_then_gets_its_buttons(
    standin: TelegramStandin, reading_library: Library, model: LlmStandin, store: Path
) -> None:
    # The second sentence comes 2.5 s after the first.
    model.script(Script(text=FIRST + SECOND, stall=2.5, stall_after=len(FIRST) + 7))
    with running_bot(make_config(standin, progress_interval=INTERVAL), reading_library):
        first = ask(standin, ALICE, ALICE, QUESTION)
        assert text_of(first) == ("BMW wants to sell 150,000 cars a year in Asia by 2008. [1] …")
        assert "reply_markup" not in first
        final = standin.wait_for_message(
            ALICE, lambda m: m["message_id"] == first["message_id"] and bool(buttons(m)),
            timeout=WAIT)
        assert text_of(final).startswith(
            "BMW wants to sell 150,000 cars a year in Asia by 2008. [1] Last year it sold "
            "nearly 95,000 cars there, up 2.6% on 2003. [1]")
        assert "Sources\n[1] BMW drives record sales in Asia" in text_of(final)
        edits = standin.calls_to("editMessageText")
        assert any(" …" in c.params["text"] and "95,000" in c.params["text"] for c in edits)
        times = [c.at for c in standin.calls_to("sendMessage") if c.ok][-1:] + \
            [c.at for c in edits if c.ok]
        assert all(b - a >= INTERVAL * 0.9 for a, b in itertools.pairwise(times))
        citation = logged_answer(store, ALICE, first["message_id"])[1][0]
        body = reading_library.article(citation.article_id).body
        assert body[citation.start:citation.end] == citation.quote
        assert len(standin.sent_messages(ALICE)) == 1  # one message, edited


def test_an_unverified_answer_never_shows_and_stats_count_it(
    standin: TelegramStandin, reading_library: Library, model: LlmStandin
) -> None:
    with running_bot(make_config(standin), reading_library):
        model.say("BMW wants to sell 990,000 cars a year in Asia by 2008 [1].")
        answer = ask(standin, ALICE, ALICE, QUESTION)
        assert "990,000" not in text_of(answer) and "150,000" in text_of(answer)
        assert buttons(answer) and standin.calls_to("editMessageText") == []
        model.script(Script(status=429))
        again = ask(standin, ALICE, ALICE, QUESTION)
        assert text_of(again) == text_of(answer)
        model.say(FIRST + SECOND)
        ask(standin, ALICE, ALICE, QUESTION)
        stats = text_of(ask(standin, ADMIN, ADMIN, "/stats"))
        assert "LLM reader" in stats
        assert "Answers: 1 (cut short: 0) · fallbacks: 2" in stats
        assert "first sentence unsupported 1" in stats and "rate_limited 1" in stats
        assert "Sentences: 2 kept, 1 dropped" in stats


def test_a_429_from_telegram_on_an_edit_is_waited_out(
    standin: TelegramStandin, reading_library: Library, model: LlmStandin
) -> None:
    model.script(Script(text=FIRST + SECOND, stall=1.5, stall_after=len(FIRST) + 7))
    standin.inject_error("editMessageText", 429, retry_after=1, times=1)
    with running_bot(make_config(standin, progress_interval=0.5), reading_library):
        first = ask(standin, ALICE, ALICE, QUESTION)
        final = standin.wait_for_message(
            ALICE, lambda m: m["message_id"] == first["message_id"] and bool(buttons(m)),
            timeout=WAIT)
        assert "95,000" in text_of(final) and "Sources" in text_of(final)


def test_a_follow_up_reaches_the_model_with_the_question_it_follows(
    standin: TelegramStandin, reading_library: Library, model: LlmStandin, store: Path
) -> None:
    model.say(FIRST + SECOND)
    follow_up = "and how many did it sell there last year?"
    with running_bot(make_config(standin, progress_interval=0.2), reading_library):
        first = ask(standin, ALICE, ALICE, QUESTION)
        standin.wait_for_message(
            ALICE, lambda m: m["message_id"] == first["message_id"] and bool(buttons(m)),
            timeout=WAIT)
        reply = ask(standin, ALICE, ALICE, follow_up, reply_to_message_id=first["message_id"])
        final = standin.wait_for_message(
            ALICE, lambda m: m["message_id"] == reply["message_id"] and bool(buttons(m)),
            timeout=WAIT)
        assert "95,000" in text_of(final)
    asked = model.requests[-1]["messages"][-1]["content"]
    assert f"Earlier in the conversation: {QUESTION}" in asked
    assert asked.rstrip().splitlines()[-3] == f"Question: {follow_up}"
    answer, _citations = logged_answer(store, ALICE, reply["message_id"])
    assert answer.question == f"{QUESTION} {follow_up}"  # what was searched, for a next reply
