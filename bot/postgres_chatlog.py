"""The chat log (`bot.chatlog.ChatLog`) in the collection's PostgreSQL database.

This module owns the tables `bot_answers`, `bot_answer_messages`, `bot_citations` and
`bot_shown_citations` (created by `bot.postgres_state`). Every bot replica on the database
reads and writes the same rows, so a citation button, `/source N` or a reply on an answer
that another replica sent is served from here. Ids come from one sequence, so an answer's
id (in its buttons' callback data) names it for every replica.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from psycopg.rows import dict_row

from bot.chatlog import LoggedAnswer, citation_from_row, citation_row
from bot.postgres_state import bot_connection
from index.qa.answer import Answer, Citation
from index.storage.postgres_db import PostgresDatabase

CITATION_COLUMNS = ("answer_id", "n", "article_id", "passage_id", "title", "origin", "url",
                    "outlet", "author", "published_at", "quote", "quote_start", "quote_end",
                    "score", "also_reported_by", "spans")
_INSERT_CITATION = (f"INSERT INTO bot_citations ({', '.join(CITATION_COLUMNS)}) VALUES "
                    f"({', '.join(['%s'] * len(CITATION_COLUMNS))})")


class PostgresChatLog:
    """A `ChatLog` in PostgreSQL (`database`: the collection's, whose pool it borrows)."""

    def __init__(self, database: PostgresDatabase) -> None:
        self.database = database

    # -- writing ------------------------------------------------------------------------

    def record_answer(self, chat_id: int, user_id: int | None, question: str,
                      answer: Answer, index_generation: int | None = None) -> int:
        """Save an answer and its citations in one transaction; its id."""
        with bot_connection(self.database) as connection, connection.transaction():
            row = connection.execute(
                "INSERT INTO bot_answers (chat_id, user_id, question, answer, abstained, "
                "index_generation) VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
                [chat_id, user_id, question, answer.answer, answer.abstained,
                 index_generation]).fetchone()
            assert row is not None
            answer_id = int(row[0])
            rows = [citation_row(answer_id, c) for c in answer.citations]
            if rows:
                with connection.cursor() as cursor:
                    cursor.executemany(_INSERT_CITATION, [
                        [row[column] for column in CITATION_COLUMNS] for row in rows])
            return answer_id

    def link_messages(self, answer_id: int, chat_id: int, message_ids: list[int]) -> None:
        if not message_ids:
            return
        with bot_connection(self.database) as connection, connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO bot_answer_messages (chat_id, message_id, answer_id) "
                "VALUES (%s, %s, %s) ON CONFLICT (chat_id, message_id) "
                "DO UPDATE SET answer_id = excluded.answer_id",
                [[chat_id, message_id, answer_id] for message_id in message_ids])

    def claim_citation_display(self, answer_id: int, n: int) -> bool:
        """One insert that only the first of any number of replicas' taps wins."""
        with bot_connection(self.database) as connection:
            cursor = connection.execute(
                "INSERT INTO bot_shown_citations (answer_id, n) VALUES (%s, %s) "
                "ON CONFLICT DO NOTHING", [answer_id, n])
            return cursor.rowcount == 1

    # -- reading ------------------------------------------------------------------------

    def answer(self, answer_id: int) -> LoggedAnswer | None:
        return self._one_answer("SELECT * FROM bot_answers WHERE id = %s", [answer_id])

    def answer_for_message(self, chat_id: int, message_id: int) -> LoggedAnswer | None:
        return self._one_answer(
            "SELECT a.* FROM bot_answer_messages m JOIN bot_answers a ON a.id = m.answer_id "
            "WHERE m.chat_id = %s AND m.message_id = %s", [chat_id, message_id])

    def latest_answer(self, chat_id: int, *, with_citations: bool = True
                      ) -> LoggedAnswer | None:
        cited = " AND NOT abstained" if with_citations else ""
        return self._one_answer(
            f"SELECT * FROM bot_answers WHERE chat_id = %s{cited} ORDER BY id DESC LIMIT 1",
            [chat_id])

    def citations(self, answer_id: int) -> list[Citation]:
        with bot_connection(self.database) as connection, \
                connection.cursor(row_factory=dict_row) as cursor:
            rows = cursor.execute(
                "SELECT * FROM bot_citations WHERE answer_id = %s ORDER BY n",
                [answer_id]).fetchall()
        return [citation_from_row(row) for row in rows]

    def citation(self, answer_id: int, n: int) -> Citation | None:
        return next((c for c in self.citations(answer_id) if c.n == n), None)

    def close(self) -> None:
        """Nothing to close: the pool is the collection's (closed with the Library)."""

    # -- helpers --------------------------------------------------------------------------

    def _one_answer(self, sql: str, params: list[Any]) -> LoggedAnswer | None:
        with bot_connection(self.database) as connection, \
                connection.cursor(row_factory=dict_row) as cursor:
            row = cursor.execute(sql, params).fetchone()
        if row is None:
            return None
        return LoggedAnswer(
            id=row["id"], chat_id=row["chat_id"], user_id=row["user_id"],
            question=row["question"], answer=row["answer"], abstained=row["abstained"],
            created_at=_iso(row["created_at"]),
        )


def _iso(moment: datetime) -> str:
    """A time as the embedded log writes it (`2026-01-31T12:00:00+00:00`)."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")
