"""The storage contract (tests/storage_contract.py) on the embedded backend: `SQLiteStore`
(sqlite-utils, FTS5) with FAISS index files (`FaissGenerations`), on real files."""

from __future__ import annotations

import pytest

from index.storage.generations import FaissGenerations
from index.storage.sqlite_store import SQLiteStore
from tests.storage_contract import StorageBackend, StorageContract

SQLITE_FAISS = StorageBackend(name="sqlite+faiss", open_store=SQLiteStore,
                              open_generations=FaissGenerations)


class TestSQLiteFaissStorage(StorageContract):
    @pytest.fixture
    def backend(self) -> StorageBackend:
        return SQLITE_FAISS
