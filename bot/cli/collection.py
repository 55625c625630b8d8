"""The commands that change the collection: `ingest`, `reindex`, `remove`, `refresh` (the
followed feeds) and `migrate` (to PostgreSQL)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from bot.cli._app import main, open_library, setting_values
from bot.cli._common import print_report, progress_bar
from index.reports import IngestReport
from index.settings import Settings
from index.targets import is_web_address, removal_candidates

if TYPE_CHECKING:  # the heavy modules load in the commands that use them: --help is instant
    from bot.state_migration import BotStateReport
    from index.migrate import MigrationReport

# Where to embed, for the commands that embed.
ray_option = click.option(
    "--ray", "ray_address", is_flag=False, flag_value="local", default=None,
    metavar="[ADDRESS]", help="Embed on Ray workers: a cluster's address, or none to start a "
    "local Ray runtime (give it after any paths, or as --ray=ADDRESS) "
    "[env CITEBOT_RAY_ADDRESS].")


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--no-index", is_flag=True, help="Only store the articles; embed later.")
@ray_option
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def ingest(ctx: click.Context, paths: tuple[str, ...], no_index: bool,
           ray_address: str | None, as_json: bool) -> None:
    """Add or update articles from files, folders (.txt .md .html .json .jsonl) and web
    pages (http/https URLs).

    Folders are read recursively. Unchanged articles are left alone; changed ones are
    updated in place; a page is stored under its canonical URL, so URL variants of one
    story (tracking parameters, AMP, http/https) give one article. Exits non-zero only if
    nothing could be ingested."""
    library = open_library(ctx, ray_address=ray_address)
    urls = [p for p in paths if is_web_address(p)]
    files = [p for p in paths if not is_web_address(p)]
    report = IngestReport()
    with progress_bar() as progress:
        if urls:
            report.merge(library.ingest_urls(urls, build_index=not (no_index or files),
                                             progress=progress))
        if files:
            report.merge(library.ingest(files, build_index=not no_index, progress=progress))
    print_report(report, as_json)
    if report.skipped and not (report.added or report.updated or report.unchanged):
        ctx.exit(1)


@main.command()
@click.option("--full", is_flag=True,
              help="Re-read every file and re-embed every text (sentences; passages too "
              "with CITEBOT_PASSAGE_VECTORS=embedded), ignoring the caches.")
@ray_option
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def reindex(ctx: click.Context, full: bool, ray_address: str | None, as_json: bool) -> None:
    """Re-read every ingested file or folder, embed what changed, swap in a new index.

    Files unchanged since they were last read (same size and modification time, or same
    content) are not read again; when nothing changed the index is kept as it is."""
    library = open_library(ctx, ray_address=ray_address)
    with progress_bar() as progress:
        report = library.reindex(full=full, progress=progress)
    print_report(report, as_json)


@main.command()
@click.argument("origin")
@click.pass_context
def remove(ctx: click.Context, origin: str) -> None:
    """Delete the article stored under ORIGIN (a file path or URL) with its vectors."""
    library = open_library(ctx)
    if not any(library.remove(c) for c in removal_candidates(origin)):
        raise click.ClickException(f"no article with origin {origin}")
    click.echo(f"removed {origin}")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def refresh(ctx: click.Context, as_json: bool) -> None:
    """Poll every followed feed and ingest its new and changed items, then index them.

    Feeds answer "not modified" when nothing changed, and only new or changed items'
    pages are fetched."""
    library = open_library(ctx)
    with progress_bar() as progress:
        report = library.refresh(progress=progress)
    print_report(report, as_json)


@main.command()
@click.option("--to", "to_url", required=True, metavar="URL",
              help="The PostgreSQL database to copy into (postgresql://…, empty).")
@click.option("--sample", type=click.IntRange(min=0), default=5, show_default=True,
              help="Questions asked of both collections after the copy, to compare.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def migrate(ctx: click.Context, to_url: str, sample: int, as_json: bool) -> None:
    """Copy the collection in --data-dir into PostgreSQL without embedding anything again
    (the vectors come from the cache), then the bot's answers and votes from its
    bot.sqlite (ids kept, so buttons already sent still work; rate limits are not
    copied), then check counts and a sample of answers."""
    from dataclasses import asdict, replace

    from bot.state_migration import (
        StateMigrationError,
        copy_bot_state,
        read_bot_state,
        refuse_if_answered,
    )
    from index.migrate import MigrationError
    from index.migrate import migrate as copy_collection
    from index.settings import database_url

    settings = Settings.from_values(setting_values(ctx))
    target_url = database_url().read(to_url, "--to")
    source = open_library(ctx, replace(settings, database_url=None))
    target = open_library(ctx, replace(settings, database_url=target_url))
    database = target.backend.database
    assert database is not None
    try:
        bot_state = read_bot_state(settings.data_dir)
        if bot_state is not None:
            refuse_if_answered(database)
        with progress_bar() as progress:
            report = copy_collection(source, target, sample=sample, progress=progress)
    except (MigrationError, StateMigrationError) as error:
        raise click.ClickException(str(error)) from error
    try:
        bot_report = copy_bot_state(bot_state, database) if bot_state else None
    except StateMigrationError as error:
        raise click.ClickException(f"{error} (the collection itself was copied)") from error
    counts_match = report.counts_match and (bot_report is None or bot_report.counts_match)
    if as_json:
        bot_json = None if bot_report is None else {
            **asdict(bot_report), "answers": bot_report.answers, "votes": bot_report.votes}
        click.echo(json.dumps({**asdict(report), "bot_state": bot_json,
                               "counts_match": counts_match}, indent=2))
    else:
        _print_migration(report, bot_report)
    if not counts_match:
        ctx.exit(1)


def _print_migration(report: MigrationReport, bot_report: BotStateReport | None) -> None:
    click.echo(f"copied {report.articles} articles and {report.vectors_copied} cached "
               f"vectors; embedded {report.embedded} texts")
    if bot_report is None:
        click.echo("no bot.sqlite in the data folder: no bot answers or votes to copy")
    else:
        left = bot_report.skipped
        skipped = f"; skipped {left} row{'s' * (left != 1)} naming no answer" if left else ""
        click.echo(f"copied {bot_report.answers} bot answers and {bot_report.votes} votes "
                   f"from bot.sqlite (rate limits are not copied){skipped}")
    counts = {**report.counts, **{f"bot {name}": pair for name, pair
                                  in (bot_report.counts if bot_report else {}).items()}}
    for name, (before, after) in counts.items():
        click.echo(f"{name:>20}: {before} → {after}" + ("" if before == after
                                                        else "  MISMATCH"))
    click.echo(f"{'sample answers':>20}: {report.answers_same}/{report.answers_compared} "
               "cite the same articles")
    for question in report.different:
        click.echo(f"  differs: {question}")
