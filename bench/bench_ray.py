"""Ray embedding throughput on this machine: texts per second in-process and through Ray
with 1 and 2 workers (a local runtime; each worker warmed up with one batch first, so the
model load is left out), on sentences of the BBC corpus.

    python bench/bench_ray.py [--texts 3000] [--corpus ../shared/corpora/bbc]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from index.sources.chunk import split_sentences
from index.vectors.embed import DEFAULT_MODEL, Embedder, EmbedderSettings
from index.vectors.ray_embedding import RayEmbedder


def sentences(corpus: Path, count: int) -> list[str]:
    found: list[str] = []
    for path in sorted(corpus.rglob("*.txt")):
        body = path.read_text(encoding="utf-8", errors="replace")
        found += [body[s.start : s.end] for s in split_sentences(body)]
        if len(found) >= count:
            break
    return found[:count]


def rate(embed: object, texts: list[str]) -> float:
    started = time.perf_counter()
    embed(texts)  # type: ignore[operator]
    return len(texts) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=3000)
    parser.add_argument("--corpus", type=Path,
                        default=Path(__file__).resolve().parents[2] / "shared/corpora/bbc")
    args = parser.parse_args()
    texts = sentences(args.corpus, args.texts)
    results = {"texts": len(texts)}
    local = Embedder(DEFAULT_MODEL, EmbedderSettings(bulk_backend="onnx"))
    local.embed(texts[:64])
    results["in-process texts/s"] = round(rate(local.embed, texts), 1)
    for workers in (1, 2):
        import ray

        ray_embedder = RayEmbedder(DEFAULT_MODEL, EmbedderSettings(threads=1), workers=workers)
        ray_embedder.embed(texts[: 256 * workers])  # load the model in every worker
        results[f"ray {workers} worker(s) texts/s"] = round(rate(ray_embedder.embed, texts), 1)
        ray_embedder.close()
        ray.shutdown()
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
