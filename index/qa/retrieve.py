"""Retrieval: the passages that may answer a question, dense and lexical rankings fused.

Dense: the question's vector against the vector index (cosine). Lexical: the store's full-text
search (BM25 over passage text and headline) for the question's terms. The two rankings are
fused by reciprocal rank; passages of one story (an article and its exact or near duplicates)
share `passages_per_story` places, so a duplicated article never crowds out a different
source. The first passages of each ranking are always kept (`retriever_top`).
"""

from __future__ import annotations

from itertools import islice

import numpy as np

from index.filters import ANY_DATE, DateRange
from index.qa.evidence import Hit
from index.qa.question import Question
from index.qa.tuning import AnswerTuning
from index.storage import ArticleStore, PassageRow, StoredArticle, VectorIndex


def fuse(
    dense: list[tuple[int, float]], lexical: list[tuple[int, float]], rrf_k: int
) -> dict[int, float]:
    """Reciprocal-rank fusion of two rankings of passage ids."""
    fused: dict[int, float] = {}
    for ranking in (dense, lexical):
        for rank, (passage_id, _score) in enumerate(ranking):
            fused[passage_id] = fused.get(passage_id, 0.0) + 1.0 / (rrf_k + rank + 1)
    return fused


def _similarity(index: VectorIndex, passage_id: int, query_vector: np.ndarray) -> float:
    """Cosine similarity of a passage found only lexically (0 if it has no vector yet)."""
    vector = index.vector(passage_id)
    return 0.0 if vector is None else float(vector @ query_vector)


def retrieve(
    store: ArticleStore,
    index: VectorIndex,
    question: Question,
    query_vector: np.ndarray,
    tuning: AnswerTuning,
    dates: DateRange = ANY_DATE,
) -> list[Hit]:
    """The best `tuning.passages` passages for a question by fused score, at most
    `passages_per_story` from one story, published within `dates`. The first
    `retriever_top` passages of each ranking are always among them, marked
    `top_of_retriever`: a passage one retriever ranks first may fuse below passages both
    rank in the middle, and it is still worth a look."""
    depth = tuning.candidates * (tuning.date_filter_widen if dates.limited else 1)
    dense = index.search(query_vector, depth)
    lexical = store.lexical_search(question.terms, depth)
    fused = fuse(dense, lexical, tuning.rrf_k)
    dense_of, lexical_of = dict(dense), dict(lexical)
    passages = store.passages(fused)
    articles = store.articles(p.article_id for p in passages.values())

    def usable(passage_id: int) -> tuple[PassageRow, StoredArticle] | None:
        passage = passages.get(passage_id)
        if passage is None:  # the index is newer or older than the store: skip, never guess
            return None
        article = articles.get(passage.article_id)
        if article is None:  # the store changed between the two reads: skip, never guess
            return None
        return (passage, article) if dates.holds(article) else None

    top = [passage_id for ranking in (dense, lexical)
           for passage_id in islice((i for i, _ in ranking if usable(i)), tuning.retriever_top)]
    hits: list[Hit] = []
    per_story_count: dict[int, int] = {}
    seen_spans: set[tuple[int, int, int]] = set()
    for passage_id in dict.fromkeys(top + sorted(fused, key=lambda i: -fused[i])):
        found = usable(passage_id)
        if found is None:
            continue
        passage, article = found
        span = (passage.story_id, passage.start, passage.end)
        if (per_story_count.get(passage.story_id, 0) >= tuning.passages_per_story
                or span in seen_spans):
            continue  # exact duplicates of an article repeat its passages at the same offsets
        seen_spans.add(span)
        per_story_count[passage.story_id] = per_story_count.get(passage.story_id, 0) + 1
        dense_score = dense_of.get(passage_id)
        if dense_score is None:
            dense_score = _similarity(index, passage_id, query_vector)
        hits.append(Hit(passage, article, fused[passage_id], dense_score,
                        lexical_of.get(passage_id, 0.0), passage_id in top))
        if len(hits) >= tuning.passages:
            break
    hits.sort(key=lambda hit: -hit.score)
    return hits
