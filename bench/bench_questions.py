"""Benchmark: question latency in-process — wall and CPU time of `Library.ask` per question,
p50 / p95, on a store and question files, with one asker and with several at once.

Usage:  .venv/bin/python bench/bench_questions.py --data-dir STORE [--against CHECKOUT]
            [--concurrent 2] [--rounds 3] [--out F] FILE...

Each measurement is a fresh process (`--worker`) that loads the library, asks two warm-up
questions, then asks every question of the files once, in order, timing each: wall time
(`perf_counter`) and the process's CPU time (`process_time`, every thread). `--concurrent N`
runs N such processes at once on the same store (N bot replicas, or a question beside an
ingest): on a 2-CPU machine a process that keeps a second core busy slows the others.
`--against CHECKOUT` (e.g. `git archive` of an older commit) measures that code too, its
rounds interleaved with these, so that a change of the machine's load hits both alike. The
CPU model, flags and load are printed before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from machine import describe  # noqa: E402

WARM_UP = ("warm up question about football", "¿Qué pasa?")  # loads the language detector


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def worker(data_dir: Path, files: list[Path]) -> None:
    """Ask every question once; print one JSON line of per-question wall and CPU ms."""
    from index.library import Library
    from index.settings import Settings

    library = Library(Settings.from_env(data_dir))
    questions = [json.loads(line)["question"] for path in files
                 for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    for question in WARM_UP:
        library.ask(question)
    wall, cpu = [], []
    for question in questions:
        started, used = time.perf_counter(), time.process_time()
        library.ask(question)
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - used) * 1000)
    print(json.dumps({"wall_ms": wall, "cpu_ms": cpu}))


def measure(code: Path, data_dir: Path, files: list[Path], concurrent: int
            ) -> list[dict[str, list[float]]]:
    """`concurrent` workers of the checkout `code` at once; each one's timings."""
    environment = {**os.environ, "PYTHONPATH": str(code)}
    argv = [sys.executable, str(Path(__file__).resolve()), "--worker",
            "--data-dir", str(data_dir.resolve()), *map(str, (f.resolve() for f in files))]
    running = [subprocess.Popen(argv, cwd=code, env=environment, stdout=subprocess.PIPE,
                                text=True) for _ in range(concurrent)]
    results = []
    for process in running:
        output, _ = process.communicate()
        if process.returncode:
            raise SystemExit(f"worker of {code} failed ({process.returncode})")
        results.append(json.loads(output.strip().splitlines()[-1]))
    return results


def summary(runs: list[dict[str, list[float]]]) -> dict[str, float]:
    wall = [ms for run in runs for ms in run["wall_ms"]]
    cpu = [ms for run in runs for ms in run["cpu_ms"]]
    return {"questions": len(wall), "wall_p50": percentile(wall, 0.5),
            "wall_p95": percentile(wall, 0.95), "cpu_p50": percentile(cpu, 0.5),
            "cpu_p95": percentile(cpu, 0.95), "wall_mean": statistics.fmean(wall)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path, help="question files (JSON Lines)")
    parser.add_argument("--data-dir", required=True, type=Path, help="the store to ask")
    parser.add_argument("--against", type=Path, help="another checkout, measured alike")
    parser.add_argument("--concurrent", type=int, default=2,
                        help="askers at once in the second measurement [2]")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, help="write the numbers as JSON here")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.data_dir, args.files)
        return 0
    print("before:", describe())
    codes = {"this": ROOT} | ({"against": args.against.resolve()} if args.against else {})
    collected: dict[str, list[dict[str, list[float]]]] = {}
    for _ in range(args.rounds):
        for name, code in codes.items():
            for concurrent in dict.fromkeys((1, args.concurrent)):
                runs = measure(code, args.data_dir, args.files, concurrent)
                collected.setdefault(f"{name}, {concurrent} at once", []).extend(runs)
    report = {key: summary(runs) for key, runs in collected.items()}
    for key, values in report.items():
        print(f"{key}: {values['questions']} questions, wall p50 {values['wall_p50']:.1f} / "
              f"p95 {values['wall_p95']:.1f} ms, CPU p50 {values['cpu_p50']:.1f} / "
              f"p95 {values['cpu_p95']:.1f} ms")
    print("after: ", describe())
    if args.out:
        args.out.write_text(json.dumps({"machine": describe(), "report": report}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
