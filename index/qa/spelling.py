"""Spelling: a question's misspelled words read as the collection writes them.

A question word no article uses ("goverment", "schwarzeneger") is matched to the closest
word of the candidate stories — the collection's own vocabulary where the question points —
when it is close enough (`difflib` ratio ≥ `_CLOSE`, same first letter), and the question is
read again with that word. Case never matters: terms are lower-cased throughout.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable

from index.storage import StoredArticle
from index.text import query_terms

_CLOSE = 0.8
_MIN_LENGTH = 4


def corrections(terms: list[str], articles: Iterable[StoredArticle],
                in_collection: Callable[[str], bool]) -> dict[str, str]:
    """Each term no article uses, mapped to the closest word of `articles` (if close)."""
    unknown = [t for t in terms if len(t) >= _MIN_LENGTH and t.isalpha()
               and not in_collection(t)]
    if not unknown:
        return {}
    vocabulary: set[str] = set()
    for article in articles:
        vocabulary.update(query_terms(f"{article.title}\n{article.body}"))
    found: dict[str, str] = {}
    for term in unknown:
        near = [w for w in difflib.get_close_matches(term, vocabulary, n=3, cutoff=_CLOSE)
                if w[0] == term[0]]
        if near:
            found[term] = near[0]
    return found


def corrected(text: str, found: dict[str, str]) -> str:
    """The question with each misspelled word replaced by its match."""
    for wrong, right in found.items():
        text = re.sub(rf"\b{re.escape(wrong)}\b", right, text, flags=re.I)
    return text
