"""Shared fixtures: paths to the bundled samples and ../shared, fresh data dirs, a CLI runner.

Everything is real: each test gets its own SQLite file and FAISS index in a temporary
folder, and the real embedding model (loaded once per test process).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot.cli import main

PROJECT = Path(__file__).resolve().parents[1]
SAMPLES = PROJECT / "data" / "articles"
SHARED = PROJECT.parent / "shared"
BBC = SHARED / "corpora" / "bbc"
SEED_ARTICLE = SHARED / "corpora" / "seed-article.txt"


@pytest.fixture
def samples(tmp_path: Path) -> Path:
    """A private copy of the bundled sample articles."""
    target = tmp_path / "articles"
    shutil.copytree(SAMPLES, target)
    return target


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "store"


@pytest.fixture
def cli(data_dir: Path) -> Callable[..., Result]:
    """Run `citebot --data-dir DATA_DIR ARGS...` in-process; fails the test on a crash."""
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None) -> Result:
        result = runner.invoke(main, ["--data-dir", str(data_dir), *args], input=input)
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result

    return invoke
