"""Benchmark: how fast the `citebot` command starts — wall time of `citebot --help` and
of one `citebot ask "…"` on the sample store (data/articles), each a fresh process, with
the import-time breakdown of `ask` from `python -X importtime`.

Usage:  .venv/bin/python bench/bench_startup.py [--runs 7] [--against CHECKOUT] [--out F]

The sample articles are ingested into a temporary store first (not timed). `--against`
measures another checkout (e.g. `git archive` of an older commit) in the same run, its runs
interleaved with these, for a ratio that the machine's load moves less.

Targets (issue 17): --help ≤ 0.3 s, ask ≤ 1.0 s wall (median of the runs). The machine's
CPU and load are printed with the numbers: on a shared machine the load moves wall time,
so the fastest run and the CPU time (user + system) are reported too.
"""

from __future__ import annotations

import argparse
import json
import os
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


def citebot(code: Path, *args: str) -> tuple[list[str], Path]:
    """The command running `citebot ARGS` from the checkout `code`, and where to run it
    (the checkout itself: `python -m` puts the working folder first on sys.path)."""
    return [sys.executable, "-m", "bot.cli", *args], code


def run(command: tuple[list[str], Path], **options: object) -> subprocess.CompletedProcess:
    argv, code = command
    environment = {**os.environ, "PYTHONPATH": str(code)}
    return subprocess.run(argv, cwd=code, env=environment, capture_output=True, check=True,
                          **options)  # type: ignore[call-overload]


def timed_run(command: tuple[list[str], Path]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system) of one fresh process. On a loaded
    machine wall time also waits for a core; CPU time does not."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    run(command)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def timed_runs(commands: dict[str, tuple[list[str], Path]], runs: int
               ) -> dict[str, tuple[list[float], list[float]]]:
    """`runs` timed runs of each command, interleaved (so a change of the machine's load
    hits every command alike), after one warm-up run of each."""
    for command in commands.values():
        run(command)
    measured: dict[str, tuple[list[float], list[float]]] = {n: ([], []) for n in commands}
    for _ in range(runs):
        for name, command in commands.items():
            wall, cpu = timed_run(command)
            measured[name][0].append(wall)
            measured[name][1].append(cpu)
    return measured


def import_breakdown(command: tuple[list[str], Path], top: int = 15) -> dict[str, object]:
    """`python -X importtime` of one run: the total, the heaviest top-level imports
    (cumulative) and the heaviest modules by their own time; and which heavy libraries
    were imported at all."""
    argv, code = command
    done = run(([argv[0], "-X", "importtime", *argv[1:]], code), text=True)
    rows = []
    for line in done.stderr.splitlines():
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
    parser.add_argument("--against", type=Path,
                        help="another checkout of citebot, measured in the same run")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    machine = cpu_info()
    print(describe(machine), flush=True)
    codes = {"this": ROOT, **({"against": args.against.resolve()} if args.against else {})}
    with tempfile.TemporaryDirectory() as temporary:
        commands: dict[str, tuple[list[str], Path]] = {}
        for label, code in codes.items():
            store = Path(temporary) / label  # each checkout its own store (schemas differ)
            run(citebot(code, "--data-dir", str(store), "ingest",
                        str(ROOT / "data" / "articles")))
            commands[f"{label} help"] = citebot(code, "--help")
            commands[f"{label} ask"] = citebot(code, "--data-dir", str(store), "ask",
                                               QUESTION)
        commands["python -c pass"] = ([sys.executable, "-c", "pass"], ROOT)
        measured = timed_runs(commands, args.runs)
        results: dict[str, object] = {name: summary(m) for name, m in measured.items()}
        for label in codes:
            results[f"{label} ask imports"] = import_breakdown(commands[f"{label} ask"])
            results[f"{label} help imports"] = import_breakdown(commands[f"{label} help"])
    report = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
              "command": "python bench/bench_startup.py"
              + (f" --against {args.against}" if args.against else ""),
              "machine": machine, "machine_after": cpu_info(), "runs": args.runs,
              "targets_s": TARGETS, "results": results}
    print_report(report, codes)
    if args.out:
        args.out.write_text(json.dumps(report, indent=2))


def print_report(report: dict, codes: dict[str, Path]) -> None:
    results, runs = report["results"], report["runs"]
    for name, value in results.items():
        if "imports" in name:
            continue
        kind = name.rsplit(" ", 1)[-1]
        target = TARGETS.get(kind)
        verdict = "" if target is None or not name.startswith("this") else (
            f"; target ≤ {target} s: " + ("ok" if value["median_s"] <= target else "OVER"))
        print(f"{name}: wall median {value['median_s']:.3f} s (min {value['min_s']:.3f}, "
              f"max {value['max_s']:.3f}), CPU median {value['cpu_median_s']:.3f} s over "
              f"{runs} runs{verdict}")
    if "against" in codes:
        for kind in TARGETS:
            this, other = results[f"this {kind}"], results[f"against {kind}"]
            print(f"{kind}: {other['median_s'] / this['median_s']:.1f}× faster wall, "
                  f"{other['cpu_median_s'] / this['cpu_median_s']:.1f}× less CPU than "
                  f"{codes['against']}")
    for label in codes:
        for kind in ("ask", "help"):
            imports = results[f"{label} {kind} imports"]
            print(f"\n{label} {kind}: imports {imports['total_import_ms']} ms in all; heavy "
                  f"libraries loaded: {', '.join(imports['heavy_imported']) or 'none'}")
            for module, ms in imports["top_level_ms"][:8]:
                print(f"    {ms:8.1f} ms  {module}")
    print("\nbefore: " + describe(report["machine"]))
    print("after:  " + describe(report["machine_after"]))


if __name__ == "__main__":
    main()
