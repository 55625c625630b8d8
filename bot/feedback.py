"""What people think of the answers: 👍/👎 (with an optional reason) per user and answer,
the usage numbers built from them, and the export of 👎 questions as an evaluation file.

This module owns the `feedback` table of `bot.sqlite` (the chat log's file, see
`bot.chatlog`: an answer there keeps its question, text, citations and index generation).
One vote per user and answer, changeable: a new press replaces the old one. `usage` gives
answered / declined / 👍 / 👎 over the last days (for `/stats` and `citebot stats`),
`daily` the same per day (for the chart), and `export_questions` turns the 👎 answers into
records in the format of the question files `citebot eval` reads, with the cited article
and an empty `answer` for an admin to fill in.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

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


class FeedbackLog:
    """Votes in `bot.sqlite` beside the chat log. Thread-safe (one connection, a lock)."""

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
        """`user_id`'s vote on an answer, replacing an earlier one (a reason only with 👎;
        a plain 👎 keeps a reason given before)."""
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
        """(👍, 👎) of one answer."""
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

    # -- usage --------------------------------------------------------------------------

    def usage(self, days: int = DEFAULT_DAYS, today: date | None = None) -> Usage:
        """Questions answered / declined and votes on the answers of the last `days` days."""
        per_day = self.daily(days, today)
        reasons: dict[str, int] = {}
        for row in self._query(
                "SELECT f.reason, COUNT(*) AS n FROM feedback f JOIN answers a "
                "ON a.id = f.answer_id WHERE f.vote = 'down' AND f.reason IS NOT NULL "
                "AND a.created_at >= ? GROUP BY f.reason", [_since(days, today)]):
            reasons[row["reason"]] = int(row["n"])
        answered = sum(d.answered for d in per_day)
        declined = sum(d.declined for d in per_day)
        return Usage(days=days, questions=answered + declined, answered=answered,
                     declined=declined, up=sum(d.up for d in per_day),
                     down=sum(d.down for d in per_day), reasons=reasons)

    def daily(self, days: int = DEFAULT_DAYS, today: date | None = None) -> list[Day]:
        """One `Day` for each of the last `days` days (oldest first, today last), by the
        day the answer was given."""
        since = _since(days, today)
        answers = {row["day"]: row for row in self._query(
            "SELECT substr(created_at, 1, 10) AS day, SUM(abstained = 0) AS answered, "
            "SUM(abstained != 0) AS declined FROM answers WHERE created_at >= ? GROUP BY day",
            [since])}
        votes = {row["day"]: row for row in self._query(
            "SELECT substr(a.created_at, 1, 10) AS day, SUM(f.vote = 'up') AS up, "
            "SUM(f.vote = 'down') AS down FROM feedback f JOIN answers a ON a.id = f.answer_id "
            "WHERE a.created_at >= ? GROUP BY day", [since])}
        first = date.fromisoformat(since[:10])
        result = []
        for offset in range(days):
            day = (first + timedelta(days=offset)).isoformat()
            a, v = answers.get(day), votes.get(day)
            result.append(Day(day, int(a["answered"] or 0) if a else 0,
                              int(a["declined"] or 0) if a else 0,
                              int(v["up"] or 0) if v else 0, int(v["down"] or 0) if v else 0))
        return result

    # -- export -------------------------------------------------------------------------

    def export_questions(self, corpus_root: Path | None = None) -> list[dict[str, Any]]:
        """The questions whose answers got a 👎, once each (newest answer first), as
        question-file records: `article` is the first cited article (relative to
        `corpus_root` when under it), `answer` is "" for the admin to fill in with the
        exact words that answer it — except "should have said it doesn't know", which is
        recorded as unanswerable (`article` and `answer` null)."""
        rows = self._query(
            "SELECT a.id, a.question, a.answer, a.abstained, a.index_generation, "
            "GROUP_CONCAT(DISTINCT f.reason) AS reasons, c.origin AS origin, c.url AS url "
            "FROM answers a JOIN feedback f ON f.answer_id = a.id AND f.vote = 'down' "
            "LEFT JOIN citations c ON c.answer_id = a.id AND c.n = 1 "
            "GROUP BY a.id ORDER BY a.id DESC", [])
        records: list[dict[str, Any]] = []
        seen: set[str] = set()
        for row in rows:
            question = row["question"]
            if question.casefold() in seen:
                continue
            seen.add(question.casefold())
            reasons = sorted(filter(None, (row["reasons"] or "").split(",")))
            unanswerable = reasons == ["unknown"]
            records.append({
                "id": f"feedback-{row['id']}",
                "article": None if unanswerable else _article_path(row["origin"], corpus_root),
                "question": question,
                "answer": None if unanswerable else "",
                "style": EXPORT_STYLE,
                "reasons": [REASONS[r] for r in reasons if r in REASONS],
                "bot_answer": row["answer"],
                "index_generation": row["index_generation"],
            })
        return records

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
