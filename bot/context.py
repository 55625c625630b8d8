"""The bot's typed context: what every handler, job and error handler is handed.

`BotServices` is the per-application state the handlers share (the library, settings, the
bot's own state — chat log, votes, rate limiter and the answers being sent, `bot.state` —,
access policy, job runner and command registry), built once by `bot.app` and kept in
`application.bot_data`. `CitebotContext` is python-telegram-bot's
`CallbackContext` with a typed property for each of them, so a handler writes
`context.library` rather than an untyped `context.bot_data[...]` lookup, and calls the
bot's state as `await context.state.call(context.chatlog.answer, answer_id)` (inline for
the embedded state, off the event loop for PostgreSQL); `CONTEXT_TYPES` tells the
Application to build this context for every callback.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from telegram.ext import CallbackContext, ContextTypes, ExtBot

from bot.access import AccessPolicy
from bot.chatlog import ChatLog
from bot.config import BotConfig
from bot.feedback import FeedbackLog
from bot.ratelimit import RateLimiter
from bot.sending import InFlight
from bot.state import BotState
from index.library import Library

if TYPE_CHECKING:  # both modules hand their handlers this context
    from bot.commands import CommandRegistry
    from bot.handlers.jobs import JobRunner

SERVICES_KEY = "services"


@dataclass
class BotServices:
    """What the handlers share; kept in `application.bot_data[SERVICES_KEY]`."""

    config: BotConfig
    library: Library
    state: BotState
    access: AccessPolicy
    jobs: JobRunner
    commands: CommandRegistry

    @property
    def chatlog(self) -> ChatLog:
        return self.state.chatlog

    @property
    def feedback(self) -> FeedbackLog:
        return self.state.feedback


class CitebotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any],
                                     dict[Any, Any]]):
    """The context of every citebot callback: PTB's own, plus the shared services."""

    @property
    def services(self) -> BotServices:
        return self.bot_data[SERVICES_KEY]

    @property
    def config(self) -> BotConfig:
        return self.services.config

    @property
    def library(self) -> Library:
        return self.services.library

    @property
    def state(self) -> BotState:
        """The bot's own state and how to call it (`bot.state`)."""
        return self.services.state

    @property
    def chatlog(self) -> ChatLog:
        return self.services.state.chatlog

    @property
    def limiter(self) -> RateLimiter:
        return self.services.state.limiter

    @property
    def access(self) -> AccessPolicy:
        return self.services.access

    @property
    def jobs(self) -> JobRunner:
        """The one runner of writes: background jobs, short writes, and whether busy."""
        return self.services.jobs

    @property
    def commands(self) -> CommandRegistry:
        return self.services.commands

    @property
    def feedback(self) -> FeedbackLog:
        """The votes on answers."""
        return self.services.state.feedback

    @property
    def in_flight(self) -> InFlight:
        """The answers being sent, whose messages are not all linked yet."""
        return self.services.state.in_flight

    def is_admin(self, user_id: int | None) -> bool:
        return self.config.is_admin(user_id)


CONTEXT_TYPES = ContextTypes(context=CitebotContext)
