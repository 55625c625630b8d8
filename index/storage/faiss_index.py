"""The FAISS vector index: built from cached vectors, keyed by passage id, swapped in whole.

A new index is written beside the store under a new generation number (`vectors-N.faiss`):
written to a temporary file, fsynced, renamed into place, and only then recorded as live in
the store. A reader therefore always loads a complete index; a crash leaves the previous
generation live. Old generations are deleted after the switch.

The kind of index is chosen by the collection's size (`index_kind`):

* up to `EXACT_MAX` vectors: `IndexFlatIP`, exact search. Scanning n × 384 floats costs
  about 60 ns per vector per question here (50k vectors: p95 ~3 ms, 100k: ~6 ms); building
  is free.
* above: `IndexIVFScalarQuantizer` — `nlist ≈ 2·√n` k-means cells, vectors stored as 8-bit
  codes (384 bytes instead of 1,536: 1M vectors take ~0.43 GB loaded, id maps included,
  instead of 1.5 GB), and a search scans the `nprobe` nearest cells: ~20 % of them, at most
  512 (1M vectors: 400 of 2,000 cells, p95 ~6 ms, recall@10 against exact search ~0.97 on
  embedding-like data; building takes ~15 s). See docs/performance.md and
  bench/bench_scale.py for the measured trade-off.

Both are wrapped in `IndexIDMap2`: ids are passage ids, `index.reconstruct(passage_id)`
returns the stored vector (for the IVF index, decoded from its 8-bit code: within ~1e-3 of
the original), and `index.id_map` lists the ids. The search parameter (`nprobe`) is stored in
the file, so a reader searches as the writer decided.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import faiss
import numpy as np

INDEX_PREFIX = "vectors-"
INDEX_SUFFIX = ".faiss"

EXACT_MAX = 50_000  # collections up to this size get an exact index
IVF_PROBE_FRACTION = 0.2  # share of the cells a search scans
IVF_MIN_PROBES, IVF_MAX_PROBES = 16, 512
IVF_TRAIN_PER_CELL = 50  # k-means training sample: this many vectors per cell
IVF_TRAIN_ITERATIONS = 10


class IndexFileError(RuntimeError):
    """The live index file is missing, unreadable or does not match the store."""


def index_kind(count: int, *, exact_max: int = EXACT_MAX) -> str:
    """"flat" (exact) for a collection of `count` vectors up to `exact_max`, else "ivf-sq8"."""
    return "flat" if count <= exact_max else "ivf-sq8"


def ivf_cells(count: int) -> int:
    """k-means cells of an IVF index over `count` vectors: ~2·√n, at least 16."""
    return max(16, min(65_536, round(2 * math.sqrt(count))))


def ivf_probes(cells: int) -> int:
    """Cells scanned per search: ~20 % of them, between 16 and 512 (never more than all)."""
    wanted = round(IVF_PROBE_FRACTION * cells)
    return min(cells, max(IVF_MIN_PROBES, min(IVF_MAX_PROBES, wanted)))


def build_index(ids: np.ndarray, vectors: np.ndarray, dim: int, *,
                exact_max: int = EXACT_MAX, seed: int = 1234) -> faiss.Index:
    """An inner-product index over `vectors` (normalised), addressed by `ids`: exact up to
    `exact_max` vectors, IVF with 8-bit scalar quantisation above (see the module doc)."""
    ids = np.ascontiguousarray(ids, dtype=np.int64)
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if index_kind(len(ids), exact_max=exact_max) == "flat":
        index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        if len(ids):
            index.add_with_ids(vectors, ids)
        return index
    cells = ivf_cells(len(ids))
    quantizer = faiss.IndexFlatIP(dim)
    ivf = faiss.IndexIVFScalarQuantizer(quantizer, dim, cells, faiss.ScalarQuantizer.QT_8bit,
                                        faiss.METRIC_INNER_PRODUCT)
    ivf.cp.niter = IVF_TRAIN_ITERATIONS
    ivf.cp.seed = seed
    ivf.cp.max_points_per_centroid = IVF_TRAIN_PER_CELL
    sample_size = min(len(ids), cells * IVF_TRAIN_PER_CELL)
    sample = vectors[np.sort(np.random.default_rng(seed).choice(len(ids), sample_size,
                                                                replace=False))]
    ivf.train(sample)
    ivf.nprobe = ivf_probes(cells)
    ivf.make_direct_map()  # reconstruct() by position, which IndexIDMap2 maps from ids
    index = faiss.IndexIDMap2(ivf)  # (the Python wrappers keep ivf and quantizer alive)
    index.add_with_ids(vectors, ids)
    return index


def describe(index: faiss.Index) -> dict[str, object]:
    """The kind, size and search setting of an index (for stats and benchmarks)."""
    inner = faiss.downcast_index(index.index) if isinstance(index, faiss.IndexIDMap2) \
        else index
    if isinstance(inner, faiss.IndexIVF):
        return {"kind": "ivf-sq8", "vectors": int(index.ntotal), "cells": int(inner.nlist),
                "probes": int(inner.nprobe)}
    return {"kind": "flat", "vectors": int(index.ntotal)}


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
    """(passage id, cosine similarity) of the `k` nearest passages.

    One question is searched on the calling thread alone: FAISS splits its work by query,
    so a second OpenMP thread has nothing to do, yet waking it and its spinning afterwards
    took CPU from the rest of the question (measured: p50 17.5 → 11.6 ms per question on
    two cores, docs/performance.md)."""
    if index.ntotal == 0:
        return []
    with _one_openmp_thread():
        scores, ids = index.search(query.reshape(1, -1).astype(np.float32),
                                   min(k, index.ntotal))
    return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]


class FaissVectorIndex:
    """A loaded FAISS index as the question path sees it (`index.storage.VectorIndex`)."""

    def __init__(self, index: faiss.Index) -> None:
        self.raw = index

    def __len__(self) -> int:
        return int(self.raw.ntotal)

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """(passage id, cosine similarity) of the `k` nearest passages, nearest first."""
        return search(self.raw, query, k)

    def vector(self, passage_id: int) -> np.ndarray | None:
        """The stored vector of a passage, or None when the index has none for it."""
        try:
            return self.raw.reconstruct(passage_id)
        except RuntimeError:
            return None

    def ids(self) -> np.ndarray:
        """The passage id of every vector (int64), in the order they were added."""
        return faiss.vector_to_array(self.raw.id_map)


@contextmanager
def _one_openmp_thread() -> Iterator[None]:
    """FAISS on one OpenMP thread for the calling thread, restored afterwards."""
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)
