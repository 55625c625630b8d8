"""Synthetic embedding-like vectors for the scale benchmark (bench/bench_scale.py).

`Clustered(n)` draws unit vectors shaped like sentence embeddings rather than uniform
noise: a shared mean direction (real MiniLM vectors have one: the mean of the BBC passage
vectors has norm ≈ 0.29), a decaying variance spectrum in a random basis (real: eigenvalues
fall ~20× over the first 100 principal directions; here ~27×), and structure — n/1000 topics,
n/20 stories scattered around them, points scattered around the stories. The spreads were
chosen so that an IVF index finds neighbours about as easily as in the real BBC passage
vectors (at ~9k vectors and 96 cells, recall@10 with 1/2/4/8/16 probes: real 0.71 / 0.84 /
0.92 / 0.96 / 0.985, synthetic 0.55 / 0.74 / 0.90 / 0.98 / 0.99); neighbours are less close
than in the real set (top-1 cosine ≈ 0.59 at 10k points, real ≈ 0.8 with its duplicates).
`uniform(n)` is the worst case for any approximate index: no structure at all.

Both generate deterministically in chunks (`chunks`), so 5M vectors never have to be held
in memory at once.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

DIM = 384


def _spectrum(dim: int) -> np.ndarray:
    k = np.arange(dim, dtype=np.float64)
    scale = (1.0 + k / 8.0) ** -1.1
    return np.sqrt(scale / scale.sum()).astype(np.float32)  # total variance 1


class Clustered:
    """A fixed topic model; `chunk(i)` returns the i-th block of points."""

    def __init__(self, n: int, dim: int = DIM, *, seed: int = 0, topics: int | None = None,
                 spread: float = 1.5, story_spread: float = 1.0, mean_norm: float = 0.35,
                 kind: str = "clustered") -> None:
        rng = np.random.default_rng(seed)
        self.n, self.dim, self.seed, self.kind = n, dim, seed, kind
        self.std = _spectrum(dim)
        rotation, _ = np.linalg.qr(rng.standard_normal((dim, dim)).astype(np.float32))
        self.rotation = rotation.astype(np.float32)
        mean = rng.standard_normal(dim).astype(np.float32)
        self.mean = mean / np.linalg.norm(mean) * mean_norm
        self.topics = topics or max(8, n // 1000)
        self.spread = spread
        centres = rng.standard_normal((self.topics, dim)).astype(np.float32) * self.std
        # Stories within topics: n/20 sub-centres, each near one topic centre.
        self.stories = max(8, n // 20)
        parent = rng.integers(0, self.topics, self.stories)
        self.centres = centres[parent] + story_spread * (
            rng.standard_normal((self.stories, dim)).astype(np.float32) * self.std)

    def sample(self, count: int, rng: np.random.Generator) -> np.ndarray:
        if self.kind == "uniform":
            points = rng.standard_normal((count, self.dim), dtype=np.float32)
        else:
            topic = rng.integers(0, self.stories, count)
            noise = rng.standard_normal((count, self.dim), dtype=np.float32) * self.std
            points = (self.centres[topic] + self.spread * noise) @ self.rotation + self.mean
        points /= np.linalg.norm(points, axis=1, keepdims=True)
        return points.astype(np.float32, copy=False)

    def chunks(self, size: int = 100_000) -> Iterator[np.ndarray]:
        """The n points, in blocks of `size`, the same on every call."""
        for index, first in enumerate(range(0, self.n, size)):
            rng = np.random.default_rng([self.seed, 1, index])
            yield self.sample(min(size, self.n - first), rng)

    def queries(self, count: int) -> np.ndarray:
        """Fresh points from the same distribution (not in the collection)."""
        return self.sample(count, np.random.default_rng([self.seed, 2]))


def clustered(n: int, dim: int = DIM, seed: int = 0) -> Clustered:
    return Clustered(n, dim, seed=seed)


def uniform(n: int, dim: int = DIM, seed: int = 0) -> Clustered:
    return Clustered(n, dim, seed=seed, kind="uniform")
