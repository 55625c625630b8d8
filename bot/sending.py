"""Answers on their way out: which chats have an answer being sent whose messages are not
yet linked to it in the chat log.

Telegram shows a sent message (and lets users reply to it) before the bot has the
response of its sendMessage call, so a reply can arrive before the bot knows which answer
the replied-to message carries. `InFlight` closes that gap: a send registers itself before
its first request and each message is linked the moment its response arrives; a reply to
an unknown bot message in a chat with an answer in flight waits (`settle`) until those
sends have settled before it is looked up.

This module owns the interface and `AnswersInFlight`, which knows this process's sends.
With a PostgreSQL collection, `bot.postgres_sending` adds the other replicas' sends, so a
reply that reaches another replica than the one sending waits as well.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from typing import Protocol

SETTLE_TIMEOUT_SECONDS = 30.0


class InFlight(Protocol):
    """Which chats have an answer being sent (see the module)."""

    def sending(self, chat_id: int) -> AbstractAsyncContextManager[None]:
        """Mark an answer in `chat_id` as being sent for the duration of the block."""
        ...

    async def settle(self, chat_id: int, timeout: float = SETTLE_TIMEOUT_SECONDS) -> bool:
        """Wait until no answer is being sent in `chat_id` (at most `timeout` seconds);
        True if one was, so that looking a message up again may now find it."""
        ...


class AnswersInFlight:
    """Per chat, how many answers are being sent; await `settled(chat)` to see them linked.

    Lives in the bot's event loop (one per Application)."""

    def __init__(self) -> None:
        self._sending: Counter[int] = Counter()
        self._changed: asyncio.Condition | None = None

    def _condition(self) -> asyncio.Condition:
        if self._changed is None:
            self._changed = asyncio.Condition()
        return self._changed

    def busy(self, chat_id: int) -> bool:
        return self._sending[chat_id] > 0

    @asynccontextmanager
    async def sending(self, chat_id: int) -> AsyncIterator[None]:
        """Mark an answer in `chat_id` as being sent for the duration of the block."""
        self._sending[chat_id] += 1
        try:
            yield
        finally:
            self._sending[chat_id] -= 1
            if not self._sending[chat_id]:
                del self._sending[chat_id]
            condition = self._condition()
            async with condition:
                condition.notify_all()

    async def settle(self, chat_id: int, timeout: float = SETTLE_TIMEOUT_SECONDS) -> bool:
        if not self.busy(chat_id):
            return False
        await self.settled(chat_id, timeout)
        return True

    async def settled(self, chat_id: int, timeout: float = SETTLE_TIMEOUT_SECONDS) -> None:
        """Return when no answer is being sent in `chat_id` (or after `timeout` seconds)."""
        if not self.busy(chat_id):
            return
        condition = self._condition()
        with suppress(TimeoutError):
            async with condition:
                await asyncio.wait_for(
                    condition.wait_for(lambda: not self.busy(chat_id)), timeout)
