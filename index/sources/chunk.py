"""Sentences and passages with exact character offsets into an article body.

`split_sentences` finds sentence spans (never cutting inside one); `make_passages` groups
consecutive sentences into passages sized for the embedding model's window, preferring
paragraph breaks. Every span is a `(start, end)` pair such that `body[start:end]` is the
verbatim text: citations quote exactly these slices.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

_ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof sr jr st mt sen rep gov gen col lt sgt capt cmdr adm maj rev fr
    inc ltd co corp plc llc bros dept univ assn est approx vs etc al eg ie cf viz no nos vol
    fig p pp ed eds jan feb mar apr jun jul aug sep sept oct nov dec mon tue wed thu fri sat sun
    u.s u.k u.n e.u a.m p.m ft oz lb km""".split()
)
# A candidate boundary: terminal punctuation, optional closing quotes/brackets, whitespace.
_BOUNDARY = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s+)")
_NEXT_STARTS_SENTENCE = re.compile(r"\s+[\"'“‘(\[]?[A-Z0-9£$€]")
_TOKEN = re.compile(r"\w+|[^\w\s]")


@dataclass(frozen=True, slots=True)
class Span:
    """A verbatim slice `body[start:end]`."""

    start: int
    end: int


def _word_before(text: str, end: int) -> str:
    """The word (letters, digits, "_" and ".") that ends at `end`, lower-cased, without
    trailing full stops. Scans back from `end` only: linear in the word, not the body."""
    start = end
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] in "._"):
        start -= 1
    return text[start:end].lower().rstrip(".")


def _is_false_boundary(text: str, punct_start: int, punct_end: int) -> bool:
    """True when a full stop ends an abbreviation, an initial or a decimal, not a sentence."""
    if text[punct_start] != ".":
        return False
    if punct_end - punct_start > 1:  # an ellipsis "..." ends a sentence only before a capital
        return False
    word = _word_before(text, punct_start)
    if word in _ABBREVIATIONS:
        return True
    return len(word) == 1 and word.isalpha()  # an initial: "J. K. Rowling"


def _sentence_spans_in_line(text: str, start: int, end: int) -> list[Span]:
    spans: list[Span] = []
    sentence_start = start = _skip_bullet(text, start, end)
    for match in _BOUNDARY.finditer(text, start, end):
        boundary = match.end()
        if not _NEXT_STARTS_SENTENCE.match(text, boundary, end):
            continue
        if _is_false_boundary(text, match.start(), match.start() + len(match.group(0).rstrip(
            "\"'”’)]"
        ))):
            continue
        spans.append(Span(sentence_start, boundary))
        sentence_start = _skip_space(text, boundary, end)
    if sentence_start < end:
        spans.append(Span(sentence_start, end))
    return spans


_BULLETS = "•·▪‣◦*-–—>"


def _skip_space(text: str, position: int, end: int) -> int:
    while position < end and text[position].isspace():
        position += 1
    return position


def _skip_bullet(text: str, position: int, end: int) -> int:
    """Past a list bullet ("• ", "- ") at the start of a line: quotes start at the words."""
    if position + 1 < end and text[position] in _BULLETS and text[position + 1] == " ":
        return _skip_space(text, position + 1, end)
    return position


def line_spans(body: str) -> list[Span]:
    """Spans of the non-empty lines (paragraphs) of `body`, whitespace-trimmed."""
    spans: list[Span] = []
    for match in re.finditer(r"[^\n]+", body):
        start, end = match.start(), match.end()
        while start < end and body[start].isspace():
            start += 1
        while end > start and body[end - 1].isspace():
            end -= 1
        if start < end:
            spans.append(Span(start, end))
    return spans


def split_sentences(body: str, start: int = 0, end: int | None = None) -> list[Span]:
    """Sentence spans of `body[start:end]`; a line break always ends a sentence."""
    end = len(body) if end is None else end
    spans: list[Span] = []
    for line in line_spans(body[:end]):
        if line.end <= start:
            continue
        spans.extend(_sentence_spans_in_line(body, max(line.start, start), line.end))
    return spans


def estimate_tokens(text: str) -> int:
    """A quick estimate of word-piece tokens: words and punctuation, plus a little for
    sub-word splits of long words."""
    tokens = _TOKEN.findall(text)
    return len(tokens) + sum(len(token) // 8 for token in tokens)


@dataclass(frozen=True, slots=True)
class PassageSpan:
    """One passage: its sentences and the span covering them."""

    start: int
    end: int
    sentences: tuple[Span, ...]


def make_passages(
    body: str,
    *,
    max_tokens: int = 160,
    min_tokens: int = 60,
    count_tokens: Callable[[str], int] = estimate_tokens,
) -> list[PassageSpan]:
    """Group sentences into passages of at most `max_tokens` (a single longer sentence
    stands alone, never cut). A paragraph break closes the passage once it holds at least
    `min_tokens`."""
    passages: list[PassageSpan] = []
    current: list[Span] = []
    current_tokens = 0
    for paragraph in line_spans(body):
        for sentence in _sentence_spans_in_line(body, paragraph.start, paragraph.end):
            tokens = count_tokens(body[sentence.start : sentence.end])
            if current and current_tokens + tokens > max_tokens:
                passages.append(_close(current))
                current, current_tokens = [], 0
            current.append(sentence)
            current_tokens += tokens
        if current and current_tokens >= min_tokens:
            passages.append(_close(current))
            current, current_tokens = [], 0
    if current:
        passages.append(_close(current))
    return passages


def _close(sentences: list[Span]) -> PassageSpan:
    return PassageSpan(sentences[0].start, sentences[-1].end, tuple(sentences))
