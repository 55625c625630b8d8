"""The storage contract (tests/storage_contract.py) on the PostgreSQL backend:
`PostgresStore` (tsvector + GIN, BM25 in SQL) with pgvector HNSW tables
(`PgVectorGenerations`), on a real PostgreSQL server with pgvector, one fresh database per
test (tests/postgres_server.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.postgres_server import PostgresServer
from tests.storage_contract import ContractStore, StorageBackend, StorageContract


def postgres_backend(server: PostgresServer) -> StorageBackend:
    from index.storage.postgres_store import PostgresStore
    from index.storage.postgres_vectors import PgVectorGenerations

    def open_store(_folder: Path) -> ContractStore:
        return PostgresStore.open(server.fresh_database())

    def open_generations(_folder: Path, store: ContractStore) -> PgVectorGenerations:
        assert isinstance(store, PostgresStore)
        return PgVectorGenerations(store)

    def reopen_before_vocabulary(_folder: Path, store: ContractStore) -> ContractStore:
        """The database as schema 2 left it (no vocabulary), opened again: migrated."""
        assert isinstance(store, PostgresStore)
        with store.transaction():
            store.database.execute("DROP TABLE vocabulary")
            store.database.execute(
                "UPDATE citebot_meta SET value = '2' WHERE key = 'schema_version'")
        return PostgresStore.open(store.database.url)

    return StorageBackend(name="postgresql+pgvector", open_store=open_store,
                          open_generations=open_generations,
                          reopen_before_vocabulary=reopen_before_vocabulary)


class TestPostgresStorage(StorageContract):
    @pytest.fixture
    def backend(self, postgres_server: PostgresServer) -> StorageBackend:
        return postgres_backend(postgres_server)
