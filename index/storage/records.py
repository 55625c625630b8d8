"""The records storage hands out: an article, a passage, a followed feed, the state of the
vector index.

Plain frozen dataclasses, the same whichever backend stores them, so the question path and
the bot never see a database row.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class StoredArticle:
    """An article row as the rest of the package sees it."""

    id: int
    origin: str
    url: str | None
    title: str
    outlet: str | None
    author: str | None
    published_at: str | None
    body: str
    story_id: int
    ingested_at: str
    updated_at: str
    language: str | None = None


@dataclass(frozen=True, slots=True)
class StoredFeed:
    """A followed RSS/Atom feed: `etag`/`modified` are sent with the next poll."""

    url: str
    title: str | None
    etag: str | None
    modified: str | None
    added_at: str
    last_polled_at: str | None
    last_error: str | None
    items: int = 0  # items handled so far


@dataclass(frozen=True, slots=True)
class PassageRow:
    """A passage with the metadata of its article needed for search and citations."""

    id: int
    article_id: int
    story_id: int
    seq: int
    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class IndexRecord:
    """What the store records of the live vector index (empty before the first)."""

    generation: int = 0
    model: str | None = None
    dim: int | None = None
    vectors: int = 0
    passage_vectors: str | None = None  # how its vectors were made
    last_reindex: str | None = None  # when it was made live (ISO-8601 UTC)


@dataclass(frozen=True, slots=True)
class WrittenIndex:
    """A vector index written aside and not yet live: its generation, where it is (a file
    name, for FAISS), its vectors' count and dimension, and a checksum of what was written."""

    generation: int
    name: str
    vectors: int
    dim: int
    checksum: str


@dataclass(frozen=True, slots=True)
class FileState:
    """What a reindex remembers of a file it read whole (no problems): its size, its
    modification time (ns since the epoch; -1 when it was too recent to trust, so the next
    look compares the content) and the SHA-256 of its bytes. A file whose size and mtime
    are unchanged, or whose bytes hash the same, is not read again."""

    path: str
    size: int
    mtime_ns: int
    content_hash: str
