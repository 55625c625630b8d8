"""Benchmark: the LLM reader's verifier (index/reader/verify.py) measured on its own.

Usage:  .venv/bin/python bench/verifier_bench.py [--data-dir /work/bbc-store]
        [--questions ../shared/eval/bbc_dev.jsonl ../shared/eval/bbc_chat_dev.jsonl]
        [--folds 5] [--json]

The set is built from the question files and the BBC store (read only):
* faithful statements — each question's gold sentence (the sentence of its gold article that
  holds the answer), and that sentence and two other sentences of the article reworded by
  rules (attribution moved, quotes dropped, synonyms, figures written another way), each
  cited to the passage that holds it;
* corrupted statements — the same sentences with a figure changed, a name swapped for one
  from another article, a negation added, or cited to another passage of the same story or
  of another story.
Each statement is checked as `Verifier.supports(text, [cited passage])`. The similarity and
coverage thresholds are chosen on k−1 folds (grouped by question) and scored on the held-out
fold: the out-of-fold shares of corrupted statements rejected and faithful ones accepted are
what is reported, with the thresholds chosen on the whole set.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from index.library import Library
from index.reader.facts import Facts, missing
from index.reader.verify import SupportPassage, Verifier
from index.settings import Settings
from index.sources.chunk import split_sentences
from index.text import stem

SIMILARITIES = [round(x, 2) for x in np.arange(0.30, 0.86, 0.02)]
COVERAGES = [0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9]
TARGET_REJECTED, TARGET_ACCEPTED = 0.95, 0.90

_SYNONYMS = {"said": "stated", "company": "firm", "firm": "company", "rose": "climbed",
             "fell": "dropped", "about": "around", "bought": "purchased", "buy": "purchase",
             "big": "large", "large": "big", "begin": "start", "began": "started",
             "help": "assist", "show": "reveal", "shows": "reveals", "told": "informed",
             "however": "but", "also": "as well", "people": "individuals"}
_AUXILIARIES = re.compile(r"\b(is|are|was|were|will|has|have|had|can|could|would|should|"
                          r"may|might|must|does|do|did)\b")
_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")


@dataclass
class Statement:
    question: str
    kind: str
    text: str
    passage: SupportPassage
    faithful: bool


def reworded(sentence: str) -> str:
    """A rule-based paraphrase: quotes and trailing attribution moved, synonyms, figures."""
    text = sentence.strip()
    quoted = re.match(r'^["“](.+?),?["”],?\s+(?:said|says|added)\s+([^,.]+?)[,.]', text)
    if quoted:
        text = f"{quoted.group(2)} said that {quoted.group(1)}."
    text = re.sub(r",\s+(?:he|she|they|it)\s+(?:said|added)\.$", ".", text)
    text = re.sub(r'["“”]', "", text)
    text = re.sub(r"^(?:However|But|And|Meanwhile),?\s+", "", text)
    text = re.sub(r"(\d),(\d{3})\b", r"\1\2", text)
    text = re.sub(r"\$(\d+(?:\.\d+)?)m\b", r"\1 million dollars", text)
    text = re.sub(r"£(\d+(?:\.\d+)?)bn\b", r"\1 billion pounds", text)
    text = re.sub(r"(\d)%", r"\1 per cent", text)
    words = text.split(" ")
    text = " ".join(_SYNONYMS.get(w, w) for w in words)
    return text[:1].upper() + text[1:]


def figure_changed(sentence: str, rng: random.Random) -> str | None:
    numbers = [m for m in _NUMBER.finditer(sentence) if m.group().strip(",")]
    if not numbers:
        return None
    match = rng.choice(numbers)
    digits = match.group().replace(",", "")
    try:
        value = float(digits)
    except ValueError:
        return None
    new = value + rng.choice([1, 2, 3, 7, 10]) if value < 100 else value * rng.choice([2, 3])
    shown = f"{new:g}" if not float(new).is_integer() else str(int(new))
    return sentence[:match.start()] + shown + sentence[match.end():]


def name_swapped(sentence: str, other_names: list[str], rng: random.Random) -> str | None:
    names = sorted(Facts.of(sentence).names)
    if not names or not other_names:
        return None
    target = rng.choice(names)
    match = re.search(rf"\b{re.escape(target)}\b", sentence, re.IGNORECASE)
    if not match:
        return None
    replacement = rng.choice(other_names).title()
    return sentence[:match.start()] + replacement + sentence[match.end():]


def negated(sentence: str) -> str:
    match = _AUXILIARIES.search(sentence)
    if match:
        return sentence[:match.end()] + " not" + sentence[match.end():]
    return "It is not true that " + sentence[:1].lower() + sentence[1:]


def _sentences(body: str, start: int, end: int) -> list[tuple[int, int]]:
    return [(s.start, s.end) for s in split_sentences(body, start, end)]


def build(library: Library, questions: list[dict], seed: int = 7) -> list[Statement]:
    rng = random.Random(seed)
    store = library.store
    by_origin = {a.origin.split("bbc/")[-1]: a for a in store.all_articles()}
    passages: dict[int, SupportPassage] = {}

    def support(passage_id: int) -> SupportPassage | None:
        if passage_id not in passages:
            row = store.passages([passage_id]).get(passage_id)
            if row is None:
                return None
            article = store.article(row.article_id)
            assert article is not None
            passages[passage_id] = SupportPassage.of(1, row, article, 0.0)
        return passages[passage_id]

    all_ids = sorted(by_origin)
    statements: list[Statement] = []
    for q in questions:
        if not q.get("article") or not q.get("answer"):
            continue  # a question the articles don't answer
        article = next((a for key, a in by_origin.items() if key.endswith(q["article"])), None)
        if article is None:
            continue
        body = article.body
        spans = _sentences(body, 0, len(body))
        gold = next(((a, b) for a, b in spans if q["answer"].lower() in body[a:b].lower()), None)
        if gold is None:
            continue
        others = [s for s in spans if s != gold and len(body[s[0]:s[1]].split()) >= 8]
        chosen = [gold, *rng.sample(others, min(2, len(others)))]
        other_article = by_origin[rng.choice(all_ids)]
        other_names = sorted(Facts.of(other_article.body).names - Facts.of(body).names)
        for index, (a, b) in enumerate(chosen):
            pid = store.passage_at(article.id, a, b)
            own = support(pid) if pid else None
            if own is None:
                continue
            sentence = body[a:b]
            add = _adder(statements, q["question"])
            if index == 0:
                add("gold sentence", sentence, own, True)
            add("reworded", reworded(sentence), own, True)
            if (changed := figure_changed(sentence, rng)) and changed != sentence:
                add("figure changed", changed, own, False)
            if swapped := name_swapped(sentence, other_names, rng):
                add("name swapped", swapped, own, False)
            add("negation added", negated(sentence), own, False)
            same_story = {store.passage_at(article.id, x, y) for x, y in spans} - {pid, None}
            if same_story:
                moved = support(rng.choice(sorted(same_story)))  # type: ignore[arg-type]
                if moved and not _gives(sentence, moved):
                    add("moved within story", sentence, moved, False)
            elsewhere = by_origin[rng.choice(all_ids)]
            if elsewhere.story_id != article.story_id:
                other_spans = _sentences(elsewhere.body, 0, len(elsewhere.body))
                opid = store.passage_at(elsewhere.id, *other_spans[len(other_spans) // 2])
                if opid and (moved := support(opid)):
                    add("moved to another story", sentence, moved, False)
    return statements


def _adder(statements: list[Statement], question: str
           ) -> Callable[[str, str, SupportPassage, bool], None]:
    def add(kind: str, text: str, passage: SupportPassage, faithful: bool) -> None:
        statements.append(Statement(question, kind, text, passage, faithful))
    return add


def _gives(sentence: str, passage: SupportPassage) -> bool:
    """Whether the other passage states the same (then the move is no corruption)."""
    return sentence.strip() in passage.text or (not missing(Facts.of(sentence), passage.facts) \
        and len({stem(w) for w in sentence.split()} & passage.stems) > 0.9 * len(sentence.split()))


@dataclass
class Scored:
    statement: Statement
    rules_ok: bool  # facts and negation rule (no threshold)
    coverage: float
    similarity: float


def score(statements: list[Statement], verifier: Verifier) -> list[Scored]:
    """Each statement's threshold-free rule outcome, coverage and best similarity."""
    loose = Verifier(verifier.embed, similarity=-1.0, coverage=0.0)
    scored = []
    for s in statements:
        verdict = loose.supports(s.text, [s.passage])
        stems = {stem(t) for t in __import__("index.text").text.query_terms(s.text)}
        coverage = len(stems & s.passage.stems) / len(stems) if stems else 1.0
        scored.append(Scored(s, verdict.supported, coverage, verdict.similarity
                             if verdict.supported else _similarity(loose, s)))
    return scored


def _similarity(verifier: Verifier, s: Statement) -> float:
    vector = verifier.embed([s.text])[0]
    vector = vector / max(float(np.linalg.norm(vector)), 1e-12)
    vectors = s.passage.window_vectors(verifier.embed)
    return float((vectors @ vector).max()) if len(vectors) else 0.0


def accepted(item: Scored, similarity: float, coverage: float) -> bool:
    return item.rules_ok and item.coverage >= coverage and item.similarity >= similarity


def rates(items: list[Scored], similarity: float, coverage: float) -> tuple[float, float]:
    faithful = [i for i in items if i.statement.faithful]
    corrupted = [i for i in items if not i.statement.faithful]
    ok = sum(accepted(i, similarity, coverage) for i in faithful) / max(1, len(faithful))
    rejected = (sum(not accepted(i, similarity, coverage) for i in corrupted)
                / max(1, len(corrupted)))
    return rejected, ok


def choose(items: list[Scored]) -> tuple[float, float]:
    """The thresholds that reach the rejection target with the most faithful accepted
    (else the best sum of both shares)."""
    best, best_key = (0.6, 0.75), (-1.0, -1.0, 0.0, 0.0)
    for similarity in SIMILARITIES:
        for coverage in COVERAGES:
            rejected, ok = rates(items, similarity, coverage)
            # Ties go to the stricter thresholds.
            key = (float(rejected >= TARGET_REJECTED), round(ok if rejected >= TARGET_REJECTED
                   else rejected + ok, 3), similarity, coverage)
            if key > best_key:
                best, best_key = (similarity, coverage), key
    return best


def cross_validated(items: list[Scored], folds: int) -> tuple[float, float]:
    questions = sorted({i.statement.question for i in items})
    random.Random(11).shuffle(questions)
    fold_of = {q: n % folds for n, q in enumerate(questions)}
    held: list[tuple[Scored, bool]] = []
    for fold in range(folds):
        train = [i for i in items if fold_of[i.statement.question] != fold]
        test = [i for i in items if fold_of[i.statement.question] == fold]
        similarity, coverage = choose(train)
        held += [(i, accepted(i, similarity, coverage)) for i in test]
    faithful = [ok for i, ok in held if i.statement.faithful]
    corrupted = [ok for i, ok in held if not i.statement.faithful]
    return 1 - sum(corrupted) / max(1, len(corrupted)), sum(faithful) / max(1, len(faithful))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", default="/work/bbc-store")
    parser.add_argument("--questions", nargs="+", default=[
        "../shared/eval/bbc_dev.jsonl", "../shared/eval/bbc_chat_dev.jsonl"])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    library = Library(Settings.from_env(args.data_dir))
    questions = [json.loads(line) for path in args.questions
                 for line in Path(path).read_text().splitlines() if line.strip()]
    statements = build(library, questions)
    verifier = Verifier(library.embedder.embed)
    items = score(statements, verifier)
    similarity, coverage = choose(items)
    oof_rejected, oof_accepted = cross_validated(items, args.folds)
    kinds = sorted({i.statement.kind for i in items})
    by_kind = {}
    for kind in kinds:
        group = [i for i in items if i.statement.kind == kind]
        passed = sum(accepted(i, similarity, coverage) for i in group) / len(group)
        by_kind[kind] = {"n": len(group), "accepted": round(passed, 3)}
    in_sample = rates(items, similarity, coverage)
    report = {
        "statements": len(items),
        "faithful": sum(i.statement.faithful for i in items),
        "corrupted": sum(not i.statement.faithful for i in items),
        "similarity_threshold": similarity, "coverage_threshold": coverage,
        "out_of_fold": {"corrupted_rejected": round(oof_rejected, 3),
                        "faithful_accepted": round(oof_accepted, 3)},
        "whole_set": {"corrupted_rejected": round(in_sample[0], 3),
                      "faithful_accepted": round(in_sample[1], 3)},
        "by_kind": by_kind,
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"{report['statements']} statements ({report['faithful']} faithful, "
          f"{report['corrupted']} corrupted); thresholds: similarity ≥ {similarity}, "
          f"content words covered ≥ {coverage}")
    print(f"out of fold ({args.folds} folds by question): corrupted rejected "
          f"{oof_rejected:.3f} (target ≥ {TARGET_REJECTED}), faithful accepted "
          f"{oof_accepted:.3f} (target ≥ {TARGET_ACCEPTED})")
    print(f"whole set: corrupted rejected {in_sample[0]:.3f}, faithful accepted "
          f"{in_sample[1]:.3f}")
    for kind, row in by_kind.items():
        print(f"  {kind:<24} n={row['n']:<4} accepted {row['accepted']:.3f}")


if __name__ == "__main__":
    main()
