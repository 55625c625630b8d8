"""A citation opened (`/source N` or its button): the headline, outlet, author and date, the
link, and the exact quote in bold within a little of the text around it, or the quote as it
was cited when the article has changed since.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.render._answers import also_reported_by
from bot.render._html import escape, format_date, is_web_url, link, source_name
from bot.render._split import split_html
from index.qa.answer import Citation

QUOTE_CONTEXT_CHARS = 220


@dataclass(frozen=True, slots=True)
class QuoteInContext:
    """The quoted spans of one article with a little text around them."""

    before: str
    pieces: list[tuple[str, bool]]  # (text, quoted?)
    after: str
    cut_before: bool
    cut_after: bool


def quote_in_context(citation: Citation, body: str | None,
                     context_chars: int = QUOTE_CONTEXT_CHARS) -> QuoteInContext | None:
    """The cited spans located in `body` with context, or None when the body no longer
    holds the quote (article changed or removed)."""
    spans = _spans_in_body(citation, body)
    if body is None or not spans:
        return None
    first, last = spans[0][0], spans[-1][1]
    if last - first > 4 * context_chars + sum(b - a for a, b in spans):
        # spans far apart: show the citation's own quote only
        main = [(a, b) for a, b in spans if a <= citation.start < b]
        spans = main or spans[:1]
        first, last = spans[0]
    start = _word_boundary(body, max(0, first - context_chars), forward=True)
    end = _word_boundary(body, min(len(body), last + context_chars), forward=False)
    pieces: list[tuple[str, bool]] = []
    position = first
    for a, b in spans:
        if a > position:
            pieces.append((body[position:a], False))
        pieces.append((body[a:b], True))
        position = b
    return QuoteInContext(
        before=body[start:first], pieces=pieces, after=body[last:end],
        cut_before=start > 0, cut_after=end < len(body),
    )


def _spans_in_body(citation: Citation, body: str | None) -> list[tuple[int, int]]:
    if body is None:
        return []
    if body[citation.start : citation.end] != citation.quote:
        moved = body.find(citation.quote) if citation.quote else -1
        return [] if moved < 0 else [(moved, moved + len(citation.quote))]
    spans = {(a, b) for a, b in citation.spans if 0 <= a < b <= len(body)}
    spans.add((citation.start, citation.end))
    merged: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged


def _word_boundary(text: str, index: int, *, forward: bool) -> int:
    """Move `index` to the nearest whitespace (forward or back, at most 30 chars)."""
    if index <= 0 or index >= len(text) or text[index - 1].isspace() or text[index].isspace():
        return index
    window = text[index : index + 30] if forward else text[max(0, index - 30) : index]
    found = re.search(r"\s", window) if forward else re.search(r"\s(?=\S*$)", window)
    if not found:
        return index
    return index + found.end() if forward else index - len(window) + found.start()


def render_no_such_source(count: int) -> str:
    """What `/source N` says when the answer has no source N."""
    if count == 0:
        return "That answer has no sources."
    if count == 1:
        return "That answer has only source 1."
    return f"That answer has sources 1–{count}."


def citation_html(citation: Citation, body: str | None) -> str:
    """Headline, outlet · author · date, the link (only a web address: an article read from
    a file is named by its headline, outlet and date), and the exact quote in bold in its
    context."""
    meta = " · ".join(escape(x) for x in (
        citation.outlet, citation.author, format_date(citation.published_at)) if x)
    lines = [f"<b>[{citation.n}] {escape(citation.title or 'Untitled')}</b>"]
    if meta:
        lines.append(meta)
    where = source_name(citation.origin, citation.url)
    if is_web_url(where):  # a file's path or name never reaches a Telegram user
        lines.append(link("Read the article", where))
    if others := also_reported_by(citation):
        lines.append(f"<i>Also reported by {escape(others)}</i>")
    found = quote_in_context(citation, body)
    if found is None:
        quote = f"<blockquote><b>{escape(citation.quote)}</b></blockquote>"
        note = ("<i>The article has changed or was removed since this answer; "
                "this is the quote as it was cited.</i>")
        return "\n".join(lines) + "\n\n" + quote + "\n" + note
    return "\n".join(lines) + "\n\n" + _quote_block(found)


def _quote_block(found: QuoteInContext) -> str:
    text = ("…" if found.cut_before else "") + escape(found.before.lstrip())
    for piece, quoted in found.pieces:
        text += f"<b>{escape(piece)}</b>" if quoted else escape(piece)
    text += escape(found.after.rstrip()) + ("…" if found.cut_after else "")
    return f"<blockquote>{text}</blockquote>"


def render_citation(citation: Citation, body: str | None) -> list[str]:
    return split_html(citation_html(citation, body))
