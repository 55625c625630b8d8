"""The evidence the answer stages hand on: retrieved passages and candidate stories.

`Hit` is a passage retrieval found (`index.qa.retrieve`), with the scores that found it (and
the cross-encoder's, when one reranks them: `index.qa.rerank`);
`StoryEvidence` is a candidate story — one copy of it, with its sentences' closeness to the
question — as story ranking (`index.qa.stories`) scores it and sentence selection
(`index.qa.sentences`), abstention and composition read it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from index.storage import PassageRow, StoredArticle

Span = tuple[int, int]


@dataclass(slots=True)
class Hit:
    """A retrieved passage with its article and the evidence for it."""

    passage: PassageRow
    article: StoredArticle
    score: float  # fused score (higher is better)
    dense: float  # cosine similarity with the question (0 if not found densely)
    lexical: float  # BM25 score (0 if not found lexically)
    top_of_retriever: bool = False  # among the first of the dense or the lexical ranking
    rerank: float | None = None  # the cross-encoder's score (`index.qa.rerank`); None: off


@dataclass(slots=True)
class StoryEvidence:
    """One candidate story, scored on its best sentences: the unit of a citation slot."""

    story_id: int
    article: StoredArticle
    hits: list[Hit]
    spans: list[Span]  # every sentence of the article
    similarities: np.ndarray  # cosine of each sentence (headline as context) with the question
    score: float = 0.0
    # Each sentence's stemmed words, the headline's and the whole article's
    # (`index.qa.sentences.ArticleSentences`); read from the text when not given.
    words: list[frozenset[str]] | None = None
    title_words: frozenset[str] | None = None
    article_words: frozenset[str] | None = None
    # The closest sentence of the story's other copies (see `best_copy_per_story`).
    other_copies_similarity: float = 0.0

    @property
    def best_similarity(self) -> float:
        return float(self.similarities.max()) if len(self.similarities) else 0.0

    @property
    def story_similarity(self) -> float:
        """The closest sentence of any copy of the story."""
        return max(self.best_similarity, self.other_copies_similarity)
