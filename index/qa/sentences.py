"""Sentences: the sentences of a story as the answer stages see them.

`SentenceVectorCache` keeps the sentence vectors (headline + sentence) of recently asked-about
articles in memory; `Candidate` is a sentence that may be quoted, with the probability that it
answers (`index.qa.model`); `restates` tells two sentences that say the same apart from two
that add to each other.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from index.qa.evidence import Span, StoryEvidence
from index.storage import StoredArticle
from index.storage.sqlite_store import sentence_inputs, text_key
from index.text import one_line, stemmed_words

SentenceVectors = tuple[list[Span], np.ndarray]


class VectorCache(Protocol):
    """Where embedded texts' vectors are kept (`index.storage.embedding_cache`)."""

    def fill(self, model: str, keys: list[str], dim: int) -> np.ndarray:
        """The cached vector of each key, row for row (zeros where missing)."""
        ...


class SentenceVectorCache:
    """Each article's sentence spans with their vectors (headline + sentence, as embedded at
    index time, from the embedding cache under `namespace`), kept in memory for the
    `capacity` most recently asked-about articles. Thread-safe."""

    def __init__(self, cache: VectorCache, namespace: str, capacity: int) -> None:
        self._cache = cache
        self._namespace = namespace
        self._capacity = capacity
        self._articles: OrderedDict[tuple[int, int], SentenceVectors] = OrderedDict()
        self._lock = threading.Lock()

    def of(self, article: StoredArticle, dim: int) -> SentenceVectors:
        """An article's sentence spans with their cached vectors (zeros where missing)."""
        key = (article.id, hash((article.title, article.body)))
        with self._lock:
            found = self._articles.get(key)
            if found is not None:
                self._articles.move_to_end(key)
                return found
        inputs = sentence_inputs(article.title, article.body)
        matrix = self._cache.fill(self._namespace, [text_key(text) for _s, _e, text in inputs],
                                  dim)
        found = [(start, end) for start, end, _text in inputs], matrix
        with self._lock:
            self._articles[key] = found
            while len(self._articles) > self._capacity:
                self._articles.popitem(last=False)
        return found

    def clear(self) -> None:
        """Forget every article (the live index changed)."""
        with self._lock:
            self._articles.clear()


@dataclass(slots=True)
class Candidate:
    """A sentence that may be quoted, with the probability that it answers (`score`) and
    the rank of its story."""

    story: StoryEvidence
    story_rank: int
    start: int
    end: int
    text: str
    score: float = 0.0


def restates(first: str, second: str, overlap: float) -> bool:
    """Whether two sentences say the same thing: equal, or sharing at least `overlap` of
    their words ("IBM test results show…" and "DOE test results show…")."""
    if one_line(first) == one_line(second):
        return True
    a, b = stemmed_words(first), stemmed_words(second)
    return bool(a and b) and len(a & b) / len(a | b) >= overlap
