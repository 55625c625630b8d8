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
from index.qa.tuning import AnswerTuning

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = PROJECT_ROOT / "data" / "store"
SAMPLE_ARTICLES = PROJECT_ROOT / "data" / "articles"


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
