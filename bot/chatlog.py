"""The bot's memory of what it answered, per chat: the `ChatLog` interface, and its
embedded implementation, `bot.sqlite` beside the library's store.

Every answer is saved with its question, citations and the index generation it came from,
and the Telegram messages that carried it are linked to it, so a citation button, `/source
N` or a follow-up reply works on older answers and after a restart. Citations are kept as
they were shown (quote and offsets included), independent of later changes to the articles.

This module owns the interface (`ChatLog`, what the handlers call), the rows both
implementations share (`citation_row`, `citation_from_row`), and `bot.sqlite` (but for the
votes, `bot.feedback`). With a PostgreSQL collection the log lives in that database instead
(`bot.postgres_chatlog`), so that every bot replica sees every answer; `bot.state` picks one.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import sqlite_utils

from index.qa.answer import Answer, Citation

FILENAME = "bot.sqlite"


@dataclass(frozen=True, slots=True)
class LoggedAnswer:
    """An answer the bot gave in a chat."""

    id: int
    chat_id: int
    user_id: int | None
    question: str
    answer: str
    abstained: bool
    created_at: str


class ChatLog(Protocol):
    """Answers, their citations and the messages that show them. Implementations are
    thread-safe; a backend that can't be reached raises `StorageUnavailableError`."""

    def record_answer(self, chat_id: int, user_id: int | None, question: str,
                      answer: Answer, index_generation: int | None = None) -> int:
        """Save an answer (before it is sent: its id goes into the buttons) with the index
        generation it was answered from; its id."""
        ...

    def link_messages(self, answer_id: int, chat_id: int, message_ids: list[int]) -> None:
        """Remember that these bot messages show (or look up) answer `answer_id`."""
        ...

    def claim_citation_display(self, answer_id: int, n: int) -> bool:
        """True the first time source `n` of answer `answer_id` is to be shown by its
        button, False afterwards, atomically (two taps at once post the quote once)."""
        ...

    def answer(self, answer_id: int) -> LoggedAnswer | None: ...

    def answer_for_message(self, chat_id: int, message_id: int) -> LoggedAnswer | None:
        """The answer a bot message in `chat_id` belongs to, if any."""
        ...

    def latest_answer(self, chat_id: int, *, with_citations: bool = True
                      ) -> LoggedAnswer | None:
        """The newest answer in `chat_id` (by default the newest that has citations)."""
        ...

    def citations(self, answer_id: int) -> list[Citation]: ...

    def citation(self, answer_id: int, n: int) -> Citation | None: ...

    def close(self) -> None: ...


class SQLiteChatLog:
    """A `ChatLog` in `bot.sqlite`. Thread-safe (one connection behind a lock)."""

    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.path = data_dir / FILENAME
        connection = sqlite3.connect(self.path, timeout=30, check_same_thread=False,
                                     isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA busy_timeout=30000")
        self._db = sqlite_utils.Database(connection)
        self._lock = threading.Lock()
        self._create_tables()

    def _create_tables(self) -> None:
        with self._lock:
            self._db["answers"].create(
                {"id": int, "chat_id": int, "user_id": int, "question": str, "answer": str,
                 "abstained": int, "created_at": str, "index_generation": int},
                pk="id", not_null={"chat_id", "question", "answer"}, if_not_exists=True,
            )
            if "index_generation" not in self._db["answers"].columns_dict:  # older files
                self._db["answers"].add_column("index_generation", int)
            self._db["answer_messages"].create(
                {"chat_id": int, "message_id": int, "answer_id": int},
                pk=("chat_id", "message_id"), foreign_keys=[("answer_id", "answers", "id")],
                if_not_exists=True,
            )
            self._db["citations"].create(
                {"answer_id": int, "n": int, "article_id": int, "passage_id": int, "title": str,
                 "origin": str, "url": str, "outlet": str, "author": str, "published_at": str,
                 "quote": str, "quote_start": int, "quote_end": int, "score": float,
                 "also_reported_by": str, "spans": str},
                pk=("answer_id", "n"), foreign_keys=[("answer_id", "answers", "id")],
                if_not_exists=True,
            )
            self._db["shown_citations"].create(
                {"answer_id": int, "n": int, "shown_at": str},
                pk=("answer_id", "n"), foreign_keys=[("answer_id", "answers", "id")],
                if_not_exists=True,
            )
            self._db["answers"].create_index(["chat_id", "id"], if_not_exists=True)

    # -- writing ------------------------------------------------------------------------

    def record_answer(self, chat_id: int, user_id: int | None, question: str,
                      answer: Answer, index_generation: int | None = None) -> int:
        """Save an answer (before it is sent: its id goes into the buttons) with the index
        generation it was answered from; its id."""
        with self._lock, self._transaction():
            table = self._db["answers"].insert({
                "chat_id": chat_id, "user_id": user_id, "question": question,
                "answer": answer.answer, "abstained": int(answer.abstained),
                "index_generation": index_generation,
                "created_at": _now(),
            })
            answer_id = int(table.last_pk)
            self._db["citations"].insert_all(
                citation_row(answer_id, citation) for citation in answer.citations
            )
            return answer_id

    def link_messages(self, answer_id: int, chat_id: int, message_ids: list[int]) -> None:
        """Remember that these bot messages show (or look up) answer `answer_id`."""
        with self._lock:
            self._db["answer_messages"].insert_all(
                ({"chat_id": chat_id, "message_id": m, "answer_id": answer_id}
                 for m in message_ids),
                replace=True,
            )

    def claim_citation_display(self, answer_id: int, n: int) -> bool:
        """True the first time source `n` of answer `answer_id` is to be shown by its
        button (in the answer's chat), False afterwards: one atomic insert, so two taps
        arriving together still post the quote once."""
        with self._lock:
            cursor = self._db.conn.execute(
                "INSERT OR IGNORE INTO shown_citations (answer_id, n, shown_at) VALUES (?, ?, ?)",
                [answer_id, n, _now()])
            return cursor.rowcount == 1

    # -- reading ------------------------------------------------------------------------

    def answer(self, answer_id: int) -> LoggedAnswer | None:
        return self._one_answer("SELECT * FROM answers WHERE id = ?", [answer_id])

    def answer_for_message(self, chat_id: int, message_id: int) -> LoggedAnswer | None:
        """The answer a bot message in `chat_id` belongs to, if any."""
        return self._one_answer(
            "SELECT a.* FROM answer_messages m JOIN answers a ON a.id = m.answer_id "
            "WHERE m.chat_id = ? AND m.message_id = ?",
            [chat_id, message_id],
        )

    def latest_answer(self, chat_id: int, *, with_citations: bool = True) -> LoggedAnswer | None:
        """The newest answer in `chat_id` (by default the newest that has citations)."""
        cited = " AND abstained = 0" if with_citations else ""
        return self._one_answer(
            f"SELECT * FROM answers WHERE chat_id = ?{cited} ORDER BY id DESC LIMIT 1",
            [chat_id],
        )

    def citations(self, answer_id: int) -> list[Citation]:
        with self._lock:
            rows = self._db.query(
                "SELECT * FROM citations WHERE answer_id = ? ORDER BY n", [answer_id]
            )
            return [citation_from_row(row) for row in rows]

    def citation(self, answer_id: int, n: int) -> Citation | None:
        return next((c for c in self.citations(answer_id) if c.n == n), None)

    def close(self) -> None:
        with self._lock:
            self._db.conn.close()

    # -- helpers --------------------------------------------------------------------------

    def _one_answer(self, sql: str, params: list[Any]) -> LoggedAnswer | None:
        with self._lock:
            row = next(iter(self._db.query(sql, params)), None)
        if row is None:
            return None
        return LoggedAnswer(
            id=row["id"], chat_id=row["chat_id"], user_id=row["user_id"],
            question=row["question"], answer=row["answer"], abstained=bool(row["abstained"]),
            created_at=row["created_at"],
        )

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db.conn)


class _Transaction:
    """BEGIN … COMMIT (ROLLBACK on error) on an autocommit connection."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    def __enter__(self) -> None:
        self.connection.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: object, error: object, traceback: object) -> None:
        self.connection.execute("ROLLBACK" if error else "COMMIT")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def citation_row(answer_id: int, c: Citation) -> dict[str, Any]:
    """A citation as a row of the `citations` table (lists as JSON text)."""
    return {
        "answer_id": answer_id, "n": c.n, "article_id": c.article_id,
        "passage_id": c.passage_id, "title": c.title, "origin": c.origin, "url": c.url,
        "outlet": c.outlet, "author": c.author, "published_at": c.published_at,
        "quote": c.quote, "quote_start": c.start, "quote_end": c.end, "score": c.score,
        "also_reported_by": json.dumps(c.also_reported_by),
        "spans": json.dumps([list(span) for span in c.spans]),
    }


def citation_from_row(row: dict[str, Any]) -> Citation:
    """The citation of a `citations` row (by column name)."""
    return Citation(
        n=row["n"], article_id=row["article_id"], passage_id=row["passage_id"],
        title=row["title"], origin=row["origin"], url=row["url"], outlet=row["outlet"],
        author=row["author"], published_at=row["published_at"], quote=row["quote"],
        start=row["quote_start"], end=row["quote_end"], score=row["score"] or 0.0,
        also_reported_by=json.loads(row["also_reported_by"] or "[]"),
        spans=[(int(a), int(b)) for a, b in json.loads(row["spans"] or "[]")],
    )
