"""Composing a short, cited answer from retrieved passages — or declining to answer.

The answer is extractive: the few sentences of the retrieved passages that best answer the
question, each followed by the `[n]` of its source. A citation's quote is always the exact
text `body[start:end]` of its article, so a reader can check it. When the evidence is too
weak the answer abstains: no text is made up and no unrelated article is cited.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from index.chunk import split_sentences
from index.config import AnswerTuning
from index.search import Hit, query_terms
from index.store import StoredArticle

NO_ANSWER = "I couldn't find that in the articles I have."


@dataclass(slots=True)
class Citation:
    """One numbered source of an answer, with the exact quote that supports it."""

    n: int
    article_id: int
    passage_id: int
    title: str
    origin: str
    url: str | None
    outlet: str | None
    author: str | None
    published_at: str | None
    quote: str
    start: int
    end: int
    score: float
    also_reported_by: list[str] = field(default_factory=list)
    # Every (start, end) of this source quoted in the answer; the first is `quote`.
    spans: list[tuple[int, int]] = field(default_factory=list)


@dataclass(slots=True)
class Answer:
    """The result of a question: answer text with `[n]` markers and its citations."""

    question: str
    answer: str
    abstained: bool
    citations: list[Citation]
    retrieved: list[Hit]
    timings_ms: dict[str, float]

    def to_dict(self) -> dict[str, object]:
        """The JSON shape of `citebot ask --json`."""
        return {
            "question": self.question,
            "answer": self.answer,
            "abstained": self.abstained,
            "citations": [
                {
                    "n": c.n, "article_id": c.article_id, "title": c.title, "origin": c.origin,
                    "url": c.url, "outlet": c.outlet, "author": c.author,
                    "published_at": c.published_at, "quote": c.quote,
                    "passage_id": c.passage_id, "start": c.start, "end": c.end,
                    "score": round(c.score, 4), "also_reported_by": c.also_reported_by,
                    "spans": [list(span) for span in c.spans],
                }
                for c in self.citations
            ],
            "retrieved": [
                {
                    "passage_id": h.passage.id, "article_id": h.article.id,
                    "origin": h.article.origin, "title": h.article.title,
                    "score": round(h.score, 5), "dense": round(h.dense, 4),
                    "lexical": round(h.lexical, 4), "text": h.passage.text,
                }
                for h in self.retrieved
            ],
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
        }


@dataclass(slots=True)
class _Candidate:
    hit: Hit
    hit_rank: int
    start: int
    end: int
    text: str
    score: float = 0.0


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def lexical_overlap(terms: list[str], sentence: str) -> float:
    """Share of the question's content words (lightly stemmed) found in the sentence."""
    if not terms:
        return 0.0
    words = {_stem(w) for w in query_terms(sentence)}
    return sum(1 for t in terms if _stem(t) in words) / len(terms)


def candidate_sentences(hits: list[Hit], max_sources: int) -> list[_Candidate]:
    """Sentences of the passages of the best `max_sources` stories, with body offsets."""
    stories: list[int] = []
    candidates: list[_Candidate] = []
    for rank, hit in enumerate(hits):
        if hit.passage.story_id not in stories:
            if len(stories) >= max_sources:
                continue
            stories.append(hit.passage.story_id)
        body = hit.article.body
        for span in split_sentences(body, hit.passage.start, hit.passage.end):
            text = body[span.start : span.end]
            if len(text) >= 15:
                candidates.append(_Candidate(hit, rank, span.start, span.end, text))
    return candidates


def score_candidates(
    question: str,
    query_vector: np.ndarray,
    candidates: list[_Candidate],
    embed: Callable[[list[str]], np.ndarray],
) -> None:
    """Score each sentence: similarity to the question, shared words, passage rank."""
    if not candidates:
        return
    terms = query_terms(question)
    sentence_vectors = embed([c.text for c in candidates])
    similarities = sentence_vectors @ query_vector
    for candidate, similarity in zip(candidates, similarities, strict=True):
        rank_prior = 1.0 / (1 + candidate.hit_rank)
        candidate.score = (
            float(similarity) + 0.5 * lexical_overlap(terms, candidate.text) + 0.15 * rank_prior
        )


def select_sentences(candidates: list[_Candidate], tuning: AnswerTuning) -> list[_Candidate]:
    """The best sentence, plus close runners-up while the answer stays short."""
    ranked = sorted(candidates, key=lambda c: -c.score)
    chosen: list[_Candidate] = []
    length = 0
    for candidate in ranked:
        if len(chosen) >= tuning.max_sentences:
            break
        if chosen and candidate.score < 0.8 * chosen[0].score:
            break
        if length + len(candidate.text) > tuning.max_answer_chars:
            if not chosen:
                chosen.append(candidate)  # the best sentence alone may not fit: clip below
                length += len(candidate.text)
            continue
        if any(c.hit.article.id == candidate.hit.article.id and c.start == candidate.start
               for c in chosen):
            continue
        chosen.append(candidate)
        length += len(candidate.text) + 5
    return chosen


def _citation_for(n: int, candidate: _Candidate, twins: list[StoredArticle]) -> Citation:
    article = candidate.hit.article
    return Citation(
        n=n, article_id=article.id, passage_id=candidate.hit.passage.id, title=article.title,
        origin=article.origin, url=article.url, outlet=article.outlet, author=article.author,
        published_at=article.published_at, quote=article.body[candidate.start : candidate.end],
        start=candidate.start, end=candidate.end, score=candidate.score,
        also_reported_by=[t.outlet or t.origin for t in twins if t.id != article.id],
        spans=[(candidate.start, candidate.end)],
    )


def compose(
    chosen: list[_Candidate],
    story_members: Callable[[int], list[StoredArticle]],
) -> tuple[str, list[Citation]]:
    """Answer text with `[n]` markers; one citation per quoted sentence, numbered by source
    in order of first use (sentences of one source share its number)."""
    numbers: dict[int, int] = {}
    citations: list[Citation] = []
    ordered = sorted(chosen, key=lambda c: (
        min(x.hit_rank for x in chosen if x.hit.passage.story_id == c.hit.passage.story_id),
        c.hit.article.id, c.start,
    ))
    parts: list[str] = []
    for candidate in ordered:
        story = candidate.hit.passage.story_id
        n = numbers.setdefault(story, len(numbers) + 1)
        existing = next((c for c in citations if c.n == n), None)
        if existing is None:
            citations.append(_citation_for(n, candidate, story_members(story)))
        elif existing.article_id == candidate.hit.article.id:
            existing.spans.append((candidate.start, candidate.end))
        parts.append(f"{_one_line(candidate.text)} [{n}]")
    return " ".join(parts), citations


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def should_abstain(hits: list[Hit], tuning: AnswerTuning) -> bool:
    """Too little evidence: nothing retrieved, or nothing close enough to the question."""
    return not hits or max(h.dense for h in hits) < tuning.abstain_below
