"""Abstention signals: what tells that the collection may not hold the answer — a year the
question names that the best story never mentions (`absent_years`), a name or figure of the
question the collection never uses (`unknown_terms`). Features of the fitted answer model
(`index.qa.features`), which decides whether to decline (`index.qa.model`)."""

from __future__ import annotations

from collections.abc import Callable

from index.qa.evidence import StoryEvidence
from index.qa.question import Question


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
