"""Composing a short, cited answer from retrieved passages — or declining to answer.

The answer is extractive: the few sentences of the retrieved passages that best answer the
question, each followed by the `[n]` of its source. A citation's quote is always the exact
text `body[start:end]` of its article, so a reader can check it. When the evidence is too
weak the answer abstains: no text is made up and no unrelated article is cited.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from index.qa.tuning import AnswerTuning
from index.question import (
    QuestionFacts,
    asks_for_successor,
    counts_noun,
    fact_near,
    fills_slot,
    names_role,
    new_fact_spans,
    tells_of_succession,
    unknown_terms,
    years_named,
)
from index.search import Hit, StoryEvidence, stem, stemmed_words
from index.storage import StoredArticle

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
    # Every (start, end) of this source quoted in the answer, in answer order, and the
    # quoted texts (`quotes[0]` is `quote`).
    spans: list[tuple[int, int]] = field(default_factory=list)
    quotes: list[str] = field(default_factory=list)


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
                    "spans": [list(span) for span in c.spans], "quotes": c.quotes,
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
    story: StoryEvidence
    story_rank: int
    start: int
    end: int
    text: str
    score: float = 0.0


def _is_heading(text: str) -> bool:
    """A subheading ("A crucial issue for Huawei… and for China") is not an answer."""
    return len(text.split()) < 10 and not re.search(r"[.!?][\"'”’)]*$", text)


def distinctive_weights(terms: list[str], sentence_words: list[frozenset[str]]
                        ) -> dict[str, float]:
    """Weight of each question word (stemmed) by how rare it is among the story's
    sentences: the story's subject ("Joy Division") is in many of them and tells them
    apart little; the detail asked about ("directed") is in few."""
    count = len(sentence_words)
    weights: dict[str, float] = {}
    for term in dict.fromkeys(stem(t) for t in terms):
        holding = sum(1 for words in sentence_words if term in words)
        weights[term] = math.log((count + 1) / (holding + 0.5))
    return weights


def sentence_scores(facts: QuestionFacts, story: StoryEvidence, tuning: AnswerTuning,
                    distinctive_weight: float = 0.0, near_detail_weight: float = 0.0,
                    role_weight: float = 0.0, slot_weight: float = 0.0) -> list[float]:
    """How well each sentence of a story answers the question: its closeness (headline as
    context) plus some of the previous sentence's (an answer often follows the sentence
    that sets the scene), the share of the question's words it has (plainly, and weighted
    by their rarity within the story, which tells the sentences of one story apart but not
    stories), and whether it holds the kind of fact asked for."""
    body = story.article.body
    texts = [body[start:end] for start, end in story.spans]
    words = [stemmed_words(text) for text in texts]
    weights = distinctive_weights(facts.terms, words)
    total = sum(weights.values()) or 1.0
    stems = list(weights)
    # The question's rare words in this story: in at most a tenth of its sentences (only
    # when they earn credit: ranking stories scores every sentence without it).
    rare = math.log((len(texts) + 1) / (max(1.0, 0.1 * len(texts)) + 0.5))
    details = {term for term, weight in weights.items()
               if weight >= rare} if near_detail_weight else set()
    scores: list[float] = []
    previous = 0.0
    for text, sentence_words, similarity in zip(texts, words, story.similarities, strict=True):
        shared = [term for term in stems if term in sentence_words]
        facts_at = new_fact_spans(facts.kind, text, facts.asked)
        scores.append(
            float(similarity)
            + tuning.context_weight * previous
            + tuning.sentence_lexical_weight * (len(shared) / len(stems) if stems else 0.0)
            + distinctive_weight * sum(weights[t] for t in shared) / total
            + tuning.answer_kind_bonus * bool(facts_at)
            + tuning.counted_noun_bonus * counts_noun(facts.counted, text, facts.asked)
            + near_detail_weight * fact_near(
                facts_at, text, details.intersection(shared))
            + role_weight * names_role(facts_at, text, facts.roles)
            + slot_weight * fills_slot(facts_at, text, facts.preposition)
        )
        previous = float(similarity)
    return scores


def rescore_stories(question: str, stories: list[StoryEvidence], tuning: AnswerTuning
                    ) -> list[StoryEvidence]:
    """Credit each story with how well its best sentence answers the question (not only
    how close it is), and re-sort: the story that can answer comes first."""
    facts = QuestionFacts.of(question)
    for story in stories:
        best_answer = max(sentence_scores(facts, story, tuning, slot_weight=tuning.slot_bonus),
                          default=0.0)
        story.score += tuning.story_answer_weight * (best_answer - story.best_similarity)
    return sorted(stories, key=lambda story: -story.score)


def candidate_sentences(
    question: str, stories: list[StoryEvidence], tuning: AnswerTuning
) -> list[_Candidate]:
    """Every sentence of the best stories, scored by `sentence_scores`; sentences of
    lower-ranked stories pay a small penalty."""
    facts = QuestionFacts.of(question)
    candidates: list[_Candidate] = []
    for rank, story in enumerate(stories[: tuning.max_sources]):
        if rank and story.score < stories[0].score - tuning.source_margin:
            break
        body = story.article.body
        scores = sentence_scores(facts, story, tuning, tuning.sentence_distinctive_weight,
                                 tuning.fact_near_detail_bonus, tuning.role_name_bonus,
                                 tuning.slot_bonus)
        for (start, end), score in zip(story.spans, scores, strict=True):
            text = body[start:end]
            if len(text) < 15 or _is_heading(text):
                continue
            candidates.append(_Candidate(story, rank, start, end, text,
                                         score - tuning.lower_source_penalty * rank))
    return candidates


def select_sentences(candidates: list[_Candidate], tuning: AnswerTuning) -> list[_Candidate]:
    """The best sentence, plus close runners-up while the answer stays short."""
    ranked = sorted(candidates, key=lambda c: -c.score)
    chosen: list[_Candidate] = []
    length = 0
    for candidate in ranked:
        if len(chosen) >= tuning.max_sentences:
            break
        if chosen and candidate.score < tuning.runner_up_ratio * chosen[0].score:
            break
        if length + len(candidate.text) > tuning.max_answer_chars:
            if not chosen:
                chosen.append(candidate)  # the best sentence alone may not fit: clip below
                length += len(candidate.text)
            continue
        if any(_restates(c.text, candidate.text) for c in chosen):
            continue  # the same sentence in a copy of the story, or another outlet's wording
        chosen.append(candidate)
        length += len(candidate.text) + 5
    return chosen


def _passage_of(candidate: _Candidate) -> int:
    """The retrieved passage of the cited article holding the quoted sentence (else the
    article's first retrieved passage)."""
    article_id = candidate.story.article.id
    own = [hit for hit in candidate.story.hits if hit.article.id == article_id]
    for hit in own:
        if hit.passage.start <= candidate.start and candidate.end <= hit.passage.end:
            return hit.passage.id
    return (own or candidate.story.hits)[0].passage.id


def _citation_for(n: int, candidate: _Candidate, twins: list[StoredArticle],
                  passage_id: int) -> Citation:
    article = candidate.story.article
    return Citation(
        n=n, article_id=article.id, passage_id=passage_id, title=article.title,
        origin=article.origin, url=article.url, outlet=article.outlet, author=article.author,
        published_at=article.published_at, quote=article.body[candidate.start : candidate.end],
        start=candidate.start, end=candidate.end, score=candidate.score,
        also_reported_by=[t.outlet or t.origin for t in twins if t.id != article.id],
        spans=[(candidate.start, candidate.end)],
        quotes=[article.body[candidate.start : candidate.end]],
    )


def compose(
    chosen: list[_Candidate],
    story_members: Callable[[int], list[StoredArticle]],
    passage_of: Callable[[StoredArticle, int, int], int | None],
) -> tuple[str, list[Citation]]:
    """Answer text with `[n]` markers, numbered by source in order of first use; each
    source's best sentence comes first, its others follow in the article's order, all
    sharing its number."""
    numbers: dict[int, int] = {}
    citations: list[Citation] = []
    best = {c.story_rank: c for c in sorted(chosen, key=lambda c: c.score)}  # top per source
    # The best sentence leads; the others of its source follow in the article's order.
    ordered = sorted(chosen, key=lambda c: (c.story_rank, best[c.story_rank] is not c, c.start))
    parts: list[str] = []
    for candidate in ordered:
        story = candidate.story.story_id
        n = numbers.setdefault(story, len(numbers) + 1)
        existing = next((c for c in citations if c.n == n), None)
        if existing is None:
            passage_id = passage_of(candidate.story.article, candidate.start, candidate.end)
            citations.append(_citation_for(n, candidate, story_members(story),
                                           passage_id or _passage_of(candidate)))
        else:
            existing.spans.append((candidate.start, candidate.end))
            existing.quotes.append(candidate.story.article.body[candidate.start:candidate.end])
        parts.append(f"{_one_line(candidate.text)} [{n}]")
    return " ".join(parts), citations


def _restates(first: str, second: str, overlap: float = 0.8) -> bool:
    """Whether two sentences say the same thing: equal, or sharing at least `overlap` of
    their words ("IBM test results show…" and "DOE test results show…")."""
    if _one_line(first) == _one_line(second):
        return True
    a, b = stemmed_words(first), stemmed_words(second)
    return bool(a and b) and len(a & b) / len(a | b) >= overlap


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()




def absent_years(question: str, story: StoryEvidence) -> list[str]:
    """Years the question names that the best story never mentions, in its headline, its
    body or its date of publication (a story dated 2024 is about 2024)."""
    article = story.article
    text = f"{article.title} {article.body} {article.published_at or ''}"
    return [year for year in years_named(question) if year not in text]


def should_abstain(question: str, stories: list[StoryEvidence], tuning: AnswerTuning,
                   in_collection: Callable[[str], bool]) -> bool:
    """Decline when the evidence is weak. Calibrated rules (see README): the best story,
    the one an answer would quote, has no sentence even loosely close to the question; no
    sentence of the best `abstain_stories` stories is close; the question names a year the
    best story never mentions (it is about another time); the question asks who took
    someone's place and the best story tells of no succession; or the question names a name
    or figure the collection never mentions and the match is not strong."""
    if not stories or stories[0].story_similarity < tuning.abstain_cited_below:
        return True  # the story an answer would quote has nothing close to the question
    closest = max(story.story_similarity for story in stories[: tuning.abstain_stories])
    if closest < tuning.abstain_below:
        return True
    if closest < tuning.abstain_absent_year_below and absent_years(question, stories[0]):
        return True  # the story an answer would quote is not about the year asked about
    best = stories[0].article
    if asks_for_successor(question) and not tells_of_succession(f"{best.title}\n{best.body}"):
        return True  # "who succeeded X", and the story tells of no one taking a place
    if closest >= tuning.abstain_missing_detail_below:
        return False
    return bool(unknown_terms(question, in_collection))
