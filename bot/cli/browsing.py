"""The commands that list articles: `search` (by words of the headline or body) and `latest`
(the newest, in a date range)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from bot.cli._app import main, open_library
from bot.cli._common import SINCE_HELP, UNTIL_HELP, parse_dates

if TYPE_CHECKING:  # the heavy modules load in the commands that use them: --help is instant
    from index.storage import StoredArticle


def _article_record(article: StoredArticle) -> dict[str, object]:
    """An article for --json: everything but its body."""
    return {"id": article.id, "title": article.title, "outlet": article.outlet,
            "author": article.author, "published_at": article.published_at,
            "url": article.url, "origin": article.origin, "story_id": article.story_id,
            "ingested_at": article.ingested_at}


def _print_articles(articles: list[StoredArticle], as_json: bool, empty: str) -> None:
    """Numbered `headline · outlet · date` lines with the URL or origin beneath, or JSON."""
    if as_json:
        click.echo(json.dumps([_article_record(a) for a in articles], ensure_ascii=False,
                              indent=2))
        return
    if not articles:
        click.echo(empty)
    for number, article in enumerate(articles, start=1):
        date = (article.published_at or "")[:10] or f"added {article.ingested_at[:10]}"
        meta = " · ".join(x for x in (article.title or "Untitled", article.outlet, date) if x)
        click.echo(f"{number}. {meta}")
        click.echo(f"    {article.url or article.origin}")


@main.command()
@click.argument("query")
@click.option("--limit", type=click.IntRange(min=1), default=10, show_default=True,
              help="At most this many articles.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
@click.pass_context
def search(ctx: click.Context, query: str, limit: int, as_json: bool) -> None:
    """The articles whose words match QUERY, best first, one per story (the bot's
    /search)."""
    if not query.strip():
        raise click.UsageError("the query is empty")
    found = open_library(ctx).search_articles(query, limit)
    _print_articles(found, as_json, f"no articles match {query!r}")


@main.command()
@click.argument("count", metavar="[N]", type=click.IntRange(min=1), default=10,
                required=False)
@click.option("--since", help=SINCE_HELP)
@click.option("--until", help=UNTIL_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
@click.pass_context
def latest(ctx: click.Context, count: int, since: str | None, until: str | None,
           as_json: bool) -> None:
    """The N newest stories (default 10), newest first, optionally only those published
    in a date range (the bot's /latest)."""
    dates = parse_dates(since, until)
    articles = open_library(ctx).latest(count, since=dates.since, until=dates.until)
    _print_articles(articles, as_json, "no articles" + (" in that date range" if dates else ""))
