"""The commands that report: `stats` (the collection and the bot's use) and
`feedback export` (the answers users voted 👎, as a question file for `eval`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from bot.cli._app import main, open_library
from bot.cli._common import single_source

if TYPE_CHECKING:  # the heavy modules load in the commands that use them: --help is instant
    from bot.feedback import Usage
    from index.library import Library


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.option("--days", type=click.IntRange(min=1, max=366),
              help="The bot's usage over this many days [default: the bot's /stats period].")
@click.pass_context
def stats(ctx: click.Context, as_json: bool, days: int | None) -> None:
    """Articles, passages, vectors, model, index size and last reindex; then the bot's
    questions answered / declined and 👍 / 👎 over the last DAYS days."""
    from bot.feedback import DEFAULT_DAYS, REASONS

    days = days or DEFAULT_DAYS
    library = open_library(ctx)
    info = library.stats()
    usage = _bot_usage(library, days)

    if as_json:
        click.echo(json.dumps({**info, "bot_usage": usage.to_dict() if usage else None},
                              indent=2, ensure_ascii=False))
        return
    for key, value in info.items():
        if isinstance(value, list):
            value = ", ".join(map(str, value)) or "-"
        elif isinstance(value, dict):
            value = ", ".join(f"{k or 'unknown'} {v}" for k, v in value.items()) or "-"
        click.echo(f"{key.replace('_', ' '):>16}: {value if value is not None else '-'}")
    if usage is None:
        click.echo(f"{'bot usage':>16}: - (the bot has not answered here yet)")
        return
    votes = usage.up + usage.down
    click.echo(f"{'last ' + str(days) + ' days':>16}: {usage.questions} questions, answered "
               f"{usage.answered} ({usage.share(usage.answered, usage.questions)}), declined "
               f"{usage.declined} ({usage.share(usage.declined, usage.questions)})")
    click.echo(f"{'feedback':>16}: 👍 {usage.up} ({usage.share(usage.up, votes)}), "
               f"👎 {usage.down} ({usage.share(usage.down, votes)})"
               + "".join(f"; {REASONS.get(r, r)} {n}" for r, n in sorted(usage.reasons.items())))


def _bot_usage(library: Library, days: int) -> Usage | None:
    """The bot's usage over `days` days, None when the bot never ran on this collection."""
    from bot.state import open_feedback_log

    log = open_feedback_log(library)
    if log is None:
        return None
    try:
        return log.usage(days)
    finally:
        log.close()


@main.group()
def feedback() -> None:
    """What users said of the bot's answers (👍 / 👎 in Telegram)."""


@feedback.command("export")
@click.argument("file", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.pass_context
def feedback_export(ctx: click.Context, file: Path) -> None:
    """Write the questions whose answers got a 👎 to FILE as a question file for
    `citebot eval`: the cited article and an empty `answer` to fill in with the exact words
    of the article that answer the question (null: the articles can't answer it)."""
    from bot.state import open_feedback_log

    library = open_library(ctx)
    try:
        corpus = single_source(library)
        log = open_feedback_log(library)
        if log is None:
            where = library.backend.location
            raise click.ClickException(f"no bot answers in {where} yet: nothing to export")
        try:
            records = log.export_questions(corpus)
        finally:
            log.close()
    finally:
        library.close()
    file.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records),
                    encoding="utf-8")
    to_fill = sum(1 for r in records if r["answer"] == "")
    click.echo(f"wrote {len(records)} questions to {file}; fill in the `answer` of {to_fill} "
               f"before `citebot eval {file}`")
