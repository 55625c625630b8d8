"""A real PostgreSQL server with pgvector for the tests: `CITEBOT_TEST_DATABASE_URL` when
set (a database the tests may create databases in), else one started by the tests from the
`pgserver` package (PostgreSQL 16 with pgvector), in a temporary folder, stopped at the end.

`PostgresServer.fresh_database()` creates an empty database for one test and returns its
URL. When no server can be had, the tests that need one are skipped with the reason.
"""

from __future__ import annotations

import itertools
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

TEST_URL_ENV = "CITEBOT_TEST_DATABASE_URL"
_numbers = itertools.count(1)


@dataclass
class PostgresServer:
    """A running server: `admin_url` reaches a database from which others are created."""

    admin_url: str
    _created: list[str] = field(default_factory=list)

    def url_of(self, database: str) -> str:
        parts = urlsplit(self.admin_url)
        return urlunsplit(parts._replace(path="/" + database))

    def fresh_database(self) -> str:
        import psycopg

        name = f"citebot_test_{os.getpid()}_{next(_numbers)}"
        with psycopg.connect(self.admin_url, autocommit=True) as connection:
            connection.execute(f"DROP DATABASE IF EXISTS {name}")
            connection.execute(f"CREATE DATABASE {name}")
        self._created.append(name)
        return self.url_of(name)

    def drop_connections(self, url: str) -> None:
        """End every session on the database of `url` (as a server restart would)."""
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE datname = %s AND pid <> pg_backend_pid()", [_name(url)])

    def allow_connections(self, url: str, allowed: bool) -> None:
        """Let the database of `url` accept new connections, or refuse them (as a server
        that is down would; with `drop_connections`, the database is gone until allowed)."""
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as admin:
            admin.execute(f"ALTER DATABASE {_name(url)} ALLOW_CONNECTIONS "
                          f"{'true' if allowed else 'false'}")

    def drop_created(self) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as connection:
            for name in self._created:
                connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        self._created.clear()


def _name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def start_server() -> Iterator[PostgresServer]:
    """Yield a server (see the module); raise `RuntimeError` with the reason when none can
    be started."""
    given = os.environ.get(TEST_URL_ENV)
    if given:
        server = PostgresServer(given)
        yield server
        server.drop_created()
        return
    try:
        import pgserver
    except ImportError as error:
        raise RuntimeError(f"pgserver is not installed ({error}); pip install -e '.[dev]' "
                           f"or set {TEST_URL_ENV}") from None
    with tempfile.TemporaryDirectory(prefix="citebot-pg-") as folder:
        try:
            started = pgserver.get_server(folder, cleanup_mode="stop")
        except Exception as error:
            raise RuntimeError(f"pgserver could not start PostgreSQL: {error}") from None
        server = PostgresServer(started.get_uri())
        try:
            yield server
        finally:
            server.drop_created()
            started.cleanup()
