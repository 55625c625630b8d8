"""The commands that answer: `ask` (one question, or one per line of stdin) and `eval` (a
question file scored)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from bot.cli._app import encoder_loading, main, open_library, setting_values
from bot.cli._common import SINCE_HELP, UNTIL_HELP, parse_dates, single_source
from index.settings import Settings

if TYPE_CHECKING:  # the heavy modules load in the commands that use them: --help is instant
    from index.qa.answer import Answer


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
    dates = parse_dates(since, until)
    if question is not None and not question.strip():
        raise click.UsageError("the question is empty")
    if earlier is not None and (question is None or not earlier.strip()):
        raise click.UsageError("--follow-up-of needs a QUESTION and a non-empty earlier one")
    settings = Settings.from_values(setting_values(ctx))
    with encoder_loading(settings):
        library = open_library(ctx, settings)
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

    library = open_library(ctx)
    corpus = corpus or single_source(library)
    if corpus is None:
        raise click.UsageError("not exactly one folder is ingested: name one with --corpus")
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
