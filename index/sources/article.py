"""The article as it arrives from a source, before it is stored: `ArticleDraft`.

Every reader (text, HTML, JSON, a fetched URL, a feed item) produces drafts; the store
turns drafts into articles with ids, passages and hashes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field


@dataclass(slots=True)
class ArticleDraft:
    """One article's cleaned text and metadata, ready to be stored.

    `origin` is the article's identity: a resolved file path (with `#n` for the n-th
    record of a JSON/JSONL file) or the canonical URL of a fetched page.
    `published_at` is an ISO-8601 UTC timestamp (`2005-02-14T00:00:00+00:00`) or None.
    """

    origin: str
    title: str
    body: str
    url: str | None = None
    outlet: str | None = None
    author: str | None = None
    published_at: str | None = None
    language: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def content_hash(self) -> str:
        """A hash of everything that, when changed, makes the stored article stale."""
        digest = hashlib.sha256()
        for part in (
            self.title,
            self.body,
            self.url,
            self.outlet,
            self.author,
            self.published_at,
            self.language,
        ):
            digest.update((part or "").encode("utf-8"))
            digest.update(b"\x00")
        return digest.hexdigest()
