"""Which storage backend holds a collection, built from `Settings`: the embedded one (SQLite
and FAISS files in the data directory, the default) or PostgreSQL with pgvector when
`database_url` is set. `Library` asks this module for a `Backend` and never names one. A
PostgreSQL backend also hands out its `PostgresDatabase` (the pool), for other tables that
live beside the collection (the bot's: `bot/postgres_state.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from index.settings import Settings
from index.storage.interfaces import (
    ArticleCatalog,
    ArticleStore,
    EmbeddingCacheStore,
    IndexerStore,
    IndexGenerations,
    StorageUnavailableError,
)

if TYPE_CHECKING:  # psycopg is imported only with a database URL
    from index.storage.postgres_db import PostgresDatabase


class CollectionStore(ArticleStore, ArticleCatalog, IndexerStore, Protocol):
    """A backend's store: every store-side interface, and `close`."""

    def close(self) -> None: ...


@dataclass(frozen=True)
class Backend:
    """A collection's storage: the store, the embedding cache, the vector index generations,
    where it lives (for `stats`; no password) and, on PostgreSQL, the database itself."""

    store: CollectionStore
    cache: EmbeddingCacheStore
    generations: IndexGenerations
    location: str
    database: PostgresDatabase | None = None

    def close(self) -> None:
        self.cache.close()
        self.store.close()


def open_backend(settings: Settings) -> Backend:
    """The backend `settings` name: PostgreSQL when `database_url` is set, else files in
    `data_dir`. Raises `StorageUnavailableError` when the database can't be used."""
    if settings.database_url:
        return _postgres(settings.database_url)
    return _embedded(settings)


def _embedded(settings: Settings) -> Backend:
    from index.storage.embedding_cache import EmbeddingCache
    from index.storage.generations import FaissGenerations
    from index.storage.sqlite_store import SQLiteStore

    store = SQLiteStore(settings.data_dir)
    return Backend(store=store, cache=EmbeddingCache(settings.data_dir),
                   generations=FaissGenerations(settings.data_dir, store),
                   location=str(settings.data_dir))


def _postgres(url: str) -> Backend:
    try:
        from index.storage.postgres_store import PostgresStore
        from index.storage.postgres_vectors import PgVectorGenerations, PostgresEmbeddingCache
    except ImportError as error:
        raise StorageUnavailableError(
            f"the PostgreSQL backend needs psycopg and pgvector ({error.name} is missing): "
            "pip install -e '.[cluster]'") from None
    store = PostgresStore.open(url)
    return Backend(store=store, cache=PostgresEmbeddingCache(store.database),
                   generations=PgVectorGenerations(store),
                   location=store.database.shown_url, database=store.database)
