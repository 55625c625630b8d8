"""The bot's tables in the collection's PostgreSQL database: their versioned schema and the
one way the bot's PostgreSQL modules borrow a connection.

With `CITEBOT_DATABASE_URL` set, the chat log (`bot.postgres_chatlog`), the votes
(`bot.postgres_feedback`) and the rate limits (`bot.postgres_ratelimit`) live here, beside
the collection, so that several bot processes on one database behave as one bot. The
tables are named `bot_*` and versioned like the collection's (`index.storage.postgres_db`:
`Schema`, one transaction per version, under an advisory lock), with their own version row
in `citebot_meta` (`bot_schema_version`). The connections are the collection's pool: no
second pool, no second connection code.

A call waits at most `WAIT_SECONDS` for a pooled connection: when the server is gone the
bot says so quickly instead of hanging, and the pool reconnects once it is back.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from index.storage.postgres_db import MIGRATE_LOCK, PostgresDatabase, Schema

WAIT_SECONDS = 5.0
BOT_MIGRATE_LOCK = MIGRATE_LOCK + 1

MIGRATIONS: dict[int, list[str]] = {
    1: [
        # bot.postgres_chatlog: answers, the messages that show them, their citations as
        # shown, and which sources were posted by their button.
        """CREATE TABLE bot_answers (
            id BIGSERIAL PRIMARY KEY, chat_id BIGINT NOT NULL, user_id BIGINT,
            question TEXT NOT NULL, answer TEXT NOT NULL, abstained BOOLEAN NOT NULL,
            index_generation BIGINT, created_at TIMESTAMPTZ NOT NULL DEFAULT now())""",
        "CREATE INDEX bot_answers_chat ON bot_answers(chat_id, id)",
        "CREATE INDEX bot_answers_created ON bot_answers(created_at)",
        """CREATE TABLE bot_answer_messages (
            chat_id BIGINT NOT NULL, message_id BIGINT NOT NULL,
            answer_id BIGINT NOT NULL REFERENCES bot_answers(id) ON DELETE CASCADE,
            PRIMARY KEY (chat_id, message_id))""",
        """CREATE TABLE bot_citations (
            answer_id BIGINT NOT NULL REFERENCES bot_answers(id) ON DELETE CASCADE,
            n INTEGER NOT NULL, article_id BIGINT, passage_id BIGINT, title TEXT, origin TEXT,
            url TEXT, outlet TEXT, author TEXT, published_at TEXT, quote TEXT,
            quote_start INTEGER, quote_end INTEGER, score DOUBLE PRECISION,
            also_reported_by TEXT, spans TEXT, PRIMARY KEY (answer_id, n))""",
        """CREATE TABLE bot_shown_citations (
            answer_id BIGINT NOT NULL REFERENCES bot_answers(id) ON DELETE CASCADE,
            n INTEGER NOT NULL, shown_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            PRIMARY KEY (answer_id, n))""",
        # Answers being sent whose messages are not all linked yet (bot.sending).
        """CREATE TABLE bot_sending (
            id BIGSERIAL PRIMARY KEY, chat_id BIGINT NOT NULL,
            started_at TIMESTAMPTZ NOT NULL DEFAULT now())""",
        "CREATE INDEX bot_sending_chat ON bot_sending(chat_id)",
        # bot.postgres_feedback: one vote per user and answer.
        """CREATE TABLE bot_feedback (
            answer_id BIGINT NOT NULL REFERENCES bot_answers(id) ON DELETE CASCADE,
            user_id BIGINT NOT NULL, vote TEXT NOT NULL, reason TEXT,
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now(), PRIMARY KEY (answer_id, user_id))""",
        # bot.postgres_ratelimit: each allowed question's time (the server's clock, seconds)
        # and when each user was last told to slow down.
        """CREATE TABLE bot_rate_events (
            user_id BIGINT NOT NULL, asked_at DOUBLE PRECISION NOT NULL)""",
        "CREATE INDEX bot_rate_events_user ON bot_rate_events(user_id, asked_at)",
        "CREATE INDEX bot_rate_events_time ON bot_rate_events(asked_at)",
        """CREATE TABLE bot_rate_warnings (
            user_id BIGINT PRIMARY KEY, warned_at DOUBLE PRECISION NOT NULL)""",
    ],
}

BOT_SCHEMA = Schema("bot state", "bot_schema_version", MIGRATIONS, BOT_MIGRATE_LOCK)


def migrate_bot_tables(database: PostgresDatabase) -> None:
    """Create or upgrade the bot's tables (`StorageUnavailableError` if the database holds
    a newer version of them)."""
    database.migrate(BOT_SCHEMA)


@contextmanager
def bot_connection(database: PostgresDatabase) -> Iterator[psycopg.Connection]:
    """A pooled autocommit connection for one use of the bot's tables (apart from any
    transaction of the collection), waited for at most `WAIT_SECONDS`; a lost or
    unreachable server raises `StorageUnavailableError`, and a broken connection is not
    reused."""
    with database.free_connection(WAIT_SECONDS) as connection:
        yield connection


def bot_tables_exist(database: PostgresDatabase) -> bool:
    """Has a bot ever run on this database (are its tables there)?"""
    with bot_connection(database) as connection:
        row = connection.execute("SELECT to_regclass('bot_answers')").fetchone()
    return row is not None and row[0] is not None
