"""Generations of the FAISS vector index: which one is live, writing the next one, loading
the live one checked, and removing the rest (`IndexGenerations` for FAISS files).

Each index is a file beside the store, `vectors-N.faiss` for generation N, written
atomically (see `faiss_index.write_index_atomically`). It becomes live when the store
records it — generation, file name, vector count, checksum, model — inside the writer's
transaction, so a reader that sees the new articles sees the new index, and a crash before
the commit leaves the previous generation live. A loaded index is checked against that
record: a missing, damaged or mismatched file is refused, never served.
"""

from __future__ import annotations

import zlib
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from index.storage import faiss_index
from index.storage.faiss_index import FaissVectorIndex, IndexFileError
from index.storage.interfaces import IndexState
from index.storage.records import IndexRecord, WrittenIndex

REBUILD_HINT = "rebuild it from the store with `citebot reindex --full`"


def file_checksum(path: Path) -> str:
    """CRC-32 of a file, to tell a damaged index file from the one that was written."""
    checksum = 0
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            checksum = zlib.crc32(block, checksum)
    return f"{checksum:08x}"


def _utc_now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


class FaissGenerations:
    """FAISS index files under `data_dir`, made live through the store's `IndexState`."""

    def __init__(self, data_dir: Path, state: IndexState) -> None:
        self.data_dir = data_dir
        self.state = state

    def live_generation(self) -> str | None:
        """The live generation number (as recorded), None before the first index."""
        return self.state.get_meta("index_generation")

    def record(self) -> IndexRecord:
        """What the store records of the live index."""
        get = self.state.get_meta
        dim = get("index_dim")
        return IndexRecord(
            generation=int(get("index_generation", "0") or 0), model=get("index_model"),
            dim=int(dim) if dim else None, vectors=int(get("index_vectors", "0") or 0),
            passage_vectors=get("index_passage_vectors"), last_reindex=get("last_reindex"),
        )

    def write(self, ids: np.ndarray, vectors: np.ndarray, dim: int) -> WrittenIndex:
        """Build the next generation's index and write it to its file, not yet live."""
        generation = int(self.state.get_meta("index_generation", "0") or 0) + 1
        path = faiss_index.index_path(self.data_dir, generation)
        faiss_index.write_index_atomically(faiss_index.build_index(ids, vectors, dim), path)
        return WrittenIndex(generation=generation, name=path.name, vectors=len(ids), dim=dim,
                            checksum=file_checksum(path))

    def make_live(self, written: WrittenIndex, *, model: str, passage_vectors: str) -> None:
        """Record `written` as live (committed with the store's open transaction)."""
        self.state.set_meta({
            "index_generation": str(written.generation), "index_file": written.name,
            "index_model": model, "index_dim": str(written.dim),
            "index_vectors": str(written.vectors),
            "index_passage_vectors": passage_vectors, "index_checksum": written.checksum,
            "last_reindex": _utc_now(),
        })

    def load_live(self) -> FaissVectorIndex:
        """The live index, refusing one that is missing, damaged or not the one the store
        recorded (`IndexFileError`, with how to rebuild it)."""
        path = self.data_dir / str(self.state.get_meta("index_file"))
        if not path.exists():
            raise IndexFileError(f"the vector index {path.name} is missing: {REBUILD_HINT}")
        recorded = self.state.get_meta("index_checksum")
        if recorded and file_checksum(path) != recorded:
            raise IndexFileError(
                f"the vector index {path.name} is damaged (checksum mismatch): {REBUILD_HINT}")
        try:
            index = faiss_index.read_index(path)
        except IndexFileError as error:
            raise IndexFileError(f"{error}: {REBUILD_HINT}") from error
        if index.ntotal != int(self.state.get_meta("index_vectors", "0") or 0):
            raise IndexFileError(
                f"the vector index {path.name} does not match the store: {REBUILD_HINT}")
        return FaissVectorIndex(index)

    def remove_stale(self) -> None:
        """Delete index files other than the live one (old generations, a crashed write's)."""
        live = self.state.get_meta("index_file")
        if live:
            faiss_index.remove_other_generations(self.data_dir, self.data_dir / live)

    def live_bytes(self) -> int:
        """The live index file's size in bytes (0 when there is none)."""
        name = self.state.get_meta("index_file")
        path = self.data_dir / name if name else None
        return path.stat().st_size if path is not None and path.exists() else 0
