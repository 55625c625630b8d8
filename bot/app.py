"""Wiring of the Telegram bot: `build_application` makes the python-telegram-bot
Application (rate limiter, defaults, the typed context, the shared services), adds the
handler table built from the command registry (`bot.commands`) behind the access gate,
publishes the command menu, and schedules the repeating feed refresh; `serve` runs it by
long polling or as a webhook.

This module also owns the logging guard: the bot token (and webhook secret) is redacted
from every log record — message, arguments and traceback — because PTB and httpx put
request URLs, which contain the token, into logs and exceptions.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from telegram import BotCommandScopeChat, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    CallbackQueryHandler,
    CommandHandler,
    Defaults,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.access import AccessPolicy
from bot.commands import COMMANDS, CommandRegistry
from bot.config import BotConfig, WebhookConfig
from bot.context import CONTEXT_TYPES, SERVICES_KEY, BotServices
from bot.handlers.access import access_gate
from bot.handlers.asking import on_other_message, on_text
from bot.handlers.browsing import unknown_command
from bot.handlers.citations import on_citation_button
from bot.handlers.errors import on_error
from bot.handlers.feedback import on_feedback_button
from bot.handlers.jobs import JobRunner, scheduled_refresh
from bot.state import open_bot_state
from index.library import Library, NotIndexedError
from index.qa.rerank import RerankerError
from index.settings import Settings
from index.storage.faiss_index import IndexFileError

logger = logging.getLogger(__name__)

ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]
CONCURRENT_UPDATES = 8
FIRST_REFRESH_DELAY = 60.0  # seconds after start of the first scheduled feed refresh
REFRESH_JOB_NAME = "citebot-feed-refresh"
REDACTED = "[redacted]"
# Third-party loggers whose INFO lines are noise in the bot's log: httpx logs every request
# URL (token included), APScheduler every run of the feed-refresh job.
QUIET_LOGGERS = ("httpx", "httpcore", "apscheduler")


class StartupError(RuntimeError):
    """The bot could not start; the message says why (and never contains the token)."""


# --------------------------------------------------------------------------------------
# The application
# --------------------------------------------------------------------------------------


def build_application(config: BotConfig, library: Library,
                      commands: CommandRegistry = COMMANDS) -> Application:
    """A ready-to-start PTB Application for `library`, configured by `config`."""
    install_log_redaction(config.secrets())
    application = (
        Application.builder()
        .token(config.token)
        .base_url(config.api_url)
        .base_file_url(config.file_url)
        .rate_limiter(AIORateLimiter(max_retries=config.max_retries))
        .defaults(Defaults(parse_mode=ParseMode.HTML,
                           link_preview_options=LinkPreviewOptions(is_disabled=True)))
        .context_types(CONTEXT_TYPES)
        .concurrent_updates(CONCURRENT_UPDATES)
        .post_init(set_bot_commands)
        .post_shutdown(close_bot_state)
        .build()
    )
    state = open_bot_state(library, config)
    logger.info("the bot's answers, votes and rate limits are kept in %s", state.location)
    application.bot_data[SERVICES_KEY] = BotServices(
        config=config,
        library=library,
        state=state,
        access=AccessPolicy.from_config(config),
        jobs=JobRunner(library, config.progress_interval),
        commands=commands,
    )
    add_handlers(application, commands)
    schedule_feed_refresh(application, config)
    return application


def schedule_feed_refresh(application: Application, config: BotConfig) -> None:
    """Refresh the followed feeds every `config.refresh_minutes` (the first run a minute
    after start, or sooner for shorter intervals); 0 turns it off."""
    seconds = config.refresh_seconds
    if seconds <= 0:
        logger.info("scheduled feed refresh is off")
        return
    if application.job_queue is None:
        logger.warning("no job queue (install python-telegram-bot[job-queue]): the feeds "
                       "are refreshed only by /refresh")
        return
    application.job_queue.run_repeating(
        scheduled_refresh, interval=seconds, first=min(seconds, FIRST_REFRESH_DELAY),
        name=REFRESH_JOB_NAME)


def add_handlers(application: Application, commands: CommandRegistry) -> None:
    """The access gate first (group -1), then one handler per command of the registry,
    citation and feedback buttons, plain text, the catch-all for unknown commands, and a hint for
    non-text messages in private chats."""
    new_messages = filters.UpdateType.MESSAGE
    application.add_handler(TypeHandler(Update, access_gate), group=-1)
    for command in commands:
        application.add_handler(CommandHandler(command.name, command.callback,
                                               filters=new_messages))
    application.add_handler(CallbackQueryHandler(on_citation_button, pattern=r"^c:"))
    application.add_handler(CallbackQueryHandler(on_feedback_button, pattern=r"^f:"))
    application.add_handler(
        MessageHandler(filters.TEXT & ~filters.COMMAND & new_messages, on_text))
    application.add_handler(MessageHandler(filters.COMMAND & new_messages, unknown_command))
    application.add_handler(MessageHandler(
        filters.ChatType.PRIVATE & ~filters.TEXT & ~filters.StatusUpdate.ALL & new_messages,
        on_other_message))
    application.add_error_handler(on_error)


async def set_bot_commands(application: Application) -> None:
    """post_init: publish the command menu (setMyCommands): the public commands for
    everyone, and every command in each admin's private chat."""
    services: BotServices = application.bot_data[SERVICES_KEY]
    commands, bot = services.commands, application.bot
    await bot.set_my_commands(commands.menu(admin=False))
    for admin_id in sorted(services.config.admin_ids):
        try:
            await bot.set_my_commands(commands.menu(admin=True),
                                      scope=BotCommandScopeChat(admin_id))
        except TelegramError as error:  # e.g. "chat not found": the admin never wrote
            logger.warning("could not set the admin command menu for user %s: %s",
                           admin_id, error)
    logger.info("citebot is running as @%s", bot.username)


async def close_bot_state(application: Application) -> None:
    """post_shutdown: close the bot's state (bot.sqlite's connections, or the threads of
    its PostgreSQL calls; the pool itself closes with the Library)."""
    services: BotServices | None = application.bot_data.get(SERVICES_KEY)
    if services is not None:
        services.state.close()


def webhook_options(webhook: WebhookConfig) -> dict[str, Any]:
    """Keyword arguments of PTB's `run_webhook` / `Updater.start_webhook`."""
    return {
        "listen": webhook.listen,
        "port": webhook.port,
        "url_path": webhook.path,
        "webhook_url": webhook.url,
        "secret_token": webhook.secret,
        "allowed_updates": ALLOWED_UPDATES,
    }


# --------------------------------------------------------------------------------------
# Running
# --------------------------------------------------------------------------------------


def serve(config: BotConfig, settings: Settings) -> None:
    """Run the bot until interrupted (long polling, or a webhook when configured) over the
    collection `settings` open.

    Raises `StartupError` (with a message fit for the user) when Telegram rejects the token
    or can't be reached, or the configured reranker can't be loaded.
    """
    configure_logging(config)
    library = Library(settings)
    try:
        library.check_reranker()  # a reranker that can't be loaded stops the bot at once
        warn_if_not_indexed(library)
        application = build_application(config, library)
        run_application(application, config)
    except RerankerError as error:
        raise StartupError(str(error)) from None
    except InvalidToken:
        raise StartupError(
            "Telegram rejected the bot token (Unauthorized): check TELEGRAM_BOT_TOKEN "
            "or ask @BotFather for the current token"
        ) from None
    except NetworkError as error:
        raise StartupError(
            f"cannot reach the Telegram Bot API at {config.api_url}: {redact(str(error))}"
        ) from None
    except TelegramError as error:
        raise StartupError(f"Telegram refused to start the bot: {redact(str(error))}") from None
    except Exception as error:
        # Logged (the traceback redacted) rather than left to Python's crash output, which
        # would print the exception as is, token included if some URL carried it.
        logger.critical("the bot stopped on an unexpected error", exc_info=error)
        raise StartupError(
            f"the bot stopped on an unexpected error: {redact(type(error).__name__)}: "
            f"{redact(str(error))}"
        ) from None
    finally:
        library.close()


def run_application(application: Application, config: BotConfig) -> None:
    if config.webhook is not None:
        logger.info("starting in webhook mode on %s:%s", config.webhook.listen,
                    config.webhook.port)
        application.run_webhook(**webhook_options(config.webhook))
    else:
        logger.info("starting in polling mode")
        application.run_polling(allowed_updates=ALLOWED_UPDATES)


def warn_if_not_indexed(library: Library) -> None:
    """Check the index before serving: an empty collection is only a warning; a missing or
    damaged index file is never served — it is rebuilt from the store first."""
    try:
        library.check_index()
    except NotIndexedError as error:
        logger.warning("%s; questions will be declined until articles are added", error)
    except IndexFileError as error:
        logger.error("%s — rebuilding it from the store now (citebot reindex --full)", error)
        report = library.reindex(full=True)
        logger.info("index rebuilt: %s", report.summary())


def configure_logging(config: BotConfig, level: int = logging.INFO) -> None:
    """Timestamped logs on stderr, with the token redacted and httpx kept quiet."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=level,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    install_log_redaction(config.secrets())


# --------------------------------------------------------------------------------------
# Keeping secrets out of logs
# --------------------------------------------------------------------------------------

_secrets: set[str] = set()
_previous_factory: Any = None


def redact(text: str) -> str:
    """`text` with every registered secret replaced by `[redacted]`."""
    for secret in sorted(_secrets, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


class RedactingFilter(logging.Filter):
    """A handler filter that redacts secrets from records (message, args, traceback)."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


def redact_record(record: logging.LogRecord) -> None:
    """Redact in place: the formatted message, and the traceback text (pre-formatted)."""
    if not _secrets:
        return
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: leave it to logging to report
        return
    clean = redact(message)
    if clean != message:
        record.msg, record.args = clean, None
    if record.exc_info and record.exc_info[0] is not None:
        text = record.exc_text or logging.Formatter().formatException(record.exc_info)
        record.exc_text = redact(text)
        if record.exc_text != text:
            # The exception itself holds a secret: handlers get the redacted text only.
            record.exc_info = None
    elif record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


def install_log_redaction(secrets: Iterable[str]) -> None:
    """Redact `secrets` from all log records of this process (a record factory, so every
    handler sees clean records, plus a filter on the root handlers); quiet the third-party
    loggers of `QUIET_LOGGERS` below WARNING."""
    global _previous_factory
    _secrets.update(s for s in secrets if len(s) >= 8)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    if _previous_factory is None:
        _previous_factory = logging.getLogRecordFactory()
        logging.setLogRecordFactory(_redacting_record_factory)
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())


def _redacting_record_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
    record = _previous_factory(*args, **kwargs)
    redact_record(record)
    return record
