"""The PostgreSQL connection of the PostgreSQL backend: the pool, the thread's open
transaction or snapshot, the collection's write lock, and the versioned schema.

A `PostgresDatabase` opens one psycopg 3 connection pool per process (autocommit
connections, the pgvector types registered). Reads outside a transaction borrow a
connection for one statement. `transaction()` holds one connection for the thread until it
commits, nested calls become savepoints, and the outermost one takes the collection's
advisory write lock at once or raises `StoreBusyError` — two ingests or reindexes never
run together, on one machine or several. `snapshot()` holds a REPEATABLE READ, read-only
transaction: everything read inside it sees one committed state.

The schema is created and migrated by code (`MIGRATIONS`, `COLLECTION`), under a
session advisory lock so that two processes starting together migrate once. The same
mechanism (`Schema`, `PostgresDatabase.migrate`) versions other sets of tables that share
the database, each under its own version key in `citebot_meta` (the bot's, in
`bot/postgres_state.py`). A database of a newer schema, a wrong address or password, and a
server without the pgvector extension are refused with one line (`StorageUnavailableError`);
a connection lost mid-way raises the same error and the pool reconnects for the next call.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

import psycopg
from pgvector.psycopg import register_vector
from psycopg_pool import ConnectionPool

from index.storage.interfaces import StorageUnavailableError, StoreBusyError
from index.vocabulary import article_words, row_key

WRITE_LOCK = 0x63697465626F74  # "citebot": the advisory lock every write transaction takes
MIGRATE_LOCK = WRITE_LOCK + 1
TEXT_SEARCH = "citebot"  # the text search configuration: English stems, no stop words

MIGRATIONS: dict[int, list[str]] = {
    1: [
        "CREATE TABLE citebot_meta (key TEXT PRIMARY KEY, value TEXT)",
        # Snowball English stems like FTS5's porter tokenizer and, like it, keeps every
        # word: a stop list would make "the" look rare to the question's word statistics.
        "CREATE TEXT SEARCH DICTIONARY citebot_stem (TEMPLATE = snowball, language = english)",
        f"CREATE TEXT SEARCH CONFIGURATION {TEXT_SEARCH} (COPY = english)",
        f"ALTER TEXT SEARCH CONFIGURATION {TEXT_SEARCH} ALTER MAPPING FOR asciiword, "
        "asciihword, hword_asciipart, word, hword, hword_part WITH citebot_stem",
        """CREATE TABLE articles (
            id BIGSERIAL PRIMARY KEY,
            origin TEXT NOT NULL UNIQUE,
            url TEXT, title TEXT NOT NULL, outlet TEXT, author TEXT, published_at TEXT,
            language TEXT, body TEXT NOT NULL, body_hash TEXT NOT NULL,
            content_hash TEXT NOT NULL, story_id BIGINT,
            ingested_at TEXT NOT NULL, updated_at TEXT NOT NULL)""",
        "CREATE INDEX articles_body_hash ON articles(body_hash)",
        "CREATE INDEX articles_published_at ON articles(published_at)",
        "CREATE INDEX articles_story ON articles(story_id)",
        # `tsv`: the headline (weight A) and the passage (D); `length`: its tokens, for BM25.
        """CREATE TABLE passages (
            id BIGSERIAL PRIMARY KEY,
            article_id BIGINT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
            seq INTEGER NOT NULL, start_at INTEGER NOT NULL, end_at INTEGER NOT NULL,
            text TEXT NOT NULL, embed_key TEXT NOT NULL,
            tsv TSVECTOR NOT NULL, length INTEGER NOT NULL)""",
        "CREATE INDEX passages_article ON passages(article_id)",
        "CREATE INDEX passages_tsv ON passages USING GIN (tsv)",
        """CREATE TABLE embeddings (
            model TEXT NOT NULL, key TEXT NOT NULL, vector BYTEA NOT NULL,
            PRIMARY KEY (model, key))""",
        "CREATE TABLE sources (path TEXT PRIMARY KEY, kind TEXT NOT NULL, added_at TEXT NOT NULL)",
        """CREATE TABLE feeds (
            url TEXT PRIMARY KEY, title TEXT, etag TEXT, modified TEXT,
            added_at TEXT NOT NULL, last_polled_at TEXT, last_error TEXT)""",
        """CREATE TABLE feed_items (
            feed_url TEXT NOT NULL REFERENCES feeds(url) ON DELETE CASCADE,
            key TEXT NOT NULL, link TEXT, content_hash TEXT NOT NULL, origin TEXT,
            seen_at TEXT NOT NULL, PRIMARY KEY (feed_url, key))""",
        "CREATE INDEX feed_items_origin ON feed_items(origin)",
        """CREATE TABLE story_bands (
            bucket BIGINT NOT NULL,
            article_id BIGINT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
            PRIMARY KEY (bucket, article_id))""",
        "CREATE INDEX story_bands_article ON story_bands(article_id)",
    ],
    # What a reindex remembers of each file it read whole, to skip it while unchanged.
    2: [
        """CREATE TABLE file_states (
            path TEXT PRIMARY KEY, size BIGINT NOT NULL, mtime_ns BIGINT NOT NULL,
            content_hash TEXT NOT NULL)""",
    ],
    # The collection's vocabulary: each word, how many articles use it; filed by first
    # letter and length, the keys a misspelled word's candidates are fetched by.
    3: [
        """CREATE TABLE vocabulary (
            initial TEXT NOT NULL, length INTEGER NOT NULL, word TEXT NOT NULL,
            articles INTEGER NOT NULL, PRIMARY KEY (initial, length, word))""",
    ],
}

# Adding words to the vocabulary: parameters, the words' first letters, lengths and words.
ADD_WORDS = """INSERT INTO vocabulary(initial, length, word, articles)
    SELECT initial, length, word, count FROM unnest(%s::text[], %s::int[], %s::text[],
                                                    %s::int[]) AS w(initial, length, word, count)
    ON CONFLICT (initial, length, word) DO UPDATE SET articles = vocabulary.articles
                                                                 + excluded.articles"""


def vocabulary_rows(counts: dict[str, int]) -> list[list]:
    """The parameters of `ADD_WORDS` for words with their counts."""
    keys = [row_key(word) for word in counts]
    return [[key[0] for key in keys], [key[1] for key in keys], [key[2] for key in keys],
            list(counts.values())]


def _build_vocabulary(connection: psycopg.Connection) -> None:
    """Schema 3: the vocabulary of the articles already stored, read in pages (made again
    whole if the table held words already)."""
    connection.execute("DELETE FROM vocabulary")
    counts: Counter[str] = Counter()
    last = 0
    while rows := connection.execute(
            "SELECT id, title, body FROM articles WHERE id > %s ORDER BY id LIMIT 500",
            [last]).fetchall():
        for _id, title, body in rows:
            counts.update(article_words(title, body))
        last = rows[-1][0]
    if counts:
        connection.execute(ADD_WORDS, vocabulary_rows(counts))


# Data steps run in a migration's transaction, after its statements.
MIGRATION_STEPS: dict[int, Callable[[psycopg.Connection], None]] = {3: _build_vocabulary}


@dataclass(frozen=True)
class Schema:
    """A versioned set of tables: `migrations[n]` takes it from version n - 1 to n, and
    its version is the `citebot_meta` row `key`, changed under the advisory lock `lock`;
    `steps[n]`, if any, runs after `migrations[n]`'s statements, in their transaction
    (filling a new table from the existing rows)."""

    name: str  # what the tables hold, for messages ("collection")
    key: str
    migrations: dict[int, list[str]]
    lock: int
    steps: dict[int, Callable[[psycopg.Connection], None]] = field(default_factory=dict)

    @property
    def version(self) -> int:
        return max(self.migrations)


COLLECTION = Schema("collection", "schema_version", MIGRATIONS, MIGRATE_LOCK,
                    steps=MIGRATION_STEPS)


def redacted(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


def first_line(error: BaseException) -> str:
    """The first non-empty line of an error's message."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


class PostgresDatabase:
    """One PostgreSQL database holding a collection: the pool and the schema.

    Args: `url`, a `postgresql://` URL; `pool_size`, the most connections this process
    opens.
    """

    def __init__(self, url: str, *, pool_size: int = 8, connect_timeout: int = 10) -> None:
        self.url = url
        self.shown_url = redacted(url)
        self._local = threading.local()
        self._migrate(connect_timeout)
        self.pool = ConnectionPool(
            url, min_size=1, max_size=pool_size, open=False, configure=register_vector,
            check=ConnectionPool.check_connection,
            kwargs={"autocommit": True, "connect_timeout": connect_timeout})
        try:
            self.pool.open(wait=True, timeout=connect_timeout)
        except Exception as error:
            raise StorageUnavailableError(
                f"cannot open a connection pool to {self.shown_url}: {first_line(error)}"
            ) from None

    # -- schema -----------------------------------------------------------------------

    def _connect(self, timeout: int) -> psycopg.Connection:
        try:
            return psycopg.connect(self.url, autocommit=True, connect_timeout=timeout)
        except psycopg.Error as error:
            raise StorageUnavailableError(
                f"cannot connect to PostgreSQL at {self.shown_url}: {first_line(error)}"
            ) from None

    def _migrate(self, timeout: int) -> None:
        with self._connect(timeout) as connection:
            self._create_vector_extension(connection)
            self._apply(connection, COLLECTION)

    def migrate(self, schema: Schema, timeout: int = 10) -> None:
        """Bring `schema`'s tables to its latest version (see `_apply`). Needs the
        collection's tables (`citebot_meta`): the constructor migrates those first.

        Raises `StorageUnavailableError` when the database holds a newer version."""
        with self._connect(timeout) as connection:
            self._apply(connection, schema)

    def _apply(self, connection: psycopg.Connection, schema: Schema) -> None:
        """The missing versions of `schema`, one transaction each, under its advisory lock
        (two processes starting together migrate once)."""
        connection.execute("SELECT pg_advisory_lock(%s)", [schema.lock])
        try:
            version = self._schema_version(connection, schema.key)
            if version > schema.version:
                raise StorageUnavailableError(
                    f"{self.shown_url} holds a citebot {schema.name} of schema {version}; "
                    f"this citebot knows schema {schema.version} at most: upgrade citebot")
            for target in range(version + 1, schema.version + 1):
                with connection.transaction():
                    for statement in schema.migrations[target]:
                        connection.execute(statement)
                    if target in schema.steps:
                        schema.steps[target](connection)
                    connection.execute(
                        "INSERT INTO citebot_meta(key, value) VALUES(%s, %s) "
                        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                        [schema.key, str(target)])
        finally:
            connection.execute("SELECT pg_advisory_unlock(%s)", [schema.lock])

    def _create_vector_extension(self, connection: psycopg.Connection) -> None:
        installed = connection.execute(
            "SELECT 1 FROM pg_extension WHERE extname = 'vector'").fetchone()
        if installed:
            return
        try:
            connection.execute("CREATE EXTENSION IF NOT EXISTS vector")
        except psycopg.Error as error:
            raise StorageUnavailableError(
                f"the pgvector extension is not available in {self.shown_url} "
                f"({first_line(error)}): install pgvector on the server, or have an "
                "administrator run CREATE EXTENSION vector in that database") from None

    @staticmethod
    def _schema_version(connection: psycopg.Connection, key: str) -> int:
        exists = connection.execute("SELECT to_regclass('citebot_meta')").fetchone()
        if not exists or exists[0] is None:
            return 0
        row = connection.execute(
            "SELECT value FROM citebot_meta WHERE key = %s", [key]).fetchone()
        return int(row[0]) if row else 0

    # -- connections ------------------------------------------------------------------

    @property
    def held(self) -> psycopg.Connection | None:
        """The connection this thread holds for its open transaction or snapshot."""
        return getattr(self._local, "connection", None)

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        """The thread's held connection, else one from the pool for this use."""
        held = self.held
        if held is not None:
            yield held
            return
        with self._unavailable_as_error(), self.pool.connection() as connection:
            yield connection

    @contextmanager
    def free_connection(self, timeout: float | None = None) -> Iterator[psycopg.Connection]:
        """A pool connection apart from the thread's transaction: what it writes commits
        on its own (the embedding cache, the bot's tables). `timeout`: the most seconds to
        wait for one (default: the pool's 30)."""
        with self._unavailable_as_error(), self.pool.connection(timeout) as connection:
            yield connection

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction under the collection's write lock (see the module)."""
        held = self.held
        if held is not None:
            if getattr(self._local, "read_only", False):
                raise RuntimeError("a write inside a read snapshot")
            with held.transaction():
                yield
            return
        with self._unavailable_as_error(), self.pool.connection() as connection:
            self._local.connection, self._local.read_only = connection, False
            try:
                with connection.transaction():
                    locked = connection.execute("SELECT pg_try_advisory_xact_lock(%s)",
                                                [WRITE_LOCK]).fetchone()
                    if not (locked and locked[0]):
                        raise StoreBusyError(
                            "another citebot process is writing to this collection (an "
                            "ingest or reindex); try again when it has finished")
                    yield
            finally:
                self._local.connection = None

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """A read-only REPEATABLE READ transaction; inside a transaction it adds nothing."""
        if self.held is not None:
            yield
            return
        with self._unavailable_as_error(), self.pool.connection() as connection:
            self._local.connection, self._local.read_only = connection, True
            try:
                with connection.transaction():
                    connection.execute(
                        "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    yield
            finally:
                self._local.connection = None

    @contextmanager
    def _unavailable_as_error(self) -> Iterator[None]:
        try:
            yield
        except psycopg.OperationalError as error:
            raise StorageUnavailableError(
                f"lost the connection to PostgreSQL at {self.shown_url}: {first_line(error)}; "
                "nothing uncommitted was kept, try again when it is back") from None
        except psycopg.errors.ReadOnlySqlTransaction:
            raise
        except Exception as error:
            if type(error).__module__.startswith("psycopg_pool"):
                raise StorageUnavailableError(
                    f"no connection to PostgreSQL at {self.shown_url}: {first_line(error)}"
                ) from None
            raise

    def execute(self, sql: str, params: object = None) -> psycopg.Cursor:
        """Run one statement on the thread's held connection (in a transaction/snapshot)."""
        held = self.held
        assert held is not None, "execute() needs an open transaction or snapshot"
        return held.execute(sql, params)  # type: ignore[arg-type]

    def close(self) -> None:
        self.pool.close()
