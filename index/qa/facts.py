"""Whether a sentence offers what a question asks for.

For a sentence and a `Question`, this module tells where the sentence holds a new fact of the
asked-for kind (`new_fact_spans`: a figure, a count, a year, a date, a score, a sum of money,
a cause, a place, a person, another name — one the question does not already state), whether
it puts a figure right before the noun a "how many" question counts (`counts_noun`), and
whether a new fact stands right after the preposition the question opens with
(`fills_slot`). The windows of these rules are knobs of `AnswerTuning`. Pure text rules:
no model, no store.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

from index.qa.tuning import DEFAULT_TUNING, AnswerTuning
from index.text import (
    CAPITALISED,
    YEAR,
    YEAR_DIGITS,
    capitalised_words,
    is_possessive,
    name_runs,
    past_first_word,
    stem,
    stemmed_words,
    without_possessive,
    words,
)

if TYPE_CHECKING:
    from index.qa.question import Question

Span = tuple[int, int]

# A sum of money: "$42m", "£22m", "€1.5bn", "US$3", "250,000 dollars", "90p", and the
# symbol after the amount as much of Europe writes it: "3 €", "2,50 €", "1,5 milliard €".
_MONEY = re.compile(r"(?:\b(?:US|A|C|HK|NZ))?[£$€¥]\s?\d[\d,.]*(?:\s?(?:m|bn|k|million|billion|"
                    r"trillion)\b)?|\b\d[\d,.]*\s?(?:m|bn|million|billion|trillion)?\s?"
                    r"(?:dollars|pounds|euros|yen|yuan|roubles|rupees|francs|pence|cents|p)\b|"
                    r"\b\d[\d,.]*(?:\s?(?:m|bn|k|million|billion|trillion|milliards?))?\s?[€£$¥]"
                    r"(?![\w$€£¥])", re.I)
_SCORE = re.compile(r"(?<![\w.-])\d{1,3}-\d{1,3}(?![\w.-]|-\d)")
_CALENDAR = (r"january|february|march|april|may|june|july|august|september|october|november|"
             r"december|monday|tuesday|wednesday|thursday|friday|saturday|sunday")
_NUMBER = re.compile(r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
                     r"fifteen|twenty|thirty|forty|fifty|sixty|hundred|thousand|million|billion|"
                     rf"half|dozen|{_CALENDAR})\b", re.I)
# A figure standing alone ("37", "$2.95bn", "19-13"), not a digit inside a name ("G7").
_NUMBER_TOKEN = re.compile(r"(?<![\w£$€])[£$€]?\d[\d,.:/-]*\w*|"
                           + _NUMBER.pattern.removeprefix(r"\d|"),
                           re.I)
_DATE_TOKEN = re.compile(rf"\b(?:{YEAR_DIGITS}|\d{{1,2}}(?:st|nd|rd|th)?|{_CALENDAR}|yesterday|"
                         r"today|tomorrow|tonight|weekend|spring|summer|autumn|winter)\b", re.I)
# "due to" gives a cause before a noun phrase ("due to the strike", "due to falling sales",
# "due to Sony") and a schedule before a bare verb ("due to open this weekend", "due to be
# sold"): a cause only when a determiner, a figure, a name or a word of a noun's, an
# adjective's or a participle's ending follows.
_DUE_TO_CAUSE = (r"due to(?=\s+(?:(?:the|a|an|its|his|her|their|our|my|your|this|that|these|"
                 r"those|some|many|much|more|less|poor|bad|high|low|heavy|strong|weak|lack|"
                 r"concerns?|fears?|problems?)\b|\d|£|\$|(?-i:[A-Z])|[\w-]+(?:ing|s|ion|ness|ity|"
                 r"ment|ure|ance|ence|ty|cy|al|ed)\b))")
_CAUSE = re.compile(rf"\b(because|after|{_DUE_TO_CAUSE}|as a result|following|since|amid|blamed|"
                    r"owing to|thanks to|in order to|so that|reason|triggered|prompted|sparked|"
                    r"caused|led to|fuelled|on the back of)\b", re.I)
_PLACE_CUE = re.compile(rf"\b(?:in|at|near|from|outside|based in)\s+((?:{CAPITALISED}\s*)+)")
# Capitalised words that are not a new name: titles and sentence glue.
_NOT_NAMES = frozenset("mr mrs ms dr sir the a an he she it they but and in on at i we".split())
_PLURAL_IRREGULAR = frozenset("people men women children staff police cattle".split())
_NOT_COUNTED = re.compile(rf"(?:{YEAR_DIGITS}|{_CALENDAR})$", re.I)
_CLAUSE_END = re.compile(r"[,;:.!?()\"“”]")


@lru_cache(maxsize=65536)
def _figures(sentence: str) -> tuple[re.Match[str], ...]:
    """The figures of a sentence (`_NUMBER_TOKEN`), found once: the count and number rules
    of every question asked about the sentence read the same ones."""
    return tuple(_NUMBER_TOKEN.finditer(sentence))


def _is_new(word: str, asked: frozenset[str]) -> bool:
    """Whether a word of a sentence is not in the question (in any inflection: "Oscar" is
    the question's "Oscars") and is no title or sentence glue."""
    folded = without_possessive(word.casefold())
    return folded not in _NOT_NAMES and folded not in asked and stem(folded) not in asked


def new_fact_spans(kind: str | None, sentence: str, asked: frozenset[str],
                   tuning: AnswerTuning = DEFAULT_TUNING) -> list[Span]:
    """Where the sentence holds a fact of the asked-for kind that the question (its
    `asked` words) does not already state (a restated question is not an answer): a figure
    (for a count, one that counts things: `_counts_something`), a cause, a place after
    "in/at/near…", a name of several words for a person, a name otherwise."""
    if kind is None:
        return []
    if kind == "reason":
        return [m.span() for m in _CAUSE.finditer(sentence)]
    if kind == "place":
        return [m.span(1) for m in _PLACE_CUE.finditer(sentence)
                if any(_is_new(word, asked) for word in m.group(1).split())]
    if kind in ("person", "name"):
        skip = len(sentence) - len(past_first_word(sentence))
        if kind == "person":
            return [m.span() for m in name_runs(sentence, skip)
                    if any(_is_new(word, asked) for word in m.group(0).split()
                           if word[0].isupper())]
        return [m.span() for m in capitalised_words(sentence, skip)
                if _is_new(m.group(0), asked)]
    if kind == "count":
        return [m.span() for m in _figures(sentence)
                if _is_new(m.group(0), asked) and _counts_something(sentence, m, tuning)]
    if kind == "number":
        return [m.span() for m in _figures(sentence) if _is_new(m.group(0), asked)]
    pattern = {"year": YEAR, "date": _DATE_TOKEN, "score": _SCORE, "money": _MONEY}[kind]
    return [m.span() for m in pattern.finditer(sentence) if _is_new(m.group(0), asked)]


def offers_new_fact(kind: str | None, sentence: str, asked: frozenset[str]) -> bool:
    """Whether the sentence holds a new fact of the asked-for kind (`new_fact_spans`)."""
    return bool(new_fact_spans(kind, sentence, asked))


def is_filler(sentence: str, question: Question) -> bool:
    """A quoted sentence that holds none of the question's words and no new fact of the
    asked-for kind: it does not help answer (the measure of needless further sentences)."""
    return not (stemmed_words(sentence) & stemmed_words(question.text)) and not offers_new_fact(
        question.kind, sentence, question.asked)


def _words_after(sentence: str, figure: re.Match[str], tuning: AnswerTuning) -> list[str]:
    """The words after a figure in its clause, within `count_window_chars` characters."""
    window = sentence[figure.end():figure.end() + tuning.count_window_chars]
    return words(_CLAUSE_END.split(window)[0])


def _counts_something(sentence: str, figure: re.Match[str], tuning: AnswerTuning) -> bool:
    """Whether a figure counts things: a word or three later in its clause stands a plural
    noun ("seven versions", "110 times"), and it is no year or date."""
    if _NOT_COUNTED.match(figure.group(0)):
        return False
    following = _words_after(sentence, figure, tuning)
    if following and following[0].casefold() == "of":
        return True  # "28 of the world's largest firms"
    return any(_is_plural(word) for word in following[: tuning.count_window_words])


def _is_plural(word: str) -> bool:
    """Whether an English word looks plural ("versions", "people"; not "bus", "analysis",
    nor a possessive)."""
    folded = word.casefold()
    return folded in _PLURAL_IRREGULAR or (
        len(folded) > 3 and folded.endswith("s")
        and not folded.endswith(("ss", "us", "is")) and not is_possessive(folded))


def counts_noun(noun: str | None, sentence: str, asked: frozenset[str],
                tuning: AnswerTuning = DEFAULT_TUNING) -> bool:
    """Whether the sentence puts a figure the question lacks right before the counted
    noun, a word or three apart ("some 37 countries", "51 million Americans")."""
    if noun is None:
        return False
    for figure in _figures(sentence):
        if not _is_new(figure.group(0), asked):
            continue
        following = _words_after(sentence, figure, tuning)[: tuning.count_window_words]
        if any(stem(word.casefold()) == noun for word in following):
            return True
    return False


def fills_slot(spans: list[Span], sentence: str, preposition: str | None) -> bool:
    """Whether a new fact (`spans`) stands right after the question's leading preposition,
    an article allowed between: "against Blackburn", "at the Sage Centre"."""
    if not spans or preposition is None:
        return False
    starts = {start for start, _end in spans}
    return any(found.end() in starts for found in re.finditer(
        rf"\b{preposition}\s+(?:(?:the|a|an)\s+)?", sentence, re.I))
