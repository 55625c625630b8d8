"""Telegram HTML for everything the bot says: answers, sources, quotes, lists, progress.

This module owns the bot's wording and formatting, as pure functions from results to
strings (plus the inline keyboard of an answer). All dynamic text goes through `escape`, so
Telegram never sees a stray `<` or `&`; `split_html` cuts anything longer than one message
at paragraph, line, sentence or word boundaries and closes/reopens tags around each cut.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any
from urllib.parse import urlsplit

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.feedback import DOWN, REASONS, UP, Usage, feedback_callback_data
from bot.small_talk import SmallTalk
from index.filters import BackwardsRange, DateFilterError, UnreadableDate
from index.library import IngestReport, Progress
from index.qa.answer import HEDGE_NOTE, Answer, Citation
from index.storage import StoredArticle, StoredFeed

MAX_MESSAGE_UTF16 = 4096
MAX_CALLBACK_DATA_BYTES = 64
MAX_LINK_URL = 1024
QUOTE_CONTEXT_CHARS = 220
BUTTON_TITLE_CHARS = 40
BUTTON_MIN_HEADLINE_CHARS = 12

NOT_INDEXED = (
    "I have no articles indexed yet, so I can't answer questions. "
    "An admin can add some with /add."
)
STORAGE_UNAVAILABLE = ("The article collection can't be reached right now (its database is "
                       "down or restarting). Please ask again in a minute.")
STORAGE_UNAVAILABLE_SHORT = "I can't reach my database right now: please try again in a minute."
SOMETHING_WENT_WRONG = "Sorry, something went wrong while handling that. Please try again."
TEXT_ONLY = "I can only read text: send me your question as a message."
QUOTE_ALREADY_SHOWN = "That quote is already in the chat, just above."
NOT_ALLOWED_SHORT = "Sorry, this bot is private."
EXAMPLE_QUESTIONS = (
    "What sales target has BMW set for Asia?",
    "Why did China close thousands of net cafes?",
    "What kind of AI chips does Huawei want to focus on?",
)
DATE_FORMAT_HINT = ("Write dates as YYYY-MM-DD (or YYYY-MM, YYYY), e.g. "
                    "since:2024-01-01 until:2024-12-31.")
ALSO_REPORTED_SHOWN = 5
REPORT_ITEMS_SHOWN = 5

# Control characters, lone surrogates, and the bidi embedding/override/isolate controls
# (U+202A-U+202E, U+2066-U+2069) that can make shown text read differently from what it is.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


# --------------------------------------------------------------------------------------
# Escaping and small pieces
# --------------------------------------------------------------------------------------


def clean_text(text: str) -> str:
    """Text Telegram accepts: no lone surrogates or control characters (newlines and tabs
    stay; `\\r\\n` becomes `\\n`)."""
    return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def escape(text: str | None) -> str:
    """Dynamic text made safe for parse_mode=HTML."""
    return html.escape(clean_text(text or ""), quote=False)


def link(text: str, url: str | None) -> str:
    """`text` as a link to `url` when it is a usable http(s) URL, else as plain text."""
    if not url or not _is_web_url(url):
        return escape(text)
    return f'<a href="{html.escape(clean_text(url), quote=True)}">{escape(text)}</a>'


def _is_web_url(url: str) -> bool:
    if len(url) > MAX_LINK_URL or any(c.isspace() for c in url):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def shorten(text: str, limit: int) -> str:
    """`text` on one line, cut at a word boundary with "…" when longer than `limit`."""
    line = " ".join(clean_text(text).split())
    if len(line) <= limit:
        return line
    cut = line[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:.-") + "…"


def format_date(timestamp: str | None) -> str:
    """`YYYY-MM-DD` of an ISO timestamp, or "" when unknown."""
    return (timestamp or "")[:10]


def source_name(origin: str, url: str | None) -> str:
    """What to call a source in a message: its URL, or a file's name (never a server path)."""
    if url and _is_web_url(url):
        return url
    if _is_web_url(origin):
        return origin
    return PurePath(origin.split("#", 1)[0]).name or origin


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's message limit."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


# --------------------------------------------------------------------------------------
# Answers
# --------------------------------------------------------------------------------------


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
    if _is_web_url(entry):
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


def render_usage_stats(usage: Usage) -> str:
    """Answered / declined / 👍 / 👎 over the last days, for /stats."""
    votes = usage.up + usage.down
    lines = [
        f"<b>Last {usage.days} days</b>",
        f"Questions: {usage.questions} · answered {usage.answered} "
        f"({usage.share(usage.answered, usage.questions)}) · declined {usage.declined} "
        f"({usage.share(usage.declined, usage.questions)})",
        f"Feedback: 👍 {usage.up} ({usage.share(usage.up, votes)}) · 👎 {usage.down} "
        f"({usage.share(usage.down, votes)})",
    ]
    if usage.reasons:
        lines.append("Why 👎: " + ", ".join(
            f"{escape(REASONS.get(code, code))} {count}"
            for code, count in sorted(usage.reasons.items(), key=lambda kv: -kv[1])))
    lines.append("<i>/stats chart: the week as a chart</i>")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------
# Citation lookups
# --------------------------------------------------------------------------------------


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
    if _is_web_url(where):  # a file's path or name never reaches a Telegram user
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


# --------------------------------------------------------------------------------------
# Article lists, stats, help
# --------------------------------------------------------------------------------------


def article_line(article: StoredArticle) -> str:
    """`headline · outlet · date` (publication date, else the date it was added)."""
    date = format_date(article.published_at)
    if not date and article.ingested_at:
        date = f"added {format_date(article.ingested_at)}"
    parts = [link(article.title or "Untitled", article.url)]
    parts += [escape(x) for x in (article.outlet, date) if x]
    return " · ".join(parts)


def render_article_list(heading: str, articles: Sequence[StoredArticle]) -> list[str]:
    lines = [f"<b>{escape(heading)}</b>"]
    lines += [f"{i}. {article_line(a)}" for i, a in enumerate(articles, start=1)]
    return split_html("\n".join(lines))


def render_search_results(query: str, articles: Sequence[StoredArticle]) -> list[str]:
    if not articles:
        return [f"No articles match “{escape(shorten(query, 200))}”."]
    return render_article_list(f"Articles matching “{shorten(query, 200)}”", articles)


def render_latest(articles: Sequence[StoredArticle]) -> list[str]:
    if not articles:
        return ["I have no articles yet."]
    return render_article_list("Newest articles", articles)


# How `/stats` tells the kind of passage vectors the index holds.
PASSAGE_VECTORS_SAID = {"sentence-mean": "mean of their sentences'",
                        "embedded": "embedded from their own text"}


def render_stats(stats: dict[str, object]) -> str:
    size = int(str(stats.get("index_bytes") or 0))
    lines = [
        "<b>Collection</b>",
        f"Articles: {stats.get('articles', 0)} ({stats.get('stories', 0)} stories)",
        f"Passages: {stats.get('passages', 0)} · vectors in the index: {stats.get('vectors', 0)}",
        f"Model: {escape(str(stats.get('model') or '-'))}"
        + (f" (passage vectors: {PASSAGE_VECTORS_SAID[kind]})"
           if (kind := str(stats.get("passage_vectors"))) in PASSAGE_VECTORS_SAID else ""),
        f"Index: generation {stats.get('index_generation', 0)}, {_human_bytes(size)}",
        f"Last reindex: {escape(str(stats.get('last_reindex') or 'never'))}",
    ]
    languages = stats.get("languages")
    if isinstance(languages, dict) and languages:
        shown = ", ".join(f"{code or 'unknown'} {count}" for code, count in languages.items())
        served = ", ".join(map(str, stats.get("model_languages") or [])) or "-"
        lines.append(f"Languages: {escape(shown)} (the model reads: {escape(served)})")
    if isinstance(reader := stats.get("llm"), dict):
        lines += ["", *_reader_lines(reader)]
    return "\n".join(lines)


def _reader_lines(reader: dict[str, Any]) -> list[str]:
    """What the LLM reader did since the bot started: its answers, the fallbacks to the
    extractive answer and their causes, the generated sentences kept and dropped."""
    causes = ", ".join(f"{escape(str(cause))} {count}"
                       for cause, count in reader.get("fallback_causes", {}).items())
    sentences = reader.get("sentences", {})
    return [
        "<b>LLM reader</b> (since the start)",
        f"Answers: {reader.get('llm_answers', 0)} (cut short: {reader.get('partial_answers', 0)})"
        f" · fallbacks: {reader.get('fallbacks', 0)}" + (f" ({causes})" if causes else ""),
        f"Sentences: {sentences.get('kept', 0)} kept, {sentences.get('dropped', 0)} dropped, "
        f"{sentences.get('reattributed', 0)} re-attributed",
    ]


def _human_bytes(size: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024  # type: ignore[assignment]
    return f"{size} bytes"


def render_start(first_name: str | None) -> str:
    hello = f"Hello, {escape(first_name)}!" if first_name else "Hello!"
    return (
        f"{hello} I answer questions about the news articles I have read, and I cite "
        "exactly where each claim comes from.\n\n"
        "Just send me a question (in a group: mention me, reply to my answer, or use /ask). "
        "Tap a numbered button under an answer to see the quote it is based on.\n\n"
        "/help lists everything I can do."
    )


def render_small_talk(kind: SmallTalk, first_name: str | None) -> str:
    """The reply to a message that only greets, thanks or acknowledges (`bot.small_talk`):
    a greeting or a question about the bot gets the /start hello (how to ask), thanks a
    you're welcome, an "ok" a nudge to ask."""
    if kind in (SmallTalk.GREETING, SmallTalk.HELP):
        return render_start(first_name)
    if kind is SmallTalk.THANKS:
        return "You're welcome! Ask me anything else about the news articles I have."
    return f"Ask me anything about the news articles I have, e.g. “{escape(EXAMPLE_QUESTIONS[1])}”"


def render_help(usages: Sequence[str], *, admin_commands: Sequence[str] = ()) -> str:
    """How to ask, example questions, then one usage line per command (`usages`, from the
    command registry); `admin_commands` (shown to admins) are named as admin-only."""
    lines = [
        "<b>Ask me about the news articles I have.</b>",
        "In a private chat, any message is a question. In a group, mention me, reply to "
        "one of my answers, or use /ask.",
        "Every answer has numbered sources [1] [2]…; tap a button (or use /source N) to see "
        "the exact quote. Reply to an answer to ask a follow-up.",
        "",
        "<b>Example questions</b>",
        *(f"• {escape(q)}" for q in EXAMPLE_QUESTIONS),
        "",
        "<b>Commands</b>",
        *(escape(usage) for usage in usages),
    ]
    if admin_commands:
        names = ", ".join(admin_commands[:-1]) + " and " + admin_commands[-1]
        lines.append(f"<i>({names} are for admins only)</i>")
    return "\n".join(lines)


def render_usage(usage: str) -> str:
    """`usage` is the command's line in the registry: "/name ARGS — what it does"."""
    return f"Usage: {escape(usage)}"


def render_unknown_command(command: str) -> str:
    return (f"I don't know the command /{escape(shorten(command, 40))}. "
            "Send /help to see what I can do, or just ask a question.")


def render_mention_hint(username: str | None) -> str:
    handle = f"@{username}" if username else "me"
    return f"Ask me something, e.g. “{escape(handle)} {escape(EXAMPLE_QUESTIONS[0])}”"


def render_slow_down(limit: int, window: float, retry_in: float) -> str:
    return (f"Slow down a little: I answer at most {limit} questions per "
            f"{window:.0f} seconds per person. Try again in {max(1, round(retry_in))} s.")


def render_truncation_note(limit: int) -> str:
    return f"Your question was very long: I used its first {limit} characters."


def render_admin_only(command: str) -> str:
    return f"Sorry, /{escape(command)} is only for the bot's admins."


def render_not_allowed(user_id: int | None, chat_id: int | None, *, private: bool) -> str:
    """The one refusal someone not on the allowlist gets (ids help the admin add them)."""
    who = (f"your user id is {user_id}" if private
           else f"this chat's id is {chat_id}, your user id is {user_id}")
    return (f"{NOT_ALLOWED_SHORT} It only answers the people and chats its admins have "
            f"allowed. To ask for access, contact its admin ({who}).")


# --------------------------------------------------------------------------------------
# Reindex and ingest
# --------------------------------------------------------------------------------------


def render_reindex_progress(*, full: bool, articles_seen: int, progress: Progress | None
                            ) -> str:
    """The progress message: articles read, passages embedded and % (no clock: identical
    progress gives identical text, so unchanged progress is not re-sent)."""
    title = "Reindexing (full)…" if full else "Reindexing…"
    lines = [f"🔄 <b>{title}</b>", f"Articles read: {articles_seen}"]
    stage = progress.stage if progress else "reading"
    if stage == "embedding" and progress:
        lines.append(f"Embedded: {progress.done} / {progress.total} passages and sentences "
                     f"({progress.percent:.0f}%)")
    elif stage == "indexing" and progress:
        lines.append("Embedded: all (100%)")
        lines.append("Building the new index…")
    else:
        lines.append("Embedded: 0 so far")
    return "\n".join(lines)


def _embedded_line(report: IngestReport) -> str:
    """What was embedded (passages get no embedding of their own with sentence-mean
    vectors) and how many vectors the index holds."""
    return (f"Embedded: {report.embedded} passages, {report.embedded_sentences} sentences "
            f"· vectors in the index: {report.vectors}")


def render_ingest_report(title: str, report: IngestReport) -> str:
    """Added / changed / removed / errors and the duration of an ingest or reindex."""
    lines = [
        f"✅ <b>{escape(title)}</b> in {report.seconds:.1f} s",
        f"Added {report.added} · changed {report.updated} · removed {report.removed} "
        f"· unchanged {report.unchanged}",
        _embedded_line(report),
        f"Errors: {len(report.skipped)}",
    ]
    if report.not_read:
        lines.insert(-1, f"Not articles, left out: {escape(report.not_read_summary())}")
    for path, reason in report.skipped[:5]:
        lines.append(f"• {escape(source_name(path, None))}: {escape(shorten(reason, 200))}")
    if len(report.skipped) > 5:
        lines.append(f"• … and {len(report.skipped) - 5} more")
    return "\n".join(lines)


def render_reindex_report(report: IngestReport, *, full: bool) -> str:
    return render_ingest_report("Full reindex finished" if full else "Reindex finished",
                                report)


def render_failure(what: str, error: BaseException | str) -> str:
    return f"❌ <b>{escape(what)}</b>\n{escape(shorten(str(error), 600))}"


def render_busy(current_progress: str | None, what: str = "reindex") -> str:
    """`what` ("reindex" or "feed refresh") is running: try again later."""
    if current_progress is None:
        return "I'm busy adding articles right now; please try again in a moment."
    return f"A {escape(what)} is already running:\n\n" + current_progress


# --------------------------------------------------------------------------------------
# Feeds and removal
# --------------------------------------------------------------------------------------


def format_time(timestamp: str | None) -> str:
    """`YYYY-MM-DD HH:MM UTC` of an ISO UTC timestamp (as the store writes them)."""
    if not timestamp:
        return "never"
    if re.match(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", timestamp):
        suffix = " UTC" if timestamp.endswith(("+00:00", "Z")) else ""
        return timestamp[:10] + " " + timestamp[11:16] + suffix
    return shorten(timestamp, 40)


def render_feeds(feeds: Sequence[StoredFeed]) -> list[str]:
    """The followed feeds: title, URL, items read, last poll and last error."""
    if not feeds:
        return ["I'm not following any feeds. Add one with /feeds add URL."]
    lines = [f"<b>Followed feeds ({len(feeds)})</b>"]
    for number, feed in enumerate(feeds, start=1):
        lines.append("")
        lines.append(f"{number}. <b>{escape(shorten(feed.title or 'Untitled feed', 120))}</b>")
        lines.append(escape(shorten(feed.url, 300)))
        lines.append(f"Items read: {feed.items} · last polled: "
                     f"{escape(format_time(feed.last_polled_at))}")
        if feed.last_error:
            lines.append(f"⚠️ Last error: {escape(shorten(feed.last_error, 300))}")
    return split_html("\n".join(lines))


def render_feed_added(feed: StoredFeed, *, already: bool) -> str:
    name = escape(shorten(feed.title or "Untitled feed", 120))
    if already:
        return f"I'm already following {name} ({escape(feed.url)})."
    return (f"✅ Now following <b>{name}</b>\n{escape(feed.url)}\n"
            "Its items are read by the next refresh (/refresh to read them now).")


def render_feed_removed(url: str, feed: StoredFeed | None) -> str:
    if feed is None:
        return f"I'm not following {escape(url)}: /feeds lists the feeds I follow."
    name = escape(shorten(feed.title or "Untitled feed", 120))
    return (f"Stopped following <b>{name}</b> ({escape(feed.url)}). "
            "The articles it brought stay in the collection.")


def render_removed(target: str, removed: str | None) -> str:
    if removed is None:
        return (f"No article is stored under {escape(shorten(target, 300))}: nothing was "
                "removed.")
    text = f"🗑 Removed {escape(shorten(removed, 300))}: it will no longer be cited."
    if not _is_web_url(removed):
        text += ("\n<i>It came from a file: /reindex reads it again as long as the file is "
                 "in an ingested folder.</i>")
    return text


def render_refresh_progress(*, feeds: int, articles_seen: int, progress: Progress | None
                            ) -> str:
    """The /refresh progress message (identical progress gives identical text)."""
    plural = "feed" if feeds == 1 else "feeds"
    lines = [f"🔄 <b>Refreshing {feeds} {plural}…</b>"]
    stage = progress.stage if progress else "fetching"
    if stage == "fetching":
        lines.append("Fetching the feeds and their new articles…")
    else:
        lines.append(f"Articles stored: {articles_seen}")
    if stage == "embedding" and progress:
        lines.append(f"Embedded: {progress.done} / {progress.total} passages and sentences "
                     f"({progress.percent:.0f}%)")
    elif stage == "indexing":
        lines.append("Building the new index…")
    return "\n".join(lines)


def render_refresh_report(report: IngestReport) -> str:
    """Added / updated / unchanged / skipped (with reasons, the list cut) and duration."""
    lines = [
        f"✅ <b>Feeds refreshed</b> in {report.seconds:.1f} s",
        f"Added {report.added} · updated {report.updated} · unchanged {report.unchanged} "
        f"· skipped {len(report.skipped)}",
    ]
    if report.added or report.updated:
        lines.append(_embedded_line(report))
    elif not report.skipped:
        lines.append("Nothing new: no feed has new or changed items.")
    for where, reason in report.skipped[:REPORT_ITEMS_SHOWN]:
        lines.append(f"• {escape(shorten(source_name(where, None), 160))}: "
                     f"{escape(shorten(reason, 200))}")
    if len(report.skipped) > REPORT_ITEMS_SHOWN:
        lines.append(f"• … and {len(report.skipped) - REPORT_ITEMS_SHOWN} more")
    return "\n".join(lines)


def render_no_feeds() -> str:
    return "I'm not following any feeds, so there is nothing to refresh: /feeds add URL."


def render_date_problem(error: DateFilterError) -> str:
    """What is wrong with a since:/until: filter, in the bot's words."""
    if isinstance(error, BackwardsRange):
        return f"since:{error.since} is after until:{error.until}."
    if isinstance(error, UnreadableDate):
        shown = shorten(error.value, 40) if error.value else " (no date given)"
        return f"I couldn't read the date in {error.bound}:{shown}."
    return str(error)


def render_date_usage(error: DateFilterError, usage: str) -> str:
    """A malformed since:/until: filter: what is wrong, how to write it, the command's
    usage (its registry line)."""
    return (f"{escape(render_date_problem(error))} {escape(DATE_FORMAT_HINT)}\n\n"
            f"{render_usage(usage)}")


def render_date_note(since: str | None, until: str | None) -> str | None:
    """The note above an answer limited to a date range."""
    if since and until:
        return f"Only articles published from {since} to {until}."
    if since:
        return f"Only articles published since {since}."
    if until:
        return f"Only articles published until {until}."
    return None


# --------------------------------------------------------------------------------------
# Splitting long messages
# --------------------------------------------------------------------------------------


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
