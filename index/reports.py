"""What a write reports: `Progress` while it runs, an `IngestReport` when it is done.

Plain records shared by the indexer (which fills them), the CLI and the bot (which show
them); nothing here reads or writes anything.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(slots=True)
class Progress:
    """Where a long operation is: `stage` is "reading", "embedding" or "indexing"."""

    stage: str
    done: int
    total: int
    articles_seen: int = 0

    @property
    def percent(self) -> float:
        return 100.0 * self.done / self.total if self.total else 100.0


ProgressCallback = Callable[[Progress], None]


@dataclass(slots=True)
class IngestReport:
    """What an ingest, reindex, refresh or removal did."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    unchanged_files: int = 0  # files skipped: unchanged since they were last read
    skipped: list[tuple[str, str]] = field(default_factory=list)
    # files of an ingested folder that are not articles, by kind (".pdf", "documentation")
    not_read: Counter[str] = field(default_factory=Counter)
    embedded: int = 0  # passages embedded (not found in the cache)
    embedded_sentences: int = 0  # sentences embedded for answer selection
    readings: int = 0  # articles read for the answer stages (`index.reading`), not cached
    vectors: int = 0
    seconds: float = 0.0

    @property
    def changed(self) -> int:
        return self.added + self.updated + self.removed

    @property
    def articles_seen(self) -> int:
        """Articles read so far, changed or not (for progress reports)."""
        return self.added + self.updated + self.unchanged

    def merge(self, other: IngestReport) -> None:
        """Add `other`'s counts to this report (`vectors`: the later index's size)."""
        for name in ("added", "updated", "unchanged", "removed", "unchanged_files", "embedded",
                     "embedded_sentences", "readings", "seconds"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.skipped.extend(other.skipped)
        self.not_read.update(other.not_read)
        self.vectors = other.vectors or self.vectors

    def count(self, outcome: str) -> None:
        """Count one `upsert_article` outcome: "added", "updated" or "unchanged"."""
        setattr(self, outcome, getattr(self, outcome) + 1)

    def summary(self) -> str:
        line = (f"added {self.added}, updated {self.updated}, unchanged {self.unchanged}, "
                f"removed {self.removed}, skipped {len(self.skipped)}")
        if self.unchanged_files:
            line += f"; {self.unchanged_files} unchanged files not read again"
        not_read = f"; not articles: {self.not_read_summary()}" if self.not_read else ""
        return (f"{line}{not_read}; embedded {self.embedded} passages and "
                f"{self.embedded_sentences} sentences; {self.seconds:.1f} s")

    def not_read_summary(self) -> str:
        """"3 .pdf, 1 .png": the files left out of a folder, most common kind first."""
        ranked = sorted(self.not_read.items(), key=lambda item: (-item[1], item[0]))
        return ", ".join(f"{count} {kind}" for kind, count in ranked)
