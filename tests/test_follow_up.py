"""Which messages lean on the answer before them (read as its follow-up without a reply),
and how recent that answer must be."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.follow_up import FOLLOW_UP_WINDOW, is_recent, leans_on_earlier


@pytest.mark.parametrize("text", [
    "why?", "When was that?", "who's he?", "and in 2004?", "What about AOL?", "how much?",
    "how much did it cost?", "when did he resign?", "where is it?", "And nvidia?",
])
def test_short_messages_that_point_back_lean_on_the_earlier_answer(text: str) -> None:
    assert leans_on_earlier(text)


@pytest.mark.parametrize("text", [
    "Which processors has Huawei decided to focus on?",
    "Why did Huawei drop training chips?",
    "Is it true that Huawei makes chips?",
    "how many cars did bmw sell in asia",
    "and how many cars did bmw sell in asia in 2004 compared with the year before?",
    "hi", "",
])
def test_questions_that_stand_alone_do_not(text: str) -> None:
    assert not leans_on_earlier(text)


def test_only_a_recent_answer_is_followed_up() -> None:
    now = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    assert is_recent((now - timedelta(minutes=2)).isoformat(timespec="seconds"), now)
    assert not is_recent((now - FOLLOW_UP_WINDOW - timedelta(seconds=1)).isoformat(), now)
    assert is_recent("2026-12-07T11:55:00", now), "a time without a zone is UTC"
    assert not is_recent("yesterday", now)
