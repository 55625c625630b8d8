"""Telegram HTML for everything the bot says: answers, sources, quotes, lists, progress.

This package owns the bot's wording and formatting, as pure functions from results to
strings (plus the inline keyboard of an answer); callers use `from bot import render` and
`render.<name>`. Each concern has a module of its own:

* `_html`: escaping, links, short forms of text and dates, UTF-16 length;
* `_split`: `split_html`, which cuts anything longer than one message at paragraph, line,
  sentence or word boundaries and closes/reopens tags around each cut;
* `_answers`: an answer's text, its sources and the buttons under it;
* `_quotes`: a citation opened, with its quote in context;
* `_lists`: article lists and date filters;
* `_admin`: /stats, reindex, ingest and feed reports;
* `_messages`: fixed sentences, help and the short replies.

All dynamic text goes through `escape`, so Telegram never sees a stray `<` or `&`.
"""

from bot.render._admin import (
    PASSAGE_VECTORS_SAID,
    REPORT_ITEMS_SHOWN,
    render_busy,
    render_failure,
    render_feed_added,
    render_feed_removed,
    render_feeds,
    render_ingest_report,
    render_no_feeds,
    render_refresh_progress,
    render_refresh_report,
    render_reindex_progress,
    render_reindex_report,
    render_removed,
    render_stats,
    render_usage_stats,
)
from bot.render._answers import (
    ALSO_REPORTED_SHOWN,
    BUTTON_MIN_HEADLINE_CHARS,
    BUTTON_TITLE_CHARS,
    FEEDBACK_THANKS,
    FEEDBACK_WHY,
    MAX_CALLBACK_DATA_BYTES,
    REASON_BUTTONS,
    also_reported_by,
    answer_html,
    answer_keyboard,
    citation_button_label,
    citation_callback_data,
    citation_keyboard,
    parse_citation_callback,
    render_answer,
    render_feedback_noted,
    source_line,
)
from bot.render._html import (
    MAX_LINK_URL,
    MAX_MESSAGE_UTF16,
    clean_text,
    escape,
    format_date,
    format_time,
    is_web_url,
    link,
    shorten,
    source_name,
    utf16_len,
)
from bot.render._lists import (
    DATE_FORMAT_HINT,
    article_line,
    render_article_list,
    render_date_note,
    render_date_problem,
    render_date_usage,
    render_latest,
    render_search_results,
)
from bot.render._messages import (
    EXAMPLE_QUESTIONS,
    NOT_ALLOWED_SHORT,
    NOT_INDEXED,
    QUOTE_ALREADY_SHOWN,
    SOMETHING_WENT_WRONG,
    STORAGE_UNAVAILABLE,
    STORAGE_UNAVAILABLE_SHORT,
    TEXT_ONLY,
    render_admin_only,
    render_help,
    render_mention_hint,
    render_not_allowed,
    render_slow_down,
    render_small_talk,
    render_start,
    render_truncation_note,
    render_unknown_command,
    render_usage,
)
from bot.render._quotes import (
    QUOTE_CONTEXT_CHARS,
    QuoteInContext,
    citation_html,
    quote_in_context,
    render_citation,
    render_no_such_source,
)
from bot.render._split import split_html

__all__ = [
    "ALSO_REPORTED_SHOWN", "BUTTON_MIN_HEADLINE_CHARS", "BUTTON_TITLE_CHARS",
    "DATE_FORMAT_HINT", "EXAMPLE_QUESTIONS", "FEEDBACK_THANKS", "FEEDBACK_WHY",
    "MAX_CALLBACK_DATA_BYTES", "MAX_LINK_URL", "MAX_MESSAGE_UTF16", "NOT_ALLOWED_SHORT",
    "NOT_INDEXED", "PASSAGE_VECTORS_SAID", "QUOTE_ALREADY_SHOWN", "QUOTE_CONTEXT_CHARS",
    "REASON_BUTTONS", "REPORT_ITEMS_SHOWN", "SOMETHING_WENT_WRONG", "STORAGE_UNAVAILABLE",
    "STORAGE_UNAVAILABLE_SHORT", "TEXT_ONLY", "QuoteInContext", "also_reported_by",
    "answer_html", "answer_keyboard", "article_line", "citation_button_label",
    "citation_callback_data", "citation_html", "citation_keyboard", "clean_text", "escape",
    "format_date", "format_time", "is_web_url", "link", "parse_citation_callback",
    "quote_in_context", "render_admin_only", "render_answer", "render_article_list",
    "render_busy", "render_citation", "render_date_note", "render_date_problem",
    "render_date_usage", "render_failure", "render_feed_added", "render_feed_removed",
    "render_feedback_noted", "render_feeds", "render_help", "render_ingest_report",
    "render_latest", "render_mention_hint", "render_no_feeds", "render_no_such_source",
    "render_not_allowed", "render_refresh_progress", "render_refresh_report",
    "render_reindex_progress", "render_reindex_report", "render_removed",
    "render_search_results", "render_slow_down", "render_small_talk", "render_start",
    "render_stats", "render_truncation_note", "render_unknown_command", "render_usage",
    "render_usage_stats", "shorten", "source_line", "source_name", "split_html",
    "utf16_len",
]
