"""Experiment: would int8 question embedding (ONNX Runtime dynamic quantisation) keep
answer quality? Scores every question file with the fp32 question encoder and with an int8
copy of it (MatMul weights quantised per channel, QInt8), on the same store, in one run,
and prints each metric's difference (the bar: within 0.005 on every metric).

Usage:  .venv/bin/python bench/bench_int8.py --store COPY --corpus DIR FILE.jsonl…

Use a copy of a store (`cp -r`): opening it with this code may migrate its schema.

The stored passage and sentence vectors stay fp32 (only the question path changes), so no
re-indexing is needed. The int8 model is written to a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from machine import cpu_info, describe  # noqa: E402

QUALITY = ("hit_at_1", "hit_at_5", "mrr_at_10", "span_recall", "citation_precision",
           "abstention", "false_abstention")


def quantise(source: Path, target: Path) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8, per_channel=True,
                     op_types_to_quantize=["MatMul"],
                     extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})


def score(library: object, files: list[Path], corpus: Path) -> dict[str, dict]:
    from index.evaluate import evaluate, load_questions

    return {f.name: evaluate(library, load_questions(f), corpus).metrics()  # type: ignore[arg-type]
            for f in files}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("files", type=Path, nargs="+")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    print(describe(), flush=True)
    from index.library import Library
    from index.settings import Settings
    from index.vectors.embed import _Session

    library = Library(Settings.from_env(data_dir=args.store))
    embedder = library.embedder
    fp32 = score(library, args.files, args.corpus)
    with tempfile.TemporaryDirectory() as folder:
        int8_path = Path(folder) / "model-int8.onnx"
        assert embedder._onnx_path is not None
        quantise(embedder._onnx_path, int8_path)
        embedder._session = _Session(int8_path, embedder.threads)
        library.answerer = library._answerer()  # no cached question vectors
        started = time.perf_counter()
        int8 = score(library, args.files, args.corpus)
        int8_seconds = time.perf_counter() - started
    worst = 0.0
    report = {}
    for name in fp32:
        diffs = {m: round(int8[name][m] - fp32[name][m], 4) for m in QUALITY}
        worst = max(worst, *(abs(d) for d in diffs.values()))
        report[name] = {"fp32": fp32[name], "int8": int8[name], "diff": diffs}
        print(f"{name}: " + ", ".join(f"{m} {d:+.4f}" for m, d in diffs.items())
              + f"; latency p50 fp32 {fp32[name]['latency_p50_ms']} ms, "
              f"int8 {int8[name]['latency_p50_ms']} ms")
    verdict = "passes" if worst <= 0.005 else "FAILS"
    print(f"largest difference {worst:.4f}: int8 question embedding {verdict} the 0.005 bar "
          f"(int8 run {int8_seconds:.0f} s)")
    print(describe(cpu_info()))
    if args.out:
        args.out.write_text(json.dumps({"machine": cpu_info(), "files": report,
                                        "largest_difference": worst}, indent=2))


if __name__ == "__main__":
    main()
