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

    return StorageBackend(name="postgresql+pgvector", open_store=open_store,
                          open_generations=open_generations)


class TestPostgresStorage(StorageContract):
    @pytest.fixture
    def backend(self, postgres_server: PostgresServer) -> StorageBackend:
        return postgres_backend(postgres_server)
