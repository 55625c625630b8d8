"""The bot's half of `citebot migrate`: its state in the data folder's `bot.sqlite` copied
into the `bot_*` tables of the PostgreSQL database the collection moves to.

What is copied, row for row: every answer with its id (the callback data of buttons already
sent in Telegram carry it), the messages linked to each answer, its citations exactly as
shown (quote, offsets, spans, "also reported by"), which citations were already shown, and
the votes with their reasons. Times keep their values. The `bot_answers` id sequence is
set to the largest copied id, so the next answer logged on PostgreSQL gets a higher one.
Rate limits are not copied: the embedded bot keeps them in its memory, not in `bot.sqlite`,
and they only last a window anyway; nor are the marks of answers being sent.

`read_bot_state` reads the file in one read transaction, before the collection is copied,
so an unreadable file stops the migration before anything is written. `refuse_if_answered`
checks, also beforehand, that no bot has answered from the target (two histories are never
mixed). `copy_bot_state` writes everything in ONE transaction of the target on a pooled
connection of the bot's tables (`bot.postgres_state`), after creating or upgrading them by
their versioned migration; a failure leaves the target's bot tables as they were. It then
counts the rows on both sides. Rows that name an answer `bot.sqlite` does not hold (SQLite
does not enforce the link) are skipped and counted.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from bot.chatlog import FILENAME
from bot.postgres_chatlog import CITATION_COLUMNS
from bot.postgres_state import bot_connection, bot_tables_exist, migrate_bot_tables
from index.storage.postgres_db import PostgresDatabase, first_line


class StateMigrationError(RuntimeError):
    """`bot.sqlite` can't be read, or the target's bot tables can't take its rows."""


def _time(value: str | None) -> datetime | None:
    """An ISO time of `bot.sqlite` (UTC when it names no zone)."""
    if value is None:
        return None
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _flag(value: int | None) -> bool | None:
    return None if value is None else bool(value)


@dataclass(frozen=True)
class _Table:
    """One table of `bot.sqlite` and its PostgreSQL copy (same column names); `convert`
    turns a column's SQLite value into what PostgreSQL takes."""

    name: str  # in reports
    source: str
    target: str
    columns: tuple[str, ...]
    convert: dict[str, Callable[[Any], Any]] = field(default_factory=dict)

    @property
    def insert(self) -> str:
        values = ", ".join("COALESCE(%s, now())" if column in _TIMES else "%s"
                           for column in self.columns)
        return f"INSERT INTO {self.target} ({', '.join(self.columns)}) VALUES ({values})"


_TIMES = {"created_at", "shown_at", "updated_at"}  # NOT NULL with a default in PostgreSQL

# In the order of their foreign keys: the answers first.
TABLES = (
    _Table("answers", "answers", "bot_answers",
           ("id", "chat_id", "user_id", "question", "answer", "abstained",
            "index_generation", "created_at"),
           {"abstained": _flag, "created_at": _time}),
    _Table("messages", "answer_messages", "bot_answer_messages",
           ("chat_id", "message_id", "answer_id")),
    _Table("citations", "citations", "bot_citations", CITATION_COLUMNS),
    _Table("shown citations", "shown_citations", "bot_shown_citations",
           ("answer_id", "n", "shown_at"), {"shown_at": _time}),
    _Table("votes", "feedback", "bot_feedback",
           ("answer_id", "user_id", "vote", "reason", "updated_at"), {"updated_at": _time}),
)


@dataclass
class BotSnapshot:
    """The rows read from `bot.sqlite`, by `_Table.name`, ready for PostgreSQL."""

    path: Path
    rows: dict[str, list[list[Any]]]
    skipped: int  # rows naming an answer the file does not hold


@dataclass
class BotStateReport:
    """What `copy_bot_state` copied: per table (rows read from `bot.sqlite`, rows in the
    target's table after the commit)."""

    counts: dict[str, tuple[int, int]]
    skipped: int
    largest_id: int | None  # of the copied answers; the id sequence continues after it

    @property
    def answers(self) -> int:
        return self.counts["answers"][1]

    @property
    def votes(self) -> int:
        return self.counts["votes"][1]

    @property
    def counts_match(self) -> bool:
        return all(source == copy for source, copy in self.counts.values())


# -- reading bot.sqlite -------------------------------------------------------------------


def read_bot_state(data_dir: Path) -> BotSnapshot | None:
    """Every row to copy from `data_dir`'s `bot.sqlite`, read in one read transaction
    (the file is opened read-only); None when there is no such file."""
    path = data_dir / FILENAME
    if not path.exists():
        return None
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True,
                                     isolation_level=None)
    except sqlite3.Error as error:
        raise StateMigrationError(f"cannot open {path}: {error}") from None
    try:
        connection.execute("BEGIN")
        rows, skipped = {}, 0
        for table in TABLES:
            rows[table.name], left_out = _read_table(connection, table)
            skipped += left_out
        return BotSnapshot(path, rows, skipped)
    except (sqlite3.Error, ValueError) as error:
        raise StateMigrationError(f"cannot read {path}: {error}") from None
    finally:
        connection.close()


def _read_table(connection: sqlite3.Connection, table: _Table) -> tuple[list[list[Any]], int]:
    """A table's rows as PostgreSQL takes them (a column the file lacks is NULL; a table it
    lacks has no rows), and how many were left out for naming no answer."""
    present = _columns(connection, table.source)
    if not present:
        return [], 0
    if table.source != "answers" and not _columns(connection, "answers"):
        everything = connection.execute(f"SELECT count(*) FROM {table.source}").fetchone()
        return [], int(everything[0])
    selected = ", ".join(column if column in present else f"NULL AS {column}"
                         for column in table.columns)
    linked = "" if table.source == "answers" else \
        " WHERE answer_id IN (SELECT id FROM answers)"
    rows = connection.execute(
        f"SELECT {selected} FROM {table.source}{linked} ORDER BY rowid").fetchall()
    total = connection.execute(f"SELECT count(*) FROM {table.source}").fetchone()[0]
    converted = [[table.convert.get(column, _same)(value)
                  for column, value in zip(table.columns, row, strict=True)] for row in rows]
    return converted, int(total) - len(rows)


def _columns(connection: sqlite3.Connection, table: str) -> set[str]:
    """The columns of a table of the file (none when it has no such table)."""
    return {row[1] for row in connection.execute(f"PRAGMA table_info({table})")}


def _same(value: Any) -> Any:
    return value


# -- writing PostgreSQL -------------------------------------------------------------------


def _answers_held(connection: psycopg.Connection) -> int:
    row = connection.execute("SELECT count(*) FROM bot_answers").fetchone()
    return int(row[0]) if row else 0


def _refusal(held: int) -> StateMigrationError:
    return StateMigrationError(
        f"the target's bot tables already hold {held} answer{'s' * (held != 1)}: migrate "
        "bot.sqlite into a database no bot has answered from (two histories are not mixed)")


def refuse_if_answered(database: PostgresDatabase) -> None:
    """Raise `StateMigrationError` when a bot has already logged answers in `database`
    (nothing is created when its tables are not there)."""
    if not bot_tables_exist(database):
        return
    with bot_connection(database) as connection:
        held = _answers_held(connection)
    if held:
        raise _refusal(held)


def copy_bot_state(snapshot: BotSnapshot, database: PostgresDatabase) -> BotStateReport:
    """Write `snapshot` into `database`'s bot tables in one transaction (see the module)
    and count what they hold afterwards. Raises `StateMigrationError`, with the tables
    left as they were, when they hold answers already or refuse a row."""
    migrate_bot_tables(database)
    try:
        with bot_connection(database) as connection:
            with connection.transaction():
                _write(connection, snapshot)
            held = {table.name: _count(connection, table.target) for table in TABLES}
    except psycopg.Error as error:  # (a lost connection is a StorageUnavailableError)
        raise StateMigrationError(
            f"cannot copy {snapshot.path.name} into {database.shown_url}: "
            f"{first_line(error)}; the bot's tables there are as they were") from None
    ids = [row[0] for row in snapshot.rows["answers"]]
    return BotStateReport(
        counts={name: (len(snapshot.rows[name]), held[name]) for name in held},
        skipped=snapshot.skipped, largest_id=max(ids) if ids else None)


def _write(connection: psycopg.Connection, snapshot: BotSnapshot) -> None:
    """The inserts, under a lock that holds off any bot logging an answer meanwhile, then
    the id sequence moved past the copied ids."""
    connection.execute("LOCK TABLE bot_answers IN EXCLUSIVE MODE")
    if held := _answers_held(connection):
        raise _refusal(held)
    with connection.cursor() as cursor:
        for table in TABLES:
            if snapshot.rows[table.name]:
                cursor.executemany(table.insert, snapshot.rows[table.name])
    connection.execute(
        "SELECT setval(pg_get_serial_sequence('bot_answers', 'id'), max(id)) "
        "FROM bot_answers HAVING max(id) IS NOT NULL")


def _count(connection: psycopg.Connection, table: str) -> int:
    row = connection.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(row[0]) if row else 0
