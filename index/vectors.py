"""The FAISS vector index: built from cached vectors, keyed by passage id, swapped in whole.

A new index is written beside the store under a new generation number (`vectors-N.faiss`):
written to a temporary file, fsynced, renamed into place, and only then recorded as live in
the store. A reader therefore always loads a complete index; a crash leaves the previous
generation live. Old generations are deleted after the switch.
"""

from __future__ import annotations

import os
from pathlib import Path

import faiss
import numpy as np

INDEX_PREFIX = "vectors-"
INDEX_SUFFIX = ".faiss"


class IndexFileError(RuntimeError):
    """The live index file is missing, unreadable or does not match the store."""


def build_index(ids: np.ndarray, vectors: np.ndarray, dim: int) -> faiss.Index:
    """An exact inner-product index over `vectors` (normalised), addressed by `ids`."""
    index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
    if len(ids):
        index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32),
                           np.ascontiguousarray(ids, dtype=np.int64))
    return index


def index_path(data_dir: Path, generation: int) -> Path:
    return data_dir / f"{INDEX_PREFIX}{generation}{INDEX_SUFFIX}"


def write_index_atomically(index: faiss.Index, path: Path) -> None:
    """Write `index` to `path` so that `path` is either absent or complete."""
    temporary = path.with_name(path.name + ".tmp")
    faiss.write_index(index, str(temporary))
    with open(temporary, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def read_index(path: Path) -> faiss.Index:
    if not path.exists():
        raise IndexFileError(f"vector index {path} is missing")
    try:
        return faiss.read_index(str(path))
    except RuntimeError as error:
        raise IndexFileError(f"vector index {path} is unreadable: {error}") from error


def remove_other_generations(data_dir: Path, live: Path) -> None:
    """Delete index files (and leftover temporaries) other than the live one."""
    for path in data_dir.glob(f"{INDEX_PREFIX}*{INDEX_SUFFIX}*"):
        if path != live:
            path.unlink(missing_ok=True)


def search(index: faiss.Index, query: np.ndarray, k: int) -> list[tuple[int, float]]:
    """(passage id, cosine similarity) of the `k` nearest passages."""
    if index.ntotal == 0:
        return []
    scores, ids = index.search(query.reshape(1, -1).astype(np.float32), min(k, index.ntotal))
    return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]
