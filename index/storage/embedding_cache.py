"""The embedding cache: vectors keyed by (model, hash of the exact text embedded).

It lives in its own SQLite file (`embeddings.sqlite`) beside the store, so that its writes
commit on their own: a reindex holds the store's write transaction open until the new index
is live, while every slice of vectors it computes is saved here at once — a killed run
loses no embedding work, and the store never shows half of a run. Content-addressed entries
are never wrong, only unused; `prune` drops those no passage or sentence needs any more.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from index.storage.connections import PerThreadDatabase

_SCHEMA = """CREATE TABLE IF NOT EXISTS embeddings (
    model TEXT NOT NULL,
    key TEXT NOT NULL,
    vector BLOB NOT NULL,
    PRIMARY KEY (model, key)
) WITHOUT ROWID"""


# The namespace of articles' readings (`index.reading`): bytes, not vectors.
READINGS = "reading"
# The suffix of the namespaces that hold each article's sentence vectors as one matrix,
# beside the per-sentence entries they copy (`article_matrices`).
ARTICLE_MATRICES = "|article"


def article_matrices(sentence_namespace: str) -> str:
    """The namespace of articles' sentence matrices (all of an article's sentence vectors,
    row for row, as one float32 blob, keyed like its reading) for a sentence namespace."""
    return f"{sentence_namespace}{ARTICLE_MATRICES}"


def rows_of_keys(keys: list[str]) -> dict[str, list[int]]:
    """Each distinct key with the rows of `keys` it fills (a text may recur)."""
    rows_of: dict[str, list[int]] = {}
    for row, key in enumerate(keys):
        rows_of.setdefault(key, []).append(row)
    return rows_of


class EmbeddingCache:
    """Cached vectors; one connection per thread, WAL mode."""

    FILENAME = "embeddings.sqlite"

    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.path = data_dir / self.FILENAME
        self._connections = PerThreadDatabase(self.path)
        self.db.execute(_SCHEMA)

    @property
    def db(self) -> sqlite3.Connection:
        """This thread's connection (see `index.storage.connections`)."""
        return self._connections.connection

    def close(self) -> None:
        self._connections.close()

    def keys(self, model: str) -> set[str]:
        """Every cached key of `model`."""
        return {row[0] for row in self.db.execute(
            "SELECT key FROM embeddings WHERE model=?", [model])}

    def save(self, model: str, keys: list[str], vectors: np.ndarray) -> None:
        """Store vectors (one commit)."""
        rows = [(model, key, vectors[i].astype(np.float32).tobytes())
                for i, key in enumerate(keys)]
        connection = self.db
        connection.execute("BEGIN IMMEDIATE")
        try:
            connection.executemany(
                "INSERT OR REPLACE INTO embeddings(model, key, vector) VALUES(?, ?, ?)", rows)
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    def save_blobs(self, namespace: str, items: list[tuple[str, bytes]]) -> None:
        """Store bytes under keys (articles' readings, `index.reading`; one commit)."""
        connection = self.db
        connection.execute("BEGIN IMMEDIATE")
        try:
            connection.executemany(
                "INSERT OR REPLACE INTO embeddings(model, key, vector) VALUES(?, ?, ?)",
                [(namespace, key, blob) for key, blob in items])
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    def get_blob(self, namespace: str, key: str) -> bytes | None:
        """The bytes stored under a key by `save_blobs`, None when missing."""
        row = self.db.execute("SELECT vector FROM embeddings WHERE model=? AND key=?",
                              [namespace, key]).fetchone()
        return bytes(row[0]) if row else None

    def get(self, model: str, keys: Iterable[str]) -> dict[str, np.ndarray]:
        """The cached vectors among `keys` (missing keys are left out)."""
        wanted = list(dict.fromkeys(keys))
        found: dict[str, np.ndarray] = {}
        for first in range(0, len(wanted), 500):
            chunk = wanted[first : first + 500]
            marks = ",".join("?" * len(chunk))
            for key, blob in self.db.execute(
                f"SELECT key, vector FROM embeddings WHERE model=? AND key IN ({marks})",
                [model, *chunk],
            ):
                found[key] = np.frombuffer(blob, dtype=np.float32)
        return found

    def fill(self, model: str, keys: list[str], dim: int) -> np.ndarray:
        """A matrix with the cached vector of each key, row for row (zeros if missing)."""
        matrix = np.zeros((len(keys), dim), dtype=np.float32)
        rows_of = rows_of_keys(keys)
        if len(rows_of) > 50_000:  # large collections: one pass over the model's vectors
            for key, blob in self.db.execute(
                    "SELECT key, vector FROM embeddings WHERE model=?", [model]):
                for row in rows_of.get(key, ()):
                    matrix[row] = np.frombuffer(blob, dtype=np.float32)
            return matrix
        for key, vector in self.get(model, rows_of).items():
            matrix[rows_of[key]] = vector
        return matrix

    def prune(self, model: str, live_keys: set[str]) -> int:
        """Drop vectors of `model` whose key is not in `live_keys`."""
        stale = [key for key in self.keys(model) if key not in live_keys]
        if stale:
            connection = self.db
            connection.execute("BEGIN IMMEDIATE")
            connection.executemany("DELETE FROM embeddings WHERE model=? AND key=?",
                                   [(model, key) for key in stale])
            connection.execute("COMMIT")
        return len(stale)

    def count(self) -> int:
        """How many vectors are cached (articles' readings and matrices aside)."""
        return int(self.db.execute(
            "SELECT COUNT(*) FROM embeddings WHERE model != ? AND model NOT LIKE ?",
            [READINGS, f"%{ARTICLE_MATRICES}"]).fetchone()[0])
