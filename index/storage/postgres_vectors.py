"""Passage vectors and the embedding cache in PostgreSQL: pgvector tables with an HNSW
index (`VectorIndex`, `IndexGenerations`) and `PostgresEmbeddingCache`.

Each index generation N is a table `passage_vectors_N` (passage id, `vector(dim)`) with an
HNSW index for cosine distance, created inside the writer's transaction: PostgreSQL's DDL
is transactional, so the table and the `citebot_meta` record that makes it live commit
together, and a killed run leaves neither. A search sets `hnsw.ef_search` to at least
twice the number of neighbours asked for (HNSW returns at most ef_search rows). The
previous generation is kept when a new one goes live, so a question that loaded it just
before can finish; older ones are dropped.

The embedding cache is a table of float32 vectors keyed by (model, key), written on
connections of its own so each slice commits at once, whatever transaction the indexer
holds open — a killed run keeps its embedding work, as with the embedded backend.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime

import numpy as np

from index.storage.embedding_cache import ARTICLE_MATRICES, READINGS, rows_of_keys
from index.storage.faiss_index import IndexFileError
from index.storage.postgres_db import PostgresDatabase
from index.storage.postgres_store import PostgresStore
from index.storage.records import IndexRecord, WrittenIndex

TABLE_PREFIX = "passage_vectors_"
_TABLE_NAME = re.compile(r"passage_vectors_(\d+)")
REBUILD_HINT = "rebuild it with `citebot reindex --full`"


class IndexTableError(IndexFileError):
    """The live vector table is missing or does not match the store (handled like a
    missing index file: the bot rebuilds it at start-up)."""


def table_name(generation: int) -> str:
    return f"{TABLE_PREFIX}{int(generation)}"


class PgVectorIndex:
    """One generation's passage vectors, searched through its HNSW index."""

    def __init__(self, database: PostgresDatabase, table: str, count: int) -> None:
        assert _TABLE_NAME.fullmatch(table), table
        self.database = database
        self.table = table
        self.count = count

    def __len__(self) -> int:
        return self.count

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        if k <= 0 or self.count == 0:
            return []
        vector = np.asarray(query, dtype=np.float32)
        with self.database.connection() as connection, connection.transaction():
            connection.execute(f"SET LOCAL hnsw.ef_search = {min(1000, max(2 * k, 100))}")
            rows = connection.execute(
                f"SELECT passage_id, 1 - (embedding <=> %s) FROM {self.table} "
                "ORDER BY embedding <=> %s LIMIT %s", [vector, vector, k]).fetchall()
        return [(int(row[0]), float(row[1])) for row in rows]

    def vector(self, passage_id: int) -> np.ndarray | None:
        with self.database.connection() as connection:
            row = connection.execute(f"SELECT embedding FROM {self.table} WHERE passage_id = %s",
                                     [int(passage_id)]).fetchone()
        if row is None:
            return None
        value = row[0]
        found = value.to_numpy() if hasattr(value, "to_numpy") else value
        return np.asarray(found, dtype=np.float32)

    def ids(self) -> np.ndarray:
        with self.database.connection() as connection:
            rows = connection.execute(f"SELECT passage_id FROM {self.table}").fetchall()
        return np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))


def hnsw_build_memory_mb(vectors: int, dim: int) -> int:
    """The maintenance_work_mem for building the HNSW index of `vectors` vectors: enough
    for the graph to stay in memory (pgvector builds far slower once it spills, and says
    so in the server log), about 4 bytes a dimension plus ~0.5 KB of links per vector,
    between 256 MB and 4 GB."""
    needed = vectors * (4 * dim + 512) * 1.2 / 2**20
    return int(min(4096, max(256, needed)))


class PgVectorGenerations:
    """Generations of passage-vector tables, made live through the store's meta values."""

    def __init__(self, store: PostgresStore) -> None:
        self.store = store
        self.database = store.database

    def live_generation(self) -> str | None:
        return self.store.get_meta("index_generation")

    def record(self) -> IndexRecord:
        get = self.store.get_meta
        dim = get("index_dim")
        return IndexRecord(
            generation=int(get("index_generation", "0") or 0), model=get("index_model"),
            dim=int(dim) if dim else None, vectors=int(get("index_vectors", "0") or 0),
            passage_vectors=get("index_passage_vectors"), last_reindex=get("last_reindex"))

    def write(self, ids: np.ndarray, vectors: np.ndarray, dim: int) -> WrittenIndex:
        """Create the next generation's table with its HNSW index, in the open transaction
        (or one of its own)."""
        generation = int(self.store.get_meta("index_generation", "0") or 0) + 1
        table = table_name(generation)
        with self.store.transaction(), self.database.connection() as connection:
            connection.execute(f"DROP TABLE IF EXISTS {table}")
            connection.execute(f"CREATE TABLE {table} (passage_id BIGINT PRIMARY KEY, "
                               f"embedding vector({int(dim)}) NOT NULL)")
            with connection.cursor().copy(
                    f"COPY {table} (passage_id, embedding) FROM STDIN WITH (FORMAT BINARY)"
            ) as copy:
                copy.set_types(["int8", "vector"])
                for passage_id, vector in zip(ids.tolist(), vectors, strict=True):
                    copy.write_row((passage_id, np.asarray(vector, dtype=np.float32)))
            memory = hnsw_build_memory_mb(len(ids), dim)
            connection.execute(f"SET LOCAL maintenance_work_mem = '{memory}MB'")
            connection.execute(f"CREATE INDEX {table}_hnsw ON {table} "
                               "USING hnsw (embedding vector_cosine_ops)")
        return WrittenIndex(generation=generation, name=table, vectors=len(ids), dim=dim,
                            checksum="")

    def make_live(self, written: WrittenIndex, *, model: str, passage_vectors: str) -> None:
        self.store.set_meta({
            "index_generation": str(written.generation), "index_file": written.name,
            "index_model": model, "index_dim": str(written.dim),
            "index_vectors": str(written.vectors), "index_passage_vectors": passage_vectors,
            "last_reindex": datetime.now(UTC).replace(microsecond=0).isoformat(),
        })

    def load_live(self) -> PgVectorIndex:
        table = self.store.get_meta("index_file") or ""
        if not _TABLE_NAME.fullmatch(table):
            raise IndexTableError(f"no live vector table is recorded: {REBUILD_HINT}")
        with self.database.connection() as connection:
            exists = connection.execute("SELECT to_regclass(%s)", [table]).fetchone()
            if not exists or exists[0] is None:
                raise IndexTableError(f"the vector table {table} is missing: {REBUILD_HINT}")
            count = connection.execute(f"SELECT count(*) FROM {table}").fetchone()
        recorded = int(self.store.get_meta("index_vectors", "0") or 0)
        if not count or int(count[0]) != recorded:
            raise IndexTableError(
                f"the vector table {table} does not match the store: {REBUILD_HINT}")
        return PgVectorIndex(self.database, table, recorded)

    def _tables(self) -> list[str]:
        with self.database.connection() as connection:
            rows = connection.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                "AND tablename LIKE 'passage\\_vectors\\_%%'").fetchall()
        return [row[0] for row in rows if _TABLE_NAME.fullmatch(row[0])]

    def remove_stale(self) -> None:
        """Drop the generations older than the live one and the one before it."""
        live = int(self.store.get_meta("index_generation", "0") or 0)
        for table in self._tables():
            match = _TABLE_NAME.fullmatch(table)
            if match and int(match.group(1)) < live - 1:
                with self.database.connection() as connection:
                    connection.execute(f"DROP TABLE IF EXISTS {table}")

    def live_bytes(self) -> int:
        table = self.store.get_meta("index_file") or ""
        if not _TABLE_NAME.fullmatch(table):
            return 0
        with self.database.connection() as connection:
            row = connection.execute("SELECT pg_total_relation_size(to_regclass(%s))",
                                     [table]).fetchone()
        return int(row[0]) if row and row[0] is not None else 0


class PostgresEmbeddingCache:
    """Cached vectors in the `embeddings` table (see the module); the same methods as
    `embedding_cache.EmbeddingCache`."""

    def __init__(self, database: PostgresDatabase) -> None:
        self.database = database

    def close(self) -> None:
        """The pool belongs to the store, which closes it."""

    def keys(self, model: str) -> set[str]:
        with self.database.free_connection() as connection:
            rows = connection.execute("SELECT key FROM embeddings WHERE model = %s",
                                      [model]).fetchall()
        return {row[0] for row in rows}

    def save(self, model: str, keys: list[str], vectors: np.ndarray) -> None:
        """Store vectors (one commit, on a connection of their own)."""
        rows = [(model, key, vectors[i].astype(np.float32).tobytes())
                for i, key in enumerate(keys)]
        with self.database.free_connection() as connection, connection.transaction():
            connection.execute("CREATE TEMP TABLE IF NOT EXISTS incoming_embeddings "
                               "(model TEXT, key TEXT, vector BYTEA) ON COMMIT DELETE ROWS")
            with connection.cursor().copy(
                    "COPY incoming_embeddings (model, key, vector) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            connection.execute(
                "INSERT INTO embeddings(model, key, vector) SELECT DISTINCT ON (model, key) "
                "model, key, vector FROM incoming_embeddings ON CONFLICT (model, key) "
                "DO UPDATE SET vector = excluded.vector")

    def save_blobs(self, namespace: str, items: list[tuple[str, bytes]]) -> None:
        """Store bytes under keys (articles' readings; one commit)."""
        with self.database.free_connection() as connection, connection.transaction():
            connection.cursor().executemany(
                "INSERT INTO embeddings(model, key, vector) VALUES (%s, %s, %s) "
                "ON CONFLICT (model, key) DO UPDATE SET vector = excluded.vector",
                [(namespace, key, blob) for key, blob in items])

    def get_blob(self, namespace: str, key: str) -> bytes | None:
        with self.database.free_connection() as connection:
            row = connection.execute(
                "SELECT vector FROM embeddings WHERE model = %s AND key = %s",
                [namespace, key]).fetchone()
        return bytes(row[0]) if row else None

    def get(self, model: str, keys: Iterable[str]) -> dict[str, np.ndarray]:
        wanted = list(dict.fromkeys(keys))
        found: dict[str, np.ndarray] = {}
        with self.database.free_connection() as connection:
            for first in range(0, len(wanted), 5000):
                for key, blob in connection.execute(
                        "SELECT key, vector FROM embeddings WHERE model = %s AND key = ANY(%s)",
                        [model, wanted[first : first + 5000]]).fetchall():
                    found[key] = np.frombuffer(blob, dtype=np.float32)
        return found

    def fill(self, model: str, keys: list[str], dim: int) -> np.ndarray:
        matrix = np.zeros((len(keys), dim), dtype=np.float32)
        rows_of = rows_of_keys(keys)
        for key, vector in self.get(model, rows_of).items():
            matrix[rows_of[key]] = vector
        return matrix

    def prune(self, model: str, live_keys: set[str]) -> int:
        stale = [key for key in self.keys(model) if key not in live_keys]
        if stale:
            with self.database.free_connection() as connection:
                connection.execute("DELETE FROM embeddings WHERE model = %s AND key = ANY(%s)",
                                   [model, stale])
        return len(stale)

    def count(self) -> int:
        with self.database.free_connection() as connection:
            row = connection.execute(
                "SELECT count(*) FROM embeddings WHERE model != %s AND model NOT LIKE %s",
                [READINGS, f"%{ARTICLE_MATRICES}"]).fetchone()
        return int(row[0]) if row else 0
