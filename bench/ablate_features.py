"""What each feature of the answer model is worth, out of fold by file, one at a time.

    python -m bench.ablate_features --data-dir STORE [--corpus DIR] [--c 0.3] [--rows PICKLE]
        [--only NAME...] [--json OUT] FILE...

Collects each question's feature rows on the store once (`index.fitting.collect`; with
`--rows` they are read from that pickle when it exists, else collected and written to it),
then fits the answer model exactly as `bench.fit_weights` does (`fit_answer_model`:
cross-validation by file, both thresholds re-chosen out of fold) with every feature — the
baseline — and again without each feature and each natural group of features
(`fit_answer_model(drop=...)`: a sentence feature leaves the question model too when that
reads it). Prints the baseline's out-of-fold metrics over all questions, then per ablation
the change of each metric against that baseline (negative Hit@1, MRR@10, span recall,
citation precision or abstention, or positive false abstention or filler, is a loss).
Nothing in the engine changes: the features are only left out of the fit.
"""

from __future__ import annotations

import json
import pickle
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fit_weights import fit_arguments

from index.fitting import METRICS, Collected, collect, fit_answer_model
from index.library import Library
from index.qa.features import FEATURES, QUESTION_FEATURES
from index.qa.tuning import AnswerTuning
from index.settings import Settings

# Natural groups: features read off one rule or one kind of evidence.
GROUPS: dict[str, tuple[str, ...]] = {
    "neighbours' closeness": ("previous_similarity", "next_similarity"),
    "sentence closeness (+ gap)": ("similarity", "similarity_gap"),
    "shares of the question's words": ("lexical_share", "distinctive_share", "context_share"),
    "rare-word coverage": ("idf_share", "rarest_in_context", "rarest_in_article",
                           "story_coverage"),
    "fact rules (qa/facts.py)": ("new_fact", "counts_noun", "fills_slot"),
    "fact rules + asks_fact": ("asks_fact", "new_fact", "counts_noun", "fills_slot"),
    "the fact-kind rules": ("counts_noun", "fills_slot"),
    "story retrieval (lexical, dense, fused rank)": ("story_lexical", "story_dense",
                                                     "story_fused_rank"),
    "story closeness (+ gap)": ("story_similarity", "story_gap"),
    "decline signals (qa/abstain.py)": ("unknown_terms", "absent_year"),
}
QUESTION_ONLY = tuple(name for name in QUESTION_FEATURES
                      if name not in FEATURES and name.removeprefix("top_") not in FEATURES)


def ablations() -> dict[str, tuple[str, ...]]:
    """Every ablation by name: each feature alone, then each group."""
    return {**{name: (name,) for name in (*FEATURES, *QUESTION_ONLY)}, **GROUPS}


def load_rows(store: Path, files: list[Path], corpus: Path | None, cache: Path | None
              ) -> list[Collected]:
    """The files' collected rows: from `cache` when it exists, else asked on the store (and
    written to `cache` when given)."""
    if cache and cache.exists():
        items: list[Collected] = pickle.loads(cache.read_bytes())
        wanted = [path.name for path in files]
        if list(dict.fromkeys(item.file for item in items)) != wanted:
            raise SystemExit(f"{cache} holds other question files than {', '.join(wanted)}")
        return items
    library = Library(Settings.from_env(store))
    try:
        started = time.perf_counter()
        items = collect(library, files, corpus or Path(library.store.sources("path")[0]))
        print(f"collected {len(items)} questions in {time.perf_counter() - started:.0f} s",
              file=sys.stderr)
    finally:
        library.close()
    if cache:
        cache.write_bytes(pickle.dumps(items))
    return items


@dataclass(slots=True)
class Ablation:
    """One fit: what it did without, its out-of-fold metrics over all questions, their
    change against the baseline, and the thresholds it chose."""

    dropped: list[str]
    metrics: dict[str, float]
    abstain_below: float
    extra_min: float
    delta: dict[str, float] = field(default_factory=dict)


def fit_without(items: list[Collected], tuning: AnswerTuning, regularisation: float,
                drop: tuple[str, ...]) -> Ablation:
    report = fit_answer_model(items, tuning, regularisation=regularisation, drop=drop)
    return Ablation(list(drop), report.out_of_fold["all"], report.model.abstain_below,
                    report.model.extra_min)


def ablate(items: list[Collected], tuning: AnswerTuning, regularisation: float,
           names: dict[str, tuple[str, ...]]) -> dict[str, Ablation]:
    """The baseline (every feature), then each ablation with its change against it."""
    baseline = fit_without(items, tuning, regularisation, ())
    results = {"baseline": baseline}
    for name, drop in names.items():
        result = fit_without(items, tuning, regularisation, drop)
        result.delta = {m: round(result.metrics[m] - baseline.metrics[m], 3) for m in METRICS}
        results[name] = result
        print(f"  {name}: " + " ".join(f"{m} {result.delta[m]:+.3f}" for m in METRICS),
              file=sys.stderr)
    return results


HEADERS = {"hit_at_1": "Hit@1", "mrr_at_10": "MRR@10", "span_recall": "span recall",
           "citation_precision": "citation precision", "abstention": "abstention",
           "false_abstention": "false abstention", "filler_answers": "filler"}


def table(results: dict[str, Ablation]) -> str:
    """A Markdown table: the baseline's metrics, then each ablation's change (0: none)."""
    base = results["baseline"].metrics
    lines = ["| dropped | " + " | ".join(f"Δ {HEADERS[m]}" for m in METRICS) + " |",
             "|---|" + "---|" * len(METRICS),
             "| *baseline: all features* | " + " | ".join(f"{base[m]:.3f}" for m in METRICS)
             + " |"]
    for name, result in results.items():
        if name != "baseline":
            lines.append(f"| {name} | " + " | ".join(
                "0" if result.delta[m] == 0 else f"{result.delta[m]:+.3f}" for m in METRICS)
                + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = fit_arguments(__doc__.splitlines()[0])
    parser.add_argument("--rows", type=Path, help="pickle of the collected rows: read when "
                        "it exists, else written")
    parser.add_argument("--only", nargs="+", metavar="NAME",
                        help="only these ablations (feature or group names)")
    parser.add_argument("--json", dest="json_path", type=Path, help="write the results here")
    args = parser.parse_args(argv)
    names = ablations()
    if args.only:
        missing = [name for name in args.only if name not in names]
        if missing:
            parser.error(f"no such feature or group: {', '.join(missing)}")
        names = {name: names[name] for name in args.only}
    items = load_rows(args.data_dir, args.files, args.corpus, args.rows)
    tuning = Settings.from_env(args.data_dir).tuning
    results = ablate(items, tuning, args.c, names)
    baseline = results["baseline"]
    print(f"out of fold by file, {len(items)} questions, C = {args.c}; baseline "
          f"abstain_below={baseline.abstain_below} extra_min={baseline.extra_min}")
    print(table(results))
    if args.json_path:
        found = {name: asdict(result) for name, result in results.items()}
        args.json_path.write_text(json.dumps({"questions": len(items), "c": args.c,
                                              "results": found}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
