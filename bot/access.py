"""Who may use the bot: the optional allowlists of users and chats.

This module owns the access decision and its bookkeeping. With `CITEBOT_ALLOWED_USERS`
and/or `CITEBOT_ALLOWED_CHATS` set, an update passes only if its user is in the users list
(when that list is set) *and* its chat is in the chats list (when that list is set); an empty
list lets everyone through. Admins (`CITEBOT_ADMIN_IDS`) always pass. A private chat's id is
the user's id, so listing a user's id under the chats allows their private chat.

Someone refused is told so once per `window` (per user, and per group chat), then ignored:
a flood of messages never turns into a flood of refusals.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from bot.config import BotConfig

REFUSAL_WINDOW_SECONDS = 3600.0
MAX_REMEMBERED = 10_000  # refusals remembered at most (the oldest are forgotten first)


@dataclass
class AccessPolicy:
    """The allowlists, and when each refused user or chat was last told."""

    admin_ids: frozenset[int] = frozenset()
    allowed_users: frozenset[int] = frozenset()
    allowed_chats: frozenset[int] = frozenset()
    window: float = REFUSAL_WINDOW_SECONDS
    _told_at: dict[tuple[str, int], float] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: BotConfig) -> AccessPolicy:
        return cls(admin_ids=config.admin_ids, allowed_users=config.allowed_users,
                   allowed_chats=config.allowed_chats)

    @property
    def restricted(self) -> bool:
        return bool(self.allowed_users or self.allowed_chats)

    def allows(self, user_id: int | None, chat_id: int | None) -> bool:
        """May this user use the bot in this chat?"""
        if user_id is not None and user_id in self.admin_ids:
            return True
        if self.allowed_users and user_id not in self.allowed_users:
            return False
        return not (self.allowed_chats and chat_id not in self.allowed_chats)

    def should_tell(self, user_id: int | None, chat_id: int | None,
                    now: float | None = None) -> bool:
        """For a refused update: True the first time per window for this refusal — per
        chat when the chat is not allowed (one refusal per group), else per user."""
        now = time.monotonic() if now is None else now
        chat_refused = bool(self.allowed_chats) and chat_id not in self.allowed_chats
        key = ("chat", chat_id or 0) if chat_refused else ("user", user_id or 0)
        told = self._told_at.get(key)
        if told is not None and now - told < self.window:
            return False
        self._told_at.pop(key, None)
        self._told_at[key] = now
        self._forget_old(now)
        return True

    def _forget_old(self, now: float) -> None:
        if len(self._told_at) <= MAX_REMEMBERED:
            return
        for key, told in list(self._told_at.items()):  # oldest first (insertion order)
            if len(self._told_at) <= MAX_REMEMBERED and now - told < self.window:
                break
            del self._told_at[key]
