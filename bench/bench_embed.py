"""Benchmark: embedding throughput against this machine's measured fp32 matmul peak, query
embedding latency, model load time, and the settings that were measured to choose them.

Usage:  .venv/bin/python bench/bench_embed.py [--corpus ../shared/corpora/bbc]
        [--questions ../shared/eval/bbc_dev.jsonl] [--out bench/results] [--sample 1600]

1. Peak: the best GFLOP/s of an fp32 matrix product (2048³ and the model's own shapes) in
   numpy, torch and ONNX Runtime, with 1 thread and with all CPUs; the peak is the best.
2. FLOPs: for each text, 2 × (non-embedding weights) × tokens + the attention products
   (2 × 2 × tokens² × hidden per layer), from the model's config, for its real token count
   (special tokens included, no padding) — ~22 MFLOP per token at this corpus's lengths.
3. Bulk throughput on a fixed sample of what citebot embeds when it indexes the BBC corpus
   (passages with their headline, and headline + sentence), in tokens/s, GFLOP/s and as a
   fraction of the peak: bf16 (torch, bfloat16 matrix products) and ONNX Runtime fp32 with
   2048/4096/8192-token batches, side by side on single-threaded workers or one worker with
   all threads, ONNX on 1 thread, and torch fp32. The agreement of bf16 with fp32 vectors
   (cosine), and which of them `auto` picks for a whole corpus on this CPU.
   Padding: padded tokens / real tokens of the token-budget batches, against fixed batches
   of 32 texts in input order.
4. Query embedding: `embed_query` p50/p95/p99 on the dev questions, ONNX (1 thread, all
   threads) and torch.
5. Model load in a fresh interpreter (imports included): ONNX with the export cached,
   torch, and the one-off ONNX export into an empty cache.
Writes `bench-embed.json` (and prints it).
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_index import corpus_arguments, percentile  # noqa: E402
from index.settings import Settings  # noqa: E402
from index.sources.chunk import make_passages  # noqa: E402
from index.sources.ingest import iter_files, read_file  # noqa: E402
from index.storage.sqlite_store import embed_input, sentence_inputs  # noqa: E402
from index.vectors import embed  # noqa: E402
from index.vectors.embed import Embedder  # noqa: E402

EMBEDDING = Settings.from_env().embedding  # CITEBOT_EMBED_THREADS etc., read once


def model_shape(path: str) -> dict[str, int]:
    config = json.loads((Path(path) / "config.json").read_text())
    return {"layers": config["num_hidden_layers"], "hidden": config["hidden_size"],
            "intermediate": config["intermediate_size"]}


def flops(length: int, shape: dict[str, int]) -> float:
    """FLOPs of one forward pass over a sequence of `length` tokens (multiply-add = 2)."""
    h, i, layers = shape["hidden"], shape["intermediate"], shape["layers"]
    weights = 4 * h * h + 2 * h * i  # Q, K, V, output projection; the two FFN matrices
    return layers * (2 * weights * length + 2 * 2 * length * length * h)


def corpus_texts(corpus: Path, max_tokens: int = 160) -> tuple[list[str], list[str]]:
    """What citebot embeds for `corpus`: passages (headline + passage), and headline +
    sentence for every sentence."""
    passages, sentences = [], []
    for item in iter_files(corpus):
        if isinstance(item, tuple):
            continue
        for draft in read_file(item, max_bytes=20 << 20).drafts:
            passages += [embed_input(draft.title, draft.body[s.start : s.end])
                         for s in make_passages(draft.body, max_tokens=max_tokens)]
            sentences += [text for _, _, text in sentence_inputs(draft.title, draft.body)]
    return passages, sentences


# -- the peak ----------------------------------------------------------------------------

def _best(run, flop: float, repeats: int = 7) -> float:
    run()
    best = 0.0
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        best = max(best, flop / (time.perf_counter() - started) / 1e9)
    return round(best, 1)


def _ort_matmul(m: int, k: int, n: int, threads: int):
    import onnxruntime
    from onnx import TensorProto, helper, numpy_helper

    weight = numpy_helper.from_array(np.random.rand(k, n).astype(np.float32), "B")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["A", "B"], ["C"])], "mm",
        [helper.make_tensor_value_info("A", TensorProto.FLOAT, [m, k])],
        [helper.make_tensor_value_info("C", TensorProto.FLOAT, [m, n])], [weight])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    session = onnxruntime.InferenceSession(model.SerializeToString(), options,
                                           providers=["CPUExecutionProvider"])
    feed = {"A": np.random.rand(m, k).astype(np.float32)}
    return lambda: session.run(None, feed)


def matmul_peak(threads: int, shape: dict[str, int]) -> dict[str, object]:
    import torch

    torch.set_num_threads(threads)
    h, i = shape["hidden"], shape["intermediate"]
    shapes = {"square 2048": (2048, 2048, 2048), f"model {4096}x{h}x{i}": (4096, h, i),
              f"model {4096}x{i}x{h}": (4096, i, h)}
    out: dict[str, object] = {}
    for label, (m, k, n) in shapes.items():
        flop = 2.0 * m * k * n
        a, b = np.random.rand(m, k).astype(np.float32), np.random.rand(k, n).astype(np.float32)
        ta, tb = torch.from_numpy(a), torch.from_numpy(b)
        row = {"torch": _best(lambda ta=ta, tb=tb: ta @ tb, flop),
               "onnxruntime": _best(_ort_matmul(m, k, n, threads), flop)}
        if threads == EMBEDDING.threads:  # numpy's BLAS threads are fixed at import
            row["numpy"] = _best(lambda a=a, b=b: a @ b, flop)
        out[label] = row
    out["peak"] = max(v for row in out.values() if isinstance(row, dict)
                      for v in row.values())
    # For information, not the peak: the same products in bfloat16 (fp32 accumulation).
    ta, tb = (torch.rand(2048, 2048, dtype=torch.bfloat16) for _ in range(2))
    out["bf16 square 2048 (torch, not part of the fp32 peak)"] = _best(
        lambda: ta @ tb, 2.0 * 2048**3)
    return out


# -- throughput ----------------------------------------------------------------------------

def throughput(embedder: Embedder, texts: list[str], work: dict[str, float],
               peak: float, **options) -> dict[str, float]:
    embedder.embed(texts[:64], **options)  # warm up
    started = time.perf_counter()
    embedder.embed(texts, **options)
    seconds = time.perf_counter() - started
    gflops = work["flops"] / seconds / 1e9
    return {"seconds": round(seconds, 2), "tokens_per_s": round(work["tokens"] / seconds),
            "gflops": round(gflops, 1), "of_peak": round(gflops / peak, 3)}


def padding(lengths: list[int], batches: list[list[int]]) -> float:
    padded = sum(len(b) * max(lengths[i] for i in b) for b in batches)
    return round(padded / sum(lengths) - 1, 4)


def query_latency(embedder: Embedder, questions: list[str]) -> dict[str, float]:
    for question in questions[:10]:
        embedder.embed_query(question)
    times = []
    for question in questions * 3:
        started = time.perf_counter()
        embedder.embed_query(question)
        times.append((time.perf_counter() - started) * 1000)
    return {f"p{p}": round(percentile(times, p), 2) for p in (50, 95, 99)}


def cold_load(backend: str, cache: str | None = None) -> float:
    """Seconds to import and load the embedder in a fresh interpreter."""
    settings = (f"EmbedderSettings(cache_dir=pathlib.Path({cache!r}))" if cache
                else "EmbedderSettings()")
    code = ("import time; t = time.perf_counter(); import pathlib; "
            "from index.vectors.embed import Embedder, EmbedderSettings; "
            f"e = Embedder(settings={settings}, query_backend={backend!r}, "
            f"bulk_backend={backend!r}); "
            "assert e.query_backend == %r, e.fallback_reason; "
            "print(time.perf_counter() - t)" % backend)
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True,
                            capture_output=True, text=True)
    return round(float(result.stdout.strip().splitlines()[-1]), 2)


def main() -> None:
    parser = corpus_arguments(__doc__.split("\n")[0])
    parser.add_argument("--sample", type=int, default=1600,
                        help="texts in the throughput sample (1 passage : 4 sentences)")
    args = parser.parse_args()
    threads = EMBEDDING.threads
    result: dict[str, object] = {"threads_available": threads}

    probe = Embedder()
    shape = model_shape(probe.path)
    result["model"] = {"path": probe.path, **shape}
    result["peak_gflops"] = {f"{n} thread{'s' * (n > 1)}": matmul_peak(n, shape)
                             for n in sorted({1, threads})}
    peak = float(result["peak_gflops"][f"{threads} thread{'s' * (threads > 1)}"]["peak"])
    result["peak"] = peak

    passages, sentences = corpus_texts(args.corpus)
    rng = random.Random(0)
    share = min(args.sample // 5, len(passages))
    sample = rng.sample(passages, share) + rng.sample(
        sentences, min(args.sample - share, len(sentences)))
    lengths = probe.input_lengths(sample)
    work = {"texts": len(sample), "tokens": sum(lengths),
            "flops": sum(flops(n, shape) for n in lengths)}
    result["sample"] = {**work, "mflop_per_token": round(work["flops"] / work["tokens"] / 1e6,
                                                         2)}
    all_lengths = probe.input_lengths(passages + sentences)
    result["corpus"] = {
        "passages": len(passages), "sentences": len(sentences),
        "tokens": sum(all_lengths),
        "passage_tokens": sum(all_lengths[: len(passages)]),
        "mflop_per_token": round(sum(flops(n, shape) for n in all_lengths)
                                 / sum(all_lengths) / 1e6, 2),
    }
    result["padding_overhead"] = {
        f"token_batches_{embed.BATCH_TOKENS}": padding(lengths, embed.token_batches(lengths)),
        "fixed_32_input_order": padding(
            lengths, [list(range(i, min(i + 32, len(lengths))))
                      for i in range(0, len(lengths), 32)]),
    }

    runs: dict[str, dict[str, float]] = {}
    half = Embedder(bulk_backend="bf16", bulk_workers=threads, threads=threads)
    for budget in (2048, 4096, 8192):
        runs[f"bf16 {threads}x1-thread workers, {budget}-token batches"] = throughput(
            half, sample, work, peak, batch_tokens=budget)
    half_intra = Embedder(bulk_backend="bf16", bulk_workers=1, threads=threads)
    runs[f"bf16 1 worker x {threads} threads, 4096-token batches"] = throughput(
        half_intra, sample, work, peak, batch_tokens=4096)
    data = Embedder(bulk_backend="onnx", bulk_workers=threads, threads=threads)
    for budget in (2048, 4096, 8192):
        runs[f"onnx {threads}x1-thread sessions, {budget}-token batches"] = throughput(
            data, sample, work, peak, batch_tokens=budget)
    intra = Embedder(bulk_workers=1, threads=threads)
    runs[f"onnx 1 session x {threads} threads, 4096-token batches"] = throughput(
        intra, sample, work, peak, batch_tokens=4096)
    single = Embedder(bulk_workers=1, threads=1)
    runs["onnx 1 thread, 4096-token batches"] = throughput(single, sample, work, peak,
                                                           batch_tokens=4096)
    torch_embedder = Embedder(query_backend="torch", bulk_backend="torch", threads=threads)
    torch_sample = sample[: len(sample) // 2]
    torch_lengths = lengths[: len(torch_sample)]
    torch_work = {"tokens": sum(torch_lengths),
                  "flops": sum(flops(n, shape) for n in torch_lengths)}
    runs[f"torch {threads} threads, 4096-token batches (half the sample)"] = throughput(
        torch_embedder, torch_sample, torch_work, peak, batch_tokens=4096)
    result["bulk"] = runs
    agreement = data.embed(torch_sample) * torch_embedder.embed(torch_sample)
    result["bulk_onnx_vs_torch_min_cosine"] = round(float(agreement.sum(axis=1).min()), 7)
    agreement = data.embed(sample) * half.embed(sample)
    result["bulk_bf16_vs_onnx_fp32_cosine"] = {
        "mean": round(float(agreement.sum(axis=1).mean()), 7),
        "min": round(float(agreement.sum(axis=1).min()), 7)}
    result["cpu_has_bf16"] = embed.cpu_has_bf16()
    # What `auto` runs a large job (a whole corpus) on here (measured, then cached).
    result["bulk_auto_route"] = probe.bulk_route(embed.LARGE_JOB_TOKENS)
    result["bulk_calibration"] = {route: {"load_s": m.load_seconds,
                                          "tokens_per_s": m.tokens_per_second}
                                  for route, m in (probe.calibration or {}).items()}
    if result["bulk_auto_route"] == "bf16":
        default = f"bf16 {threads}x1-thread workers, {embed.BATCH_TOKENS}-token batches"
    else:
        default = f"onnx {threads}x1-thread sessions, {embed.BATCH_TOKENS}-token batches"
    result["bulk_default"] = {"setting": default, **runs[default]}

    questions = [json.loads(line)["question"] for line in
                 args.questions.read_text().splitlines() if line.strip()]
    result["query_ms"] = {
        f"onnx {threads} threads": query_latency(data, questions),
        "onnx 1 thread": query_latency(single, questions),
        f"torch {threads} threads": query_latency(torch_embedder, questions),
    }
    agreement = np.stack([data.embed_query(q) for q in questions[:30]]) * np.stack(
        [torch_embedder.embed_query(q) for q in questions[:30]])
    result["onnx_vs_torch_min_cosine"] = round(float(agreement.sum(axis=1).min()), 7)

    with tempfile.TemporaryDirectory() as empty_cache:
        started = time.perf_counter()
        cold_load("onnx", empty_cache)
        result["onnx_export_s"] = round(time.perf_counter() - started, 2)
    result["model_load_s"] = {"onnx (export cached)": cold_load("onnx"),
                              "torch": cold_load("torch")}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench-embed.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
