"""Which whole messages are small talk (greetings, thanks, an "ok") and which are questions."""

from __future__ import annotations

import pytest

from bot.small_talk import SmallTalk, small_talk


@pytest.mark.parametrize(("text", "kind"), [
    ("hi", SmallTalk.GREETING),
    ("Hello!", SmallTalk.GREETING),
    ("hey there", SmallTalk.GREETING),
    ("Good morning 👋", SmallTalk.GREETING),
    ("hiii", SmallTalk.GREETING),
    ("thanks!", SmallTalk.THANKS),
    ("Thank you so much", SmallTalk.THANKS),
    ("ok thanks", SmallTalk.THANKS),
    ("cheers mate", SmallTalk.THANKS),
    ("Thanks, thanks again", SmallTalk.THANKS),
    ("thx", SmallTalk.THANKS),
    ("OK", SmallTalk.ACKNOWLEDGEMENT),
    ("Got it.", SmallTalk.ACKNOWLEDGEMENT),
    ("help", SmallTalk.HELP),
    ("What can you do?", SmallTalk.HELP),
    ("hi, what is this bot?", SmallTalk.HELP),
    ("How do I use this?", SmallTalk.HELP),
])
def test_small_talk_is_told_by_the_whole_message(text: str, kind: SmallTalk) -> None:
    assert small_talk(text) is kind


@pytest.mark.parametrize("text", [
    "hi, how many cars did bmw sell in asia",
    "thanks to what did sales rise?",
    "hello kitty sales",
    "What is hi-fi?",
    "Who said hello?",
    "ok so why did the dollar fall",
    "",
    "🙂",
    "merci",
    "help for farmers announced by the government",
    "what can you do about the dollar's fall",
])
def test_questions_and_other_messages_are_not_small_talk(text: str) -> None:
    assert small_talk(text) is None
