"""Feedback end to end: 👍 / 👎 and reasons pressed in Telegram (the real PTB stack against
the Bot API stand-in), stored in bot.sqlite, shown by /stats, /stats chart (a PNG) and
`citebot stats`, exported by `citebot feedback export` as a question file that
`citebot eval` scores once filled in.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from bot import render
from bot.chatlog import SQLiteChatLog
from bot.cli import main
from bot.feedback import SQLiteFeedbackLog, feedback_callback_data, parse_feedback_callback
from index.library import Library
from tests import test_bot
from tests.telegram_standin import TelegramStandin, telegram_standin_fixture  # noqa: F401
from tests.test_bot import (
    ADMIN,
    ALICE,
    BMW_QUESTION,
    BOB,
    OFF_TOPIC_QUESTION,
    WAIT,
    ask,
    feedback_buttons,
    make_config,
    running_bot,
    text_of,
)

standin = test_bot.standin
indexed_store = test_bot.indexed_store
store = test_bot.store
library = test_bot.library

JSON = dict[str, Any]


def press(standin: TelegramStandin, user: int, message: JSON, key: str, *,
          redrawn: bool = True) -> JSON:
    """`user` presses the feedback button `key` under `message`; the answer's message as it
    is afterwards (after its keyboard is re-drawn, unless `redrawn` is False)."""
    since = standin.mark()
    standin.add_callback_query(message["chat"]["id"], user, message["message_id"],
                               feedback_buttons(current(standin, message))[key]["callback_data"])
    standin.wait_for_call("answerCallbackQuery", timeout=WAIT, since=since)
    if redrawn:
        standin.wait_for_call("editMessageReplyMarkup", timeout=WAIT, since=since)
    return current(standin, message)


def current(standin: TelegramStandin, message: JSON) -> JSON:
    chat = standin.messages_in_chat(message["chat"]["id"])
    return next(m for m in chat if m["message_id"] == message["message_id"])


def last_toast(standin: TelegramStandin) -> str:
    return standin.callback_answers()[-1].get("text", "")


def cli(store: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--data-dir", str(store), *args])


def test_callback_data_round_trips_within_64_bytes() -> None:
    for data in (feedback_callback_data(10**17, "up"), feedback_callback_data(10**17, "down"),
                 feedback_callback_data(10**17, "down", "unknown")):
        assert len(data.encode()) <= 64
        assert parse_feedback_callback(data) is not None
    assert parse_feedback_callback("f:1:sideways") is None
    assert parse_feedback_callback("f:1:why:because") is None


def test_votes_reasons_stats_chart_export_and_eval(
    standin: TelegramStandin, library: Library, store: Path, tmp_path: Path
) -> None:
    with running_bot(make_config(standin), library):
        answer = ask(standin, ALICE, ALICE, BMW_QUESTION)
        assert set(feedback_buttons(answer)) == {"up", "down"}

        shown = press(standin, ALICE, answer, "up")
        assert last_toast(standin) == render.FEEDBACK_THANKS
        assert feedback_buttons(shown)["up"]["text"] == "👍 1"

        # The same press again changes nothing: no edit (Telegram would answer "message is
        # not modified", which `standin` fails the test on).
        shown = press(standin, ALICE, answer, "up", redrawn=False)
        assert feedback_buttons(shown)["up"]["text"] == "👍 1"

        shown = press(standin, ALICE, answer, "down")  # changed her mind
        assert last_toast(standin) == render.FEEDBACK_WHY
        assert feedback_buttons(shown)["up"]["text"] == "👍"
        assert feedback_buttons(shown)["down"]["text"] == "👎 1"
        assert {"source", "missed", "unknown"} <= set(feedback_buttons(shown))

        shown = press(standin, ALICE, answer, "source")
        assert last_toast(standin) == "Thanks! Noted: wrong source."
        assert set(feedback_buttons(shown)) == {"up", "down"}, "the reasons go once chosen"
        assert test_bot.buttons(shown), "the citation buttons stay"

        declined = ask(standin, BOB, BOB, OFF_TOPIC_QUESTION)
        press(standin, BOB, declined, "down")
        press(standin, BOB, declined, "missed")

        stats = text_of(ask(standin, ADMIN, ADMIN, "/stats"))
        assert "Articles: 13" in stats
        assert "Questions: 2 · answered 1 (50%) · declined 1 (50%)" in stats
        assert "Feedback: 👍 0 (0%) · 👎 2 (100%)" in stats
        assert "wrong source 1" in stats and "didn't answer 1" in stats

        since = standin.mark()
        standin.add_user_message(ADMIN, ADMIN, "/stats chart")
        photo = standin.wait_for_call("sendPhoto", timeout=WAIT, since=since)
        assert photo.ok and photo.result["caption"] == "The last 7 days"
        assert standin.photos()[-1].startswith(b"\x89PNG\r\n\x1a\n")
        assert "only for the bot's admins" in text_of(ask(standin, BOB, BOB, "/stats chart"))

    log, chatlog = SQLiteFeedbackLog(store), SQLiteChatLog(store)
    try:
        answer_id = chatlog.answer_for_message(ALICE, answer["message_id"]).id
        assert log.vote_of(answer_id, ALICE) == ("down", "source")
        today = log.daily(7)[-1]
        assert (today.day, today.answered, today.declined, today.down) == (
            date.today().isoformat(), 1, 1, 2)
    finally:
        log.close()
        chatlog.close()

    shown_stats = cli(store, "stats")
    assert shown_stats.exit_code == 0, shown_stats.output
    assert "2 questions, answered 1 (50%), declined 1 (50%)" in shown_stats.output
    usage = json.loads(cli(store, "stats", "--json").stdout)["bot_usage"]
    assert usage["thumbs_down"] == 2 and usage["reasons"] == {"source": 1, "missed": 1}

    exported = tmp_path / "feedback.jsonl"
    result = cli(store, "feedback", "export", str(exported))
    assert result.exit_code == 0, result.output
    assert "wrote 2 questions" in result.output
    records = [json.loads(line) for line in exported.read_text().splitlines()]
    by_question = {r["question"]: r for r in records}
    bmw = by_question[BMW_QUESTION]
    assert bmw["article"] == "bbc-bmw-asia-sales.txt" and bmw["answer"] == ""
    assert bmw["reasons"] == ["wrong source"] and bmw["index_generation"] >= 1
    assert by_question[OFF_TOPIC_QUESTION]["article"] is None

    unfilled = cli(store, "eval", str(exported))
    assert unfilled.exit_code != 0
    assert "has an empty `answer`" in unfilled.output and "feedback.jsonl:" in unfilled.output

    bmw["answer"] = "150,000"
    by_question[OFF_TOPIC_QUESTION]["answer"] = None  # the admin: not answerable here
    exported.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    scored = cli(store, "eval", str(exported), "--json")
    assert scored.exit_code == 0, scored.output
    overall = json.loads(scored.stdout)["overall"]
    assert overall["questions"] == 2 and overall["answerable"] == 1
    assert overall["hit_at_1"] == pytest.approx(1.0) and overall["abstention"] == 1.0


def test_export_before_the_bot_answered_anything_is_a_clear_error(
    store: Path, tmp_path: Path
) -> None:
    target = tmp_path / "none.jsonl"
    result = cli(store, "feedback", "export", str(target))
    assert result.exit_code != 0 and "no bot answers" in result.output
