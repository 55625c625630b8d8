"""Small talk: a message that only greets ("hi", "good morning"), thanks ("thanks!",
"thank you so much"), acknowledges ("ok", "got it") or asks what the bot is ("help", "what
can you do?"), told apart from a question so that the bot says hello, you're welcome or how
to ask instead of "I couldn't find that in the articles".

Only a whole message is small talk: "hi, how many cars did BMW sell?" is a question, and
so is "thanks to what did sales rise?". English words only; anything else is a question.
"""

from __future__ import annotations

import re
from enum import Enum


class SmallTalk(Enum):
    """What a small-talk message does."""

    GREETING = "greeting"
    THANKS = "thanks"
    ACKNOWLEDGEMENT = "acknowledgement"
    HELP = "help"  # what the bot is or does


_GREETING = (r"(?:hi+|hello+|hey+|hiya|howdy|yo|greetings|hallo|good (?:morning|afternoon|"
             r"evening|day)|morning|evening)")
_THANKS = (r"(?:(?:many |great |ok(?:ay)? |cool |perfect |brilliant |nice )?(?:thanks+|thank you|"
           r"thankyou|thx|ty|cheers)(?: (?:a lot|so much|very much|a bunch|again|mate))?)")
_ACKNOWLEDGEMENT = r"(?:ok(?:ay)?|k|cool|great|nice|perfect|got it|i see|understood|alright)"
_HELP = (r"(?:(?:please )?help(?: me)?(?: please)?|what can you do|what do you do|who are you|"
         r"what are you|what is this(?: bot)?|how does this work|how do i use (?:this|you)|"
         r"what can i ask(?: you)?|start)")
# Who a greeting may be addressed to: "hi there", "hello bot", "hey everyone".
_ADDRESSEE = r"(?: (?:there|bot|citebot|all|everyone|folks|friend))?"
_PATTERNS = (
    (SmallTalk.GREETING, re.compile(rf"{_GREETING}{_ADDRESSEE}")),
    (SmallTalk.THANKS, re.compile(rf"{_THANKS}(?: {_THANKS})?{_ADDRESSEE}")),
    (SmallTalk.ACKNOWLEDGEMENT, re.compile(rf"{_ACKNOWLEDGEMENT}(?: {_THANKS})?")),
    (SmallTalk.HELP, re.compile(rf"(?:{_GREETING} )?{_HELP}")),
)
# Everything but letters and spaces (punctuation, emoji) is ignored: "Thanks!! 🙏" is thanks.
_NOT_WORDS = re.compile(r"[^a-z ]+")


def small_talk(text: str) -> SmallTalk | None:
    """What a message does if it is only small talk, else None (it is a question)."""
    folded = " ".join(_NOT_WORDS.sub(" ", text.casefold().replace("'", "")).split())
    if not folded or len(folded) > 40:
        return None
    for kind, pattern in _PATTERNS:
        if pattern.fullmatch(folded):
            return kind
    return None
