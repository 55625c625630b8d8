"""Retrieval: the dense and lexical rankings, fused, and which stories reach re-ranking.

Run on the bundled samples with the real model, SQLite store and FAISS index.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from index.library import Library
from index.qa.question import Question
from index.qa.retrieve import retrieve
from index.qa.stories import candidate_stories
from index.qa.tuning import AnswerTuning
from index.settings import Settings
from index.text import query_terms

# The samples' dense and lexical rankings put different stories first for this question,
# and fusion puts a third story first.
QUESTION = "Which company was fined?"


@pytest.fixture
def library(samples: Path, data_dir: Path) -> Iterator[Library]:
    library = Library(Settings(data_dir=data_dir))
    library.ingest([samples])
    yield library
    library.close()


def _stories_reranked(library: Library, *, retriever_top: int, stories: int) -> set[int]:
    index = library.live_index()
    query_vector = library.embedder.embed_query(QUESTION)
    tuning = AnswerTuning(candidates=60, passages=24, rrf_k=60, retriever_top=retriever_top,
                          rerank_stories=stories)
    hits = retrieve(library.store, index, Question.of(QUESTION), query_vector, tuning)
    assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)
    found = candidate_stories(hits, Question.of(QUESTION), query_vector, tuning,
                              library.answerer.sentence_vectors)
    return {evidence.story_id for evidence in found.copies}


def test_each_retrievers_first_passage_reaches_reranking(library: Library) -> None:
    index = library.live_index()
    dense = index.search(library.embedder.embed_query(QUESTION), 60)
    lexical = library.store.lexical_search(query_terms(QUESTION), 60)
    passages = library.store.passages([dense[0][0], lexical[0][0]])
    dense_first = passages[dense[0][0]].story_id
    lexical_first = passages[lexical[0][0]].story_id
    assert dense_first != lexical_first  # the case this test is about

    fused_only = _stories_reranked(library, retriever_top=0, stories=1)
    assert len(fused_only) == 1 and not {dense_first, lexical_first} <= fused_only
    with_tops = _stories_reranked(library, retriever_top=1, stories=1)
    assert with_tops == fused_only | {dense_first, lexical_first}


def test_the_first_passages_are_marked_and_kept_beyond_the_limit(library: Library) -> None:
    index = library.live_index()
    query_vector = library.embedder.embed_query(QUESTION)
    dense = index.search(query_vector, 60)
    lexical = library.store.lexical_search(query_terms(QUESTION), 60)
    hits = retrieve(library.store, index, Question.of(QUESTION), query_vector,
                    AnswerTuning(candidates=60, passages=2, rrf_k=60, retriever_top=1))
    marked = {hit.passage.id for hit in hits if hit.top_of_retriever}
    assert marked == {dense[0][0], lexical[0][0]}
    assert len(hits) == 2  # the limit holds: here both places go to the two firsts
    plain = retrieve(library.store, index, Question.of(QUESTION), query_vector,
                     AnswerTuning(candidates=60, passages=2, rrf_k=60, retriever_top=0))
    assert not any(hit.top_of_retriever for hit in plain)

