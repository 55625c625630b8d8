"""The peer of the benchmark: txtai on the same corpus, model and questions.

Run ONLY with the interpreter of bench/.venv-txtai (made by bench/setup_txtai.sh); citebot
never imports txtai. bench/run_all.py runs it as a subprocess:

    bench/.venv-txtai/bin/python bench/peer_txtai.py --corpus ../shared/corpora/bbc \
        --questions ../shared/eval/bbc_dev.jsonl --model MODEL_FOLDER --out peer.json

txtai is configured as its documentation suggests for hybrid search: the same
all-MiniLM-L6-v2 (the local folder, nothing downloaded), `content=True`, `hybrid=True`
(BM25 + dense, scores combined), FAISS; documents are the articles' paragraphs (blank-line
separated, the headline as its own chunk), each with its article's path. Measured: index
time, query latency (`search(question, 10)`, one at a time, in-process) and retrieval
quality by article (Hit@1/5, MRR@10; an exact duplicate of the gold article counts as gold,
as in `citebot eval`). Writes one JSON object.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import sys
import time
from importlib.metadata import version
from pathlib import Path

import numpy


def read_corpus(corpus: Path) -> tuple[list[tuple[str, str, None]], dict[str, str]]:
    """Paragraph chunks (id, text, None) and each article's body hash (for duplicates)."""
    chunks: list[tuple[str, str, None]] = []
    body_hash: dict[str, str] = {}
    for path in sorted(corpus.rglob("*.txt")):
        if path.name.upper().startswith("README"):
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        lines = text.strip().split("\n", 1)
        title, body = lines[0].strip(), (lines[1] if len(lines) > 1 else "")
        name = str(path.relative_to(corpus))
        body_hash[name] = hashlib.sha256(" ".join(body.split()).encode()).hexdigest()
        paragraphs = [" ".join(p.split()) for p in body.split("\n\n")]
        for number, paragraph in enumerate([title, *paragraphs]):
            if paragraph:
                chunks.append((f"{name}#{number}", paragraph, None))
    return chunks, body_hash


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--questions", type=Path, required=True)
    parser.add_argument("--model", required=True, help="local sentence-transformers folder")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--limit", type=int, default=0, help="index only N chunks (smoke)")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

    started = time.perf_counter()
    import torch
    from txtai import Embeddings

    import_s = time.perf_counter() - started
    chunks, body_hash = read_corpus(args.corpus)
    if args.limit:
        chunks = chunks[: args.limit]
    embeddings = Embeddings(path=args.model, content=True, hybrid=True, backend="faiss")

    started = time.perf_counter()
    embeddings.index(chunks)
    index_s = time.perf_counter() - started

    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(args.model)
    tokens = sum(len(ids) for ids in tokenizer([text for _, text, _ in chunks],
                                                truncation=True, max_length=256)["input_ids"])

    questions = [json.loads(line) for line in args.questions.read_text().splitlines()
                 if line.strip()]
    for question in questions[:5]:
        embeddings.search(question["question"], 10)
    latencies, ranks = [], []
    for question in questions:
        started = time.perf_counter()
        results = embeddings.search(question["question"], 10)
        latencies.append((time.perf_counter() - started) * 1000)
        if not question.get("article"):
            continue
        gold = body_hash.get(question["article"])
        articles: list[str] = []
        for result in results:
            article = str(result["id"]).rsplit("#", 1)[0]
            if article not in articles:
                articles.append(article)
        rank = next((i + 1 for i, a in enumerate(articles) if body_hash.get(a) == gold), None)
        ranks.append(rank)
    answerable = len(ranks) or 1
    result = {
        "peer": "txtai",
        "txtai_version": version("txtai"),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "config": {"content": True, "hybrid": True, "backend": "faiss",
                   "chunks": "paragraphs + headline"},
        "import_s": round(import_s, 2),  # torch + txtai; the model loads inside index()
        "chunks": len(chunks),
        "tokens": tokens,
        "index_s": round(index_s, 2),
        "tokens_per_s": round(tokens / index_s, 1),
        # numpy's default percentile: linear interpolation, as index.evaluate.percentile
        # (this script runs in txtai's virtualenv, which cannot import the index package).
        "latency_ms": {f"p{p}": round(float(numpy.percentile(latencies, p)), 2)
                       for p in (50, 95, 99)},
        "hit_at_1": round(sum(1 for r in ranks if r == 1) / answerable, 4),
        "hit_at_5": round(sum(1 for r in ranks if r and r <= 5) / answerable, 4),
        "mrr_at_10": round(sum(1 / r for r in ranks if r) / answerable, 4),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result), file=sys.stderr)


if __name__ == "__main__":
    main()
