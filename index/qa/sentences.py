"""Sentences: the sentences of a story as the answer stages see them.

`SentenceVectorCache` keeps what the answer stages read of each recently asked-about article
in memory (`ArticleSentences`: its sentence spans, their vectors — headline + sentence, read
in one look-up from the matrix ingest kept of them — and their stemmed words, the headline's
and the whole article's: its `index.reading.Reading`, kept at ingest), so that a story asked
about again costs no SQLite read and no re-reading of its text; `Candidate` is a sentence
that may be quoted, with the probability that it answers (`index.qa.model`); `restates`
tells two sentences that say the same apart from two that add to each other.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from index.qa.evidence import Span, StoryEvidence
from index.reading import READINGS, Reading, reading_key
from index.storage import StoredArticle
from index.storage.embedding_cache import article_matrices
from index.text import one_line, stemmed_words
from index.vectors.embedding_inputs import embed_input, text_key


@dataclass(frozen=True, slots=True)
class ArticleSentences:
    """An article's sentences as the answer stages read them, whatever the question: its
    `Reading` (`index.reading`) with each sentence's vector."""

    spans: list[Span]  # every sentence of the body
    vectors: np.ndarray  # one row per sentence (headline + sentence, as embedded)
    words: list[frozenset[str]]  # each sentence's stemmed words (`stemmed_words`)
    title_words: frozenset[str]  # the headline's
    article_words: frozenset[str]  # the headline's and the body's
    phrase: str  # headline and body as `index.text.phrase_tokens`

    @classmethod
    def of(cls, reading: Reading, vectors: np.ndarray) -> ArticleSentences:
        """A reading with the vectors of its sentences, row for row."""
        return cls(reading.spans, vectors, reading.words, reading.title_words,
                   reading.article_words, reading.phrase)


class VectorCache(Protocol):
    """Where embedded texts' vectors and articles' readings are kept
    (`index.storage.embedding_cache`)."""

    def fill(self, model: str, keys: list[str], dim: int) -> np.ndarray:
        """The cached vector of each key, row for row (zeros where missing)."""
        ...

    def get_blob(self, namespace: str, key: str) -> bytes | None:
        """The cached bytes under a key (a reading), None when missing."""
        ...


class SentenceVectorCache:
    """Each article's `ArticleSentences`: its sentence spans with their vectors (headline +
    sentence, as embedded at index time, from the embedding cache under `namespace`) and
    their words, kept in memory for the `capacity` most recently asked-about articles.
    Thread-safe."""

    def __init__(self, cache: VectorCache, namespace: str, capacity: int) -> None:
        self._cache = cache
        self._namespace = namespace
        self._capacity = capacity
        self._articles: OrderedDict[tuple[int, int], ArticleSentences] = OrderedDict()
        self._lock = threading.Lock()

    def of(self, article: StoredArticle, dim: int) -> ArticleSentences:
        """An article's sentences with their cached vectors (zeros where missing)."""
        key = (article.id, hash((article.title, article.body)))
        with self._lock:
            found = self._articles.get(key)
            if found is not None:
                self._articles.move_to_end(key)
                return found
        reading = self._reading(article)
        found = ArticleSentences.of(reading, self._vectors(article, reading, dim))
        with self._lock:
            self._articles[key] = found
            while len(self._articles) > self._capacity:
                self._articles.popitem(last=False)
        return found

    def _vectors(self, article: StoredArticle, reading: Reading, dim: int) -> np.ndarray:
        """The article's sentence vectors, row for row: its matrix as ingest kept it (one
        look-up), else each sentence's from the cache."""
        blob = self._cache.get_blob(article_matrices(self._namespace),
                                    reading_key(article.title, article.body))
        if blob is not None and len(blob) == len(reading.spans) * dim * 4:
            return np.frombuffer(blob, dtype=np.float32).reshape(len(reading.spans), dim)
        body, title = article.body, article.title
        keys = [text_key(embed_input(title, body[start:end])) for start, end in reading.spans]
        return self._cache.fill(self._namespace, keys, dim)

    def _reading(self, article: StoredArticle) -> Reading:
        """The article's reading as ingest kept it, or read afresh (a store indexed by
        other code, or by a backend that keeps none)."""
        blob = self._cache.get_blob(READINGS, reading_key(article.title, article.body))
        return Reading.decode(blob) if blob else Reading.of(article.title, article.body)

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
    """Whether two sentences say the same thing: equal, or at least `overlap` of the shorter
    one's words are in the other ("IBM test results show…" and "DOE test results show…";
    "Hingis was 22 when she retired…" and, in another story, "The former world number one
    was 22 when she retired…")."""
    if one_line(first) == one_line(second):
        return True
    a, b = stemmed_words(first), stemmed_words(second)
    return bool(a and b) and len(a & b) / min(len(a), len(b)) >= overlap
