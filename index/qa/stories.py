"""Stories: the retrieved stories that may answer, every copy on its own, and one per story.

`candidate_stories` gathers the best candidate stories of retrieval with each copy's (exact
or near duplicates) sentence closeness and how much of the question's (IDF-weighted,
`TermWeights`) words the whole article covers; the answer model (`index.qa.model`) scores
them, and `best_copy_per_story` keeps one copy of each story, best first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from index.filters import ANY_DATE, DateRange
from index.qa.evidence import Hit, StoryEvidence
from index.qa.question import Question
from index.qa.sentences import SentenceVectorCache
from index.qa.tuning import AnswerTuning
from index.storage import ArticleStore, StoredArticle
from index.text import names_missing, stem


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


@dataclass(slots=True)
class StoryCandidates:
    """The candidate stories of a question, each copy on its own, with the evidence the
    answer model reads of them (`index.qa.features`)."""

    copies: list[StoryEvidence]  # every copy, in the order retrieval found its story
    story_hits: dict[int, list[Hit]]  # the passages found of each story, by story id
    coverage: list[float]  # each copy's coverage of the question's words (`term_coverage`)
    fused_rank: list[int]  # each copy's story's place in the ranking of the hits (fused,
                           # or the cross-encoder's)


def candidate_stories(
    hits: list[Hit],
    question: Question,
    query_vector: np.ndarray,
    tuning: AnswerTuning,
    sentence_vectors: SentenceVectorCache,
    *,
    term_weights: dict[str, float] | None = None,
    store: ArticleStore | None = None,
    dates: DateRange = ANY_DATE,
) -> StoryCandidates:
    """The best `rerank_stories` stories in the order of `hits` — the fused ranking, or the
    cross-encoder's when one reranked them (`index.qa.rerank`) — (and those of the hits
    that are `top_of_retriever`, wherever they ranked), every copy on its own — those retrieved, and
    those `store` holds published within `dates` (near-duplicates differ: one may have the
    paragraph that answers) — with each sentence's closeness to the question and how much
    of the question's (`term_weights`) words the whole article covers, the words of each of
    its names only where the article gives that name whole (`whole_names`)."""
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
    story_rank = {story_id: rank for rank, story_id in enumerate(by_story)}
    found = StoryCandidates([], by_story, [], [])
    for (story_id, _article_id), (article, copy_hits) in by_copy.items():
        read = sentence_vectors.of(article, dim)
        similarities = (read.vectors @ query_vector if len(read.spans)
                        else np.zeros(0, dtype=np.float32))
        found.copies.append(StoryEvidence(
            story_id, article, copy_hits, read.spans, similarities, words=read.words,
            title_words=read.title_words, article_words=read.article_words))
        coverage = 0.0
        if term_weights:
            words = read.article_words
            if names:
                words = words - names_missing(names, read.phrase)
            coverage = term_coverage(term_weights, words)
        found.coverage.append(coverage)
        found.fused_rank.append(story_rank[story_id])
    return found


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
