"""The storage contract (tests/storage_contract.py) on the embedded backend: `SQLiteStore`
(sqlite-utils, FTS5) with FAISS index files (`FaissGenerations`), on real files."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.storage.generations import FaissGenerations
from index.storage.sqlite_store import SQLiteStore
from tests.storage_contract import ContractStore, StorageBackend, StorageContract


def reopen_before_vocabulary(folder: Path, store: ContractStore) -> ContractStore:
    """The store's file as schema 5 left it (no vocabulary), opened again: migrated."""
    assert isinstance(store, SQLiteStore)
    with store.transaction():
        store.db.execute("DROP TABLE vocabulary")
        store.db.execute("UPDATE meta SET value='5' WHERE key='schema_version'")
    store.close()
    return SQLiteStore(folder)


SQLITE_FAISS = StorageBackend(name="sqlite+faiss", open_store=SQLiteStore,
                              open_generations=FaissGenerations,
                              reopen_before_vocabulary=reopen_before_vocabulary)


class TestSQLiteFaissStorage(StorageContract):
    @pytest.fixture
    def backend(self) -> StorageBackend:
        return SQLITE_FAISS
