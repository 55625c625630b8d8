"""Skipping files that did not change since they were last read whole.

A write that reads a file or folder remembers, per file, its size, modification time and
the SHA-256 of its bytes (`FileStates` in the store, written in the write's transaction).
The next read of that root skips a file whose size and mtime are unchanged, or, when they
differ, whose bytes hash the same; its stored articles count as unchanged. A file is
remembered only when it was read without problems and was not being modified meanwhile
(same size and mtime before and after, mtime at least `SETTLE_SECONDS` old: a write within
the same clock tick could otherwise go unnoticed), so a skipped file never hides a change.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections import defaultdict
from pathlib import Path

from index.sources.ingest import FileResult, origin_of
from index.storage.interfaces import IndexerStore
from index.storage.records import FileState

# A file modified this recently is read, not remembered (mtime granularity, edits in flight).
SETTLE_SECONDS = 2.0


def content_hash(path: Path) -> str:
    """SHA-256 of the file's bytes, hex."""
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


class UnchangedFiles:
    """The remembered files under one root, for one write: which to skip, what to remember.

    Args: `store`, the store inside the write's transaction; `root`, the resolved file or
    folder being read.
    """

    def __init__(self, store: IndexerStore, root: str) -> None:
        self.store = store
        self.states = store.file_states(root)
        self.origins_by_file: dict[str, list[str]] = defaultdict(list)
        for origin in store.origins_under(root):
            # A JSON file's articles are "<path>#<n>"; any other file's is its path.
            name = origin if origin in self.states else origin.rpartition("#")[0]
            self.origins_by_file[name].append(origin)
        self.seen: set[str] = set()

    def stored_origins_if_unchanged(self, path: Path) -> list[str] | None:
        """The origins of the articles stored from `path` when the file is unchanged since
        it was remembered (it is then not read), else None."""
        name = origin_of(path)
        self.seen.add(name)
        state, origins = self.states.get(name), self.origins_by_file.get(name)
        if state is None or not origins:
            return None
        try:
            info = path.stat()
            if info.st_size != state.size:
                return None
            if info.st_mtime_ns == state.mtime_ns:
                return origins
            if content_hash(path) != state.content_hash:
                return None
        except OSError:
            return None
        if _settled(info.st_mtime_ns):  # touched only: remember the new mtime
            self.store.remember_file(FileState(name, info.st_size, info.st_mtime_ns,
                                               state.content_hash))
        return origins

    def before_reading(self, path: Path) -> os.stat_result | None:
        """The file's stat before it is read (None when it can't be taken)."""
        try:
            return path.stat()
        except OSError:
            return None

    def after_reading(self, path: Path, before: os.stat_result | None,
                      result: FileResult) -> None:
        """Remember a file read whole and left alone while it was read; forget one that
        had problems (it is read again next time, and its problems reported again)."""
        name = str(result.path)
        settled = (before is not None and not result.problems and result.drafts
                   and _settled(before.st_mtime_ns))
        if settled:
            try:
                digest = content_hash(path)
                after = path.stat()
            except OSError:
                settled = False
            else:
                assert before is not None
                settled = (after.st_size, after.st_mtime_ns) == (before.st_size,
                                                                   before.st_mtime_ns)
        if settled:
            assert before is not None
            self.store.remember_file(FileState(name, before.st_size, before.st_mtime_ns,
                                               digest))
        elif name in self.states:
            self.store.forget_files([name])

    def forget_gone(self) -> None:
        """Forget remembered files under the root that were not met (deleted, moved)."""
        gone = [name for name in self.states if name not in self.seen]
        if gone:
            self.store.forget_files(gone)


def _settled(mtime_ns: int) -> bool:
    return time.time_ns() - mtime_ns >= SETTLE_SECONDS * 1e9
