"""Lists of articles (/latest, /search) and what the bot says of a since:/until: filter.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.render._html import escape, format_date, link, shorten
from bot.render._messages import render_usage
from bot.render._split import split_html
from index.filters import BackwardsRange, DateFilterError, UnreadableDate
from index.storage import StoredArticle

DATE_FORMAT_HINT = ("Write dates as YYYY-MM-DD (or YYYY-MM, YYYY), e.g. "
                    "since:2024-01-01 until:2024-12-31.")


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
