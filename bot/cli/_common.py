"""What several commands share: the embedding progress bar, the ingest report, the
`--since`/`--until` dates and the one ingested folder question files are relative to."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from index.filters import (
    DATE_FORMATS,
    BackwardsRange,
    DateRange,
    UnreadableDate,
    date_range,
)
from index.reports import IngestReport, Progress, ProgressCallback

if TYPE_CHECKING:  # the heavy modules load in the commands that use them: --help is instant
    from index.library import Library


@contextmanager
def progress_bar() -> Iterator[ProgressCallback]:
    """A tqdm bar on stderr for the embedding stage (shown only on a terminal or when long)."""
    from tqdm import tqdm

    bars: dict[str, tqdm] = {}

    def update(progress: Progress) -> None:
        if progress.stage != "embedding":
            return
        bar = bars.get("embedding")
        if bar is None:
            bar = bars["embedding"] = tqdm(total=progress.total, unit="text",
                                           desc="embedding", file=sys.stderr,
                                           disable=progress.total < 200 and not sys.stderr.isatty())
        bar.update(progress.done - bar.n)

    try:
        yield update
    finally:
        for bar in bars.values():
            bar.close()


def print_report(report: IngestReport, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps({
            "added": report.added, "updated": report.updated, "unchanged": report.unchanged,
            "removed": report.removed, "unchanged_files": report.unchanged_files,
            "embedded": report.embedded,
            "embedded_sentences": report.embedded_sentences,
            "readings": report.readings, "vectors": report.vectors,
            "seconds": round(report.seconds, 3),
            "skipped": [{"path": p, "reason": r} for p, r in report.skipped],
            "not_articles": dict(report.not_read.most_common()),
        }))
        return
    for path, reason in report.skipped:
        click.echo(f"skipped {path}: {reason}", err=True)
    click.echo(report.summary())


SINCE_HELP = "Only articles published on or after this date (YYYY-MM-DD, YYYY-MM or YYYY)."
UNTIL_HELP = "Only articles published on or before this date (YYYY-MM-DD, YYYY-MM or YYYY)."


def parse_dates(since: str | None, until: str | None) -> DateRange:
    """--since/--until checked by the date rules the bot's since:/until: follow."""
    try:
        return date_range(since, until)
    except UnreadableDate as error:
        raise click.BadParameter(f"{error.value!r} is not a date: write {DATE_FORMATS}",
                                 param_hint=f"--{error.bound}") from None
    except BackwardsRange as error:
        raise click.UsageError(f"--since {error.since} is after --until {error.until}"
                               ) from None


def single_source(library: Library) -> Path | None:
    """The one ingested folder question files are relative to, if there is exactly one."""
    sources = library.store.sources("path")
    return Path(sources[0]) if len(sources) == 1 else None
