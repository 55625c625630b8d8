"""What the question path and the indexer need from storage, as small typed interfaces.

`ArticleStore` keeps articles, their passages and sentences, stories, sources and feeds, and
searches passages lexically; `VectorIndex` finds the passages nearest a question's vector.
Today's implementations are `SQLiteStore` (sqlite-utils, FTS5) and `FaissVectorIndex`; a
second backend implements these and runs the shared storage tests.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager
from typing import Protocol

import numpy as np

from index.storage.records import PassageRow, StoredArticle


class VectorIndex(Protocol):
    """Passage vectors, searched by cosine similarity (vectors are normalised)."""

    def __len__(self) -> int: ...

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """(passage id, cosine) of the `k` nearest passages, nearest first."""
        ...

    def ids(self) -> list[int]:
        """The id of every passage that has a vector."""
        ...

    def vector(self, passage_id: int) -> np.ndarray | None:
        """The stored vector of a passage (None when it has none)."""
        ...


class ArticleStore(Protocol):
    """The read side of the collection that answering a question needs."""

    def snapshot(self) -> AbstractContextManager[None]:
        """One consistent state of the store for everything read inside it."""
        ...

    def lexical_search(self, terms: list[str], limit: int) -> list[tuple[int, float]]:
        """(passage id, score — higher is better) of passages holding any of the terms."""
        ...

    def passages(self, ids: Iterable[int]) -> dict[int, PassageRow]: ...

    def articles(self, ids: Iterable[int]) -> dict[int, StoredArticle]: ...

    def article(self, article_id: int) -> StoredArticle | None: ...

    def story_members(self, story_id: int) -> list[StoredArticle]:
        """Every copy of a story (the article and its exact or near duplicates)."""
        ...

    def passage_at(self, article_id: int, start: int, end: int) -> int | None:
        """The id of the article's passage holding body[start:end], if one does."""
        ...

    def passage_frequency(self, term: str) -> int:
        """How many passages hold the word: its document frequency."""
        ...

    def has_term(self, term: str) -> bool:
        """Whether any passage or headline holds the word."""
        ...

    def counts(self) -> dict[str, int]:
        """"articles", "stories" and "passages"."""
        ...
