"""The collection's vocabulary: the words its articles use, and the closest of them to a
misspelled word.

Each store keeps, for every word of its articles, how many articles use it (a row per
word: its first letter, its length, the word, the count), changed by the write that adds
or removes the articles, in the same transaction (`ArticleStore.similar_words` reads it).
This module is the one place that says what those words are and when two are close, so
that both backends keep and answer the same:

- `article_words`: an article's words — the lower-cased content words of its headline and
  body as `index.text.query_terms` gives them, each once (the words a question is read in).
- `row_key`: the (first letter, length, word) a store files a word under.
- `length_band`: the only lengths a word of that closeness can have (a store fetches its
  candidates by first letter and length band, from an index).
- `closest`: among candidates, those close enough to a word — the same first letter and an
  Indel similarity 2·LCS / (|a| + |b|) of at least `CLOSE` (rapidfuzz; difflib's ratio, which
  the question path used before, is at most this) — closest first, then the more used.

Pure text rules: no store, no model; rapidfuzz is imported on the first lookup.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from index.text import query_terms

# The least similarity of a word and its correction (2·LCS / (|a| + |b|)).
CLOSE = 0.8


def article_words(title: str, body: str) -> list[str]:
    """The words an article adds to the vocabulary: its headline's and body's content
    words, lower-cased, each once."""
    return query_terms(f"{title}\n{body}")


def row_key(word: str) -> tuple[str, int, str]:
    """(first letter, length, word): how a store files a word of its vocabulary."""
    return word[0], len(word), word


def length_band(length: int, close: float = CLOSE) -> tuple[int, int]:
    """The shortest and longest word that can be `close` to a word of `length` letters:
    2·LCS / (a + b) ≥ close with LCS ≤ min(a, b) bounds b to [a·c/(2−c), a·(2−c)/c]."""
    lowest = math.ceil(length * close / (2 - close) - 1e-9)
    highest = math.floor(length * (2 - close) / close + 1e-9)
    return max(lowest, 1), highest


def closest(word: str, candidates: Iterable[tuple[str, int]], limit: int,
            close: float = CLOSE) -> list[tuple[str, int]]:
    """The candidates (word, articles using it) close to `word` — the same first letter,
    similarity ≥ `close` — closest first, the more used first among equally close ones,
    at most `limit`. The word itself, if a candidate, comes first."""
    from rapidfuzz import process
    from rapidfuzz.distance import Indel

    word = word.lower()
    if not word or limit <= 0:
        return []
    used = {candidate: articles for candidate, articles in candidates
            if candidate[:1] == word[:1]}
    found = process.extract(word, list(used), scorer=Indel.normalized_similarity,
                            score_cutoff=close, limit=None)
    ranked = sorted(found, key=lambda match: (-round(match[1], 9), -used[match[0]], match[0]))
    return [(match[0], used[match[0]]) for match in ranked[:limit]]
