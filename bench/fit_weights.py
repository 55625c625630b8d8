"""Re-fit the answer model on question files and print its out-of-fold metrics.

    python -m bench.fit_weights --data-dir /work/bbc-store [--corpus DIR] [--write] FILE...

Mirrors `index.fitting`: collects each question's candidate sentences on the store, fits the
logistic regression with cross-validation by file, prints per file the out-of-fold metrics
(each file scored by a model fitted on the others) with the in-sample ones in brackets, and
with `--write` stores the model fitted on every file in index/qa/answer_model.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from index.fitting import collect, fit_answer_model, report_table
from index.library import Library
from index.qa.model import MODEL_PATH
from index.settings import Settings


def fit_arguments(description: str) -> argparse.ArgumentParser:
    """The arguments of a fit on question files (shared with `bench/ablate_features.py`)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("files", nargs="+", type=Path, help="question files (JSON Lines)")
    parser.add_argument("--data-dir", required=True, type=Path, help="the store to ask")
    parser.add_argument("--corpus", type=Path, help="the folder gold paths are relative to "
                        "[default: the store's only ingested folder]")
    parser.add_argument("--c", type=float, default=0.3, help="inverse regularisation strength")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = fit_arguments(__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"write {MODEL_PATH.name}")
    parser.add_argument("--json", dest="json_path", type=Path, help="write the metrics here")
    args = parser.parse_args(argv)
    library = Library(Settings.from_env(args.data_dir))
    corpus = args.corpus or Path(library.store.sources("path")[0])
    items = collect(library, args.files, corpus)
    report = fit_answer_model(items, library.settings.tuning, regularisation=args.c)
    print(report_table(report))
    print(f"abstain_below={report.model.abstain_below} extra_min={report.model.extra_min} "
          f"hedge_below={report.model.hedge_below}")
    if args.json_path:
        args.json_path.write_text(json.dumps({"out_of_fold": report.out_of_fold,
                                              "in_sample": report.in_sample}, indent=2))
    if args.write:
        MODEL_PATH.write_text(report.model.to_json(
            fitted_on=[f.name for f in args.files],
            fitted=datetime.now(UTC).strftime("%Y-%m-%d"),
            out_of_fold=report.out_of_fold["all"]), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
