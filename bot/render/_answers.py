"""An answer as Telegram shows it: the text with its [n] markers and sources, and the
buttons under it (one per citation, then 👍 / 👎 and, after a 👎, the reasons).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import urlsplit

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.feedback import DOWN, REASONS, UP, feedback_callback_data
from bot.render._html import clean_text, escape, format_date, is_web_url, link, shorten
from bot.render._split import split_html
from index.qa.answer import HEDGE_NOTE, Answer, Citation

MAX_CALLBACK_DATA_BYTES = 64
BUTTON_TITLE_CHARS = 40
BUTTON_MIN_HEADLINE_CHARS = 12
ALSO_REPORTED_SHOWN = 5


def answer_html(answer: Answer, *, note: str | None = None) -> str:
    """One HTML text: an optional note, the warning of a hedged answer, the answer with
    its [n] markers, the sources."""
    blocks = []
    if note:
        blocks.append(f"<i>{escape(note)}</i>")
    if answer.hedged and not answer.abstained:
        blocks.append(f"<i>{escape(HEDGE_NOTE)}</i>")
    blocks.append(escape(answer.answer))  # an abstention says why (`index.qa.answer`)
    if answer.citations and not answer.abstained:
        lines = [source_line(c) for c in answer.citations]
        blocks.append("<b>Sources</b>\n" + "\n".join(lines))
    return "\n\n".join(blocks)


def render_answer(answer: Answer, *, note: str | None = None) -> list[str]:
    """The answer as one or more messages of at most 4096 characters."""
    return split_html(answer_html(answer, note=note))


def source_line(citation: Citation) -> str:
    """`[n] headline · outlet · date`, the headline linked when there is a URL."""
    parts = [link(citation.title or "Untitled", citation.url)]
    parts += [escape(x) for x in (citation.outlet, format_date(citation.published_at)) if x]
    line = f"[{citation.n}] " + " · ".join(parts)
    if others := also_reported_by(citation):
        line += f" <i>(also reported by {escape(others)})</i>"
    return line


def also_reported_by(citation: Citation) -> str:
    """The other outlets that ran the cited story, for display: each outlet once, a web
    origin by its host (a copy read from a file without an outlet is left out: never a
    path or file name), at most a few named."""
    names: list[str] = []
    for entry in citation.also_reported_by:
        name = _reporter_name(entry)
        if name and name not in names:
            names.append(name)
    shown = ", ".join(names[:ALSO_REPORTED_SHOWN])
    if len(names) > ALSO_REPORTED_SHOWN:
        shown += f" and {len(names) - ALSO_REPORTED_SHOWN} more"
    return shown


def _reporter_name(entry: str) -> str:
    entry = " ".join(clean_text(entry).split())
    if is_web_url(entry):
        host = urlsplit(entry).hostname or entry
        return host.removeprefix("www.")
    if entry.startswith(("/", "\\", "~")) or re.match(r"[A-Za-z]:[\\/]", entry):
        return ""  # a copy read from a file with no outlet: no name worth showing
    return shorten(entry, 80)


def citation_callback_data(answer_id: int, n: int) -> str:
    """`c:<answer_id>:<n>`, well under Telegram's 64 bytes."""
    return f"c:{answer_id}:{n}"


def parse_citation_callback(data: str | None) -> tuple[int, int] | None:
    """(answer_id, n) from a citation button's callback data, or None."""
    match = re.fullmatch(r"c:(\d{1,18}):(\d{1,4})", data or "")
    return (int(match.group(1)), int(match.group(2))) if match else None


def citation_keyboard(answer_id: int, citations: Sequence[Citation]
                      ) -> InlineKeyboardMarkup | None:
    """One button per citation (`[n] outlet · short headline`), one per row; None without
    citations."""
    if not citations:
        return None
    return InlineKeyboardMarkup([
        [InlineKeyboardButton(citation_button_label(c),
                              callback_data=citation_callback_data(answer_id, c.n))]
        for c in citations
    ])


def citation_button_label(citation: Citation) -> str:
    """`[n] Outlet · short headline`: the outlet always readable, the headline cut to the
    room left (dropped when too little is left to say anything), at most
    BUTTON_TITLE_CHARS characters after the number."""
    outlet = shorten(citation.outlet or "", BUTTON_TITLE_CHARS // 2)
    title = " ".join(clean_text(citation.title or "").split())
    room = BUTTON_TITLE_CHARS - (len(outlet) + 3 if outlet else 0)
    if not title or (outlet and room < BUTTON_MIN_HEADLINE_CHARS):
        return f"[{citation.n}] {outlet or 'source'}"
    headline = shorten(title, room)
    return f"[{citation.n}] {outlet} · {headline}" if outlet else f"[{citation.n}] {headline}"


def answer_keyboard(answer_id: int, citations: Sequence[Citation], *,
                    votes: tuple[int, int] = (0, 0), ask_reason: bool = False
                    ) -> InlineKeyboardMarkup:
    """The buttons under an answer: one per citation, then 👍 / 👎 (with their counts once
    someone voted), then, after a 👎, the reasons to choose from."""
    rows = list(citation_keyboard(answer_id, citations).inline_keyboard) if citations else []
    up, down = votes
    rows.append([
        InlineKeyboardButton(f"👍 {up}" if up else "👍",
                             callback_data=feedback_callback_data(answer_id, UP)),
        InlineKeyboardButton(f"👎 {down}" if down else "👎",
                             callback_data=feedback_callback_data(answer_id, DOWN)),
    ])
    if ask_reason:
        rows += [[InlineKeyboardButton(REASON_BUTTONS[code], callback_data=feedback_callback_data(
            answer_id, DOWN, code))] for code in REASONS]
    return InlineKeyboardMarkup(rows)


REASON_BUTTONS = {"source": "👎 Wrong source", "missed": "👎 Didn't answer",
                  "unknown": "👎 Should have said it doesn't know"}
FEEDBACK_THANKS = "Thanks for the feedback!"
FEEDBACK_WHY = "Thanks! What was wrong? Pick a reason below (optional)."


def render_feedback_noted(reason: str) -> str:
    return f"Thanks! Noted: {REASONS[reason]}."
