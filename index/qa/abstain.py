"""Abstention: when the evidence is too weak to answer, say so rather than cite.

The rules, calibrated on the question files (see docs/answer-quality.md): decline when the
best story — the one an answer would quote — has no sentence even loosely close to the
question; when no sentence of the best few stories is close; when the question names a year
the best story never mentions; when it asks who took someone's place and the best story tells
of no succession; or when it names a name or figure the collection never mentions and the
match is not strong.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from index.qa.evidence import StoryEvidence
from index.qa.question import Question
from index.qa.tuning import AnswerTuning

_SUCCESSION = re.compile(
    r"\b(?:succe(?:ed|eded|eds|eding|ssor|ssors|ssion)|replac(?:e|ed|es|ing|ement)|"
    r"(?:take|took|takes|taken|taking) (?:over|charge)|in place of|steps? into|stepped into|"
    r"the reins|(?:named|appointed|chosen|picked|selected|elected|installed|confirmed) "
    r"(?:as|to)|new (?:leader|chief|boss|chairman|chairwoman|presenter|host|manager|coach|"
    r"head|captain|editor|president|director|executive|candidate))\b", re.I)


def tells_of_succession(text: str) -> bool:
    """Whether a text tells of someone taking another's place: "succeeded", "replace",
    "took over", "named as", "the new chairman" ("chosen by a panel" does not)."""
    return bool(_SUCCESSION.search(text))


def absent_years(question: Question, story: StoryEvidence) -> list[str]:
    """Years the question names that the best story never mentions, in its headline, its
    body or its date of publication (a story dated 2024 is about 2024)."""
    article = story.article
    text = f"{article.title} {article.body} {article.published_at or ''}"
    return [year for year in question.years if year not in text]


def unknown_terms(question: Question, in_collection: Callable[[str], bool]) -> list[str]:
    """The question's names and figures (`Question.specific`) that occur nowhere in the
    collection: an entity or figure the articles never mention is a strong sign they cannot
    answer it."""
    return [term for term in question.specific if not in_collection(term)]


def should_abstain(question: Question, stories: list[StoryEvidence], tuning: AnswerTuning,
                   in_collection: Callable[[str], bool]) -> bool:
    """Decline when the evidence is weak: the best story, the one an answer would quote,
    has no sentence even loosely close to the question (`abstain_cited_below`); no sentence
    of the best `abstain_stories` stories is close (`abstain_below`); the question names a
    year the best story never mentions (it is about another time); the question asks who
    took someone's place and the best story tells of no succession; or the question names a
    name or figure the collection never mentions (`in_collection`) and the match is not
    strong (`abstain_missing_detail_below`)."""
    if not stories or stories[0].story_similarity < tuning.abstain_cited_below:
        return True  # the story an answer would quote has nothing close to the question
    closest = max(story.story_similarity for story in stories[: tuning.abstain_stories])
    if closest < tuning.abstain_below:
        return True
    if closest < tuning.abstain_absent_year_below and absent_years(question, stories[0]):
        return True  # the story an answer would quote is not about the year asked about
    best = stories[0].article
    if question.wants_successor and not tells_of_succession(f"{best.title}\n{best.body}"):
        return True  # "who succeeded X", and the story tells of no one taking a place
    if closest >= tuning.abstain_missing_detail_below:
        return False
    return bool(unknown_terms(question, in_collection))
