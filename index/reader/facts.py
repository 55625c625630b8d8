"""The checkable facts of a sentence: figures, dates, years and names, normalised.

"$42m", "42 million dollars" and "$42,000,000" are one figure; "Jan 5", "5 January" and
"January 5th" one date; names compare without case or possessive. `Facts.of(text)` reads a
text once; `missing(claim, support)` says which of a claim's facts the support lacks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.text import CAPITALISED, STOPWORDS, without_possessive

_MONTHS = ("january february march april may june july august september october november "
           "december").split()
_MONTH_OF = {**{m: i + 1 for i, m in enumerate(_MONTHS)},
             **{m[:3]: i + 1 for i, m in enumerate(_MONTHS)}, "sept": 9}
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_DAY = r"(\d{1,2})(?:st|nd|rd|th)?"
_DATE_DAY_FIRST = re.compile(rf"\b{_DAY}\s+(?:of\s+)?({_MONTH})", re.IGNORECASE)
_DATE_MONTH_FIRST = re.compile(rf"\b({_MONTH})\s+{_DAY}\b", re.IGNORECASE)

_SCALES = {"k": 1e3, "thousand": 1e3, "m": 1e6, "mn": 1e6, "million": 1e6, "bn": 1e9,
           "b": 1e9, "billion": 1e9, "trillion": 1e12, "tn": 1e12, "hundred": 1e2}
_NUMBER = re.compile(
    r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(?:\s*-?\s*"
    r"(thousand|million|billion|trillion|hundred|bn|mn|tn|m|k|b)\b)?", re.IGNORECASE)
_NUMBER_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve".split())}
_NUMBER_WORD = re.compile(r"\b(" + "|".join(_NUMBER_WORDS) + r")\b", re.IGNORECASE)
_NAME = re.compile(rf"\b{CAPITALISED}")
_SENTENCE_START = re.compile(r"(?:^|[.!?:;\"“(]\s+|\n)\W*$")
# Capitalised words that are not names: pronouns and the like at any place.
_NOT_NAMES = (frozenset("i i'm i've mr mrs ms dr st monday tuesday wednesday thursday friday "
                        "saturday sunday".split()) | frozenset(_MONTH_OF))


@dataclass(frozen=True, slots=True)
class Facts:
    """The figures (as numbers), dates (month, day), and names (folded) of a text, and its
    words (folded, possessives dropped) to look names up in."""

    figures: frozenset[float]
    dates: frozenset[tuple[int, int]]
    names: frozenset[str]
    words: frozenset[str]

    @classmethod
    def of(cls, text: str) -> Facts:
        return cls(_figures(text), _dates(text), _names(text), _words(text))


def _figures(text: str) -> frozenset[float]:
    """Every number of a text, scaled by its unit word ("42m" → 42e6); a day of a date is
    read as a date, not a figure; small number words count too ("two" → 2)."""
    text = _DATE_DAY_FIRST.sub(" ", _DATE_MONTH_FIRST.sub(" ", text))
    values: set[float] = set()
    for match in _NUMBER.finditer(text):
        whole, decimals, scale = match.groups()
        value = float(whole.replace(",", "") + (f".{decimals}" if decimals else ""))
        values.add(round(value * _SCALES.get((scale or "").lower(), 1.0), 6))
    values.update(float(_NUMBER_WORDS[w.lower()]) for w in _NUMBER_WORD.findall(text))
    return frozenset(values)


def _dates(text: str) -> frozenset[tuple[int, int]]:
    found: set[tuple[int, int]] = set()
    for match in _DATE_DAY_FIRST.finditer(text):
        found.add((_month(match.group(2)), int(match.group(1))))
    for match in _DATE_MONTH_FIRST.finditer(text):
        found.add((_month(match.group(1)), int(match.group(2))))
    return frozenset((m, d) for m, d in found if m and 1 <= d <= 31)


def _month(word: str) -> int:
    word = word.lower().rstrip(".")
    return _MONTH_OF.get(word, _MONTH_OF.get(word[:3], 0))


def _fold(word: str) -> str:
    return without_possessive(word).replace("’", "'").strip("'-").casefold()


def _names(text: str) -> frozenset[str]:
    """Capitalised words but stopwords, months and days; the first word of a sentence only
    when it looks like a name all the same: all capitals, possessive, or followed by another
    capitalised word ("Carlos Ghosn said")."""
    names: set[str] = set()
    for match in _NAME.finditer(text):
        word = _fold(match.group())
        if not word or word in STOPWORDS or word.rstrip(".") in _NOT_NAMES:
            continue
        if _SENTENCE_START.search(text[:match.start()]) and not _looks_like_name(text, match):
            continue
        names.add(word)
    return frozenset(names)


def _looks_like_name(text: str, match: re.Match[str]) -> bool:
    written = match.group()
    if (len(written) > 1 and written.isupper()) or written.endswith(("'s", "’s")):
        return True
    return bool(re.match(rf"\s+{CAPITALISED}", text[match.end():]))


def _words(text: str) -> frozenset[str]:
    return frozenset(_fold(w) for w in re.findall(r"[\w'’-]+", text))


def missing(claim: Facts, support: Facts) -> list[str]:
    """The claim's facts the support does not give, as text (empty: all are given)."""
    lacking = [f"figure {_shown(value)}" for value in claim.figures - support.figures]
    lacking += [f"date {m}/{d}" for m, d in claim.dates - support.dates]
    lacking += [f"name {name}" for name in claim.names if name not in support.words]
    return lacking



def _shown(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,}"
