"""The votes (`bot.feedback.FeedbackLog`) in the collection's PostgreSQL database.

This module owns the table `bot_feedback` (created by `bot.postgres_state`), joined with
the chat log's `bot_answers` and `bot_citations` (`bot.postgres_chatlog`) for the numbers
and the export, which `bot.feedback.FeedbackReports` builds as for the embedded log. A vote
pressed on any replica counts for all, and a change of vote is one upsert.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from psycopg.rows import dict_row

from bot.feedback import DOWN, DownVoted, FeedbackReports, Vote
from bot.postgres_state import bot_connection
from index.storage.postgres_db import PostgresDatabase

_DAY = "to_char(a.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')"


class PostgresFeedbackLog(FeedbackReports):
    """A `FeedbackLog` in PostgreSQL (`database`: the collection's, whose pool it borrows)."""

    def __init__(self, database: PostgresDatabase) -> None:
        self.database = database

    def close(self) -> None:
        """Nothing to close: the pool is the collection's (closed with the Library)."""

    # -- votes ----------------------------------------------------------------------------

    def record(self, vote: Vote, user_id: int) -> None:
        reason = vote.reason if vote.vote == DOWN else None
        with bot_connection(self.database) as connection:
            connection.execute(
                "INSERT INTO bot_feedback (answer_id, user_id, vote, reason) "
                "VALUES (%s, %s, %s, %s) ON CONFLICT (answer_id, user_id) DO UPDATE SET "
                "vote = excluded.vote, updated_at = now(), reason = CASE "
                "WHEN excluded.vote = 'down' AND excluded.reason IS NULL "
                "AND bot_feedback.vote = 'down' THEN bot_feedback.reason "
                "ELSE excluded.reason END",
                [vote.answer_id, user_id, vote.vote, reason])

    def counts(self, answer_id: int) -> tuple[int, int]:
        row = self._rows(
            "SELECT count(*) FILTER (WHERE vote = 'up') AS up, "
            "count(*) FILTER (WHERE vote = 'down') AS down FROM bot_feedback "
            "WHERE answer_id = %s", [answer_id])[0]
        return int(row["up"]), int(row["down"])

    def vote_of(self, answer_id: int, user_id: int) -> tuple[str, str | None] | None:
        rows = self._rows("SELECT vote, reason FROM bot_feedback WHERE answer_id = %s "
                          "AND user_id = %s", [answer_id, user_id])
        return (rows[0]["vote"], rows[0]["reason"]) if rows else None

    # -- the rows of the reports ------------------------------------------------------------

    def _answers_per_day(self, since: str) -> dict[str, tuple[int, int]]:
        return {row["day"]: (int(row["answered"]), int(row["declined"])) for row in self._rows(
            f"SELECT {_DAY} AS day, count(*) FILTER (WHERE NOT a.abstained) AS answered, "
            "count(*) FILTER (WHERE a.abstained) AS declined FROM bot_answers a "
            "WHERE a.created_at >= %s GROUP BY day", [_midnight(since)])}

    def _votes_per_day(self, since: str) -> dict[str, tuple[int, int]]:
        return {row["day"]: (int(row["up"]), int(row["down"])) for row in self._rows(
            f"SELECT {_DAY} AS day, count(*) FILTER (WHERE f.vote = 'up') AS up, "
            "count(*) FILTER (WHERE f.vote = 'down') AS down FROM bot_feedback f "
            "JOIN bot_answers a ON a.id = f.answer_id WHERE a.created_at >= %s GROUP BY day",
            [_midnight(since)])}

    def _reasons_since(self, since: str) -> dict[str, int]:
        return {row["reason"]: int(row["n"]) for row in self._rows(
            "SELECT f.reason, count(*) AS n FROM bot_feedback f JOIN bot_answers a "
            "ON a.id = f.answer_id WHERE f.vote = 'down' AND f.reason IS NOT NULL "
            "AND a.created_at >= %s GROUP BY f.reason", [_midnight(since)])}

    def _down_voted(self) -> list[DownVoted]:
        rows = self._rows(
            "SELECT a.id, a.question, a.answer, a.index_generation, "
            "array_remove(array_agg(DISTINCT f.reason ORDER BY f.reason), NULL) AS reasons, "
            "(SELECT c.origin FROM bot_citations c WHERE c.answer_id = a.id AND c.n = 1) "
            "AS origin FROM bot_answers a JOIN bot_feedback f ON f.answer_id = a.id "
            "AND f.vote = 'down' GROUP BY a.id ORDER BY a.id DESC", [])
        return [DownVoted(row["id"], row["question"], row["answer"], row["index_generation"],
                          list(row["reasons"]), row["origin"]) for row in rows]

    def _rows(self, sql: str, params: list[Any]) -> list[dict[str, Any]]:
        with bot_connection(self.database) as connection, \
                connection.cursor(row_factory=dict_row) as cursor:
            return cursor.execute(sql, params).fetchall()


def _midnight(day: str) -> datetime:
    """The start (UTC) of an ISO date."""
    return datetime.fromisoformat(day).replace(tzinfo=UTC)
