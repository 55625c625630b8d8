"""Benchmark: the vector index at scale — build time, memory, search latency and recall@10
against exact search, with the index kind that `index.storage.faiss_index.build_index`
picks by size.

Usage:  .venv/bin/python bench/bench_scale.py [--sizes 100000,1000000,5000000]
        [--real bench/.cache/bbc-vectors.npz] [--out bench/results]

For each size: embedding-like synthetic unit vectors (bench/synthetic.py, dim 384), built
through `build_index` exactly as a reindex does (from the whole matrix), written to a file
(its size) and searched one question at a time for the 60 candidates citebot asks for
(p50/p95/p99); recall@10 is measured against exact search. A size is skipped when the
machine lacks the memory for it. Also measured: the probes/recall/latency trade-off at 1M,
the exact index at the size threshold and at 100k, uniform random vectors (the worst case
for any approximate index), and — with `--real` (written by bench_index.py
--save-vectors) — the real BBC passage and sentence vectors with the dev questions as
queries, forced into the approximate index. Writes `bench-scale.json`.
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_index import percentile  # noqa: E402
from bench.synthetic import Clustered  # noqa: E402
from index.storage import faiss_index as vectors  # noqa: E402

DIM = 384
CANDIDATES = 60  # what citebot's retrieval asks the index for (AnswerTuning.candidates)


def meminfo(field: str) -> int:
    """A /proc/meminfo or /proc/self/status value in bytes."""
    source = "/proc/self/status" if field.startswith("Vm") else "/proc/meminfo"
    for line in Path(source).read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


def exact_top(data: np.ndarray, queries: np.ndarray, k: int = 10) -> np.ndarray:
    """Positions of the exact top-k of each query (chunked: no n × queries matrix)."""
    best_scores = np.full((len(queries), 0), -np.inf, dtype=np.float32)
    best_positions = np.zeros((len(queries), 0), dtype=np.int64)
    for first in range(0, len(data), 500_000):
        scores = queries @ data[first : first + 500_000].T
        top = np.argpartition(-scores, min(k, scores.shape[1] - 1), axis=1)[:, :k]
        best_scores = np.concatenate([best_scores, np.take_along_axis(scores, top, 1)], 1)
        best_positions = np.concatenate([best_positions, top + first], 1)
        keep = np.argsort(-best_scores, axis=1)[:, :k]
        best_scores = np.take_along_axis(best_scores, keep, 1)
        best_positions = np.take_along_axis(best_positions, keep, 1)
    return best_positions


def loaded_rss_mb(path: Path) -> float:
    """Memory a fresh process takes to hold the index file (as the bot does), in MiB."""
    code = ("import faiss, sys; from pathlib import Path\n"
            "def rss():\n"
            "    for line in Path('/proc/self/status').read_text().splitlines():\n"
            "        if line.startswith('VmRSS:'): return int(line.split()[1]) * 1024\n"
            "before = rss(); index = faiss.read_index(sys.argv[1]); print(rss() - before)")
    done = subprocess.run([sys.executable, "-c", code, str(path)], check=True,
                          capture_output=True, text=True)
    return round(int(done.stdout.strip()) / 2**20, 1)


def measure(index: faiss.Index, queries: np.ndarray, truth_ids: np.ndarray,
            timed: int | None = None) -> dict[str, float]:
    """Search one query at a time: latency percentiles and recall@10."""
    times, hits = [], 0
    for i, query in enumerate(queries):
        started = time.perf_counter()
        found = vectors.search(index, query, CANDIDATES)
        if timed is None or i < timed:
            times.append((time.perf_counter() - started) * 1000)
        hits += len({pid for pid, _ in found[:10]} & set(truth_ids[i].tolist()))
    return {"recall_at_10": round(hits / (10 * len(queries)), 4),
            **{f"search_p{p}_ms": round(percentile(times, p), 3) for p in (50, 95, 99)}}


def run_size(data: np.ndarray, queries: np.ndarray, *, exact_max: int = vectors.EXACT_MAX,
             label: str, probes: list[int] | None = None) -> dict[str, object]:
    ids = np.arange(len(data), dtype=np.int64) * 2 + 1  # passage ids need not be positions
    truth = ids[exact_top(data, queries)]
    gc.collect()
    rss_before = meminfo("VmRSS")
    started = time.perf_counter()
    index = vectors.build_index(ids, data, DIM, exact_max=exact_max)
    build_s = time.perf_counter() - started
    gc.collect()
    rss_after = meminfo("VmRSS")
    with tempfile.TemporaryDirectory(dir=ROOT / "bench") as scratch:
        path = Path(scratch) / "vectors-1.faiss"
        started = time.perf_counter()
        vectors.write_index_atomically(index, path)
        write_s = time.perf_counter() - started
        file_bytes = path.stat().st_size
        loaded_mb = loaded_rss_mb(path)
        started = time.perf_counter()
        vectors.read_index(path)
        load_s = time.perf_counter() - started
    result: dict[str, object] = {
        "label": label, "vectors": len(data), **vectors.describe(index),
        "build_s": round(build_s, 2), "write_s": round(write_s, 2), "load_s": round(load_s, 2),
        "index_file_mb": round(file_bytes / 2**20, 1),
        "index_loaded_rss_mb": loaded_mb,
        "build_rss_growth_mb": round((rss_after - rss_before) / 2**20, 1),
        "float32_matrix_mb": round(data.nbytes / 2**20, 1),
        **measure(index, queries, truth),
    }
    if probes and result["kind"] == "ivf-sq8":
        ivf = faiss.extract_index_ivf(index)
        default = ivf.nprobe
        curve = []
        for count in probes:
            ivf.nprobe = count
            curve.append({"probes": count, **measure(index, queries, truth, timed=100)})
        ivf.nprobe = default
        result["probe_curve"] = curve
    print(json.dumps(result), flush=True)
    del index
    gc.collect()
    return result


def synthetic(model: Clustered) -> np.ndarray:
    data = np.empty((model.n, DIM), dtype=np.float32)
    first = 0
    for chunk in model.chunks():
        data[first : first + len(chunk)] = chunk
        first += len(chunk)
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100000,1000000,5000000")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--real", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    result: dict[str, object] = {"exact_max": vectors.EXACT_MAX,
                                 "candidates": CANDIDATES, "sizes": []}

    model = Clustered(vectors.EXACT_MAX)
    result["flat_at_threshold"] = run_size(synthetic(model), model.queries(args.queries),
                                           label=f"flat at the threshold ({vectors.EXACT_MAX})")
    model = Clustered(100_000)
    data = synthetic(model)
    result["flat_at_100k"] = run_size(data, model.queries(args.queries), exact_max=10**9,
                                      label="flat at 100k (for comparison)")
    del data
    model = Clustered(100_000, kind="uniform")
    result["uniform_100k"] = run_size(synthetic(model), model.queries(args.queries),
                                      label="uniform random 100k (worst case)")

    for n in sizes:
        needed = n * (DIM * 4 + 600) * 1.2 + 2**30
        available = meminfo("MemAvailable")
        if needed > available:
            result["sizes"].append({"vectors": n, "skipped": (
                f"needs ~{needed / 2**30:.1f} GiB, {available / 2**30:.1f} GiB available")})
            continue
        model = Clustered(n)
        started = time.perf_counter()
        data = synthetic(model)
        generated = round(time.perf_counter() - started, 1)
        probes = [25, 50, 100, 200, 400] if n == 1_000_000 else None
        entry = run_size(data, model.queries(args.queries), label=f"{n:,} embedding-like",
                         probes=probes)
        entry["generate_s"] = generated
        result["sizes"].append(entry)
        del data
        gc.collect()

    if args.real and args.real.exists():
        real = np.load(args.real)
        data = np.concatenate([real["passages"], real["sentences"]]).astype(np.float32)
        cells = vectors.ivf_cells(len(data))
        result["real_bbc"] = run_size(
            data, real["questions"].astype(np.float32), exact_max=0,
            label="real BBC passage + sentence vectors, dev questions (forced IVF)",
            probes=sorted({max(1, cells // 40), max(1, cells // 20), cells // 10,
                           cells // 5}))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench-scale.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
