"""Embedding on Ray (`index.ray_embedding`): `citebot ingest --ray` embeds the sample
articles' sentences through a local Ray runtime started by the run, and the vectors in the
embedding cache equal those computed in-process (cosine ≥ 0.9999). Skipped, with the
reason, when Ray is not installed (`pip install -e ".[cluster]"`)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from bot.cli import main
from index.embed import Embedder, EmbedderSettings
from index.embedding_inputs import sentence_model
from index.settings import Settings
from index.storage.embedding_cache import EmbeddingCache
from index.storage.sqlite_store import SQLiteStore

pytest.importorskip("ray", reason="Ray is not installed: pip install -e '.[cluster]'")


def test_ingest_with_ray_gives_the_in_process_vectors(samples: Path, tmp_path: Path) -> None:
    import ray

    data_dir = tmp_path / "store"
    try:
        result = CliRunner().invoke(main, ["--data-dir", str(data_dir), "ingest", str(samples),
                                           "--json", "--ray"])
    finally:
        ray.shutdown()
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["added"] == 11 and report["embedded_sentences"] > 150
    settings = Settings(data_dir=data_dir)
    store = SQLiteStore(data_dir)
    cache = EmbeddingCache(data_dir)
    try:
        keys, texts = zip(*store.sentence_keys(), strict=True)
        cached = cache.get(sentence_model(settings.model), keys)
        assert len(cached) == len(keys)
        in_process = Embedder(settings.model, EmbedderSettings(bulk_backend="onnx")).embed(
            list(texts))
        from_ray = np.stack([cached[key] for key in keys])
        assert float(np.min(np.sum(in_process * from_ray, axis=1))) >= 0.9999
    finally:
        store.close()
        cache.close()
