"""pgvector HNSW at scale: synthetic embedding-like vectors (bench/synthetic.py) written as
one citebot index generation (`PgVectorGenerations.write`, HNSW cosine) into a PostgreSQL
database, then 200 queries through `PgVectorIndex.search` (k = 10, ef_search as citebot
sets it): p50/p95 latency, recall@10 against exact search, build time, table + index size.

    python bench/bench_pgvector.py POSTGRES_URL [--vectors 1000000]

The database should be empty: it gets citebot's schema.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_scale import exact_top
from machine import cpu_info, describe
from synthetic import DIM, clustered

from index.storage.postgres_store import PostgresStore
from index.storage.postgres_vectors import PgVectorGenerations, hnsw_build_memory_mb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--vectors", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    print(describe(), flush=True)
    model = clustered(args.vectors)
    data = np.concatenate(list(model.chunks()))
    queries = model.queries(args.queries)
    ids = np.arange(1, len(data) + 1, dtype=np.int64)
    store = PostgresStore.open(args.url)
    generations = PgVectorGenerations(store)
    started = time.perf_counter()
    with store.transaction():
        written = generations.write(ids, data, DIM)
        generations.make_live(written, model="synthetic", passage_vectors="embedded")
    build = time.perf_counter() - started
    index = generations.load_live()
    truth = exact_top(data, queries, 10) + 1
    millis, recall = [], []
    for query, expected in zip(queries, truth, strict=True):
        began = time.perf_counter()
        found = [pid for pid, _score in index.search(query, 10)]
        millis.append((time.perf_counter() - began) * 1000)
        recall.append(len(set(found) & set(expected.tolist())) / 10)
    print(json.dumps({
        "vectors": len(data), "build_s": round(build, 1),
        "search_p50_ms": round(float(np.percentile(millis, 50)), 2),
        "search_p95_ms": round(float(np.percentile(millis, 95)), 2),
        "recall_at_10": round(float(np.mean(recall)), 4),
        "table_and_index_mb": round(generations.live_bytes() / 2**20, 1),
        "hnsw_build_memory_mb": hnsw_build_memory_mb(len(data), DIM),
        "cpu": cpu_info(),
    }, indent=2))
    store.close()


if __name__ == "__main__":
    main()
