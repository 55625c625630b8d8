"""Benchmark: how fast the `citebot` command starts — wall time of `citebot --help` and
of one `citebot ask "…"` on the sample store (data/articles), each a fresh process, with
the import-time breakdown of `ask` from `python -X importtime`.

Usage:  .venv/bin/python bench/bench_startup.py [--runs 7] [--store DIR] [--out FILE.json]

Without --store, the sample articles are ingested into a temporary store first (not
timed). Targets (issue 17): --help ≤ 0.3 s, ask ≤ 1.0 s wall (median of the runs). The
machine's CPU and load are printed with the numbers: on a shared machine the load moves
them, so the median and the fastest run are both reported.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from machine import cpu_info, describe  # noqa: E402

QUESTION = "Which processors has Huawei decided to focus on?"
TARGETS = {"help": 0.3, "ask": 1.0}
HEAVY = ("torch", "sentence_transformers", "transformers", "trafilatura", "httpx",
         "feedparser", "datasketch", "scipy", "telegram")


def citebot(*args: str) -> list[str]:
    return [sys.executable, "-m", "bot.cli", *args]


def timed_runs(command: list[str], runs: int) -> tuple[list[float], list[float]]:
    """Wall seconds and CPU seconds (user + system) of `runs` fresh processes, after one
    warm-up run. On a loaded machine wall time waits for a core; CPU time does not."""
    subprocess.run(command, cwd=ROOT, capture_output=True, check=True)
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(command, cwd=ROOT, capture_output=True, check=True)
        walls.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return walls, cpus


def import_breakdown(command: list[str], top: int = 15) -> dict[str, object]:
    """`python -X importtime` of one run: the total, the heaviest top-level imports
    (cumulative) and the heaviest modules by their own time; and which heavy libraries
    were imported at all."""
    run = subprocess.run([command[0], "-X", "importtime", *command[1:]], cwd=ROOT,
                         capture_output=True, text=True, check=True)
    rows = []
    for line in run.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        own, cumulative, name = line[len("import time:"):].split("|")
        rows.append((name.rstrip(), int(own), int(cumulative)))
    top_level = [(n.strip(), c) for n, _o, c in rows if not n.startswith("  ")]
    loaded = {n.strip() for n, _o, _c in rows}
    return {
        "total_import_ms": round(sum(c for _n, c in top_level) / 1000, 1),
        "top_level_ms": [(n, round(c / 1000, 1)) for n, c in
                         sorted(top_level, key=lambda x: -x[1])[:top]],
        "self_ms": [(n.strip(), round(o / 1000, 1)) for n, o, _c in
                    sorted(rows, key=lambda x: -x[1])[:top]],
        "heavy_imported": sorted(name for name in HEAVY if name in loaded),
    }


def summary(measured: tuple[list[float], list[float]]) -> dict[str, float]:
    walls, cpus = measured
    return {"median_s": round(statistics.median(walls), 3), "min_s": round(min(walls), 3),
            "max_s": round(max(walls), 3), "cpu_median_s": round(statistics.median(cpus), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--store", type=Path, help="a store to ask (default: the sample)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    machine = cpu_info()
    print(describe(machine), flush=True)
    with tempfile.TemporaryDirectory() as temporary:
        store = args.store or Path(temporary) / "store"
        if args.store is None:
            subprocess.run(citebot("--data-dir", str(store), "ingest",
                                   str(ROOT / "data" / "articles")),
                           cwd=ROOT, capture_output=True, check=True)
        ask = citebot("--data-dir", str(store), "ask", QUESTION)
        results = {
            "help": summary(timed_runs(citebot("--help"), args.runs)),
            "ask": summary(timed_runs(ask, args.runs)),
            "python_only": summary(timed_runs([sys.executable, "-c", "pass"], args.runs)),
            "ask_imports": import_breakdown(ask),
            "help_imports": import_breakdown(citebot("--help")),
        }
    report = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
              "command": "python bench/bench_startup.py", "machine": machine,
              "runs": args.runs, "targets_s": TARGETS, "results": results}
    for name, target in TARGETS.items():
        got = results[name]["median_s"]
        verdict = "ok" if got <= target else "OVER"
        print(f"citebot {name}: median {got:.3f} s (min {results[name]['min_s']:.3f}, "
              f"max {results[name]['max_s']:.3f}; CPU {results[name]['cpu_median_s']:.3f} s) "
              f"over {args.runs} runs; "
              f"target ≤ {target} s: {verdict}")
    print(f"python -c pass: median {results['python_only']['median_s']:.3f} s")
    for name in ("ask", "help"):
        imports = results[f"{name}_imports"]
        print(f"\n{name}: imports {imports['total_import_ms']} ms in all; heavy libraries "
              f"loaded: {', '.join(imports['heavy_imported']) or 'none'}")
        print("  top-level imports (cumulative ms):")
        for module, ms in imports["top_level_ms"][:10]:
            print(f"    {ms:8.1f}  {module}")
    print("\n" + describe(cpu_info()))
    if args.out:
        args.out.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
