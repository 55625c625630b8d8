"""The vectors a write needs: embedding the texts the cache lacks, saved as they come, and
passage vectors as the normalised mean of their sentences' vectors.

Vectors go to the embedding cache (its own SQLite file, committing on its own) a slice at
a time, so a killed run keeps the work it did; the new index is then built from the cache.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from index.reports import Progress, ProgressCallback
from index.storage.embedding_cache import EmbeddingCache
from index.vectors.embed import Embedder

# Texts handed to the embedder in one call (its workers stay busy within a call).
EMBED_CHUNK = 50_000
# Passages whose sentence vectors are read from the cache at once (sentence-mean vectors).
SENTENCE_MEAN_SLICE = 5000

# One text to embed: (cache namespace, cache key, text).
EmbedItem = tuple[str, str, str]


def embed_into_cache(items: list[EmbedItem], *, embedder: Embedder, cache: EmbeddingCache,
                     save_every: int, progress: ProgressCallback | None,
                     after_save: Callable[[], None]) -> None:
    """Embed the items and save their vectors to the cache every `save_every` texts (each
    save its own commit, followed by `after_save`). The texts go to the embedder
    `EMBED_CHUNK` at a time, so its workers never wait for a save and the token ids of a
    huge job are not all in memory at once."""
    done = 0
    if progress:
        progress(Progress("embedding", 0, len(items)))
    # One backend for the whole job, chosen by its size (about 4 characters a token).
    job_tokens = sum(len(text) for _, _, text in items) // 4
    unsaved: list[tuple[int, np.ndarray]] = []
    for first in range(0, len(items), EMBED_CHUNK):
        chunk = items[first : first + EMBED_CHUNK]
        batches = embedder.embed_batches([text for _, _, text in chunk], job_tokens=job_tokens)
        for rows, matrix in batches:
            unsaved.extend((first + row, matrix[i]) for i, row in enumerate(rows))
            while len(unsaved) >= save_every:
                done += _save(cache, items, unsaved[:save_every], after_save)
                del unsaved[:save_every]
                if progress:
                    progress(Progress("embedding", done, len(items)))
    done += _save(cache, items, unsaved, after_save)
    if progress:
        progress(Progress("embedding", done, len(items)))


def _save(cache: EmbeddingCache, items: list[EmbedItem], unsaved: list[tuple[int, np.ndarray]],
          after_save: Callable[[], None]) -> int:
    """Save embedded vectors (item index, vector) to the cache, namespace by namespace
    (one commit each); returns how many there were."""
    by_namespace: dict[str, list[tuple[int, np.ndarray]]] = {}
    for item, vector in unsaved:
        by_namespace.setdefault(items[item][0], []).append((item, vector))
    for namespace, rows in by_namespace.items():
        cache.save(namespace, [items[item][1] for item, _ in rows],
                   np.stack([vector for _, vector in rows]))
    if unsaved:
        after_save()
    return len(unsaved)


def sentence_mean_vectors(ids: np.ndarray, sentence_keys: Iterable[tuple[int, list[str]]],
                          cache: EmbeddingCache, namespace: str, dim: int) -> np.ndarray:
    """Each passage's vector as the normalised mean of its sentences' cached vectors.

    Args: `ids`, the passages (rows of the result in this order); `sentence_keys`,
    (passage id, cache keys of its sentences) of each; `namespace`, the cache namespace of
    sentence vectors. The cache is read `SENTENCE_MEAN_SLICE` passages at a time; a passage
    none of whose sentences is cached gets a zero row.
    """
    matrix = np.zeros((len(ids), dim), dtype=np.float32)
    row_of = {int(passage_id): row for row, passage_id in enumerate(ids)}
    pending: list[tuple[int, list[str]]] = []

    def flush() -> None:
        found = cache.get(namespace, (key for _row, keys in pending for key in keys))
        for row, keys in pending:
            known = [found[key] for key in keys if key in found]
            if known:
                mean = np.mean(known, axis=0)
                norm = float(np.linalg.norm(mean))
                matrix[row] = mean / norm if norm else mean
        pending.clear()

    for passage_id, keys in sentence_keys:
        pending.append((row_of[passage_id], keys))
        if len(pending) >= SENTENCE_MEAN_SLICE:
            flush()
    flush()
    return matrix
