"""Spelling: a question's misspelled words read as the collection writes them.

A question word no article uses ("goverment", "schwarzeneger", "Arsenall") is matched to the
closest word of the whole collection's vocabulary (`ArticleStore.similar_words`: the same
first letter, closeness ≥ `index.vocabulary.CLOSE`, the more used word among equally close
ones), and the question is read — and searched — again with that word. The dictionary is
the collection's, so a misspelling that also spoils retrieval is still corrected. A word the
collection uses is never changed, and the vocabulary is looked into only for a word it does
not use. Case never matters: terms are lower-cased throughout.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_MIN_LENGTH = 4


def corrections(terms: list[str], similar_words: Callable[[str, int], list[tuple[str, int]]],
                in_collection: Callable[[str], bool]) -> dict[str, str]:
    """Each term no article uses, mapped to the collection's closest word (when one is close).

    Args: `terms`, the question's terms (lower-cased); `similar_words`, the store's
    `similar_words`; `in_collection`, whether the collection uses a word (`has_term`).
    """
    found: dict[str, str] = {}
    for term in dict.fromkeys(terms):
        if len(term) < _MIN_LENGTH or not term.isalpha() or in_collection(term):
            continue
        near = similar_words(term, 1)
        if near and near[0][0] != term:
            found[term] = near[0][0]
    return found


def corrected(text: str, found: dict[str, str]) -> str:
    """The question with each misspelled word replaced by its match, written in the case
    the question wrote it in ("Schwarzeneger" → "Schwarzenegger": still a name)."""
    for wrong, right in found.items():
        text = re.sub(rf"\b{re.escape(wrong)}\b",
                      lambda written, right=right: _in_case_of(written.group(0), right),
                      text, flags=re.I)
    return text


def _in_case_of(written: str, word: str) -> str:
    """`word` in the case of `written`: all capitals, capitalised, or as it is."""
    if len(written) > 1 and written.isupper():
        return word.upper()
    if written[:1].isupper():
        return word[:1].upper() + word[1:]
    return word
