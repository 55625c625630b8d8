"""What people think of the answers: 👍/👎 (with an optional reason) per user and answer,
the usage numbers built from them, and the export of 👎 questions as an evaluation file.

One vote per user and answer, changeable: a new press replaces the old one. `usage` gives
answered / declined / 👍 / 👎 over the last days (for `/stats` and `citebot stats`),
`daily` the same per day (for the chart), and `export_questions` turns the 👎 answers into
records in the format of the question files `citebot eval` reads, with the cited article
and an empty `answer` for an admin to fill in.

This module owns the interface (`FeedbackLog`), the numbers and records built from a
backend's rows (`FeedbackReports`, written once for both backends), and the embedded
backend: the `feedback` table of `bot.sqlite` (the chat log's file, see `bot.chatlog`: an
answer there keeps its question, text, citations and index generation). With a PostgreSQL
collection the votes live in that database (`bot.postgres_feedback`); `bot.state` picks.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from bot.chatlog import FILENAME

UP, DOWN = "up", "down"
# Why an answer was bad: the code in callback data and storage, and what the button says.
REASONS: dict[str, str] = {
    "source": "wrong source",
    "missed": "didn't answer",
    "unknown": "should have said it doesn't know",
}
_CALLBACK = re.compile(r"f:(\d{1,18}):(up|down|why:(source|missed|unknown))")
DEFAULT_DAYS = 7
EXPORT_STYLE = "feedback"


@dataclass(frozen=True, slots=True)
class Vote:
    """A press on a feedback button: 👍, 👎, or 👎 with a reason code of `REASONS`."""

    answer_id: int
    vote: str
    reason: str | None = None


def feedback_callback_data(answer_id: int, vote: str, reason: str | None = None) -> str:
    """`f:<answer_id>:up`, `f:<answer_id>:down` or `f:<answer_id>:why:<reason>` (≤ 64 bytes:
    at most 2 + 18 + 1 + 11 = 32)."""
    return f"f:{answer_id}:why:{reason}" if reason else f"f:{answer_id}:{vote}"


def parse_feedback_callback(data: str | None) -> Vote | None:
    match = _CALLBACK.fullmatch(data or "")
    if match is None:
        return None
    reason = match.group(3)
    return Vote(int(match.group(1)), DOWN if reason else match.group(2), reason)


@dataclass(frozen=True, slots=True)
class Usage:
    """Questions and votes over a period."""

    days: int
    questions: int
    answered: int
    declined: int
    up: int
    down: int
    reasons: dict[str, int]

    def share(self, part: int, whole: int) -> str:
        return f"{100 * part / whole:.0f}%" if whole else "-"

    def to_dict(self) -> dict[str, object]:
        return {"days": self.days, "questions": self.questions, "answered": self.answered,
                "declined": self.declined, "thumbs_up": self.up, "thumbs_down": self.down,
                "reasons": self.reasons}


@dataclass(frozen=True, slots=True)
class Day:
    """One day of use: questions answered and declined, votes."""

    day: str
    answered: int
    declined: int
    up: int
    down: int


@dataclass(frozen=True, slots=True)
class DownVoted:
    """An answer that got at least one 👎: what the export needs of it."""

    answer_id: int
    question: str
    answer: str
    index_generation: int | None
    reasons: list[str]  # the reason codes given, sorted, without repeats
    origin: str | None  # of its first citation


class FeedbackLog(Protocol):
    """The votes on answers and the numbers built from them. Implementations are
    thread-safe; a backend that can't be reached raises `StorageUnavailableError`."""

    def record(self, vote: Vote, user_id: int) -> None:
        """`user_id`'s vote on an answer, replacing an earlier one (a reason only with 👎;
        a plain 👎 keeps a reason given before)."""
        ...

    def counts(self, answer_id: int) -> tuple[int, int]:
        """(👍, 👎) of one answer."""
        ...

    def vote_of(self, answer_id: int, user_id: int) -> tuple[str, str | None] | None: ...

    def usage(self, days: int = DEFAULT_DAYS, today: date | None = None) -> Usage: ...

    def daily(self, days: int = DEFAULT_DAYS, today: date | None = None) -> list[Day]: ...

    def export_questions(self, corpus_root: Path | None = None) -> list[dict[str, Any]]: ...

    def close(self) -> None: ...


class FeedbackReports(ABC):
    """`usage`, `daily` and `export_questions` of a `FeedbackLog`, built from the four
    queries a backend implements (`since` is an ISO date, the first day counted)."""

    @abstractmethod
    def _answers_per_day(self, since: str) -> dict[str, tuple[int, int]]:
        """Day (`YYYY-MM-DD`, UTC) → (answered, declined) of the answers given since."""

    @abstractmethod
    def _votes_per_day(self, since: str) -> dict[str, tuple[int, int]]:
        """Day → (👍, 👎) on the answers given that day, since `since`."""

    @abstractmethod
    def _reasons_since(self, since: str) -> dict[str, int]:
        """Reason code → how many 👎 gave it, on the answers given since `since`."""

    @abstractmethod
    def _down_voted(self) -> list[DownVoted]:
        """Every answer with a 👎, newest first."""

    def usage(self, days: int = DEFAULT_DAYS, today: date | None = None) -> Usage:
        """Questions answered / declined and votes on the answers of the last `days` days."""
        per_day = self.daily(days, today)
        answered = sum(d.answered for d in per_day)
        declined = sum(d.declined for d in per_day)
        return Usage(days=days, questions=answered + declined, answered=answered,
                     declined=declined, up=sum(d.up for d in per_day),
                     down=sum(d.down for d in per_day),
                     reasons=self._reasons_since(_since(days, today)))

    def daily(self, days: int = DEFAULT_DAYS, today: date | None = None) -> list[Day]:
        """One `Day` for each of the last `days` days (oldest first, today last), by the
        day the answer was given."""
        since = _since(days, today)
        answers, votes = self._answers_per_day(since), self._votes_per_day(since)
        first = date.fromisoformat(since)
        result = []
        for offset in range(days):
            day = (first + timedelta(days=offset)).isoformat()
            answered, declined = answers.get(day, (0, 0))
            up, down = votes.get(day, (0, 0))
            result.append(Day(day, answered, declined, up, down))
        return result

    def export_questions(self, corpus_root: Path | None = None) -> list[dict[str, Any]]:
        """The questions whose answers got a 👎, once each (newest answer first), as
        question-file records: `article` is the first cited article (relative to
        `corpus_root` when under it), `answer` is "" for the admin to fill in with the
        exact words that answer it — except "should have said it doesn't know", which is
        recorded as unanswerable (`article` and `answer` null)."""
        records: list[dict[str, Any]] = []
        seen: set[str] = set()
        for row in self._down_voted():
            if row.question.casefold() in seen:
                continue
            seen.add(row.question.casefold())
            unanswerable = row.reasons == ["unknown"]
            records.append({
                "id": f"feedback-{row.answer_id}",
                "article": None if unanswerable else _article_path(row.origin, corpus_root),
                "question": row.question,
                "answer": None if unanswerable else "",
                "style": EXPORT_STYLE,
                "reasons": [REASONS[r] for r in row.reasons if r in REASONS],
                "bot_answer": row.answer,
                "index_generation": row.index_generation,
            })
        return records


class SQLiteFeedbackLog(FeedbackReports):
    """A `FeedbackLog` in `bot.sqlite` beside the chat log. Thread-safe (one connection, a
    lock)."""

    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(data_dir / FILENAME, timeout=30, check_same_thread=False,
                                   isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA busy_timeout=30000")
        self._db.row_factory = sqlite3.Row
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS feedback (answer_id INTEGER NOT NULL, "
                "user_id INTEGER NOT NULL, vote TEXT NOT NULL, reason TEXT, "
                "updated_at TEXT NOT NULL, PRIMARY KEY (answer_id, user_id))")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- votes ----------------------------------------------------------------------------

    def record(self, vote: Vote, user_id: int) -> None:
        reason = vote.reason if vote.vote == DOWN else None
        with self._lock:
            self._db.execute(
                "INSERT INTO feedback (answer_id, user_id, vote, reason, updated_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (answer_id, user_id) DO UPDATE SET "
                "vote = excluded.vote, updated_at = excluded.updated_at, reason = CASE "
                "WHEN excluded.vote = 'down' AND excluded.reason IS NULL "
                "AND feedback.vote = 'down' THEN feedback.reason ELSE excluded.reason END",
                [vote.answer_id, user_id, vote.vote, reason, _now()])

    def counts(self, answer_id: int) -> tuple[int, int]:
        with self._lock:
            row = self._db.execute(
                "SELECT SUM(vote = 'up'), SUM(vote = 'down') FROM feedback WHERE answer_id = ?",
                [answer_id]).fetchone()
        return int(row[0] or 0), int(row[1] or 0)

    def vote_of(self, answer_id: int, user_id: int) -> tuple[str, str | None] | None:
        """(vote, reason) of one user on one answer, if any."""
        with self._lock:
            row = self._db.execute(
                "SELECT vote, reason FROM feedback WHERE answer_id = ? AND user_id = ?",
                [answer_id, user_id]).fetchone()
        return (row["vote"], row["reason"]) if row else None

    # -- the rows of the reports ------------------------------------------------------------

    def _answers_per_day(self, since: str) -> dict[str, tuple[int, int]]:
        return {row["day"]: (int(row["answered"] or 0), int(row["declined"] or 0))
                for row in self._query(
                    "SELECT substr(created_at, 1, 10) AS day, SUM(abstained = 0) AS answered, "
                    "SUM(abstained != 0) AS declined FROM answers WHERE created_at >= ? "
                    "GROUP BY day", [since])}

    def _votes_per_day(self, since: str) -> dict[str, tuple[int, int]]:
        return {row["day"]: (int(row["up"] or 0), int(row["down"] or 0))
                for row in self._query(
                    "SELECT substr(a.created_at, 1, 10) AS day, SUM(f.vote = 'up') AS up, "
                    "SUM(f.vote = 'down') AS down FROM feedback f JOIN answers a "
                    "ON a.id = f.answer_id WHERE a.created_at >= ? GROUP BY day", [since])}

    def _reasons_since(self, since: str) -> dict[str, int]:
        return {row["reason"]: int(row["n"]) for row in self._query(
            "SELECT f.reason, COUNT(*) AS n FROM feedback f JOIN answers a "
            "ON a.id = f.answer_id WHERE f.vote = 'down' AND f.reason IS NOT NULL "
            "AND a.created_at >= ? GROUP BY f.reason", [since])}

    def _down_voted(self) -> list[DownVoted]:
        rows = self._query(
            "SELECT a.id, a.question, a.answer, a.index_generation, "
            "GROUP_CONCAT(DISTINCT f.reason) AS reasons, c.origin AS origin "
            "FROM answers a JOIN feedback f ON f.answer_id = a.id AND f.vote = 'down' "
            "LEFT JOIN citations c ON c.answer_id = a.id AND c.n = 1 "
            "GROUP BY a.id ORDER BY a.id DESC", [])
        return [DownVoted(row["id"], row["question"], row["answer"], row["index_generation"],
                          sorted(filter(None, (row["reasons"] or "").split(","))),
                          row["origin"]) for row in rows]

    def _query(self, sql: str, params: list[Any]) -> list[sqlite3.Row]:
        with self._lock:
            try:
                return self._db.execute(sql, params).fetchall()
            except sqlite3.OperationalError as error:
                if "no such table" in str(error):  # the bot has not answered anything yet
                    return []
                raise


def _article_path(origin: str | None, corpus_root: Path | None) -> str | None:
    """A cited article as a question file names it: relative to the ingested folder when
    it lies under it, else its origin as stored (an absolute path or a URL)."""
    if not origin:
        return None
    if corpus_root is not None:
        try:
            return Path(origin).relative_to(corpus_root.resolve()).as_posix()
        except ValueError:
            pass
    return origin


def _since(days: int, today: date | None) -> str:
    first = (today or datetime.now(UTC).date()) - timedelta(days=max(1, days) - 1)
    return first.isoformat()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
