"""Settings of the index: where the data lives, which model embeds, and the tuning knobs.

Values come from arguments first, then environment variables (`CITEBOT_DATA_DIR`,
`CITEBOT_MODEL`, `CITEBOT_MAX_FILE_MB`, `CITEBOT_ABSTAIN_BELOW`), then defaults.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from index.embed import DEFAULT_MODEL

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = PROJECT_ROOT / "data" / "store"
SAMPLE_ARTICLES = PROJECT_ROOT / "data" / "articles"


@dataclass(frozen=True, slots=True)
class AnswerTuning:
    """Knobs of retrieval, answer composition and abstention (see README, "Answer quality")."""

    candidates: int = 60  # passages fetched from each retriever before fusion
    passages: int = 8  # passages kept after fusion
    max_sources: int = 3  # citation slots in one answer
    max_sentences: int = 3
    max_answer_chars: int = 500
    rrf_k: int = 60
    # Abstain when the best passage's cosine similarity is below this.
    abstain_below: float = 0.30


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything `index.library.Library` needs to open a collection."""

    data_dir: Path = DEFAULT_DATA_DIR
    model: str = DEFAULT_MODEL
    max_passage_tokens: int = 160
    max_file_bytes: int = 20 * 1024 * 1024
    tuning: AnswerTuning = field(default_factory=AnswerTuning)

    @classmethod
    def from_env(cls, data_dir: str | Path | None = None, model: str | None = None) -> Settings:
        env = os.environ
        settings = cls(
            data_dir=Path(data_dir or env.get("CITEBOT_DATA_DIR") or DEFAULT_DATA_DIR)
            .expanduser()
            .resolve(),
            model=model or env.get("CITEBOT_MODEL") or DEFAULT_MODEL,
        )
        if env.get("CITEBOT_MAX_FILE_MB"):
            settings = replace(
                settings, max_file_bytes=int(float(env["CITEBOT_MAX_FILE_MB"]) * 1024 * 1024)
            )
        if env.get("CITEBOT_ABSTAIN_BELOW"):
            settings = replace(
                settings,
                tuning=replace(settings.tuning, abstain_below=float(env["CITEBOT_ABSTAIN_BELOW"])),
            )
        return settings
