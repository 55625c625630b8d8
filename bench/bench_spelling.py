"""Benchmark: how fast, and how often rightly, a misspelled word finds the collection's word
(`ArticleStore.similar_words`, `index.vocabulary`); and the closeness measures compared.

Usage:  .venv/bin/python bench/bench_spelling.py --data-dir STORE [--words 2000] [--seed 7]
                                                 [--database-url URL] [--out F]
        .venv/bin/python bench/bench_spelling.py --corpus FOLDER [--words 3000] [--seed 3]
        .venv/bin/python bench/bench_spelling.py --data-dir STORE --misspell QA.jsonl...
                                                 --out-dir DIR [--seed 5]

Misspellings are made from the store's own vocabulary, not chosen by hand: words of 5+
letters used by 2+ articles are drawn at random (seeded) and given one edit each — a letter
dropped, doubled, swapped with the next or replaced — past the first letter (the rule keeps
the first letter). For each, `similar_words(word, 1)` is timed (p50, p95, mean, max, in a
read snapshot as a question is), and counted as recovered when it returns the original
word, as another word of the vocabulary when it returns another one, and as missed when it
returns none. A misspelling that is itself a word of the vocabulary is skipped: it would
never be corrected.

With `--database-url`, the store's vocabulary rows are copied into that PostgreSQL database
(a new, empty one: the citebot schema is created there; nothing else is copied) and the
same lookups are timed on PostgreSQL too.

With `--corpus`, the article files of FOLDER are read as an ingest reads them; the
even-numbered files (by name) are the collection, the odd-numbered ones stand for what a
question may name that the collection lacks. For each closeness measure (`index.vocabulary`'s
OSA, and difflib's ratio that spelling used before, at 0.8, same first letter): of the
misspellings (made as above from the collection's words of 4+ letters) the share given back
their word, another word or none; and the share of the other files' real words — unknown to
the collection, their stems too — that it would change into a collection word.

With `--misspell`, each question file is written again to DIR with one typo in every
question: its rarest content word of 5+ letters that the store's vocabulary has (fewest
articles), given one edit as above (not a vocabulary word), in the case it was written; the
record gets `"typo": [word, misspelling]`. Score them with `citebot eval DIR/FILE`.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import string
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from machine import describe  # noqa: E402

from index.storage.sqlite_store import SQLiteStore  # noqa: E402


def misspell(word: str, rng: random.Random) -> str:
    """`word` with one edit past its first letter: a letter dropped, doubled, swapped with
    the next, or replaced by another."""
    at = rng.randrange(1, len(word))
    kind = rng.choice(("drop", "double", "swap", "replace"))
    if kind == "drop":
        return word[:at] + word[at + 1:]
    if kind == "double":
        return word[:at] + word[at] + word[at:]
    if kind == "swap" and at < len(word) - 1:
        return word[:at] + word[at + 1] + word[at] + word[at + 2:]
    letter = rng.choice([c for c in string.ascii_lowercase if c != word[at]])
    return word[:at] + letter + word[at + 1:]


def timed(store: object, pairs: list[tuple[str, str]]) -> dict[str, object]:
    """Time `similar_words(misspelled, 1)` for each pair, and count what it returned."""
    times, recovered, other, missed = [], 0, 0, 0
    with store.snapshot():  # type: ignore[attr-defined]
        store.similar_words("warm", 1)  # type: ignore[attr-defined]
        for original, wrong in pairs:
            started = time.perf_counter()
            found = store.similar_words(wrong, 1)  # type: ignore[attr-defined]
            times.append((time.perf_counter() - started) * 1000)
            if not found:
                missed += 1
            elif found[0][0] == original:
                recovered += 1
            else:
                other += 1
    times.sort()
    return {"lookups": len(pairs), "p50_ms": round(statistics.median(times), 3),
            "p95_ms": round(times[int(0.95 * (len(times) - 1))], 3),
            "mean_ms": round(statistics.fmean(times), 3), "max_ms": round(times[-1], 3),
            "recovered": round(recovered / len(pairs), 3),
            "another_word": round(other / len(pairs), 3),
            "none": round(missed / len(pairs), 3)}


def copy_to_postgres(store: SQLiteStore, url: str) -> object:
    from index.storage.postgres_db import ADD_WORDS
    from index.storage.postgres_store import PostgresStore

    target = PostgresStore.open(url)
    rows = store.db.execute("SELECT initial, length, word, articles FROM vocabulary").fetchall()
    with target.transaction():
        target.database.execute("DELETE FROM vocabulary")
        target.database.execute(ADD_WORDS, [[r[0] for r in rows], [r[1] for r in rows],
                                             [r[2] for r in rows], [r[3] for r in rows]])
        target.database.execute("ANALYZE vocabulary")
    return target


def misspellings(vocabulary: dict[str, int], count: int, rng: random.Random,
                 min_length: int) -> list[tuple[str, str]]:
    """(word, misspelling) pairs: words used by 2+ articles, one edit each (`misspell`),
    none of them a word of the vocabulary."""
    common = sorted(w for w, n in vocabulary.items()
                    if n >= 2 and len(w) >= min_length and w.isalpha())
    pairs: list[tuple[str, str]] = []
    while len(pairs) < count:
        original = rng.choice(common)
        wrong = misspell(original, rng)
        if wrong not in vocabulary:
            pairs.append((original, wrong))
    return pairs


def compare_measures(corpus: Path, count: int, rng: random.Random) -> dict[str, object]:
    """The closeness measures on half the corpus (see the module)."""
    import difflib
    from collections import Counter, defaultdict

    from index.sources.ingest import iter_files, read_file
    from index.text import stem
    from index.vocabulary import article_words, closest

    inside: Counter[str] = Counter()
    outside: set[str] = set()
    for number, path in enumerate(p for p in sorted(iter_files(corpus)) if isinstance(p, Path)):
        for draft in read_file(path, max_bytes=10_000_000).drafts:
            words = article_words(draft.title, draft.body)
            if number % 2 == 0:
                inside.update(words)
            else:
                outside.update(words)
    by_initial: dict[str, list[str]] = defaultdict(list)
    for word in inside:
        by_initial[word[0]].append(word)
    stems = {stem(word) for word in inside}
    unknown = sorted(w for w in outside if len(w) >= 4 and w.isalpha() and w not in inside
                     and stem(w) not in stems)
    pairs = misspellings(dict(inside), count, rng, min_length=4)

    def osa(word: str) -> str | None:
        found = closest(word, ((w, inside[w]) for w in by_initial[word[0]]), 1)
        return found[0][0] if found else None

    def ratio(word: str) -> str | None:
        found = difflib.get_close_matches(word, by_initial[word[0]], n=1, cutoff=0.8)
        return found[0] if found else None

    result: dict[str, object] = {"collection_words": len(inside), "misspellings": len(pairs),
                                 "unknown_words": len(unknown)}
    for name, find in (("osa", osa), ("difflib_ratio", ratio)):
        outcome = Counter()
        for original, wrong in pairs:
            found = find(wrong)
            outcome["none" if found is None else "word" if found == original else "another"] += 1
        changed = [word for word in unknown if find(word) is not None]
        result[name] = {**{k: round(outcome[k] / len(pairs), 3)
                           for k in ("word", "another", "none")},
                        "unknown_changed": round(len(changed) / len(unknown), 3),
                        "examples": [(w, find(w)) for w in changed[:5]]}
    return result


def misspell_questions(vocabulary: dict[str, int], files: list[Path], out_dir: Path,
                       rng: random.Random) -> dict[str, int]:
    """Write each question file to `out_dir` with one typo per question (see the module);
    returns how many questions of each got one."""
    import re

    from index.qa.spelling import corrected
    from index.text import query_terms

    out_dir.mkdir(parents=True, exist_ok=True)
    changed: dict[str, int] = {}
    for path in files:
        lines = []
        changed[path.name] = 0
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            record = json.loads(line)
            words = [w for w in query_terms(record["question"])
                     if len(w) >= 5 and w.isalpha() and w in vocabulary]
            if words:
                word = min(words, key=lambda w: (vocabulary[w], w))
                wrong = misspell(word, rng)
                while wrong in vocabulary:
                    wrong = misspell(word, rng)
                first = re.search(rf"\b{re.escape(word)}\b", record["question"], flags=re.I)
                if first:
                    question = record["question"]
                    record["question"] = (question[:first.start()]
                                          + corrected(first.group(0), {word: wrong})
                                          + question[first.end():])
                    record["typo"] = [word, wrong]
                    changed[path.name] += 1
            lines.append(json.dumps(record, ensure_ascii=False))
        (out_dir / path.name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return changed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--corpus", type=Path)
    parser.add_argument("--words", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database-url")
    parser.add_argument("--misspell", type=Path, nargs="+")
    parser.add_argument("--out-dir", type=Path)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.corpus:
        result = {"machine": describe(),
                  **compare_measures(args.corpus, args.words, random.Random(args.seed))}
        print(json.dumps(result, indent=2))
        return
    if not args.data_dir:
        parser.error("--data-dir or --corpus")

    store = SQLiteStore(args.data_dir)
    vocabulary = dict(store.db.execute("SELECT word, articles FROM vocabulary").fetchall())
    if args.misspell:
        if not args.out_dir:
            parser.error("--misspell needs --out-dir")
        print(json.dumps(misspell_questions(vocabulary, args.misspell, args.out_dir,
                                            random.Random(args.seed))))
        return
    pairs = misspellings(vocabulary, args.words, random.Random(args.seed), min_length=5)
    result: dict[str, object] = {
        "machine": describe(), "vocabulary": len(vocabulary),
        "articles": store.counts()["articles"], "sqlite": timed(store, pairs)}
    if args.database_url:
        postgres = copy_to_postgres(store, args.database_url)
        result["postgresql"] = timed(postgres, pairs)
        postgres.close()  # type: ignore[attr-defined]
    store.close()
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
