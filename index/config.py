"""Settings of the index: where the data lives, which model embeds, and the tuning knobs.

Values come from arguments first, then environment variables (`CITEBOT_DATA_DIR`,
`CITEBOT_MODEL`, `CITEBOT_MAX_FILE_MB`, `CITEBOT_EMBED_SLICE`, `CITEBOT_PASSAGE_VECTORS`,
and `CITEBOT_<KNOB>` for each knob of `AnswerTuning`, e.g. `CITEBOT_ABSTAIN_BELOW=0.5`),
then defaults. A value that is not of the setting's type raises `SettingsError`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from index.embed import DEFAULT_MODEL

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = PROJECT_ROOT / "data" / "store"
SAMPLE_ARTICLES = PROJECT_ROOT / "data" / "articles"


@dataclass(frozen=True, slots=True)
class AnswerTuning:
    """Knobs of retrieval, answer composition and abstention (see README, "Answer quality")."""

    candidates: int = 60  # passages fetched from each retriever before fusion
    passages: int = 24  # passages kept after fusion (at most two per story)
    rrf_k: int = 60
    # The first passages of each retriever's own ranking that always reach story re-ranking
    # (beyond `rerank_stories`), however low they fuse.
    retriever_top: int = 2
    # Story re-ranking: best sentence similarity + these weights × lexical / dense evidence.
    rerank_stories: int = 10
    story_lexical_weight: float = 1.0
    story_dense_weight: float = 0.25
    story_answer_weight: float = 1.0  # credit for the story's best answer sentence
    # Credit for the IDF-weighted share of the question's words the whole article has.
    story_coverage_weight: float = 3.0
    # A name of several words in the question ("Martyn Williams") counts in coverage only
    # for an article that gives it whole.
    whole_names: bool = True
    # Answer composition.
    max_sources: int = 2  # citation slots in one answer
    source_margin: float = 0.05  # a second source only if its story scores this close
    lower_source_penalty: float = 0.05  # per rank, on sentences of lower-ranked sources
    sentence_lexical_weight: float = 0.4  # × share of the question's words in the sentence
    sentence_distinctive_weight: float = 0.3  # × that share weighted by rarity in the story
    answer_kind_bonus: float = 0.3  # for a sentence holding the kind of fact asked for
    counted_noun_bonus: float = 0.2  # "how many X": for a new figure right before X
    fact_near_detail_bonus: float = 0.1  # for that fact next to a rare word of the question
    # "against which club": for a new fact right after the same preposition ("against
    # Blackburn"), in ranking stories and in choosing sentences.
    slot_bonus: float = 0.7
    role_name_bonus: float = 0.3  # "which lawyer": for a new name beside the role asked about
    context_weight: float = 0.15  # × the previous sentence's closeness to the question
    max_sentences: int = 3
    runner_up_ratio: float = 0.5  # further sentences must score at least this × the best
    max_answer_chars: int = 500
    # Abstain when no sentence of the best `abstain_stories` stories is this close (cosine)
    # to the question; below the next, when the question names a word the collection never
    # uses; below the one after (1.0: at any closeness), when it names a year the best
    # story never mentions.
    abstain_below: float = 0.48
    abstain_stories: int = 3
    abstain_missing_detail_below: float = 0.65
    abstain_absent_year_below: float = 1.0  # a year the best story lacks: at any closeness
    # Abstain too when the best story — the one an answer quotes — has no sentence this close.
    abstain_cited_below: float = 0.35


# How a passage gets its vector in the index: the normalised mean of its sentences' vectors,
# which the answer step needs anyway, so each text is embedded once (the default); or
# embedded from its own text with the headline, which doubles the work of a full index.
PASSAGE_VECTORS = ("sentence-mean", "embedded")
DEFAULT_PASSAGE_VECTORS = "sentence-mean"


class SettingsError(ValueError):
    """A setting from the environment that cannot be used, with the variable's name."""


def tuning_from_env(tuning: AnswerTuning, env: Mapping[str, str]) -> AnswerTuning:
    """`tuning` with each knob set by its `CITEBOT_<KNOB>` variable, where one is set: a
    number for a number, `true`/`false` (or 1/0, yes/no) for a switch."""
    changes: dict[str, object] = {}
    for knob in fields(AnswerTuning):
        name = f"CITEBOT_{knob.name.upper()}"
        raw = env.get(name, "").strip()
        if raw:
            changes[knob.name] = _parse_knob(name, raw, getattr(tuning, knob.name))
    return replace(tuning, **changes) if changes else tuning


def _parse_knob(name: str, raw: str, default: object) -> object:
    """A knob's value from its variable, of the default's type."""
    if isinstance(default, bool):
        folded = raw.strip().casefold()
        if folded in ("1", "true", "yes", "on"):
            return True
        if folded in ("0", "false", "no", "off"):
            return False
        raise SettingsError(f"{name} must be true or false, not {raw!r}")
    return _whole(name, raw) if isinstance(default, int) else _number(name, raw)


def _number(name: str, raw: str) -> float:
    """A number ≥ 0 from a variable: every knob is a count, a weight or a threshold."""
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, not {raw!r}") from None
    if not value >= 0 or value == float("inf"):
        raise SettingsError(f"{name} must be a number ≥ 0, not {raw!r}")
    return value


def _whole(name: str, raw: str) -> int:
    """A whole number ≥ 0 from a variable."""
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {raw!r}") from None
    if value < 0:
        raise SettingsError(f"{name} must be a whole number ≥ 0, not {raw!r}")
    return value


def _choice(name: str, raw: str, choices: tuple[str, ...]) -> str:
    """One of `choices` from a variable."""
    value = raw.strip().casefold()
    if value not in choices:
        raise SettingsError(f"{name} must be one of {', '.join(choices)}, not {raw!r}")
    return value


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything `index.library.Library` needs to open a collection."""

    data_dir: Path = DEFAULT_DATA_DIR
    model: str = DEFAULT_MODEL
    max_passage_tokens: int = 160
    max_file_bytes: int = 20 * 1024 * 1024
    # Texts embedded between two saves to the embedding cache (what a crash can lose).
    embed_slice: int = 512
    passage_vectors: str = DEFAULT_PASSAGE_VECTORS  # one of PASSAGE_VECTORS
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
            megabytes = _number("CITEBOT_MAX_FILE_MB", env["CITEBOT_MAX_FILE_MB"])
            settings = replace(settings, max_file_bytes=int(megabytes * 1024 * 1024))
        if env.get("CITEBOT_EMBED_SLICE"):
            texts = _whole("CITEBOT_EMBED_SLICE", env["CITEBOT_EMBED_SLICE"])
            settings = replace(settings, embed_slice=max(1, texts))
        if env.get("CITEBOT_PASSAGE_VECTORS"):
            settings = replace(settings, passage_vectors=_choice(
                "CITEBOT_PASSAGE_VECTORS", env["CITEBOT_PASSAGE_VECTORS"], PASSAGE_VECTORS))
        return replace(settings, tuning=tuning_from_env(settings.tuning, env))
