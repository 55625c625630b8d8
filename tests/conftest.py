"""Shared fixtures: paths to the bundled samples and ../shared, fresh data dirs, a CLI runner.

Everything is real: each test gets its own SQLite file and FAISS index in a temporary
folder, and the real embedding model (loaded once per test process).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot.cli import main
from tests.postgres_server import PostgresServer, start_server

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


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A real PostgreSQL with pgvector for the session (tests/postgres_server.py); the tests
    using it are skipped, with the reason, only when no server can be started."""
    servers = start_server()
    try:
        server = next(servers)
    except RuntimeError as error:
        pytest.skip(f"no PostgreSQL server: {error}")
    yield server
    next(servers, None)


@pytest.fixture
def database_url(postgres_server: PostgresServer) -> str:
    """The URL of a new, empty PostgreSQL database for this test."""
    return postgres_server.fresh_database()


def assert_stopped_with_one_line(returncode: int, stderr: str, expected: str) -> None:
    """A command that failed as a user should see it: exit code 2 and one `error:` line
    holding `expected`, no traceback."""
    assert returncode == 2, stderr
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and expected in errors[0], stderr
    assert "Traceback" not in stderr
