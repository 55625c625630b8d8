"""Per-user question rate limit: at most N questions per sliding window.

This module owns the limiter's interface (`RateLimiter`) and its in-memory implementation
(`QuestionRateLimiter`, one process's bookkeeping). A user over the limit is told to slow
down once per window (`Verdict.WARN`); further messages in that window are dropped quietly
(`Verdict.DROP`) so that a flood does not turn into a flood of replies. With a PostgreSQL
collection the limit is counted in that database (`bot.postgres_ratelimit`), so that it
holds across every replica; `bot.state` picks one.
"""

from __future__ import annotations

import enum
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Protocol


class Verdict(enum.Enum):
    ALLOW = "allow"
    WARN = "warn"
    DROP = "drop"


class RateLimiter(Protocol):
    """`limit` questions per `window` seconds per user; `limit` 0 means unlimited."""

    limit: int
    window: float

    def check(self, user_id: int) -> Verdict:
        """Count a question by `user_id` if it is allowed; otherwise say whether to warn
        (once per window) or drop it. Checked and counted atomically."""
        ...

    def retry_in(self, user_id: int) -> float:
        """Seconds until `user_id` may ask again."""
        ...


@dataclass
class QuestionRateLimiter:
    """A `RateLimiter` in this process's memory (thread-safe)."""

    limit: int
    window: float
    _asked: dict[int, deque[float]] = field(default_factory=dict)
    _warned_at: dict[int, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def check(self, user_id: int, now: float | None = None) -> Verdict:
        """Count a question by `user_id` if it is allowed; otherwise say whether to warn."""
        if self.limit <= 0:
            return Verdict.ALLOW
        now = time.monotonic() if now is None else now
        with self._lock:
            return self._check(user_id, now)

    def _check(self, user_id: int, now: float) -> Verdict:
        asked = self._asked.setdefault(user_id, deque())
        while asked and asked[0] <= now - self.window:
            asked.popleft()
        if len(asked) < self.limit:
            asked.append(now)
            self._warned_at.pop(user_id, None)
            return Verdict.ALLOW
        warned = self._warned_at.get(user_id)
        if warned is not None and now - warned < self.window:
            return Verdict.DROP
        self._warned_at[user_id] = now
        return Verdict.WARN

    def retry_in(self, user_id: int, now: float | None = None) -> float:
        """Seconds until `user_id` may ask again."""
        now = time.monotonic() if now is None else now
        with self._lock:
            asked = self._asked.get(user_id)
            if not asked or len(asked) < self.limit:
                return 0.0
            return max(0.0, asked[0] + self.window - now)
