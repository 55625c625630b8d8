"""The embedder: the ONNX Runtime backend reproduces torch's vectors, the backend settings
work, and bulk batches waste no padding."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from index.settings import Settings, SettingsError
from index.vectors import embed
from index.vectors.bulk_calibration import (
    CALIBRATION_FILE,
    CalibrationCache,
    Measurement,
    choose,
    machine_key,
)
from index.vectors.embed import Embedder, EmbedderSettings, ModelError, shared_embedder

TEXTS = [
    "What annual sales figure in Asia is BMW aiming to reach by 2008?",
    "Who won the Six Nations?",
    "Ink helps drive democracy in Asia\nThe Kyrgyz Republic, a small, mountainous state of the "
    "former Soviet republic, is using invisible ink and ultraviolet readers in the country's "
    "elections as part of a drive to prevent multiple voting.",
    "ok",
    "word " * 400,  # longer than the model's window: truncated the same way by both
]


@pytest.fixture(scope="module")
def onnx_embedder() -> Embedder:
    return Embedder(query_backend="onnx", bulk_backend="onnx")


@pytest.fixture(scope="module")
def torch_embedder() -> Embedder:
    return Embedder(query_backend="torch", bulk_backend="torch")


def test_onnx_and_torch_vectors_agree(onnx_embedder: Embedder, torch_embedder: Embedder
                                      ) -> None:
    assert onnx_embedder.query_backend == "onnx", onnx_embedder.fallback_reason
    assert torch_embedder.query_backend == "torch"
    assert onnx_embedder.dim == torch_embedder.dim == 384
    assert onnx_embedder.max_tokens == torch_embedder.max_tokens == 256
    onnx_queries = np.stack([onnx_embedder.embed_query(t) for t in TEXTS])
    torch_queries = np.stack([torch_embedder.embed_query(t) for t in TEXTS])
    assert onnx_queries.dtype == np.float32
    assert ((onnx_queries * torch_queries).sum(axis=1) > 0.9999).all()
    np.testing.assert_allclose(np.linalg.norm(onnx_queries, axis=1), 1.0, atol=1e-5)
    # Bulk (padded batches) gives the same vectors as one text at a time, in input order.
    onnx_bulk, torch_bulk = onnx_embedder.embed(TEXTS), torch_embedder.embed(TEXTS)
    assert ((onnx_bulk * onnx_queries).sum(axis=1) > 0.99999).all()
    assert ((onnx_bulk * torch_bulk).sum(axis=1) > 0.9999).all()
    assert onnx_embedder.input_lengths(TEXTS) == torch_embedder.input_lengths(TEXTS)
    assert onnx_embedder.count_tokens(TEXTS[0]) == torch_embedder.count_tokens(TEXTS[0]) == 14


def test_bf16_bulk_vectors_agree_with_fp32(onnx_embedder: Embedder) -> None:
    import torch

    half = Embedder(bulk_backend="bf16")
    vectors = half.embed(TEXTS * 2, batch_tokens=600)  # several batches, side by side
    assert half.last_bulk_route == "bf16", half.fallback_reason
    assert vectors.dtype == np.float32 and vectors.shape == (10, 384)
    cosines = (vectors * np.concatenate([onnx_embedder.embed(TEXTS)] * 2)).sum(axis=1)
    assert (cosines > 0.9999).all()
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert torch.get_num_threads() == half.threads  # the workers' one thread is undone


def test_bf16_that_disagrees_with_fp32_falls_back_to_onnx(
        onnx_embedder: Embedder, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embed, "MIN_BF16_COSINE", 1.5)  # no bf16 vector can pass the check
    half = Embedder(bulk_backend="bf16")
    vectors = half.embed(TEXTS)
    assert half.last_bulk_route == "onnx"
    assert "bf16 vectors differ from fp32" in (half.fallback_reason or "")
    np.testing.assert_allclose(vectors, onnx_embedder.embed(TEXTS), atol=1e-5)
    assert half.bulk_route(10 * embed.LARGE_JOB_TOKENS) == "onnx"  # checked once, not again


@pytest.fixture
def private_cache(tmp_path: Path) -> Path:
    """A cache folder of its own (calibrations measured here stay here) sharing the user's
    ONNX exports, so nothing is exported again."""
    cache = tmp_path / "cache"
    cache.mkdir()
    exports = EmbedderSettings().cache_dir / "onnx"
    Embedder(bulk_backend="onnx")  # the export exists from here on
    (cache / "onnx").symlink_to(exports, target_is_directory=True)
    return cache


def test_auto_measures_the_bulk_backends_once_per_machine_and_model(private_cache: Path
                                                                     ) -> None:
    settings = EmbedderSettings(cache_dir=private_cache)
    auto = Embedder(settings=settings)
    assert auto.bulk_backend == "auto"
    assert auto.bulk_route(500) == "onnx" and auto.calibration is None  # small: no measuring
    route = auto.bulk_route(embed.LARGE_JOB_TOKENS, TEXTS * 40)
    measured = auto.calibration
    assert auto.calibrated_now and measured is not None
    assert {"onnx", "torch"} <= set(measured)
    assert ("bf16" in measured) == embed.cpu_has_bf16()
    assert all(m.tokens_per_second > 0 and m.load_seconds >= 0 for m in measured.values())
    # Every candidate is loaded now: the fastest measured wins.
    assert route == max(measured, key=lambda r: measured[r].tokens_per_second)
    saved = json.loads((private_cache / CALIBRATION_FILE).read_text())
    assert list(saved) == [auto._calibration_key()] and machine_key() in next(iter(saved))

    again = Embedder(settings=settings)  # a later process on this machine: no measuring
    again.bulk_route(embed.LARGE_JOB_TOKENS)
    assert not again.calibrated_now and again.calibration == measured
    assert Embedder(settings=settings, bulk_backend="onnx").bulk_route(
        10 * embed.LARGE_JOB_TOKENS) == "onnx"  # CITEBOT_BULK_BACKEND forces one
    auto.embed(TEXTS, route="onnx")  # a caller's route for a whole job wins over its size
    assert auto.last_bulk_route == "onnx"


def test_the_choice_weighs_the_job_against_loading_a_backend() -> None:
    measured = {"onnx": Measurement(0.0, 10_000.0), "torch": Measurement(3.0, 15_000.0)}
    not_loaded = {"onnx": True, "torch": False}.__getitem__
    assert choose(measured, 50_000, not_loaded) == "onnx"  # 5 s vs 3.3 + 3 s
    assert choose(measured, 500_000, not_loaded) == "torch"  # 50 s vs 33 + 3 s
    assert choose(measured, 50_000, lambda route: True) == "torch"


def test_an_unreadable_calibration_is_measured_again(tmp_path: Path) -> None:
    cache = CalibrationCache(tmp_path)
    cache.path.write_text("{not json")
    assert cache.get("key") is None
    cache.put("key", {"onnx": Measurement(0.1, 100.0)})
    assert cache.get("key") == {"onnx": Measurement(0.1, 100.0)}
    assert cache.get("another machine") is None


def test_bulk_progress_and_empty_input(onnx_embedder: Embedder) -> None:
    counts: list[int] = []
    vectors = onnx_embedder.embed(TEXTS * 3, batch_tokens=600, on_batch=counts.append)
    assert vectors.shape == (15, 384) and sum(counts) == 15 and len(counts) > 1
    assert onnx_embedder.embed([]).shape == (0, 384)


def test_embed_batches_yields_every_text_once_as_embed_does(onnx_embedder: Embedder) -> None:
    texts = TEXTS * 3
    whole = onnx_embedder.embed(texts, batch_tokens=600)
    streamed = list(onnx_embedder.embed_batches(texts, batch_tokens=600, job_tokens=500))
    assert len(streamed) > 1
    assert sorted(row for rows, _vectors in streamed for row in rows) == list(range(15))
    for rows, vectors in streamed:
        assert vectors.shape == (len(rows), 384)
        np.testing.assert_allclose(vectors, whole[rows], atol=1e-5)
    assert onnx_embedder.last_bulk_route == "onnx"  # chosen by the job's size: small
    assert list(onnx_embedder.embed_batches([])) == []


def test_a_caller_that_stops_early_leaves_the_embedder_usable(onnx_embedder: Embedder
                                                              ) -> None:
    class SaveFailed(Exception):
        pass

    with pytest.raises(SaveFailed):
        for _rows, _vectors in onnx_embedder.embed_batches(TEXTS * 40, batch_tokens=300):
            raise SaveFailed  # e.g. the cache's disk is full: the queued batches are dropped
    np.testing.assert_allclose(onnx_embedder.embed(TEXTS[:2]),
                               np.stack([onnx_embedder.embed_query(t) for t in TEXTS[:2]]),
                               atol=1e-5)


def test_token_batches_group_similar_lengths_within_budget() -> None:
    lengths = [5, 300, 40, 41, 7, 39, 120, 6]
    batches = embed.token_batches(lengths, batch_tokens=128)
    assert sorted(i for batch in batches for i in batch) == list(range(len(lengths)))
    for batch in batches:
        widths = [lengths[i] for i in batch]
        assert widths == sorted(widths, reverse=True)
        assert len(batch) == 1 or len(batch) * max(widths) <= 128
    assert batches[0] == [1]  # a text over the budget gets a batch of its own


def test_backend_settings() -> None:
    def embedding(**environ: str) -> EmbedderSettings:
        return Settings.from_env(environ=environ).embedding

    assert embedding().query_backend == "onnx"
    assert embedding(CITEBOT_QUERY_BACKEND="Torch").query_backend == "torch"
    torch_questions = embedding(CITEBOT_QUERY_BACKEND="torch")
    assert Embedder(settings=torch_questions, query_backend="onnx").query_backend == "onnx"
    with pytest.raises(SettingsError, match="CITEBOT_QUERY_BACKEND"):
        embedding(CITEBOT_QUERY_BACKEND="tensorflow")
    mixed = Embedder(settings=embedding(CITEBOT_QUERY_BACKEND="torch",
                                        CITEBOT_BULK_BACKEND="onnx"))
    assert (mixed.query_backend, mixed.bulk_backend) == ("torch", "onnx")
    assert Embedder(settings=embedding(CITEBOT_BULK_BACKEND="BF16")).bulk_backend == "bf16"
    with pytest.raises(SettingsError, match="CITEBOT_BULK_BACKEND"):
        embedding(CITEBOT_BULK_BACKEND="gpu")
    assert embedding(CITEBOT_EMBED_THREADS="1").threads == 1
    with pytest.raises(ModelError, match="query backend 'tensorflow'"):
        Embedder(query_backend="tensorflow")  # an argument is checked too


def test_export_is_cached_and_reused(tmp_path: Path) -> None:
    folder = Path(embed.resolve_model_path(embed.DEFAULT_MODEL))
    cache = EmbedderSettings().cache_dir
    first = embed.onnx_model_path(folder, cache)
    stamp = first.stat().st_mtime_ns
    assert embed.onnx_model_path(folder, cache) == first and first.stat().st_mtime_ns == stamp
    assert not list(first.parent.glob("*.plain.onnx")) and not list(first.parent.glob("*.fused*"))


def test_models_the_export_does_not_cover_fall_back_to_torch(tmp_path: Path) -> None:
    folder = Path(embed.resolve_model_path(embed.DEFAULT_MODEL))
    assert embed._mean_pooling_model(folder) is None
    copy = tmp_path / "cls-model"
    shutil.copytree(folder, copy, ignore=shutil.ignore_patterns("*.safetensors"))
    pooling = copy / "1_Pooling" / "config.json"
    config = json.loads(pooling.read_text())
    config.update(pooling_mode_mean_tokens=False, pooling_mode_cls_token=True)
    pooling.write_text(json.dumps(config))
    assert "not mean pooling" in (embed._mean_pooling_model(copy) or "")
    assert "not a local model folder" in (embed._mean_pooling_model(tmp_path) or "")


def test_shared_embedder_is_loaded_once() -> None:
    assert shared_embedder() is shared_embedder()


def test_an_ingest_embeds_the_whole_job_on_the_route_its_size_chooses(
        samples: Path, data_dir: Path, private_cache: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from index.library import Library

    monkeypatch.setattr(embed, "LARGE_JOB_TOKENS", 1_000)  # the samples are a "large" job
    # Slices below the bar; passages embedded too, so the job mixes both kinds of text.
    library = Library(Settings(data_dir=data_dir, embed_slice=8, passage_vectors="embedded",
                               embedding=EmbedderSettings(cache_dir=private_cache)))
    report = library.ingest([samples])
    assert report.embedded and report.embedded_sentences
    measured = library.embedder.calibration
    assert measured is not None and library.embedder.last_bulk_route in measured
    assert (private_cache / CALIBRATION_FILE).exists()
    answer = library.ask("What annual sales figure in Asia is BMW aiming for?")
    assert not answer.abstained and answer.citations
    assert "BMW" in answer.citations[0].title


def test_the_question_session_lets_idle_threads_sleep(onnx_embedder: Embedder) -> None:
    """A question's encoding is over in a few ms; threads spinning after it would hold the
    second core while the answer step runs (measured: two askers at once took twice as
    long, `bench/bench_questions.py`)."""
    onnx_embedder.embed_query("Who won the Six Nations?")
    options = onnx_embedder._session.session.get_session_options()
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    assert onnx_embedder._session.session.get_providers() == ["CPUExecutionProvider"]
