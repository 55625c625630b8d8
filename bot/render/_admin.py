"""What admins see: /stats (the collection, the LLM reader, usage and feedback), the
progress and reports of /reindex, /add and /refresh, the followed feeds, and removals.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.feedback import REASONS, Usage
from bot.render._html import escape, format_time, is_web_url, shorten, source_name
from bot.render._split import split_html
from index.library import IngestReport, Progress
from index.storage import StoredFeed

REPORT_ITEMS_SHOWN = 5

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
    if not is_web_url(removed):
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
