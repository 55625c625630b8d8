"""An article's reading: what the answer stages read of an article whatever the question —
its sentence spans, each sentence's stemmed words, the headline's and the whole article's,
and the whole article as a phrase of stemmed words (where a question's names are looked for) —
worked out once at ingest and kept in the embedding cache beside the sentence vectors.

A reading is content-addressed: its key is the hash of the headline, the body and a
fingerprint of the code that reads (`chunk`, `text` and this module), so a reading made by
other code is never used — it is a miss, read afresh, and `reindex` prunes it. Encoded as
compact JSON (`encode` / `decode`), under the cache namespace `READINGS`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from index.sources.chunk import split_sentences
from index.storage.embedding_cache import READINGS
from index.text import phrase_tokens, stemmed_words

__all__ = ["READINGS", "Reading", "reading_key"]

Span = tuple[int, int]
_SOURCES = ("sources/chunk.py", "text.py", "reading.py")


@cache
def _code_fingerprint() -> str:
    """A hash of the sources that make a reading."""
    digest = hashlib.sha256()
    for name in _SOURCES:
        digest.update((Path(__file__).parent / name).read_bytes())
    return digest.hexdigest()[:16]


def reading_key(title: str, body: str) -> str:
    """The cache key of an article's reading: the hash of its headline and body and of the
    code that reads them."""
    text = f"{_code_fingerprint()}\x00{title}\x00{body}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Reading:
    """An article's sentences and words, whatever the question."""

    spans: list[Span]  # every sentence of the body, in order
    words: list[frozenset[str]]  # each sentence's stemmed words (`stemmed_words`)
    title_words: frozenset[str]  # the headline's
    article_words: frozenset[str]  # the headline's and the body's
    phrase: str  # headline and body as `phrase_tokens`, where a question's names are looked for

    @classmethod
    def of(cls, title: str, body: str) -> Reading:
        """Read an article: split its body into sentences and stem each once. The whole
        article's words are the union of the sentences', the headline's and those of any
        text between sentences (the body is read once)."""
        spans = [(span.start, span.end) for span in split_sentences(body)]
        words = [stemmed_words(body[start:end]) for start, end in spans]
        between = [body[end:start] for (_s, end), (start, _e) in
                   zip([(0, 0), *spans], [*spans, (len(body), len(body))], strict=True)]
        title_words = stemmed_words(title)
        rest = stemmed_words(" ".join(part for part in between if part.strip()))
        return cls(spans, words, title_words, title_words.union(rest, *words),
                   phrase_tokens(f"{title}\n{body}"))

    def encode(self) -> bytes:
        """The reading as compact JSON (words sorted, so equal readings encode alike)."""
        return json.dumps({
            "spans": self.spans,
            "words": [" ".join(sorted(words)) for words in self.words],
            "title": " ".join(sorted(self.title_words)),
            "article": " ".join(sorted(self.article_words)),
            "phrase": self.phrase,
        }, separators=(",", ":")).encode()

    @classmethod
    def decode(cls, blob: bytes) -> Reading:
        """A reading from `encode`'s bytes."""
        data = json.loads(blob)
        return cls([(start, end) for start, end in data["spans"]],
                   [frozenset(words.split()) for words in data["words"]],
                   frozenset(data["title"].split()), frozenset(data["article"].split()),
                   data["phrase"])
