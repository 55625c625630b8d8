"""Where the bot keeps its own state — the chat log, the votes, the rate limits and the
answers being sent — chosen in one place, like the collection's backend
(`index.storage.backends`): beside the collection.

* Embedded collection (the files in the data directory): `bot.sqlite` in that directory
  (`bot.chatlog`, `bot.feedback`), limits and sends in this process's memory
  (`bot.ratelimit`, `bot.sending`). Calls run inline on the event loop, as they always
  did: each is a local SQLite statement or a dictionary update (a fraction of a millisecond).
* PostgreSQL collection: the `bot_*` tables of that database (`bot.postgres_state` and the
  `bot.postgres_*` modules), on the collection's own connection pool, so that every bot
  process on the database shares them and behaves as one bot. Calls are network round trips
  and run on a few threads of their own (`BotState.call`), never on the event loop and never
  queued behind the questions being answered on the default executor.

Handlers only see the interfaces (`ChatLog`, `FeedbackLog`, `RateLimiter`, `InFlight`) and
call them through `BotState.call`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import ParamSpec, TypeVar

from bot.chatlog import FILENAME, ChatLog, SQLiteChatLog
from bot.config import BotConfig
from bot.feedback import FeedbackLog, SQLiteFeedbackLog
from bot.ratelimit import QuestionRateLimiter, RateLimiter
from bot.sending import AnswersInFlight, InFlight
from index.library import Library

P = ParamSpec("P")
T = TypeVar("T")

STATE_THREADS = 4  # concurrent calls of the bot's state on PostgreSQL, per process


@dataclass
class BotState:
    """The bot's state objects and how to call them. `location` says where they live."""

    chatlog: ChatLog
    feedback: FeedbackLog
    limiter: RateLimiter
    in_flight: InFlight
    location: str
    executor: ThreadPoolExecutor | None = None  # None: calls are fast and run inline

    @property
    def shared(self) -> bool:
        """True when other processes share this state (PostgreSQL)."""
        return self.executor is not None

    async def call(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """`function(*args, **kwargs)`, one call of the state: inline when it is local,
        else on the state's threads (a `StorageUnavailableError` is raised as is)."""
        if self.executor is None:
            return function(*args, **kwargs)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, partial(function, *args, **kwargs))

    def close(self) -> None:
        self.chatlog.close()
        self.feedback.close()
        if self.executor is not None:
            self.executor.shutdown(wait=True)


def open_bot_state(library: Library, config: BotConfig) -> BotState:
    """The bot's state beside `library`'s collection (see the module). Raises
    `StorageUnavailableError` when the database can't hold it."""
    database = library.backend.database
    if database is None:
        data_dir = library.settings.data_dir
        return BotState(
            chatlog=SQLiteChatLog(data_dir), feedback=SQLiteFeedbackLog(data_dir),
            limiter=QuestionRateLimiter(config.questions_per_window,
                                        config.rate_window_seconds),
            in_flight=AnswersInFlight(), location=str(data_dir / FILENAME))
    from bot.postgres_chatlog import PostgresChatLog
    from bot.postgres_feedback import PostgresFeedbackLog
    from bot.postgres_ratelimit import PostgresRateLimiter
    from bot.postgres_sending import PostgresAnswersInFlight
    from bot.postgres_state import migrate_bot_tables

    migrate_bot_tables(database)
    executor = ThreadPoolExecutor(STATE_THREADS, thread_name_prefix="citebot-state")
    return BotState(
        chatlog=PostgresChatLog(database), feedback=PostgresFeedbackLog(database),
        limiter=PostgresRateLimiter(database, config.questions_per_window,
                                    config.rate_window_seconds),
        in_flight=PostgresAnswersInFlight(database, executor),
        location=database.shown_url, executor=executor)


def open_feedback_log(library: Library) -> FeedbackLog | None:
    """The votes beside `library`'s collection, for `citebot stats` and `feedback export`;
    None when the bot has never run on it (nothing is created then)."""
    database = library.backend.database
    if database is None:
        data_dir = library.settings.data_dir
        return SQLiteFeedbackLog(data_dir) if (data_dir / FILENAME).exists() else None
    from bot.postgres_feedback import PostgresFeedbackLog
    from bot.postgres_state import bot_tables_exist, migrate_bot_tables

    if not bot_tables_exist(database):
        return None
    migrate_bot_tables(database)
    return PostgresFeedbackLog(database)
