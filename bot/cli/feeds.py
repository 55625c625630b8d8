"""`citebot feeds add|list|remove`: the RSS and Atom feeds the collection follows."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from bot.cli._app import main, open_library

if TYPE_CHECKING:  # the heavy modules load in the commands that use them: --help is instant
    pass


@main.group()
def feeds() -> None:
    """Follow RSS and Atom feeds: `citebot refresh` reads their new and changed items."""


@feeds.command("add")
@click.argument("url")
@click.pass_context
def feeds_add(ctx: click.Context, url: str) -> None:
    """Follow the feed at URL (polled once now to check it)."""
    from index.sources.fetch import FetchError

    library = open_library(ctx)
    if library.feed(url) is not None:
        click.echo(f"already following {url}")
        return
    try:
        feed = library.add_feed(url)
    except FetchError as error:
        raise click.ClickException(f"cannot follow {url}: {error}") from error
    click.echo(f"following {feed.title or feed.url} ({feed.url}); "
               "run `citebot refresh` to read its items")


@feeds.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_context
def feeds_list(ctx: click.Context, as_json: bool) -> None:
    """The followed feeds, with their last poll."""
    from dataclasses import asdict

    followed = open_library(ctx).feeds()
    if as_json:
        click.echo(json.dumps([asdict(feed) for feed in followed], indent=2))
        return
    if not followed:
        click.echo("no feeds: add one with `citebot feeds add URL`")
    for feed in followed:
        polled = feed.last_polled_at or "never"
        error = f"; last error: {feed.last_error}" if feed.last_error else ""
        click.echo(f"{feed.url}  {feed.title or '-'}  items: {feed.items}; "
                   f"polled: {polled}{error}")


@feeds.command("remove")
@click.argument("url")
@click.option("--delete-articles", is_flag=True,
              help="Also delete the articles that came only from this feed.")
@click.pass_context
def feeds_remove(ctx: click.Context, url: str, delete_articles: bool) -> None:
    """Stop following the feed at URL (its articles stay unless --delete-articles)."""
    report = open_library(ctx).remove_feed(url, delete_articles=delete_articles)
    if report is None:
        raise click.ClickException(f"not following {url}")
    removed = f"; removed {report.removed} articles" if delete_articles else ""
    click.echo(f"stopped following {url}{removed}")
