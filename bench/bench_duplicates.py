"""Benchmark: near-duplicate story detection (index/sources/dedupe.py) on the BBC corpus.

Usage:  .venv/bin/python bench/bench_duplicates.py [--corpus ../shared/corpora/bbc]
        [--repeat 3]

1. Stores the corpus (`Library.ingest(build_index=False)`: read, clean, chunk, store) into
   a fresh temporary store, with detection on, and again with it switched off (the
   fingerprint, lookup and bucket steps replaced by no-ops), alternately `--repeat` times:
   the difference of the fastest runs is the time detection adds to an ingest.
2. Exact all-pairs ground truth over the stored bodies (a sparse shingle matrix, A·Aᵀ):
   every pair the rule of `index.sources.dedupe` calls near-duplicate, and how many of them the
   stored stories group (recall of the MinHash/LSH candidate step).
3. Prints the grouped near-duplicate pairs (Jaccard, containment, headlines) for a spot check,
   and the closest pairs the rule leaves apart.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import combinations
from pathlib import Path

import numpy as np
from scipy import sparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from index.library import Library  # noqa: E402
from index.settings import Settings  # noqa: E402
from index.sources import dedupe  # noqa: E402


@contextmanager
def detection_off() -> Iterator[None]:
    """Detection replaced by no-ops, for the baseline."""
    saved = (dedupe.Fingerprint.of, dedupe.story_of_near_duplicate, dedupe.remember)
    empty = dedupe.Fingerprint(frozenset(), ())
    dedupe.Fingerprint.of = classmethod(  # type: ignore[method-assign]
        lambda cls, text, title="": empty)
    dedupe.story_of_near_duplicate = lambda db, fingerprint: None  # type: ignore[assignment]
    dedupe.remember = lambda db, article_id, fingerprint: None  # type: ignore[assignment]
    try:
        yield
    finally:
        dedupe.Fingerprint.of, dedupe.story_of_near_duplicate, dedupe.remember = saved


def store_corpus(corpus: Path, data_dir: Path) -> tuple[Library, float]:
    library = Library(Settings(data_dir=data_dir))
    started = time.perf_counter()
    report = library.ingest([corpus], build_index=False)
    assert report.added > 0, report.skipped
    return library, time.perf_counter() - started


def all_pairs(bodies: dict[int, str]) -> dict[tuple[int, int], dedupe.Similarity]:
    """Exact similarity of every pair of bodies sharing at least one shingle."""
    ids = sorted(bodies)
    sets = [dedupe.shingles(bodies[i]) for i in ids]
    vocabulary: dict[str, int] = {}
    rows, cols = [], []
    for row, shingle_set in enumerate(sets):
        for shingle in shingle_set:
            rows.append(row)
            cols.append(vocabulary.setdefault(shingle, len(vocabulary)))
    matrix = sparse.csr_matrix((np.ones(len(rows), dtype=np.int32), (rows, cols)),
                               shape=(len(ids), len(vocabulary)))
    common = sparse.triu(matrix @ matrix.T, k=1).tocoo()
    sizes = np.array([len(s) for s in sets])
    pairs = {}
    for a, b, shared in zip(common.row, common.col, common.data, strict=True):
        union = sizes[a] + sizes[b] - shared
        pairs[(ids[a], ids[b])] = dedupe.Similarity(shared / union,
                                                    shared / min(sizes[a], sizes[b]))
    return pairs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared/corpora/bbc")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    corpus = args.corpus.resolve()

    with tempfile.TemporaryDirectory() as tmp:
        off_runs, on_runs = [], []
        for run in range(args.repeat):
            with detection_off():
                baseline, seconds = store_corpus(corpus, Path(tmp) / f"off-{run}")
                off_runs.append(seconds)
                baseline.close()
            library, seconds = store_corpus(corpus, Path(tmp) / f"on-{run}")
            on_runs.append(seconds)
            if run < args.repeat - 1:
                library.close()
        off_seconds, on_seconds = min(off_runs), min(on_runs)
        rows = [(a.id, a.body, library.store.text_identity(a.id), a.story_id, a.origin,
                 a.title) for a in library.store.all_articles()]
        started = time.perf_counter()
        for _id, body, _hash, _story, _origin, title in rows:
            dedupe.Fingerprint.of(body, title)
        fingerprint_seconds = time.perf_counter() - started
        library.close()

    bodies = {row[0]: row[1] for row in rows}
    body_hash = {row[0]: row[2] for row in rows}
    story = {row[0]: row[3] for row in rows}
    name = {row[0]: f"{Path(row[4]).parent.name}/{Path(row[4]).name} “{row[5]}”" for row in rows}
    started = time.perf_counter()
    pairs = all_pairs(bodies)
    exact_seconds = time.perf_counter() - started

    exact = {p for p in pairs if body_hash[p[0]] == body_hash[p[1]]}
    headline = {row[0]: dedupe.headline_key(row[5]) for row in rows}
    near = {p: s for p, s in pairs.items() if p not in exact
            and s.same_story(headline[p[0]] == headline[p[1]])}
    grouped = {p for p in near if story[p[0]] == story[p[1]]}
    members: dict[int, list[int]] = {}
    for article_id, story_id in story.items():
        members.setdefault(story_id, []).append(article_id)
    same_story = {tuple(sorted(p)) for m in members.values() for p in combinations(m, 2)}
    wrongly = {p for p in same_story if p not in exact and p not in near}

    joined_exact = len(rows) - len(set(body_hash.values()))
    print(f"articles stored: {len(rows)}; stories: {len(members)}; articles joining another's "
          f"story: {len(rows) - len(members)} ({joined_exact} as exact duplicates, "
          f"{len(rows) - len(members) - joined_exact} as near-duplicates)")
    print(f"store time (fastest of {args.repeat}), detection off: {off_seconds:.1f} s; "
          f"on: {on_seconds:.1f} s; added: {on_seconds - off_seconds:+.1f} s "
          f"({(on_seconds - off_seconds) / len(rows) * 1000:.2f} ms/article); "
          f"all runs off {[round(x, 1) for x in off_runs]}, on {[round(x, 1) for x in on_runs]}")
    print(f"fingerprinting alone: {fingerprint_seconds:.2f} s "
          f"({fingerprint_seconds / len(rows) * 1000:.2f} ms/article)")
    print(f"exact all-pairs ground truth: {exact_seconds:.1f} s")
    print(f"exact-duplicate pairs: {len(exact)}")
    print(f"near-duplicate pairs (rule, exact check of all pairs): {len(near)}; "
          f"grouped into one story: {len(grouped)}; same-story pairs outside the rule "
          f"(grouped through a third article): {len(wrongly)}")
    print("\nnear-duplicate pairs (Jaccard, containment):")
    for (a, b), s in sorted(near.items(), key=lambda item: -item[1].jaccard):
        mark = "" if (a, b) in grouped else "  NOT GROUPED"
        print(f"  {s.jaccard:.3f} {s.containment:.3f}  {name[a]}  ~  {name[b]}{mark}")
    print("\nclosest pairs left apart:")
    apart = [(p, s) for p, s in pairs.items() if p not in exact and p not in near]
    for (a, b), s in sorted(apart, key=lambda item: -item[1].jaccard)[:10]:
        print(f"  {s.jaccard:.3f} {s.containment:.3f}  {name[a]}  ~  {name[b]}")


if __name__ == "__main__":
    main()
