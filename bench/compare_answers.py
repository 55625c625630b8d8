"""Compare two runs of `citebot ask` on one question file: the answer, abstention and
citations of each question, line by line. For changes meant to keep behaviour (a refactor, a
faster path): run the questions through the old and the new code on the same store, e.g.

    citebot --data-dir STORE ask < questions.txt > before.jsonl   # old code
    citebot --data-dir STORE ask < questions.txt > after.jsonl    # new code
    python bench/compare_answers.py before.jsonl after.jsonl

Prints each question whose answer differs; exit code 1 when any does.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

COMPARED = ("question", "answer", "abstained", "citations")


def load(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def differences(before: list[dict[str, object]], after: list[dict[str, object]]
                ) -> list[tuple[int, str]]:
    """(line number, the first field that differs) of each answer that changed."""
    if len(before) != len(after):
        raise SystemExit(f"{len(before)} answers before, {len(after)} after")
    return [(line, next(key for key in COMPARED if old.get(key) != new.get(key)))
            for line, (old, new) in enumerate(zip(before, after, strict=True), start=1)
            if any(old.get(key) != new.get(key) for key in COMPARED)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    args = parser.parse_args()
    before, after = load(args.before), load(args.after)
    changed = differences(before, after)
    for line, key in changed:
        print(f"line {line}: {key} differs — {before[line - 1].get('question')!r}")
    print(f"{len(before)} answers compared, {len(changed)} differ")
    sys.exit(1 if changed else 0)


if __name__ == "__main__":
    main()
