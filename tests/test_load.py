"""Load: 200 questions from 20 users at once through the Bot API stand-in to one bot.

Every question gets exactly one answer (a reply to it), Telegram is never given a reason to
refuse a call, the per-user rate limit holds under a flood (one "slow down" per user, the
rest dropped), and the process's memory stays flat once warmed up.
"""

from __future__ import annotations

import gc
import os
import time
from collections import Counter
from pathlib import Path

from index.library import Library
from tests import test_bot
from tests.telegram_standin import TelegramStandin, telegram_standin_fixture  # noqa: F401
from tests.test_bot import ask, make_config, running_bot, text_of

indexed_store = test_bot.indexed_store
store = test_bot.store
library = test_bot.library
standin = test_bot.standin

USERS = [5000 + i for i in range(20)]
FLOODERS = USERS[:5]
PER_USER = 10
QUESTIONS = [
    "What kind of AI chips does Huawei want to focus on?",
    "When will BMW reach 150,000 sales in Asia?",
    "Why did China close thousands of net cafes?",
    "How many visitors did the Zorblat festivals draw?",
    "Who is Uganda banning?",
    "What did Google's toolbar do?",
    "How many jobs is Electrolux moving out of Europe?",
    "Why did Time Warner's profit rise?",
    "Who won the 2014 FIFA World Cup final in Brazil?",  # abstains
    "What did the EU decide about the patent law?",
]
MAX_GROWTH_MB = 50
SLOW_DOWN = "Slow down a little"


def rss_mb() -> float:
    """Resident memory of this process (bot, stand-in and test) in MB."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def replies_by_question(standin: TelegramStandin, since: int) -> Counter[tuple[int, int]]:
    """How many bot messages since `since` reply to each (chat, message id)."""
    return Counter(
        (m["chat"]["id"], m["reply_to_message"]["message_id"])
        for m in (c.result for c in standin.calls[since:] if c.method == "sendMessage" and c.ok)
        if "reply_to_message" in m
    )


def test_200_questions_from_20_users_get_one_answer_each(
    standin: TelegramStandin, library: Library
) -> None:
    started = time.monotonic()
    config = make_config(standin, questions_per_window=PER_USER, rate_window_seconds=600)
    with running_bot(config, library):
        # Warm up: the model, the worker threads and the HTTP pools, with a burst from two
        # users who are not among the twenty.
        for warm_user in (9001, 9002):
            for question in QUESTIONS[:8]:
                standin.add_user_message(warm_user, warm_user, question)
        standin.wait_for(lambda: len(standin.sent_messages()) >= 16, timeout=120,
                         what="the warm-up answers")
        gc.collect()
        before = rss_mb()

        # 200 questions, interleaved: round r of every user, then round r + 1.
        since = standin.mark()
        asked: dict[tuple[int, int], int] = {}
        for round_ in range(PER_USER):
            for n, user in enumerate(USERS):
                update = standin.add_user_message(user, user, QUESTIONS[(round_ + n) % 10],
                                                  first_name=f"User{n}")
                asked[(user, update["message"]["message_id"])] = round_
        standin.wait_for(lambda: len(replies_by_question(standin, since)) >= len(asked),
                         timeout=120, what="200 answers")
        answered = replies_by_question(standin, since)
        assert set(answered) == set(asked)
        assert set(answered.values()) == {1}, "exactly one reply per question"
        texts = [text_of(c.result) for c in standin.calls[since:]
                 if c.method == "sendMessage" and c.ok]
        assert len(texts) == len(asked), "no extra messages"
        assert not [t for t in texts if SLOW_DOWN in t or "went wrong" in t]
        assert sum("[1]" in t for t in texts) >= 150, "most questions have a cited answer"

        # A flood: five users, already at their limit, send five more questions each.
        flood_since = standin.mark()
        flooded = {}
        for _ in range(5):
            for user in FLOODERS:
                update = standin.add_user_message(user, user, QUESTIONS[0])
                flooded[(user, update["message"]["message_id"])] = user
        fresh = ask(standin, 9003, 9003, QUESTIONS[1])  # someone else is still answered
        assert "150,000" in text_of(fresh)
        for user in FLOODERS:  # commands are not rate-limited; answered after the flood
            assert "Example questions" in text_of(ask(standin, user, user, "/help"))
        standin.wait_for(lambda: not standin.pending_updates(), timeout=30)
        time.sleep(1.0)

        flood_replies = replies_by_question(standin, flood_since)
        for user in FLOODERS:
            mine = [key for key in flooded if key[0] == user]
            replied = [key for key in mine if flood_replies[key]]
            assert len(replied) == 1, (user, replied)  # one "slow down", four dropped
            (key,) = replied
            assert flood_replies[key] == 1
        slow_downs = [c.result for c in standin.calls[flood_since:]
                      if c.method == "sendMessage" and SLOW_DOWN in text_of(c.result)]
        assert sorted(m["chat"]["id"] for m in slow_downs) == sorted(FLOODERS)

        gc.collect()
        growth = rss_mb() - before
        print(f"RSS {before:.0f} MB after warm-up, grew {growth:+.1f} MB")
        assert growth < MAX_GROWTH_MB, f"memory grew by {growth:.0f} MB under load"
    assert time.monotonic() - started < 120
