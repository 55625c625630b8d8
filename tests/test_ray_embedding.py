"""Embedding on Ray (`index.vectors.ray_embedding`): `citebot ingest --ray` embeds the sample
articles' sentences through a local Ray runtime started by the run, and the vectors in the
embedding cache equal those computed in-process (cosine ≥ 0.9999); a worker killed mid-job
stops the run with one line and loses none of the vectors saved before. Skipped, with the
reason, when Ray is not installed (`pip install -e ".[cluster]"`)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from bot.cli import main
from index.settings import Settings
from index.storage.embedding_cache import ARTICLE_MATRICES, READINGS, EmbeddingCache
from index.storage.sqlite_store import SQLiteStore
from index.vectors.embed import Embedder, EmbedderSettings
from index.vectors.embedding_inputs import sentence_model
from tests.conftest import BBC, assert_stopped_with_one_line

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


def _ray_worker_pids() -> list[int]:
    """The processes of citebot's Ray actors (named `ray::_Worker` by Ray)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if command.startswith(b"ray::_Worker"):
                pids.append(int(entry.name))
    return pids


def _cached_vectors(data_dir: Path) -> int:
    path = data_dir / EmbeddingCache.FILENAME
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as connection:
            return int(connection.execute(
                "SELECT COUNT(*) FROM embeddings WHERE model != ? AND model NOT LIKE ?",
                [READINGS, f"%{ARTICLE_MATRICES}"]).fetchone()[0])
    except sqlite3.OperationalError:  # not created yet
        return 0


def test_a_ray_worker_dying_mid_job_stops_with_one_line_and_loses_no_saved_vector(
        tmp_path: Path) -> None:
    """A worker process killed (SIGKILL) while an ingest embeds on Ray: the command stops
    with one clear line, the collection is as it was (nothing of the ingest committed), the
    vectors saved before the death are kept, and running again embeds only the rest."""
    if not BBC.is_dir():
        pytest.skip("../shared/corpora/bbc is missing")
    articles = tmp_path / "articles"
    articles.mkdir()
    for path in sorted(BBC.rglob("*.txt"))[:80]:
        shutil.copy(path, articles / f"{path.parent.name}-{path.name}")
    data_dir = tmp_path / "store"
    env = dict(os.environ, CITEBOT_EMBED_SLICE="64")
    command = [sys.executable, "-m", "bot.cli", "--data-dir", str(data_dir), "ingest",
               str(articles), "--ray"]
    run = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           env=env, cwd=Path(__file__).resolve().parents[1])
    killed: list[int] = []
    deadline = time.monotonic() + 240
    while run.poll() is None and not killed and time.monotonic() < deadline:
        if _cached_vectors(data_dir) > 0:  # the first slice is saved: kill a worker
            for pid in _ray_worker_pids()[:1]:
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
        time.sleep(0.05)
    _stdout, stderr = run.communicate(timeout=120)
    assert killed, f"the ingest ended before a worker could be killed: {stderr}"
    assert_stopped_with_one_line(run.returncode, stderr, "Ray worker failed mid-job")
    saved = _cached_vectors(data_dir)
    assert saved > 0
    store = SQLiteStore(data_dir)
    try:
        assert store.counts()["articles"] == 0  # the ingest is one transaction: rolled back
    finally:
        store.close()

    again = CliRunner().invoke(main, ["--data-dir", str(data_dir), "ingest", str(articles),
                                      "--json"])
    assert again.exit_code == 0, again.output
    report = json.loads(again.stdout)
    assert report["added"] == 80
    total = _cached_vectors(data_dir)
    assert report["embedded_sentences"] == total - saved  # only what the dead run lacked
