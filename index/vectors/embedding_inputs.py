"""What the model embeds for a passage or a sentence, and the cache key of each text.

A passage is embedded with its article's headline as context, and so is each sentence (for
choosing answer sentences and, by default, for passage vectors as sentence means). Vectors
are cached by the hash of the exact text embedded, sentence vectors in their own namespace.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Iterator

from index.sources.chunk import split_sentences


def embed_input(title: str, passage_text: str) -> str:
    """The text the model embeds for a passage: the headline as context, then the passage."""
    return f"{title}\n{passage_text}" if title else passage_text


def sentence_model(model: str) -> str:
    """The cache namespace of sentence vectors (headline + one sentence) for `model`."""
    return f"{model}|sentence"


def sentence_inputs(title: str, body: str) -> list[tuple[int, int, str]]:
    """(start, end, embed input) of every sentence of an article, headline as context."""
    return [(s.start, s.end, embed_input(title, body[s.start : s.end]))
            for s in split_sentences(body)]


def text_key(text: str) -> str:
    """The embedding-cache key of an input text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def sentence_keys_of_passages(title: str, body: str, spans: list[tuple[int, int, int]]
                              ) -> Iterator[tuple[int, list[str]]]:
    """(passage id, cache keys of the sentences it holds) for an article's passages given
    as (id, start, end) in body order. The body is split once and its sentences (in order,
    never overlapping) are matched to the passages by position: linear in the article's
    size, however many passages it has."""
    inputs = sentence_inputs(title, body)
    starts = [start for start, _end, _text in inputs]
    for passage_id, start, end in spans:
        keys = []
        for at in range(bisect.bisect_left(starts, start), len(inputs)):
            _start, sentence_end, text = inputs[at]
            if sentence_end > end:
                break
            keys.append(text_key(text))
        yield passage_id, keys
