"""Benchmark: index the BBC corpus, reindex, and answer the dev questions — with a baseline.

Usage:  .venv/bin/python bench/bench_index.py [--corpus ../shared/corpora/bbc]
        [--questions ../shared/eval/bbc_dev.jsonl] [--out bench/results]

Steps, all in one run on this machine:
1. copy the corpus to a temporary folder and index it from scratch (passages, seconds,
   passages/s, tokens/s with the model's own tokenizer);
2. reindex with nothing changed; reindex after one article changed;
3. answer every dev question in-process: latency p50/p95/p99 split into embedding, search
   and answer composition, and quality (Hit@1, MRR@10, span recall, abstention);
4. side by side on the same index and questions, a plain dense-only baseline (top-k
   passages from FAISS, the best passage as the answer, no abstention).
Writes `bench-index.json` and `bench-index.md` into the output folder.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from index import vectors  # noqa: E402
from index.config import Settings  # noqa: E402
from index.evaluate import evaluate, load_questions  # noqa: E402
from index.library import Library  # noqa: E402


def percentile(values: list[float], percent: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    position = (len(ordered) - 1) * percent / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def index_corpus(library: Library, corpus: Path) -> dict[str, float]:
    started = time.perf_counter()
    report = library.ingest([corpus])
    seconds = time.perf_counter() - started
    texts = [row[0] for row in library.store.db.execute(
        "SELECT a.title || char(10) || p.text FROM passages p JOIN articles a "
        "ON a.id = p.article_id")]
    tokens = sum(min(library.embedder.count_tokens(t), library.embedder.max_tokens)
                 for t in texts)
    return {
        "articles": report.added, "passages": len(texts), "tokens": tokens,
        "seconds": round(seconds, 2), "passages_per_s": round(len(texts) / seconds, 1),
        "tokens_per_s": round(tokens / seconds, 1),
    }


def timed_reindex(library: Library) -> dict[str, float]:
    started = time.perf_counter()
    report = library.reindex()
    return {"seconds": round(time.perf_counter() - started, 2), "embedded": report.embedded,
            "updated": report.updated}


def dense_baseline(library: Library, questions: list, corpus: Path) -> dict[str, float]:
    """Dense-only retrieval on the same index: rank stories by FAISS score; answer = top
    passage; never abstains."""
    index = library.live_index()
    latencies, ranks, spans = [], [], []
    for question in questions:
        started = time.perf_counter()
        query = library.embedder.embed_query(question.question)
        found = vectors.search(index, query, 50)
        latencies.append((time.perf_counter() - started) * 1000)
        passages = library.store.passages(pid for pid, _ in found)
        stories: list[int] = []
        for pid, _ in found:
            if pid in passages and passages[pid].story_id not in stories:
                stories.append(passages[pid].story_id)
        if question.article is None:
            continue
        row = library.store.db.execute("SELECT story_id FROM articles WHERE origin=?",
                                       [str(corpus / question.article)]).fetchone()
        gold = row[0]
        ranks.append(stories.index(gold) + 1 if gold in stories[:10] else None)
        top_text = passages[found[0][0]].text if found else ""
        spans.append(" ".join((question.answer or "").split()).lower()
                     in " ".join(top_text.split()).lower())
    n = len(ranks)
    return {
        "hit_at_1": round(sum(1 for r in ranks if r == 1) / n, 4),
        "hit_at_5": round(sum(1 for r in ranks if r and r <= 5) / n, 4),
        "mrr_at_10": round(sum(1 / r for r in ranks if r) / n, 4),
        "span_in_top_passage": round(sum(spans) / n, 4),
        "abstention": 0.0,
        "latency_p50_ms": round(percentile(latencies, 50), 2),
        "latency_p95_ms": round(percentile(latencies, 95), 2),
    }


def product_run(library: Library, questions: list, corpus: Path) -> dict[str, object]:
    for question in questions[:5]:  # warm up caches and the model
        library.ask(question.question)
    report = evaluate(library, questions, corpus)
    metrics = report.metrics()
    parts = {name: [o.answer.timings_ms[name] for o in report.outcomes]
             for name in ("embed", "search", "answer", "total")}
    metrics["latency_ms"] = {
        name: {"p50": round(percentile(v, 50), 2), "p95": round(percentile(v, 95), 2),
               "p99": round(percentile(v, 99), 2)}
        for name, v in parts.items()
    }
    return metrics


def model_load_seconds(settings: Settings) -> float:
    from index.embed import Embedder

    started = time.perf_counter()
    Embedder(settings.model)
    return round(time.perf_counter() - started, 2)


def markdown(result: dict) -> str:
    ix, base, prod = result["index"], result["baseline_dense"], result["product"]
    lat = prod["latency_ms"]
    rows = [
        f"Run {result['date']} on {result['machine']} — `{result['command']}`", "",
        "| indexing | value |", "|---|---|",
        f"| articles / passages / tokens | {ix['articles']} / {ix['passages']} / "
        f"{ix['tokens']} |",
        f"| full index from scratch | {ix['seconds']} s ({ix['passages_per_s']} passages/s, "
        f"{ix['tokens_per_s']} tokens/s) |",
        f"| reindex, nothing changed | {result['reindex_unchanged']['seconds']} s |",
        f"| reindex, one article changed | {result['reindex_one_changed']['seconds']} s "
        f"({result['reindex_one_changed']['embedded']} passages embedded) |",
        f"| model load | {result['model_load_s']} s |", "",
        "| dev questions | dense-only baseline | citebot |", "|---|---|---|",
        f"| Hit@1 | {base['hit_at_1']} | {prod['hit_at_1']} |",
        f"| Hit@5 | {base['hit_at_5']} | {prod['hit_at_5']} |",
        f"| MRR@10 | {base['mrr_at_10']} | {prod['mrr_at_10']} |",
        f"| answer span recall | {base['span_in_top_passage']} (in top passage) | "
        f"{prod['span_recall']} (answer ≤ {prod['answer_chars_max']} chars) |",
        f"| citation precision | – | {prod['citation_precision']} |",
        f"| abstention (unanswerable) | 0.0 | {prod['abstention']} |",
        f"| false abstention | 0.0 | {prod['false_abstention']} |",
        f"| latency p50 / p95 ms | {base['latency_p50_ms']} / {base['latency_p95_ms']} | "
        f"{lat['total']['p50']} / {lat['total']['p95']} (p99 {lat['total']['p99']}) |",
        f"| of which embed / search / answer p50 ms | | {lat['embed']['p50']} / "
        f"{lat['search']['p50']} / {lat['answer']['p50']} |",
    ]
    return "\n".join(rows) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared/corpora/bbc")
    parser.add_argument("--questions", type=Path,
                        default=ROOT.parent / "shared/eval/bbc_dev.jsonl")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        corpus = Path(scratch) / "bbc"
        shutil.copytree(args.corpus, corpus)
        settings = Settings.from_env(data_dir=Path(scratch) / "store")
        library = Library(settings)
        result: dict[str, object] = {
            "date": datetime.now(UTC).strftime("%Y-%m-%d"),
            "machine": f"{platform.machine()}, {__import__('os').cpu_count()} cores",
            "command": "python bench/bench_index.py",
            "model_load_s": model_load_seconds(settings),
        }
        result["index"] = index_corpus(library, corpus)
        result["reindex_unchanged"] = timed_reindex(library)
        changed = next(iter(sorted(corpus.glob("business/*.txt"))))
        changed.write_text(changed.read_text(encoding="utf-8", errors="replace")
                           + "\nThe company declined to comment further.\n", encoding="utf-8")
        result["reindex_one_changed"] = timed_reindex(library)
        questions = load_questions(args.questions)
        result["baseline_dense"] = dense_baseline(library, questions, corpus)
        result["product"] = product_run(library, questions, corpus)
        library.close()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench-index.json").write_text(json.dumps(result, indent=2))
    text = markdown(result)
    (args.out / "bench-index.md").write_text(text)
    print(text)
    print(re.sub(r"\s+", " ", json.dumps(result["product"]))[:2000])


if __name__ == "__main__":
    main()
