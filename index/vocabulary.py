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
- `closest`: among candidates, those close enough to a word — the same first letter and a
  similarity 1 − d / max(|a|, |b|) of at least `CLOSE`, where d counts the edits from one to
  the other, a letter dropped, added, replaced or swapped with its neighbour each one edit
  (optimal string alignment, rapidfuzz's `OSA`): one edit when the longer word has 5 to 9
  letters, two for 10 to 14 — closest first, then the more used.

Why this closeness and not difflib's ratio 2·M / (|a| + |b|) ≥ 0.8, which the question path
used on the retrieved stories' words: a swap of two letters costs the ratio two edits
("laern" is nearer "lantern" than "learn"), and it lets more words through. Measured with
the even-numbered BBC articles as the collection (`bench/bench_spelling.py --corpus`): of
words one random edit from a collection word, OSA gives back the word for 89 % and another
word for 5.3 % (the ratio: 86 % and 12 %); of the real words of the odd-numbered articles
that the collection lacks (their stems too), it would change 30 % into a collection word
("ricard" → "richard"), the ratio 55 %.

Pure text rules: no store, no model; rapidfuzz is imported on the first lookup.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from index.text import query_terms

# The least similarity of a word and its correction (1 − edits / the longer one's length).
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
    1 − d / max(a, b) ≥ c with d ≥ |a − b| bounds b to [c·a, a / c]."""
    lowest = math.ceil(length * close - 1e-9)
    highest = math.floor(length / close + 1e-9)
    return max(lowest, 1), highest


def closest(word: str, candidates: Iterable[tuple[str, int]], limit: int,
            close: float = CLOSE) -> list[tuple[str, int]]:
    """The candidates (word, articles using it) close to `word` — the same first letter,
    similarity ≥ `close` — closest first, the more used first among equally close ones,
    at most `limit`. The word itself, if a candidate, comes first."""
    from rapidfuzz import process
    from rapidfuzz.distance import OSA

    word = word.lower()
    if not word or limit <= 0:
        return []
    used = {candidate: articles for candidate, articles in candidates
            if candidate[:1] == word[:1]}
    if not used:
        return []
    # Whole edits, not rapidfuzz's normalised cutoff, which drops a pair right at `close`
    # ("chian" → "china": 1 − 1/5 = 0.8) to a rounding.
    longest = max(len(word), *map(len, used))
    found = process.extract(word, list(used), scorer=OSA.distance,
                            score_cutoff=_edits_allowed(longest, close), limit=None)
    ranked = sorted(
        ((edits, candidate) for candidate, edits, _ in found
         if edits <= _edits_allowed(max(len(word), len(candidate)), close)),
        key=lambda match: (match[0] / max(len(word), len(match[1])), -used[match[1]],
                           match[1]))
    return [(candidate, used[candidate]) for _edits, candidate in ranked[:limit]]


def _edits_allowed(length: int, close: float) -> int:
    """The most edits between words, the longer of `length` letters, at `close` or more."""
    return math.floor((1 - close) * length + 1e-9)
