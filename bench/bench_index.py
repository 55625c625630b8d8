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

`--passage-vectors embedded` runs the same steps with passages embedded from their own text
instead of the product's default, the mean of their sentences' vectors
(`CITEBOT_PASSAGE_VECTORS`), and writes `bench-index-embedded.{json,md}`.
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
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from index.evaluate import evaluate, load_questions, percentile  # noqa: E402
from index.library import Library, Progress  # noqa: E402
from index.settings import DEFAULT_PASSAGE_VECTORS, PASSAGE_VECTORS, Settings  # noqa: E402
from index.storage import faiss_index as vectors  # noqa: E402


def index_corpus(library: Library, corpus: Path) -> dict[str, float]:
    """Index `corpus` from scratch: seconds in all and by stage (reading + storing,
    embedding, building + writing the index), and the tokens the model read."""
    marks: dict[str, float] = {}

    def progress(step: Progress) -> None:
        now = time.perf_counter()
        marks.setdefault(f"{step.stage}-first", now)
        marks[f"{step.stage}-last"] = now

    started = time.perf_counter()
    report = library.ingest([corpus], progress=progress)
    seconds = time.perf_counter() - started
    read_end = marks.get("reading-last", started)
    embed_end = marks.get("indexing-first", read_end)
    passages = [text for _key, text in library.store.passage_inputs()]
    sentences = [text for _key, text in library.store.sentence_keys()]
    lengths = library.embedder.input_lengths(passages + sentences)
    passage_tokens = sum(lengths[: len(passages)])
    tokens = sum(lengths) - (passage_tokens if report.embedded == 0 else 0)
    embed_s = embed_end - read_end
    return {
        "articles": report.added, "passages": len(passages), "sentences": len(sentences),
        "tokens": tokens, "passage_tokens": passage_tokens,
        "passages_embedded": report.embedded,
        "seconds": round(seconds, 2), "passages_per_s": round(len(passages) / seconds, 1),
        "tokens_per_s": round(tokens / seconds, 1),
        "stages_s": {"read_and_store": round(read_end - started, 2),
                     "embed": round(embed_s, 2),
                     "build_and_write_index": round(
                         marks.get("indexing-last", embed_end) - embed_end, 2)},
        "embed_tokens_per_s": round(tokens / embed_s, 1) if embed_s > 0 else 0.0,
    }


def save_vectors(library: Library, questions: list, path: Path) -> None:
    """The real vectors of this run (passages, sentences, dev questions) for
    bench/bench_scale.py's recall check on real data."""
    import faiss
    import numpy as np

    from index.storage.sqlite_store import sentence_model

    index = library.live_index()
    inner = faiss.downcast_index(index.raw.index)
    passages = inner.reconstruct_n(0, inner.ntotal)
    keys = [key for key, _text in library.store.sentence_keys()]
    dim = passages.shape[1]
    sentences = library.cache.fill(sentence_model(library.settings.model), keys, dim)
    queries = np.stack([library.embedder.embed_query(q.question) for q in questions])
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, passages=passages, sentences=sentences, questions=queries)


def timed_reindex(library: Library) -> dict[str, float]:
    started = time.perf_counter()
    report = library.reindex()
    return {"seconds": round(time.perf_counter() - started, 2), "embedded": report.embedded,
            "embedded_sentences": report.embedded_sentences, "updated": report.updated}


def dense_baseline(library: Library, questions: list, corpus: Path) -> dict[str, float]:
    """Dense-only retrieval on the same index: rank stories by FAISS score; answer = top
    passage; never abstains."""
    index = library.live_index()
    latencies, ranks, spans = [], [], []
    for question in questions:
        started = time.perf_counter()
        query = library.embedder.embed_query(question.question)
        found = index.search(query, 50)
        latencies.append((time.perf_counter() - started) * 1000)
        passages = library.store.passages(pid for pid, _ in found)
        stories: list[int] = []
        for pid, _ in found:
            if pid in passages and passages[pid].story_id not in stories:
                stories.append(passages[pid].story_id)
        if question.article is None:
            continue
        gold_article = library.store.article_by_origin(str(corpus / question.article))
        assert gold_article is not None, question.article
        gold = gold_article.story_id
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


def torch_query_check(library: Library, questions: list, corpus: Path) -> dict[str, object]:
    """The dev questions again on the same index with questions embedded by torch instead
    of ONNX Runtime: the quality must not change (the query backend is kept only if so)."""
    import index.library as library_module
    from index.vectors.embed import Embedder

    torch_embedder = Embedder(library.settings.model, query_backend="torch",
                              bulk_backend="torch")
    original = library_module.shared_embedder
    library_module.shared_embedder = lambda name, settings=None: torch_embedder  # type: ignore[assignment]
    try:
        metrics = evaluate(library, questions, corpus).metrics()
    finally:
        library_module.shared_embedder = original
    keys = ("hit_at_1", "hit_at_5", "mrr_at_10", "span_recall", "citation_precision",
            "abstention", "false_abstention")
    return {key: metrics.get(key) for key in keys}


def model_load_seconds(settings: Settings) -> float:
    from index.vectors.embed import Embedder

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
        f"({result['reindex_one_changed']['embedded']} passages and "
        f"{result['reindex_one_changed']['embedded_sentences']} sentences embedded) |",
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


def corpus_arguments(description: str) -> argparse.ArgumentParser:
    """A parser with the options the corpus benchmarks share: --corpus, --questions, --out."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared/corpora/bbc")
    parser.add_argument("--questions", type=Path,
                        default=ROOT.parent / "shared/eval/bbc_dev.jsonl")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    return parser


def main() -> None:
    parser = corpus_arguments(__doc__.split("\n")[0])
    parser.add_argument("--save-vectors", type=Path, default=None,
                        help="also save the real vectors (.npz) for bench_scale.py")
    parser.add_argument("--passage-vectors", choices=PASSAGE_VECTORS,
                        default=DEFAULT_PASSAGE_VECTORS,
                        help="how passages get their vectors (CITEBOT_PASSAGE_VECTORS)")
    args = parser.parse_args()
    default = args.passage_vectors == DEFAULT_PASSAGE_VECTORS
    with tempfile.TemporaryDirectory() as scratch:
        corpus = Path(scratch) / "bbc"
        shutil.copytree(args.corpus, corpus)
        settings = replace(Settings.from_env(data_dir=Path(scratch) / "store"),
                           passage_vectors=args.passage_vectors)
        library = Library(settings)
        result: dict[str, object] = {
            "date": datetime.now(UTC).strftime("%Y-%m-%d"),
            "machine": f"{platform.machine()}, {__import__('os').cpu_count()} cores",
            "command": "python bench/bench_index.py"
            + ("" if default else f" --passage-vectors {args.passage_vectors}"),
            "passage_vectors": args.passage_vectors,
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
        result["vector_index"] = vectors.describe(library.live_index().raw)
        if default:
            result["quality_torch_queries"] = torch_query_check(library, questions, corpus)
        if args.save_vectors:
            save_vectors(library, questions, args.save_vectors)
        library.close()
    args.out.mkdir(parents=True, exist_ok=True)
    name = "bench-index" + ("" if default else f"-{args.passage_vectors}")
    (args.out / f"{name}.json").write_text(json.dumps(result, indent=2))
    text = markdown(result)
    (args.out / f"{name}.md").write_text(text)
    print(text)
    print(re.sub(r"\s+", " ", json.dumps(result["product"]))[:2000])


if __name__ == "__main__":
    main()
