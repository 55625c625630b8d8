"""The model's text, cut into sentences as it streams, each with the `[n]` markers it cites.

`SentenceCutter.feed(delta)` returns the sentences completed so far; a sentence is complete
once the next one has begun (so markers written after its full stop, "rose. [2]", stay with
it); `finish()` returns the rest. Sentence boundaries are `index.sources.chunk`'s.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.sources.chunk import split_sentences
from index.text import one_line

_MARKER = re.compile(r"\[\s*(\d{1,3}(?:\s*[,;–-]\s*\d{1,3})*)\s*\]")
_LEADING_MARKERS = re.compile(r"^(?:\s*\[\s*\d{1,3}(?:\s*[,;–-]\s*\d{1,3})*\s*\])+")


@dataclass(frozen=True, slots=True)
class GeneratedSentence:
    """A sentence as the model wrote it: its text without markers, and the numbers cited."""

    raw: str
    text: str
    cited: tuple[int, ...]


def parse_sentence(raw: str) -> GeneratedSentence:
    """The text and cited numbers of one sentence ("[1, 3]", "[2][4]", "[1-3]")."""
    cited: list[int] = []
    for group in _MARKER.findall(raw):
        numbers = [int(n) for n in re.findall(r"\d+", group)]
        if re.search(r"[–-]", group) and len(numbers) == 2 and numbers[1] - numbers[0] < 10:
            numbers = list(range(numbers[0], numbers[1] + 1))
        cited += [n for n in numbers if n not in cited]
    text = one_line(_MARKER.sub(" ", raw))
    text = re.sub(r"\s+([.,;:!?])", r"\1", text).strip()
    return GeneratedSentence(raw=raw, text=text, cited=tuple(cited))


class SentenceCutter:
    """Accumulates streamed text and hands out whole sentences."""

    def __init__(self) -> None:
        self.buffer = ""
        self.consumed = 0

    def feed(self, delta: str) -> list[GeneratedSentence]:
        self.buffer += delta
        done: list[GeneratedSentence] = []
        while (sentence := self._next_complete()) is not None:
            done.append(sentence)
        return done

    def finish(self) -> list[GeneratedSentence]:
        rest = self.buffer[self.consumed:]
        self.consumed = len(self.buffer)
        spans = split_sentences(rest)
        pieces = [rest[s.start:s.end] for s in spans]
        merged = _attach_leading_markers(pieces)
        return [parse_sentence(p) for p in merged if p.strip()]

    def _next_complete(self) -> GeneratedSentence | None:
        rest = self.buffer[self.consumed:]
        spans = split_sentences(rest)
        if len(spans) < 2:
            return None
        first, second = spans[0], spans[1]
        following = rest[second.start:second.end]
        markers = _LEADING_MARKERS.match(following)
        after_markers = following[markers.end():] if markers else following
        if not after_markers.lstrip(" \n[]0123456789,;–-"):
            return None  # the next sentence may still be only markers
        end = second.start + (markers.end() if markers else 0)
        self.consumed += end
        return parse_sentence(rest[first.start:end])


def _attach_leading_markers(pieces: list[str]) -> list[str]:
    """Markers opening a piece belong to the piece before."""
    merged: list[str] = []
    for piece in pieces:
        markers = _LEADING_MARKERS.match(piece)
        if markers and merged:
            merged[-1] += markers.group()
            piece = piece[markers.end():]
        if piece.strip():
            merged.append(piece)
        elif markers and not merged:
            merged.append(markers.group())
    return merged
