"""Stories: which retrieved story can answer, each scored on its best copy.

`rank_stories` re-ranks the best candidate stories by their closest sentence, the lexical and
dense evidence that found them and how much of the question's (IDF-weighted, `TermWeights`)
words the whole article covers; every copy of a story (exact or near duplicates) is scored
on its own. `recency_boost` favours newer stories when the question asks for the latest
news; `rescore_stories` credits each story with how well its best sentence answers;
`best_copy_per_story` keeps one copy of each story, best first.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np

from index.filters import ANY_DATE, DateRange
from index.qa.evidence import Hit, StoryEvidence
from index.qa.question import Question
from index.qa.sentences import SentenceVectorCache, sentence_scores
from index.qa.tuning import AnswerTuning
from index.storage import ArticleStore, StoredArticle
from index.text import names_missing, stem, stemmed_words


class TermWeights:
    """The IDF of each content word of a question (stemmed) over the store's passages:
    rare words weigh more. Word frequencies are kept until `clear` (the index changed)."""

    def __init__(self, store: ArticleStore) -> None:
        self._store = store
        self._frequencies: dict[str, int] = {}
        self._passages: int | None = None

    def of(self, question: Question) -> dict[str, float]:
        frequencies = self._frequencies
        if self._passages is None:
            self._passages = self._store.counts()["passages"]
        total = self._passages
        weights: dict[str, float] = {}
        for term in question.terms:
            if term not in frequencies:
                frequencies[term] = self._store.passage_frequency(term)
            weights[stem(term)] = math.log((total + 1) / (frequencies[term] + 0.5))
        return weights

    def clear(self) -> None:
        self._frequencies, self._passages = {}, None


def term_coverage(weights: dict[str, float], words: frozenset[str]) -> float:
    """The weighted share of the question's words (stem → weight, e.g. IDF) that a text
    has: an article that mentions the question's rarer details is likelier its source."""
    total = sum(weights.values())
    if not total:
        return 0.0
    return sum(weight for term, weight in weights.items() if term in words) / total


def rank_stories(
    hits: list[Hit],
    question: Question,
    query_vector: np.ndarray,
    tuning: AnswerTuning,
    sentence_vectors: SentenceVectorCache,
    *,
    term_weights: dict[str, float] | None = None,
    store: ArticleStore | None = None,
    dates: DateRange = ANY_DATE,
) -> list[StoryEvidence]:
    """Re-rank the best `rerank_stories` candidate stories (and those of the hits that are
    `top_of_retriever`, wherever they fused) by their closest sentence, plus the lexical
    and passage-level evidence that brought them in, plus how much of the question's
    (`term_weights`) words the whole article covers — the words of each of its names only
    where the article gives that name whole (`whole_names`). Each copy of a story — those
    retrieved, and those `store` holds published within `dates` — is scored on its own
    (near-duplicates differ: one may have the paragraph that answers);
    `best_copy_per_story` keeps the best one once the scores are final."""
    by_story: dict[int, list[Hit]] = {}
    for hit in hits:
        if (hit.passage.story_id in by_story or len(by_story) < tuning.rerank_stories
                or hit.top_of_retriever):
            by_story.setdefault(hit.passage.story_id, []).append(hit)
    by_copy: dict[tuple[int, int], tuple[StoredArticle, list[Hit]]] = {}
    for story_id, story_hits in by_story.items():
        for hit in story_hits:
            by_copy.setdefault((story_id, hit.article.id), (hit.article, []))[1].append(hit)
        if store is not None:
            for article in store.story_members(story_id):
                if dates.holds(article):
                    by_copy.setdefault((story_id, article.id), (article, []))
    names = question.names if tuning.whole_names else []
    dim = int(query_vector.shape[0])
    top_lexical = max((h.lexical for h in hits), default=0.0) or 1.0
    ranked: list[StoryEvidence] = []
    for (story_id, _article_id), (article, copy_hits) in by_copy.items():
        spans, matrix = sentence_vectors.of(article, dim)
        similarities = matrix @ query_vector if len(spans) else np.zeros(0, dtype=np.float32)
        evidence = StoryEvidence(story_id, article, copy_hits, spans, similarities)
        story_hits = by_story[story_id]  # the passages found are evidence for every copy
        evidence.score = (
            evidence.best_similarity
            + tuning.story_lexical_weight * max(h.lexical for h in story_hits) / top_lexical
            + tuning.story_dense_weight * max(h.dense for h in story_hits)
        )
        if term_weights and tuning.story_coverage_weight:
            text = f"{article.title}\n{article.body}"
            words = stemmed_words(text)
            if names:
                words = words - names_missing(names, text)
            evidence.score += tuning.story_coverage_weight * term_coverage(term_weights, words)
        ranked.append(evidence)
    ranked.sort(key=lambda e: -e.score)
    return ranked


def recency_boost(stories: list[StoryEvidence], question: Question, tuning: AnswerTuning
                  ) -> list[StoryEvidence]:
    """When the question asks for the latest news, favour newer stories: each story's score
    gains `recency_weight` × ½^(days older than the newest candidate /
    `recency_half_life_days`), so the newest candidate gains the full weight and undated
    stories nothing. Ages are measured from the newest candidate, not from today, so an
    archive of old news still has a "latest". Returns the stories re-sorted; unchanged when
    the question doesn't ask."""
    if not question.wants_recent:
        return stories
    published = {id(story): _published(story.article) for story in stories}
    newest = max((when for when in published.values() if when), default=None)
    if newest is None:
        return stories
    for story in stories:
        when = published[id(story)]
        if when is not None:
            age_days = (newest - when).total_seconds() / 86400
            story.score += tuning.recency_weight * 0.5 ** (
                age_days / tuning.recency_half_life_days)
    return sorted(stories, key=lambda story: -story.score)


def _published(article: StoredArticle) -> datetime | None:
    if not article.published_at:
        return None
    try:
        moment = datetime.fromisoformat(article.published_at)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def rescore_stories(question: Question, stories: list[StoryEvidence], tuning: AnswerTuning
                    ) -> list[StoryEvidence]:
    """Credit each story with how well its best sentence answers the question (not only
    how close it is), and re-sort: the story that can answer comes first."""
    for story in stories:
        best_answer = max(sentence_scores(question, story, tuning, slot_weight=tuning.slot_bonus),
                          default=0.0)
        story.score += tuning.story_answer_weight * (best_answer - story.best_similarity)
    return sorted(stories, key=lambda story: -story.score)


def best_copy_per_story(ranked: list[StoryEvidence]) -> list[StoryEvidence]:
    """One evidence per story, best first: the highest-scoring copy, holding the hits of
    all its copies and the closest sentence among them (a copy under another headline can
    be the closer match, while this one has the answer)."""
    kept: dict[int, StoryEvidence] = {}
    for evidence in sorted(ranked, key=lambda e: -e.score):
        best = kept.get(evidence.story_id)
        if best is None:
            kept[evidence.story_id] = evidence
            continue
        best.hits.extend(evidence.hits)
        best.other_copies_similarity = max(best.other_copies_similarity,
                                           evidence.story_similarity)
    return list(kept.values())
