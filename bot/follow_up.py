"""Follow-ups sent without a reply: in a private chat people rarely use Telegram's reply
button, so a short message that leans on the answer before it ("and in 2004?", "why?",
"when was that?", "who is he?") is read as a follow-up of the chat's latest answer, as a
reply to that answer would be — if the answer is recent (`FOLLOW_UP_WINDOW`).

A message leans on the one before when it opens like a continuation ("and …", "what
about …", "but …") or is a bare question word ("why?", "how much?") — in a few words — or
when it points back with a pronoun ("it", "that", "he", "there"…) and names at most one
thing of its own. "Why did Huawei drop training chips?" names enough to stand alone.
Pure text rules on English; anything else is a question of its own.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from index.text import query_terms

# How long after an answer a message that leans on it is read as its follow-up.
FOLLOW_UP_WINDOW = timedelta(minutes=10)
_MOST_WORDS = 8  # a continuation longer than this is a question of its own

_CONTINUATION = re.compile(r"^(?:and|but|also|plus|what about|how about|and what about)\b")
_BARE_QUESTION = re.compile(
    r"^(?:why|when|where|who|how|what|which|how (?:much|many|long|come)|since when|"
    r"why not|by how much|and then|then what)(?: (?:exactly|then|so))?$")
_POINTING_BACK = frozenset(
    "it its that this those these he him his she her they them their there then".split())
_WORD = re.compile(r"[a-z0-9']+")


def leans_on_earlier(text: str) -> bool:
    """Whether a message reads as a follow-up of the answer before it (module docstring)."""
    folded = " ".join(_WORD.findall(text.casefold().replace("’", "'")))
    words = folded.split()
    if not words or len(words) > _MOST_WORDS:
        return False
    if _CONTINUATION.match(folded) or _BARE_QUESTION.match(folded):
        return True
    pointing = any(word.removesuffix("'s") in _POINTING_BACK for word in words)
    return pointing and len(query_terms(text)) <= 1


def is_recent(created_at: str, now: datetime | None = None) -> bool:
    """Whether an answer logged at `created_at` (ISO 8601) is within `FOLLOW_UP_WINDOW`."""
    try:
        moment = datetime.fromisoformat(created_at)
    except ValueError:
        return False
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (now or datetime.now(UTC)) - moment <= FOLLOW_UP_WINDOW
