"""How close PostgreSQL's lexical ranking is to FTS5's BM25 on one collection held by both
backends (e.g. after `citebot migrate`): for every question of the given files, the top-k
passages of `SQLiteStore.lexical_search` (FTS5 BM25) against those of
`PostgresStore.lexical_search` (BM25 computed in SQL from the tsvector) and against plain
`ts_rank` / `ts_rank_cd` on the same tsvector — overlap of the top k and whether the first
passage is the same. Passages are matched across the backends by (article origin, seq).

    python bench/lexical_agreement.py DATA_DIR POSTGRES_URL QUESTIONS.jsonl... [--k 10]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from index.storage.postgres_db import TEXT_SEARCH
from index.storage.postgres_store import PostgresStore, query_words
from index.storage.sqlite_store import SQLiteStore
from index.text import query_terms


def _keys(store: SQLiteStore | PostgresStore, ids: list[int]) -> list[tuple[str, int]]:
    passages = store.passages(ids)
    articles = store.articles(p.article_id for p in passages.values())
    return [(articles[passages[i].article_id].origin, passages[i].seq) for i in ids]


def _ts_rank(store: PostgresStore, words: str, k: int, function: str) -> list[int]:
    rows = store._rows(  # a measurement of the backend's internals
        f"SELECT id FROM passages, to_tsquery('{TEXT_SEARCH}', %s) q WHERE tsv @@ q "
        f"ORDER BY {function}(tsv, q) DESC, id LIMIT %s",
        [" | ".join(f"'{w}'" for w in words.split()), k])
    return [row[0] for row in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("url")
    parser.add_argument("questions", nargs="+", type=Path)
    parser.add_argument("--k", type=int, default=10)
    args = parser.parse_args()
    sqlite, postgres = SQLiteStore(args.data_dir), PostgresStore.open(args.url)
    rankers = {
        "bm25-sql": lambda terms: [i for i, _s in postgres.lexical_search(terms, args.k)],
        "ts_rank": lambda terms: _ts_rank(postgres, query_words(terms), args.k, "ts_rank"),
        "ts_rank_cd": lambda terms: _ts_rank(postgres, query_words(terms), args.k,
                                             "ts_rank_cd"),
    }
    overlap: dict[str, list[float]] = {name: [] for name in rankers}
    same_first: dict[str, int] = dict.fromkeys(rankers, 0)
    millis: dict[str, list[float]] = {name: [] for name in rankers}
    for path in args.questions:
        for line in path.read_text(encoding="utf-8").splitlines():
            terms = query_terms(json.loads(line)["question"])
            reference = _keys(sqlite, [i for i, _s in sqlite.lexical_search(terms, args.k)])
            if not reference:
                continue
            for name, ranker in rankers.items():
                started = time.perf_counter()
                found = _keys(postgres, ranker(terms))
                millis[name].append((time.perf_counter() - started) * 1000)
                overlap[name].append(len(set(found) & set(reference)) / len(reference))
                same_first[name] += bool(found) and found[0] == reference[0]
    count = len(overlap["bm25-sql"])
    print(f"{count} questions, top {args.k} against FTS5 BM25:")
    for name in rankers:
        print(f"  {name:>10}: overlap {statistics.mean(overlap[name]):.3f}, same first "
              f"{same_first[name] / count:.3f}, p50 {statistics.median(millis[name]):.1f} ms")


if __name__ == "__main__":
    main()
