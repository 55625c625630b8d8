"""How the embedder runs, as `index.settings` hands it in: the model's default name, the
backends of questions and of bulk embedding, the threads and the cache folder; and the
error a model that can't be loaded raises.

Kept apart from `index.vectors.embed` so that reading settings (and `citebot --help`) loads
neither numpy nor any model library.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_MODEL = "all-MiniLM-L6-v2"

BACKENDS = ("onnx", "torch")
BULK_BACKENDS = ("auto", "onnx", "torch", "bf16")


class ModelError(RuntimeError):
    """The embedding model could not be found or loaded."""


def available_cpus() -> int:
    """The CPUs this process may run on (the default number of embedding threads)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def default_cache_dir(environ: Mapping[str, str]) -> Path:
    """Where exported models are kept by default: $XDG_CACHE_HOME/citebot, else
    ~/.cache/citebot."""
    base = environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "citebot"


@dataclass(frozen=True, slots=True)
class EmbedderSettings:
    """How the model runs: the backend of questions and of bulk embedding, the threads,
    and where the ONNX export is cached (see the module docstring)."""

    query_backend: str = "onnx"  # one of BACKENDS
    bulk_backend: str = "auto"  # one of BULK_BACKENDS
    threads: int = field(default_factory=available_cpus)
    cache_dir: Path = field(default_factory=lambda: default_cache_dir(os.environ))
