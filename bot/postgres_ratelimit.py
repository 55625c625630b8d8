"""The per-user question rate limit (`bot.ratelimit.RateLimiter`) counted in the collection's
PostgreSQL database, so that it holds across every bot replica on it.

This module owns the tables `bot_rate_events` (the time of each allowed question) and
`bot_rate_warnings` (when each user was last told to slow down), created by
`bot.postgres_state`. A check is one transaction that first takes a transaction-level
advisory lock on the user: two replicas checking the same user at once take turns, so the
count and the insert that follows it never race, and only one of them warns. Times are the
server's clock, which every replica shares.

When the database can't be reached, the limit is counted in this process's memory instead
(`QuestionRateLimiter`, one log line when that starts and one when the database is back):
the bot keeps answering, each replica limiting on its own meanwhile.
"""

from __future__ import annotations

import logging
import threading

import psycopg

from bot.postgres_state import bot_connection
from bot.ratelimit import QuestionRateLimiter, Verdict
from index.storage.interfaces import StorageUnavailableError
from index.storage.postgres_db import PostgresDatabase

logger = logging.getLogger(__name__)

RATE_LOCK_CLASS = 0x63627274  # "cbrt": the first key of the per-user advisory locks
SWEEP_EVERY = 1000  # checks between two deletions of every user's expired rows

_NOW = "extract(epoch FROM clock_timestamp())"


class PostgresRateLimiter:
    """`limit` questions per `window` seconds per user, shared by every replica."""

    def __init__(self, database: PostgresDatabase, limit: int, window: float) -> None:
        self.database = database
        self.limit = limit
        self.window = window
        self._local = QuestionRateLimiter(limit, window)
        self._degraded = False
        self._checks = 0
        self._lock = threading.Lock()

    def check(self, user_id: int) -> Verdict:
        if self.limit <= 0:
            return Verdict.ALLOW
        try:
            verdict = self._check(user_id)
        except StorageUnavailableError as error:
            self._fall_back(error)
            return self._local.check(user_id)
        self._recovered()
        return verdict

    def retry_in(self, user_id: int) -> float:
        try:
            with bot_connection(self.database) as connection:
                row = connection.execute(
                    f"SELECT min(asked_at), count(*), {_NOW} FROM bot_rate_events "
                    f"WHERE user_id = %s AND asked_at > {_NOW} - %s",
                    [user_id, self.window]).fetchone()
        except StorageUnavailableError:
            return self._local.retry_in(user_id)
        assert row is not None
        oldest, count, now = row
        if oldest is None or count < self.limit:
            return 0.0
        return max(0.0, float(oldest) + self.window - float(now))

    # -- the check ------------------------------------------------------------------------

    def _check(self, user_id: int) -> Verdict:
        """Count, then insert or warn, in one transaction under the user's lock."""
        with bot_connection(self.database) as connection, connection.transaction():
            connection.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s::text))",
                               [RATE_LOCK_CLASS, user_id])
            row = connection.execute(
                f"SELECT {_NOW}, (SELECT count(*) FROM bot_rate_events WHERE user_id = %s "
                f"AND asked_at > {_NOW} - %s), (SELECT warned_at FROM bot_rate_warnings "
                "WHERE user_id = %s)", [user_id, self.window, user_id]).fetchone()
            assert row is not None
            now, asked, warned_at = float(row[0]), int(row[1]), row[2]
            if asked < self.limit:
                connection.execute("INSERT INTO bot_rate_events (user_id, asked_at) "
                                   "VALUES (%s, %s)", [user_id, now])
                connection.execute("DELETE FROM bot_rate_events WHERE user_id = %s "
                                   "AND asked_at <= %s", [user_id, now - self.window])
                connection.execute("DELETE FROM bot_rate_warnings WHERE user_id = %s",
                                   [user_id])
                self._sweep_now_and_then(connection, now)
                return Verdict.ALLOW
            if warned_at is not None and now - float(warned_at) < self.window:
                return Verdict.DROP
            connection.execute(
                "INSERT INTO bot_rate_warnings (user_id, warned_at) VALUES (%s, %s) "
                "ON CONFLICT (user_id) DO UPDATE SET warned_at = excluded.warned_at",
                [user_id, now])
            return Verdict.WARN

    def _sweep_now_and_then(self, connection: psycopg.Connection, now: float) -> None:
        """Every `SWEEP_EVERY` checks of this process, drop the expired rows of users who
        stopped asking (each user's own are dropped at each of their questions)."""
        with self._lock:
            self._checks += 1
            if self._checks % SWEEP_EVERY:
                return
        connection.execute(
            "DELETE FROM bot_rate_events WHERE asked_at <= %s", [now - self.window])
        connection.execute(
            "DELETE FROM bot_rate_warnings WHERE warned_at <= %s", [now - self.window])

    # -- the database going away and coming back -----------------------------------------

    def _fall_back(self, error: StorageUnavailableError) -> None:
        with self._lock:
            if self._degraded:
                return
            self._degraded = True
        logger.warning("rate limits are counted by this process alone until the database "
                       "is back: %s", error)

    def _recovered(self) -> None:
        with self._lock:
            if not self._degraded:
                return
            self._degraded = False
        logger.info("rate limits are counted in the database again")
