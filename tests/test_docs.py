"""The docs state the code's values: the knobs table of docs/answer-quality.md is
`AnswerTuning()`'s defaults, every knob its prose names exists and it counts the answer
model's features right; the README names every
command of the CLI, links only to docs that exist and stays under 12 KB.

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


def test_the_path_of_a_question_counts_the_features_of_the_model() -> None:
    """"one row per quotable sentence …, N numbers" stays `len(FEATURES)` as features come
    and go."""
    from index.qa.features import FEATURES

    said = re.search(r"(\d+) numbers:", ANSWER_QUALITY.read_text(encoding="utf-8"))
    assert said and int(said.group(1)) == len(FEATURES), (said and said.group(0), len(FEATURES))


def test_the_readme_names_every_cli_command_and_links_only_existing_docs() -> None:
    """Every `citebot` subcommand has a row in the README's table; every relative link of
    the README leads to a file; the README stays short (details live in docs/)."""
    from bot.cli import main

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = set(re.findall(r"^\| `citebot ([a-z]+)", readme, re.M))
    assert rows == set(main.commands), sorted(rows ^ set(main.commands))
    for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", readme):
        assert (ROOT / target).exists(), f"README links to a missing {target}"
    assert len(readme.encode("utf-8")) <= 12 * 1024


if __name__ == "__main__":
    ANSWER_QUALITY.write_text(_with_table(ANSWER_QUALITY.read_text(encoding="utf-8")),
                              encoding="utf-8")
    print(f"wrote the knobs table of {ANSWER_QUALITY}")
