"""What the question path, the indexer and the tools need from storage, as small typed
interfaces.

Read side: `ArticleStore` (articles, passages, stories and the lexical search a question
needs), `ArticleCatalog` (browsing and evaluation) and `VectorIndex` (the passages nearest
a question's vector).

Write side, used by `index.indexer.Indexer`: `ArticleWriter` (articles with their passages,
sentences and stories, the sources they came from, one transaction around a whole write),
`FeedLog` (followed feeds and the items already handled), `FileStates` (what was last
read of each file, so an unchanged file is not read again), `EmbeddingInputs` (the texts
to embed and the keys of their cached vectors), `IndexState` (small named values the
store keeps, such as which vector index is live) and `IndexGenerations` (a new vector index
written aside and made live with the store's commit). `IndexerStore` is all the store-side
ones together.

Today's implementations are `SQLiteStore` (sqlite-utils, FTS5) and, for vectors,
`FaissVectorIndex` with `FaissGenerations`. A second backend implements these and runs the
shared storage tests (`tests/storage_contract.py`) by adding one factory.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from typing import Protocol

import numpy as np

from index.sources.article import ArticleDraft
from index.storage.records import (
    FileState,
    IndexRecord,
    PassageRow,
    StoredArticle,
    StoredFeed,
    WrittenIndex,
)

# -- read side --------------------------------------------------------------------------


class VectorIndex(Protocol):
    """Passage vectors, searched by cosine similarity (vectors are normalised)."""

    def __len__(self) -> int:
        """Returns: how many passage vectors the index holds."""
        ...

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """The passages nearest a vector.

        Args: `query`, a normalised vector of the index's dimension; `k`, how many.
        Returns: (passage id, cosine) of the `k` nearest passages, nearest first.
        """
        ...

    def vector(self, passage_id: int) -> np.ndarray | None:
        """Returns: the stored vector of a passage (None when it has none)."""
        ...

    def ids(self) -> np.ndarray:
        """Returns: the passage id of every vector, in no particular order."""
        ...


class ArticleStore(Protocol):
    """The read side of the collection that answering a question needs."""

    def snapshot(self) -> AbstractContextManager[None]:
        """One consistent state of the store for everything read inside it: what another
        thread or process commits meanwhile is seen only after it ends."""
        ...

    def lexical_search(self, terms: list[str], limit: int) -> list[tuple[int, float]]:
        """Passages holding any of the words, best first.

        Args: `terms`, words (any punctuation in them is ignored); `limit`, how many.
        Returns: (passage id, score — higher is better).
        """
        ...

    def passages(self, ids: Iterable[int]) -> dict[int, PassageRow]:
        """Returns: the passages with these ids that exist, by id."""
        ...

    def articles(self, ids: Iterable[int]) -> dict[int, StoredArticle]:
        """Returns: the articles with these ids that exist, by id."""
        ...

    def article(self, article_id: int) -> StoredArticle | None: ...

    def story_members(self, story_id: int) -> list[StoredArticle]:
        """Returns: every copy of a story (the article and its exact or near duplicates),
        oldest first."""
        ...

    def passage_at(self, article_id: int, start: int, end: int) -> int | None:
        """Returns: the id of the article's passage holding body[start:end], if one does."""
        ...

    def passage_frequency(self, term: str) -> int:
        """Returns: how many passages hold the word: its document frequency."""
        ...

    def has_term(self, term: str) -> bool:
        """Returns: whether any passage or headline holds the word."""
        ...

    def similar_words(self, word: str, limit: int) -> list[tuple[str, int]]:
        """The words of the collection's vocabulary (every lower-cased content word of its
        articles, `index.vocabulary.article_words`, kept by the writes that add and remove
        them) spelled closest to `word`, by `index.vocabulary.closest`: the same first
        letter, closeness at least `index.vocabulary.CLOSE`; closest first, the more used
        first among equally close ones; the word itself first when an article uses it.
        Case never matters.

        Returns: (word, how many articles use it), at most `limit`.
        """
        ...

    def counts(self) -> dict[str, int]:
        """Returns: "articles", "stories" and "passages"."""
        ...


class ArticleCatalog(Protocol):
    """Browsing the collection, and what the evaluation and benchmarks look up."""

    def language_counts(self) -> dict[str, int]:
        """Returns: how many articles are in each language code ("" for unknown), most
        first."""
        ...

    def search_titles(self, terms: list[str], limit: int) -> list[int]:
        """Returns: ids of articles whose passages hold any of the words, best first, one
        per story (the story's first article)."""
        ...

    def latest_articles(self, limit: int, *, since: str | None = None,
                        until: str | None = None) -> list[StoredArticle]:
        """The newest stories (their first article), newest first.

        Args: `since`/`until`, ISO dates or timestamps (both ends included): only articles
        published in that range.
        """
        ...

    def article_by_origin(self, origin: str) -> StoredArticle | None:
        """Returns: the article stored from `origin` (a file path, or a URL), if any."""
        ...

    def text_identity(self, article_id: int) -> str | None:
        """Returns: a key equal for articles whose bodies are the same text (whitespace
        aside), None for an unknown id."""
        ...

    def all_articles(self) -> Iterator[StoredArticle]:
        """Returns: every article, by id."""
        ...

    def added_per_day(self, since: str) -> dict[tuple[str, str], int]:
        """Returns: {(YYYY-MM-DD, outlet or ""): articles added that day} for the days from
        `since` (an ISO date) on."""
        ...


# -- write side -------------------------------------------------------------------------


class ArticleWriter(Protocol):
    """Articles in, articles out: what an ingest, a reindex and a removal change."""

    def transaction(self) -> AbstractContextManager[None]:
        """One write transaction: everything inside commits together, or nothing does (an
        exception rolls it back). Nested inside another of this thread, it is part of it."""
        ...

    def upsert_article(self, draft: ArticleDraft, *, max_tokens: int = 160) -> str:
        """Store an article with its passages and sentences, joining the story of a copy
        of it (an exact or near duplicate) or starting its own.

        Args: `draft`, the article, keyed by its `origin`; `max_tokens`, the longest
        passage.
        Returns: "added", "updated" (an article from that origin was replaced; it keeps
        its id) or "unchanged" (the same content was stored already).
        """
        ...

    def url_of(self, origin: str) -> str | None:
        """Returns: the URL the article from `origin` was stored with, if it is stored."""
        ...

    def remove_origins(self, origins: Iterable[str]) -> int:
        """Delete articles with their passages; a story that loses its first article is
        regrouped around the others.

        Returns: how many articles were deleted (unknown origins are ignored).
        """
        ...

    def origins_under(self, prefix: str) -> list[str]:
        """Returns: origins of the file articles under `prefix` (a file or a folder)."""
        ...

    def add_source(self, path: str, kind: str) -> None:
        """Remember a source to re-read at reindex (kept once).

        Args: `path`, where it is; `kind`, what it is ("path" for a file or folder).
        """
        ...

    def sources(self, kind: str | None = None) -> list[str]:
        """Returns: the remembered sources (of one `kind`, or all), sorted."""
        ...


class FeedLog(Protocol):
    """Followed feeds, and the items of each already handled (by key and content hash)."""

    def add_feed(self, url: str, title: str | None) -> bool:
        """Follow a feed. Returns: False if it was followed already."""
        ...

    def feeds(self) -> list[StoredFeed]:
        """Returns: the followed feeds, oldest first, each with its count of items."""
        ...

    def remove_feed(self, url: str) -> list[str]:
        """Stop following a feed and forget its items.

        Returns: the origins of the articles that came from this feed and no other.
        """
        ...

    def feed_item_hashes(self, url: str) -> dict[str, str]:
        """Returns: item key → content hash of the feed's items handled so far."""
        ...

    def save_feed_item(self, feed_url: str, key: str, link: str | None, content_hash: str,
                       origin: str | None) -> None:
        """Remember a handled item (replacing what was known of that key).

        Args: `origin`, the article the item was stored as (None when it was not).
        """
        ...

    def record_feed_poll(self, url: str, *, title: str | None, etag: str | None,
                         modified: str | None) -> None:
        """A successful poll: its validators are sent with the next one; the title is
        kept when None; the feed's last error is cleared."""
        ...

    def record_feed_error(self, url: str, error: str) -> None:
        """A failed poll, shown with the feed until the next successful one."""
        ...


class FileStates(Protocol):
    """What the indexer remembers of each file it read whole (size, mtime, content hash),
    so that a reindex skips files that did not change. Written inside the write's
    transaction, with the articles read from the file: both commit, or neither does."""

    def file_states(self, prefix: str) -> dict[str, FileState]:
        """Returns: the remembered state of every file under `prefix` (the file itself, or
        a folder: paths starting with `prefix` + "/"), by path."""
        ...

    def remember_file(self, state: FileState) -> None:
        """Remember (or replace) the state of the file at `state.path`."""
        ...

    def forget_files(self, paths: Iterable[str]) -> None:
        """Forget the states of these files (unknown paths are ignored): the next reindex
        reads them again."""
        ...


class EmbeddingInputs(Protocol):
    """The texts the indexer embeds, and where each vector goes."""

    def passage_inputs(self) -> list[tuple[str, str]]:
        """Returns: (cache key, text to embed) of every passage, one per distinct key."""
        ...

    def sentence_keys(self) -> list[tuple[str, str]]:
        """Returns: (cache key, text to embed) of every sentence of every article, one per
        distinct key."""
        ...

    def passage_keys(self) -> tuple[np.ndarray, list[str]]:
        """Returns: every passage id (ascending, int64) and the cache key of its vector."""
        ...

    def article_texts(self) -> Iterator[tuple[str, str]]:
        """Returns: (headline, body) of every article, by id (for their readings)."""
        ...

    def passage_sentence_keys(self) -> Iterator[tuple[int, list[str]]]:
        """Returns: (passage id, cache keys of the sentences it holds, in order) of every
        passage."""
        ...


class IndexState(Protocol):
    """Small named values the store keeps with the articles (which index is live, the
    schema version); written inside the store's transactions."""

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        """Returns: the value of `key`, or `default` when it has none."""
        ...

    def set_meta(self, values: dict[str, str]) -> None:
        """Set several values at once (one transaction, or part of the open one)."""
        ...


class IndexerStore(ArticleWriter, FeedLog, FileStates, EmbeddingInputs, IndexState,
                   Protocol):
    """Everything the indexer reads and writes in the store."""


class IndexGenerations(Protocol):
    """Vector indexes built whole and swapped in: a new one is written aside, then made
    live by a record that commits with the store's transaction, so readers always load a
    complete index that matches the store."""

    def live_generation(self) -> str | None:
        """Returns: the live index's generation, None before the first; changes whenever
        another one is made live (readers reload then)."""
        ...

    def record(self) -> IndexRecord:
        """Returns: what the store records of the live index."""
        ...

    def write(self, ids: np.ndarray, vectors: np.ndarray, dim: int) -> WrittenIndex:
        """Build an index and write it aside, not yet live.

        Args: `ids`, passage ids; `vectors`, their normalised vectors (rows in the order
        of `ids`); `dim`, the vectors' dimension.
        Returns: what was written, for `make_live`.
        """
        ...

    def make_live(self, written: WrittenIndex, *, model: str, passage_vectors: str) -> None:
        """Record a written index as the live one, inside the store's open transaction:
        it is live for everyone once that commits.

        Args: `model`, the embedding model of its vectors; `passage_vectors`, how they
        were made ("sentence-mean" or "embedded").
        """
        ...

    def load_live(self) -> VectorIndex:
        """Returns: the live index. Raises `IndexFileError` when it is missing, damaged or
        not the one the store recorded."""
        ...

    def remove_stale(self) -> None:
        """Delete indexes that are not live (a write's leftovers, an old generation)."""
        ...

    def live_bytes(self) -> int:
        """Returns: the size of the live index in bytes (0 when there is none)."""
        ...


class EmbeddingCacheStore(Protocol):
    """Vectors keyed by (model, hash of the exact text embedded); each `save` commits on its
    own, whatever transaction the store holds open, so a killed run keeps its work."""

    def keys(self, model: str) -> set[str]: ...

    def save(self, model: str, keys: list[str], vectors: np.ndarray) -> None: ...

    def get(self, model: str, keys: Iterable[str]) -> dict[str, np.ndarray]: ...

    def fill(self, model: str, keys: list[str], dim: int) -> np.ndarray:
        """Returns: the cached vector of each key, row for row (zeros when missing)."""
        ...

    def prune(self, model: str, live_keys: set[str]) -> int:
        """Drop vectors of `model` whose key is not in `live_keys`. Returns: how many."""
        ...

    def count(self) -> int: ...

    def close(self) -> None: ...


# -- failures a backend reports -------------------------------------------------------------


class StorageError(RuntimeError):
    """A storage failure the user can act on; the message is one line saying what to do."""


class StoreBusyError(StorageError):
    """Another process holds the collection's write lock (an ingest or reindex runs)."""


class StorageUnavailableError(StorageError):
    """The database can't be reached or used (down, wrong address or password, missing
    extension, another schema version); what is committed is untouched."""
