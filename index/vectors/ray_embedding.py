"""Embedding on a Ray cluster: `RayEmbedder` hands the texts of an indexing job to Ray
actors, each of which loads the model once, and gives the vectors back batch by batch.

It offers what the indexer uses of `index.vectors.embed.Embedder` — `dim` and `embed_batches` — so
the write path is unchanged: `embed_into_cache` saves each slice of returned vectors to the
same embedding cache as it arrives (one commit each), and a run interrupted half-way resumes
from what was saved. Texts are sorted by length before they are cut into batches (little
padding, as in-process), and at most two batches per worker are in flight. Questions are
still embedded in-process (`embed_query`). With an address, the driver joins that cluster
(citebot must be installed on its nodes); with "local", a Ray runtime is started on this
machine. A worker dying mid-job stops the run with one line (`RayEmbeddingError`); what
was saved is kept.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from index.vectors.embed import Embedder, EmbedderSettings, ModelError, shared_embedder

LOCAL = "local"  # `--ray` without an address: start a Ray runtime on this machine
BATCH_TEXTS = 256  # texts per task (sorted by length, so of similar length)


class RayEmbeddingError(ModelError):
    """Ray is missing, can't be reached, or a worker died mid-job."""


class _Worker:
    """A Ray actor: one model, loaded once, embedding the batches it is sent."""

    def __init__(self, model: str, settings: EmbedderSettings) -> None:
        self.embedder = Embedder(model, settings)

    def embed(self, texts: list[str]) -> np.ndarray:
        return self.embedder.embed(texts)


class RayEmbedder:
    """The indexer's embedder, with the work done by `workers` Ray actors.

    Args: `model`, `settings`, as for `Embedder` (each worker runs with `threads` = 1
    unless the settings say more); `address`, a Ray cluster's address or `LOCAL`;
    `workers`, how many actors (default: the cluster's CPUs).
    """

    def __init__(self, model: str, settings: EmbedderSettings, address: str = LOCAL,
                 workers: int | None = None) -> None:
        try:
            import ray
        except ImportError:
            raise RayEmbeddingError("--ray needs Ray: pip install -e '.[cluster]'") from None
        self._ray = ray
        self._local = shared_embedder(model, settings)
        self.dim = self._local.dim
        self.name = model
        try:
            if not ray.is_initialized():
                ray.init(address=None if address == LOCAL else address,
                         include_dashboard=False, log_to_driver=False,
                         runtime_env={"env_vars": {"PYTHONPATH": os.pathsep.join(
                             p for p in (os.environ.get("PYTHONPATH"), os.getcwd()) if p)}})
        except Exception as error:
            raise RayEmbeddingError(f"cannot start or reach Ray at {address}: {error}") from None
        count = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        worker = ray.remote(num_cpus=1)(_Worker)
        self._workers = [worker.remote(model, settings) for _ in range(count)]

    def embed_query(self, text: str) -> np.ndarray:
        return self._local.embed_query(text)

    def embed(self, texts: Sequence[str], **_options: Any) -> np.ndarray:
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for rows, vectors in self.embed_batches(texts):
            out[rows] = vectors
        return out

    def embed_batches(self, texts: Sequence[str], **_options: Any
                      ) -> Iterator[tuple[list[int], np.ndarray]]:
        """(indexes into `texts`, their vectors), batch by batch as workers finish them."""
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
        batches = [order[first : first + BATCH_TEXTS]
                   for first in range(0, len(order), BATCH_TEXTS)]
        pending: dict[Any, list[int]] = {}
        next_batch = 0
        while next_batch < len(batches) or pending:
            while next_batch < len(batches) and len(pending) < 2 * len(self._workers):
                rows = batches[next_batch]
                actor = self._workers[next_batch % len(self._workers)]
                pending[actor.embed.remote([texts[i] for i in rows])] = rows
                next_batch += 1
            done, _waiting = self._ray.wait(list(pending), num_returns=1)
            rows = pending.pop(done[0])
            try:
                vectors = self._ray.get(done[0])
            except Exception as error:
                raise RayEmbeddingError(
                    f"a Ray worker failed mid-job ({type(error).__name__}); the vectors "
                    "saved so far are kept: run the command again to resume") from None
            yield rows, np.asarray(vectors, dtype=np.float32)

    def close(self) -> None:
        for actor in self._workers:
            self._ray.kill(actor)
        self._workers = []
