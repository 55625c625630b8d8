"""Benchmark: the BBC corpus indexed from scratch into each backend side by side — the
embedded one (SQLite + FAISS in a folder) and PostgreSQL + pgvector — then the question
files asked of both: index time by stage, question latency p50/p95, and quality.

Usage:  .venv/bin/python bench/bench_backends.py POSTGRES_URL [--corpus ../shared/corpora/bbc]
        [--questions F ...] [--out bench/results]

POSTGRES_URL must name an empty database (it gets citebot's schema). Each backend starts
with an empty embedding cache of its own, so both embed every text; the embedded backend
runs first, then PostgreSQL, on the same copy of the corpus, with the model loaded before
either. Writes
`bench-backends.{json,md}` into the output folder and prints the machine's CPU and flags.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_index import index_corpus, product_run  # noqa: E402
from machine import cpu_info, describe  # noqa: E402

from index.evaluate import load_questions  # noqa: E402
from index.library import Library  # noqa: E402
from index.settings import Settings  # noqa: E402
from index.vectors.embed import shared_embedder  # noqa: E402

QUALITY = ("hit_at_1", "mrr_at_10", "span_recall", "citation_precision", "abstention",
           "false_abstention")


def run_backend(settings: Settings, corpus: Path, question_files: list[Path]
                ) -> dict[str, object]:
    """Index `corpus` from scratch with `settings`' backend, then ask every question file."""
    library = Library(settings)
    try:
        result: dict[str, object] = {"index": index_corpus(library, corpus)}
        result["questions"] = {path.name: product_run(library, load_questions(path), corpus)
                               for path in question_files}
        return result
    finally:
        library.close()


def markdown(result: dict) -> str:
    lines = [f"# Backends side by side — {result['date']}", "", result["cpu"], "",
             "| | embedded (SQLite + FAISS) | PostgreSQL + pgvector |", "|---|---|---|"]
    runs = result["backends"]
    index = {name: runs[name]["index"] for name in runs}
    lines.append("| full index, s (read+store / embed / build) | " + " | ".join(
        f"{i['seconds']} ({i['stages_s']['read_and_store']} / {i['stages_s']['embed']} / "
        f"{i['stages_s']['build_and_write_index']})" for i in index.values()) + " |")
    for file in result["question_files"]:
        per = {name: runs[name]["questions"][file] for name in runs}
        lines.append(f"| {file}: question p50 / p95 ms | " + " | ".join(
            f"{m['latency_ms']['total']['p50']} / {m['latency_ms']['total']['p95']}"
            for m in per.values()) + " |")
        for metric in QUALITY:
            values = [m[metric] for m in per.values()]
            lines.append(f"| {file}: {metric} | " + " | ".join(str(v) for v in values)
                         + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="an empty PostgreSQL database with pgvector")
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared/corpora/bbc")
    parser.add_argument("--questions", type=Path, nargs="+", default=[
        ROOT.parent / "shared/eval/bbc_dev.jsonl", ROOT.parent / "shared/eval/bbc_chat_dev.jsonl"])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()
    print(describe(), flush=True)
    result: dict[str, object] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "cpu": describe(),
        "cpu_info": cpu_info(), "command": "python bench/bench_backends.py POSTGRES_URL",
        "question_files": [path.name for path in args.questions], "backends": {},
    }
    with tempfile.TemporaryDirectory() as scratch:
        corpus = Path(scratch) / "bbc"
        shutil.copytree(args.corpus, corpus)
        embedded = Settings.from_env(data_dir=Path(scratch) / "store")
        postgres = replace(Settings.from_env(data_dir=Path(scratch) / "unused"),
                           database_url=args.url)
        # The model, the bulk backend's calibration and that backend's weights are loaded
        # before either run, so that neither pays them.
        route = shared_embedder(embedded.model, embedded.embedding).bulk_route(10**9)
        result["bulk_backend"] = route
        for name, settings in (("embedded", embedded), ("postgresql", postgres)):
            result["backends"][name] = run_backend(settings, corpus, args.questions)
            print(name, json.dumps(result["backends"][name]["index"]), flush=True)
    result["cpu_after"] = describe()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench-backends.json").write_text(json.dumps(result, indent=2))
    text = markdown(result)
    (args.out / "bench-backends.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
