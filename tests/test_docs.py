"""The docs state the code's values: the knobs table of docs/answer-quality.md is
`AnswerTuning()`'s defaults, every knob its prose names exists, and the README's settings
table shows a knob's default.

Regenerate the table after changing a knob: `python -m tests.test_docs`.
"""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

from index.qa.tuning import AnswerTuning, knob_help

ROOT = Path(__file__).resolve().parent.parent
ANSWER_QUALITY = ROOT / "docs" / "answer-quality.md"
_TABLE = re.compile(r"(<!-- knobs:begin[^>]*-->\n)(.*?)(<!-- knobs:end -->)", re.S)


def knob_table() -> str:
    """The markdown table of every knob: its variable, its default and what it does."""
    defaults = AnswerTuning()
    helps = knob_help()
    rows = ["| knob | variable | default | what it does |", "|---|---|---|---|"]
    for knob in fields(AnswerTuning):
        value = getattr(defaults, knob.name)
        shown = str(value).lower() if isinstance(value, bool) else repr(value)
        what = helps[knob.name].replace("|", "\\|")
        rows.append(f"| `{knob.name}` | `CITEBOT_{knob.name.upper()}` | {shown} | {what} |")
    return "\n".join(rows) + "\n"


def _with_table(text: str) -> str:
    found = _TABLE.search(text)
    assert found, f"{ANSWER_QUALITY.name} has lost its knobs:begin/knobs:end markers"
    return text[: found.start(2)] + knob_table() + text[found.end(2):]


def test_the_knobs_table_is_the_code_defaults() -> None:
    text = ANSWER_QUALITY.read_text(encoding="utf-8")
    assert text == _with_table(text), (
        "docs/answer-quality.md's knobs table differs from AnswerTuning(): "
        "run `python -m tests.test_docs`")


def test_every_knob_the_prose_names_exists() -> None:
    """A knob renamed or removed in the code is not left named in the docs' prose: every
    snake_case word inside backticks (outside paths and dotted names) is a knob."""
    text = _TABLE.sub("", ANSWER_QUALITY.read_text(encoding="utf-8"))
    knobs = {knob.name for knob in fields(AnswerTuning)}
    named = {word for span in re.findall(r"`([^`]+)`", text) if not re.search(r"[/.]", span)
             for word in re.findall(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b", span)}
    assert named, "the prose names no knob"
    assert named <= knobs, f"not knobs of AnswerTuning: {sorted(named - knobs)}"


def test_the_readme_states_knob_defaults_as_the_code_does() -> None:
    """A knob's variable in the README's settings table shows the knob's default."""
    defaults = AnswerTuning()
    rows = re.findall(r"^\| `CITEBOT_([A-Z_]+)` \| `([^`]*)` \|", (ROOT / "README.md").read_text(
        encoding="utf-8"), re.M)
    for name, shown in rows:
        if hasattr(defaults, name.lower()):
            assert shown == str(getattr(defaults, name.lower())), (name, shown)


if __name__ == "__main__":
    ANSWER_QUALITY.write_text(_with_table(ANSWER_QUALITY.read_text(encoding="utf-8")),
                              encoding="utf-8")
    print(f"wrote the knobs table of {ANSWER_QUALITY}")
