"""Cutting a long Telegram HTML text into messages of at most 4096 UTF-16 units.

`split_html` prefers paragraph, then line, sentence and word boundaries, never cuts inside a
tag or a character reference, and closes the tags open at a cut and reopens them in the next
message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.render._html import MAX_MESSAGE_UTF16, utf16_len


@dataclass(frozen=True, slots=True)
class _Token:
    raw: str
    units: int
    kind: str  # "open", "close", "text"
    name: str = ""


@dataclass(frozen=True, slots=True)
class _Break:
    index: int  # cut before tokens[index]
    priority: int
    size: int  # message size (UTF-16) if cut here, closing tags included
    stack: tuple[_Token, ...]


_TOKEN_RE = re.compile(r"<(/?)([a-zA-Z][\w-]*)[^>]*>|&#?\w+;|[\s\S]")


def _tokenize(text: str) -> list[_Token]:
    tokens = []
    for match in _TOKEN_RE.finditer(text):
        raw = match.group()
        if match.group(2):
            kind = "close" if match.group(1) else "open"
            tokens.append(_Token(raw, utf16_len(raw), kind, match.group(2).lower()))
        else:
            tokens.append(_Token(raw, utf16_len(raw), "text"))
    return tokens


def _break_priority(previous: str, current: str) -> int:
    """How good a cut after `current` is: paragraph 3, line 2, sentence 1, word 0."""
    if current == "\n":
        return 3 if previous == "\n" else 2
    if current == " ":
        return 1 if previous in ".!?…:;" else 0
    return -1


def split_html(text: str, limit: int = MAX_MESSAGE_UTF16) -> list[str]:
    """Cut Telegram HTML into messages of at most `limit` UTF-16 units each (tags included),
    preferring paragraph, then line, sentence and word boundaries, never inside a tag or a
    character reference; tags open at a cut are closed and reopened in the next message."""
    text = text.strip()
    if utf16_len(text) <= limit:
        return [text] if _has_visible_text(text) else []
    tokens = _tokenize(text)
    messages: list[str] = []
    stack: tuple[_Token, ...] = ()
    index = 0
    while index < len(tokens):
        index = _skip_leading_space(tokens, index)
        if index >= len(tokens):
            break
        cut, next_stack = _find_cut(tokens, index, stack, limit)
        closing = "".join(f"</{t.name}>" for t in reversed(next_stack))
        message = "".join(t.raw for t in stack) + "".join(
            t.raw for t in tokens[index:cut]) + closing
        if _has_visible_text(message):
            messages.append(message)
        index, stack = cut, next_stack
    return messages


def _skip_leading_space(tokens: list[_Token], index: int) -> int:
    while index < len(tokens) and tokens[index].kind == "text" and tokens[index].raw.isspace():
        index += 1
    return index


def _find_cut(tokens: list[_Token], start: int, stack: tuple[_Token, ...], limit: int
              ) -> tuple[int, tuple[_Token, ...]]:
    """Where the message starting at `tokens[start]` (with `stack` reopened) should end."""
    size = sum(t.units for t in stack)
    open_tags = list(stack)
    closing = sum(len(t.name) + 3 for t in open_tags)
    breaks: list[_Break] = []
    previous = ""
    for index in range(start, len(tokens)):
        token = tokens[index]
        new_closing = closing
        if token.kind == "open":
            new_closing += len(token.name) + 3
        elif token.kind == "close" and open_tags:
            new_closing -= len(open_tags[-1].name) + 3
        if size + token.units + new_closing > limit:
            return _best_break(breaks, tokens, index, start, tuple(open_tags), limit)
        size += token.units
        closing = new_closing
        if token.kind == "open":
            open_tags.append(token)
        elif token.kind == "close" and open_tags:
            open_tags.pop()
        else:
            priority = _break_priority(previous, token.raw)
            if priority >= 0:
                breaks.append(_Break(index + 1, priority, size + closing, tuple(open_tags)))
            previous = token.raw
    return len(tokens), tuple(open_tags)


def _best_break(breaks: list[_Break], tokens: list[_Token], index: int, start: int,
                stack: tuple[_Token, ...], limit: int) -> tuple[int, tuple[_Token, ...]]:
    """The best cut: the strongest boundary filling at least half the message, else the
    last boundary, else a hard cut before `tokens[index]`."""
    for priority in (3, 2, 1, 0):
        fitting = [b for b in breaks if b.priority == priority and b.size >= limit // 2]
        if fitting:
            return fitting[-1].index, fitting[-1].stack
    if breaks:
        return breaks[-1].index, breaks[-1].stack
    if index == start:  # a single token larger than a message: take it anyway
        token = tokens[index]
        if token.kind == "open":
            return index + 1, (*stack, token)
        return index + 1, stack[:-1] if token.kind == "close" else stack
    return index, stack


def _has_visible_text(message: str) -> bool:
    return bool(re.sub(r"<[^>]*>", "", message).strip())
