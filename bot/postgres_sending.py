"""Answers on their way out, across replicas (`bot.sending.InFlight` over PostgreSQL).

This module owns the table `bot_sending` (created by `bot.postgres_state`): one row per
answer some replica is sending, inserted before its first message and deleted once all its
messages are linked in the chat log. A reply to a bot message that the chat log does not
know yet waits for this process's sends (as `AnswersInFlight` does) and then for the rows
of the other replicas, polling every `POLL_SECONDS`. A row older than the settle timeout
(its replica died mid-send) is not waited for, and is deleted by a later send.

If the database can't be reached, sending goes on unmarked (the answer matters more than
the mark) and a reply is only waited for this process's sends.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Executor
from contextlib import asynccontextmanager
from typing import TypeVar

from bot.postgres_state import bot_connection
from bot.sending import SETTLE_TIMEOUT_SECONDS, AnswersInFlight
from index.storage.interfaces import StorageUnavailableError
from index.storage.postgres_db import PostgresDatabase

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.1
A = TypeVar("A")
R = TypeVar("R")


class PostgresAnswersInFlight:
    """This process's sends (`AnswersInFlight`) plus every replica's rows in `bot_sending`;
    the database calls run on `executor`, off the event loop."""

    def __init__(self, database: PostgresDatabase, executor: Executor) -> None:
        self.database = database
        self.executor = executor
        self.local = AnswersInFlight()

    @asynccontextmanager
    async def sending(self, chat_id: int) -> AsyncIterator[None]:
        async with self.local.sending(chat_id):
            mark = await self._quietly(self._mark, chat_id)
            try:
                yield
            finally:
                if mark is not None:
                    await self._quietly(self._unmark, mark)

    async def settle(self, chat_id: int, timeout: float = SETTLE_TIMEOUT_SECONDS) -> bool:
        deadline = time.monotonic() + timeout
        waited = await self.local.settle(chat_id, timeout)
        while time.monotonic() < deadline and await self._quietly(self._elsewhere, chat_id):
            waited = True
            await asyncio.sleep(POLL_SECONDS)
        return waited

    # -- the rows -------------------------------------------------------------------------

    def _mark(self, chat_id: int) -> int:
        with bot_connection(self.database) as connection:
            connection.execute("DELETE FROM bot_sending WHERE started_at < now() - "
                               "make_interval(secs => %s)", [2 * SETTLE_TIMEOUT_SECONDS])
            row = connection.execute("INSERT INTO bot_sending (chat_id) VALUES (%s) "
                                     "RETURNING id", [chat_id]).fetchone()
        assert row is not None
        return int(row[0])

    def _unmark(self, mark: int) -> None:
        with bot_connection(self.database) as connection:
            connection.execute("DELETE FROM bot_sending WHERE id = %s", [mark])

    def _elsewhere(self, chat_id: int) -> bool:
        """Is an answer being sent in `chat_id` (by any replica, for less than the settle
        timeout)?"""
        with bot_connection(self.database) as connection:
            row = connection.execute(
                "SELECT EXISTS (SELECT 1 FROM bot_sending WHERE chat_id = %s AND started_at "
                "> now() - make_interval(secs => %s))",
                [chat_id, SETTLE_TIMEOUT_SECONDS]).fetchone()
        return bool(row and row[0])

    async def _quietly(self, call: Callable[[A], R], argument: A) -> R | None:
        """`call(argument)` on the executor; None (and a log line) if the database is out
        of reach."""
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self.executor, call, argument)
        except StorageUnavailableError as error:
            logger.warning("answers in flight are known to this process only: %s", error)
            return None
