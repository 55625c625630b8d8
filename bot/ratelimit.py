"""Per-user question rate limit: at most N questions per sliding window.

This module owns the limiter's bookkeeping only. A user over the limit is told to slow down
once per window (`Verdict.WARN`); further messages in that window are dropped quietly
(`Verdict.DROP`) so that a flood does not turn into a flood of replies.
"""

from __future__ import annotations

import enum
import time
from collections import deque
from dataclasses import dataclass, field


class Verdict(enum.Enum):
    ALLOW = "allow"
    WARN = "warn"
    DROP = "drop"


@dataclass
class QuestionRateLimiter:
    """`limit` questions per `window` seconds per user; `limit` 0 means unlimited."""

    limit: int
    window: float
    _asked: dict[int, deque[float]] = field(default_factory=dict)
    _warned_at: dict[int, float] = field(default_factory=dict)

    def check(self, user_id: int, now: float | None = None) -> Verdict:
        """Count a question by `user_id` if it is allowed; otherwise say whether to warn."""
        if self.limit <= 0:
            return Verdict.ALLOW
        now = time.monotonic() if now is None else now
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
        asked = self._asked.get(user_id)
        if not asked or len(asked) < self.limit:
            return 0.0
        return max(0.0, asked[0] + self.window - now)
