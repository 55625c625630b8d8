"""Reranking: the retrieved passages reordered by a cross-encoder's score (optional, off by
default).

A cross-encoder reads the question and one passage together and scores how well the passage
answers it: slower than comparing vectors, so it only reorders what retrieval already found
(`index.qa.retrieve`, at most `passages` passages). `rerank` sorts the hits by that score,
best first, keeping retrieval's order between equal scores, and records each hit's score in
`Hit.rerank`. The order it gives replaces the fused order for the stage after it
(`index.qa.stories`): the best `rerank_stories` stories in this order are those whose
sentences the fitted answer model reads, and a story's place in it is that model's
`story_fused_rank` feature. The model's weights are not touched (docs/answer-quality.md,
"The cross-encoder reranker").

`Reranker` is the one thing the pipeline needs of a reranker: `score(question, texts)`.
`CrossEncoderReranker` is that of a sentence-transformers `CrossEncoder` with one output (a
relevance score), loaded from a local folder or the local Hugging Face cache — nothing is
ever downloaded — and `shared_reranker` loads it once per process. Neither
sentence-transformers nor torch is imported before a reranker is loaded: with no
`CITEBOT_RERANKER` this module costs nothing. A model that can't be loaded raises
`RerankerError`, a `ModelError` whose message is one line.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any, Protocol

from index.qa.evidence import Hit
from index.vectors.embedder_settings import ModelError


class RerankerError(ModelError):
    """The cross-encoder of `CITEBOT_RERANKER` could not be found, loaded or used."""


class Reranker(Protocol):
    """Scores how well each text answers the question; higher is better."""

    def score(self, question: str, texts: Sequence[str]) -> list[float]: ...


def passage_text(hit: Hit) -> str:
    """What the cross-encoder reads of a retrieved passage: its headline, then its text
    (the headline is the context a passage's sentences are embedded with too)."""
    return f"{hit.article.title}\n{hit.passage.text}"


def rerank(reranker: Reranker, question: str, hits: list[Hit]) -> list[Hit]:
    """`hits` sorted by the reranker's score of (question, `passage_text`), best first;
    equal scores keep retrieval's order. Each hit's score is set in `Hit.rerank`."""
    if not hits:
        return hits
    scores = reranker.score(question, [passage_text(hit) for hit in hits])
    if len(scores) != len(hits):
        raise RerankerError(f"the reranker gave {len(scores)} scores for {len(hits)} passages")
    for hit, score in zip(hits, scores, strict=True):
        hit.rerank = float(score)
    order = sorted(range(len(hits)), key=lambda i: -float(scores[i]))  # stable: ties keep order
    return [hits[i] for i in order]


def _first_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return (lines[0] if lines else type(error).__name__)[:300]


class CrossEncoderReranker:
    """A sentence-transformers `CrossEncoder` with one output, on the CPU, loaded when built.

    `name` is a local folder, or the name of a model already in the local Hugging Face cache
    (`local_files_only`: nothing is downloaded). `threads` is torch's thread count."""

    def __init__(self, name: str, threads: int = 1, batch_size: int = 32) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        self.name = name
        self.batch_size = batch_size
        folder = Path(name).expanduser()
        source = str(folder) if folder.exists() else name
        try:
            import torch
            from sentence_transformers import CrossEncoder
            from transformers.utils import logging as transformers_logging

            transformers_logging.disable_progress_bar()
            transformers_logging.set_verbosity_error()
            torch.set_num_threads(max(1, threads))
            model: Any = CrossEncoder(source, device="cpu", local_files_only=True)
        except Exception as error:  # the libraries raise many kinds for a bad model
            where = "" if folder.exists() else (
                " (not a folder, nor a model in the local Hugging Face cache)")
            raise RerankerError(f"cannot load the reranker CITEBOT_RERANKER={name!r}{where}: "
                                f"{_first_line(error)}") from None
        if model.num_labels != 1:
            raise RerankerError(
                f"CITEBOT_RERANKER={name!r} is not a reranking cross-encoder: it has "
                f"{model.num_labels} outputs, a reranker has one (a relevance score)")
        self._model = model

    def score(self, question: str, texts: Sequence[str]) -> list[float]:
        if not texts:
            return []
        scores = self._model.predict([(question, text) for text in texts],
                                     batch_size=self.batch_size, show_progress_bar=False,
                                     convert_to_numpy=True)
        return [float(score) for score in scores]


@cache
def shared_reranker(name: str, threads: int = 1) -> CrossEncoderReranker:
    """The process-wide cross-encoder `name`: loaded on first use, once per process (a
    failure is not kept: the next call tries again and raises again)."""
    return CrossEncoderReranker(name, threads)
