"""Abstention signals: what tells that the collection may not hold the answer — a year the
question names that the best story never mentions (`absent_years`), another figure of the
question the story writes in no form (`absent_figures`), a name or figure of the question the
collection never uses (`unknown_terms`). Features of the fitted answer model
(`index.qa.features`), which decides whether to decline (`index.qa.model`)."""

from __future__ import annotations

import re
from collections.abc import Callable

from index.qa.evidence import StoryEvidence
from index.qa.question import Question


def absent_years(question: Question, story: StoryEvidence) -> list[str]:
    """Years the question names that the best story never mentions, in its headline, its
    body or its date of publication (a story dated 2024 is about 2024)."""
    article = story.article
    text = f"{article.title} {article.body} {article.published_at or ''}"
    return [year for year in question.years if year not in text]


_NUMBER_WORDS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen "
                 "fourteen fifteen sixteen seventeen eighteen nineteen twenty").split()
_ORDINAL_WORDS = ("zeroth first second third fourth fifth sixth seventh eighth ninth "
                  "tenth").split()
# A figure as a question writes it: digits ("360", "10,000", "2.5"), maybe fused to a unit or
# an ordinal ending ("800m", "6th"); or an ordinal word from "second" on ("first" is mostly
# "who first reported").
_FIGURE = re.compile(r"(?<!\w)(\d(?:[\d,.]*\d)?)([a-z]*)\b|"
                     r"\b(" + "|".join(_ORDINAL_WORDS[2:]) + r")\b")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}\b)")


def absent_figures(question: Question, story: StoryEvidence) -> list[str]:
    """Figures of the question other than years (`absent_years` has those) that the story
    writes in no form: "the PlayStation 3" of a story that never says 3, "the third test" of
    one that says neither "third" nor "3rd". A figure is found as digits, as the number word
    (up to twenty), or as the ordinal ("6th" as "sixth" and back)."""
    figures = list(_FIGURE.finditer(question.text.lower()))
    if not figures:
        return []
    text = _THOUSANDS.sub("", f"{story.article.title} {story.article.body}".lower())
    missing = []
    for match in figures:
        digits, ending, ordinal = match.groups()
        if ordinal:
            number = _ORDINAL_WORDS.index(ordinal)
            forms = [rf"\b{ordinal}\b", rf"(?<![\d.,]){number}(?:st|nd|rd|th)\b"]
        else:
            digits = _THOUSANDS.sub("", digits)
            if digits in question.years or (digits.isdigit() and 1800 <= int(digits) <= 2099):
                continue
            forms = [rf"(?<![\d.,]){re.escape(digits)}(?!\d|[.,]\d)"]
            if digits.isdigit() and int(digits) <= 20:
                forms.append(rf"\b{_NUMBER_WORDS[int(digits)]}\b")
                if ending in ("st", "nd", "rd", "th") and int(digits) <= 10:
                    forms.append(rf"\b{_ORDINAL_WORDS[int(digits)]}\b")
        if not any(re.search(form, text) for form in forms):
            missing.append(match.group(0))
    return missing


def unknown_terms(question: Question, in_collection: Callable[[str], bool]) -> list[str]:
    """The question's names and figures (`Question.specific`) that occur nowhere in the
    collection: an entity or figure the articles never mention is a strong sign they cannot
    answer it."""
    return [term for term in question.specific if not in_collection(term)]
