"""The FAISS index: kind chosen by size, passage ids kept, exact results while small, recall
above target when approximate, and a file that reads back the same."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np
import pytest

from bench.synthetic import Clustered
from index.storage import faiss_index as vectors

DIM = 384


def clustered(count: int, seed: int = 0, queries: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Embedding-like unit vectors (topics, stories, a shared direction and a decaying
    spectrum, calibrated on real MiniLM vectors: see bench/synthetic.py), and `queries`
    more points of the same kind that are not in the collection."""
    model = Clustered(count, DIM, seed=seed)
    return np.concatenate(list(model.chunks())), model.queries(queries)


def exact_top(data: np.ndarray, ids: np.ndarray, query: np.ndarray, k: int) -> list[int]:
    return [int(ids[i]) for i in np.argsort(-(data @ query), kind="stable")[:k]]


def test_index_kind_follows_collection_size() -> None:
    assert vectors.index_kind(0) == "flat"
    assert vectors.index_kind(vectors.EXACT_MAX) == "flat"
    assert vectors.index_kind(vectors.EXACT_MAX + 1) == "ivf-sq8"
    assert vectors.index_kind(500, exact_max=499) == "ivf-sq8"
    # Cells grow as ~2·√n; a search scans ~20 % of them, within [16, 512].
    assert vectors.ivf_cells(1_000_000) == 2000
    assert vectors.ivf_probes(vectors.ivf_cells(1_000_000)) == 400
    assert vectors.ivf_probes(20) == 16 and vectors.ivf_probes(10_000) == 512


def test_small_index_is_exact_and_keeps_passage_ids() -> None:
    data, queries = clustered(2000, seed=1, queries=20)
    ids = np.arange(2000, dtype=np.int64) * 7 + 11  # sparse ids, as after deletions
    index = vectors.build_index(ids, data, DIM)
    assert vectors.describe(index) == {"kind": "flat", "vectors": 2000}
    assert sorted(faiss.vector_to_array(index.id_map).tolist()) == ids.tolist()
    np.testing.assert_array_equal(index.reconstruct(int(ids[5])), data[5])
    for query in queries:
        found = vectors.search(index, query, 10)
        assert [pid for pid, _ in found] == exact_top(data, ids, query, 10)
        np.testing.assert_allclose([s for _, s in found],
                                   np.sort(data @ query)[::-1][:10], atol=1e-5)


def test_empty_and_tiny_indexes() -> None:
    empty = vectors.build_index(np.zeros(0, np.int64), np.zeros((0, DIM), np.float32), DIM)
    assert empty.ntotal == 0 and vectors.search(empty, np.ones(DIM, np.float32), 5) == []
    data, queries = clustered(2, queries=1)
    tiny = vectors.build_index(np.array([4, 9]), data, DIM)
    assert {pid for pid, _ in vectors.search(tiny, queries[0], 10)} == {4, 9}


def test_large_index_is_approximate_with_recall_above_target() -> None:
    data, queries = clustered(20_000, queries=200)
    ids = np.arange(20_000, dtype=np.int64) * 3 + 1
    index = vectors.build_index(ids, data, DIM, exact_max=5_000)
    info = vectors.describe(index)
    assert info["kind"] == "ivf-sq8" and info["vectors"] == 20_000
    assert info["cells"] == vectors.ivf_cells(20_000)
    assert info["probes"] == vectors.ivf_probes(vectors.ivf_cells(20_000))
    recall = np.mean([
        len({pid for pid, _ in vectors.search(index, q, 10)} & set(exact_top(data, ids, q, 10)))
        / 10 for q in queries])
    assert recall >= 0.95
    # Ids are passage ids; reconstruct decodes the 8-bit code (what retrieval uses for the
    # cosine of a passage found only lexically) and fails for an unknown id.
    assert sorted(faiss.vector_to_array(index.id_map).tolist()) == ids.tolist()
    assert np.abs(index.reconstruct(int(ids[123])) - data[123]).max() < 5e-3
    with pytest.raises(RuntimeError):
        index.reconstruct(2)


@pytest.mark.parametrize("exact_max", [vectors.EXACT_MAX, 1_000])
def test_written_index_reads_back_the_same(tmp_path: Path, exact_max: int) -> None:
    data, queries = clustered(6_000, seed=4, queries=10)
    ids = np.arange(6_000, dtype=np.int64) + 100
    index = vectors.build_index(ids, data, DIM, exact_max=exact_max)
    path = vectors.index_path(tmp_path, 3)
    vectors.write_index_atomically(index, path)
    assert path.name == "vectors-3.faiss" and not list(tmp_path.glob("*.tmp"))
    loaded = vectors.read_index(path)
    assert vectors.describe(loaded) == vectors.describe(index)
    for query in queries:
        assert vectors.search(loaded, query, 20) == vectors.search(index, query, 20)
    np.testing.assert_array_equal(loaded.reconstruct(150), index.reconstruct(150))


def test_unreadable_or_missing_index_file(tmp_path: Path) -> None:
    with pytest.raises(vectors.IndexFileError, match="missing"):
        vectors.read_index(tmp_path / "vectors-1.faiss")
    broken = tmp_path / "vectors-2.faiss"
    broken.write_bytes(b"not an index")
    with pytest.raises(vectors.IndexFileError, match="unreadable"):
        vectors.read_index(broken)
