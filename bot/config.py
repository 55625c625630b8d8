"""`BotConfig`: everything `citebot serve` needs, from flags, the environment or a `.env` file.

This module owns reading and validating the bot's settings — token, admin ids, who may use
the bot, Bot API URL, data dir, per-user rate limit, webhook options, the feed refresh
interval — with flags winning
over environment
variables, and environment variables over the `.env` file. Every problem is a `ConfigError`
whose message can be shown as is; no message ever contains the token.
"""

from __future__ import annotations

import math
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

DEFAULT_API_URL = "https://api.telegram.org/bot"
DEFAULT_ENV_FILE = Path(".env")
TOKEN_PATTERN = re.compile(r"\d{3,}:[A-Za-z0-9_-]{30,}")
WEBHOOK_SECRET_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,256}")

ENV_TOKEN = "TELEGRAM_BOT_TOKEN"
ENV_ADMIN_IDS = "CITEBOT_ADMIN_IDS"
ENV_ALLOWED_USERS = "CITEBOT_ALLOWED_USERS"
ENV_ALLOWED_CHATS = "CITEBOT_ALLOWED_CHATS"
ENV_ADD_FOLDERS = "CITEBOT_ADD_FOLDERS"
ENV_API_URL = "CITEBOT_TELEGRAM_API_URL"
ENV_DATA_DIR = "CITEBOT_DATA_DIR"
ENV_MODEL = "CITEBOT_MODEL"
ENV_RATE_LIMIT = "CITEBOT_RATE_LIMIT"
ENV_RATE_WINDOW = "CITEBOT_RATE_WINDOW"
ENV_MAX_RETRIES = "CITEBOT_TELEGRAM_MAX_RETRIES"
ENV_PROGRESS_INTERVAL = "CITEBOT_PROGRESS_INTERVAL"
ENV_REFRESH_MINUTES = "CITEBOT_REFRESH_MINUTES"
ENV_WEBHOOK_URL = "CITEBOT_WEBHOOK_URL"
ENV_WEBHOOK_SECRET = "CITEBOT_WEBHOOK_SECRET"
ENV_WEBHOOK_LISTEN = "CITEBOT_WEBHOOK_LISTEN"
ENV_WEBHOOK_PORT = "CITEBOT_WEBHOOK_PORT"
ENV_WEBHOOK_PATH = "CITEBOT_WEBHOOK_PATH"

_Number = TypeVar("_Number", int, float)


class ConfigError(ValueError):
    """A setting is missing or malformed; the message says which and how to fix it."""


@dataclass(frozen=True, slots=True)
class WebhookConfig:
    """Webhook mode: Telegram POSTs updates to `url`; PTB listens on `listen:port/path`."""

    url: str
    secret: str = field(repr=False)
    listen: str = "127.0.0.1"
    port: int = 8443
    path: str = ""


@dataclass(frozen=True, slots=True)
class BotConfig:
    """The bot's settings. `api_url` is in PTB's form (the token is appended to it)."""

    token: str = field(repr=False)
    admin_ids: frozenset[int] = frozenset()
    # Who may use the bot (empty: everyone); admins always may. See `bot.access`.
    allowed_users: frozenset[int] = frozenset()
    allowed_chats: frozenset[int] = frozenset()
    # Local paths `/add` may read (empty: any path the bot's user can read).
    add_folders: tuple[Path, ...] = ()
    api_url: str = DEFAULT_API_URL
    data_dir: Path | None = None
    model: str | None = None
    questions_per_window: int = 10  # per user; 0 turns the limit off
    rate_window_seconds: float = 60.0
    max_retries: int = 3  # how often a 429 from Telegram is waited out before giving up
    progress_interval: float = 1.5  # at least this many seconds between progress edits
    max_question_chars: int = 1000
    webhook: WebhookConfig | None = None
    # Minutes between two scheduled refreshes of the followed feeds; 0 turns them off.
    # (A fraction of a minute is allowed: the tests use seconds.)
    refresh_minutes: float = 60.0

    @property
    def file_url(self) -> str:
        """The Bot API file URL matching `api_url` (`…/bot` → `…/file/bot`)."""
        if self.api_url.endswith("/bot"):
            return self.api_url[: -len("/bot")] + "/file/bot"
        return self.api_url.rstrip("/") + "/file/bot"

    def secrets(self) -> list[str]:
        """Strings that must never reach a log: the token, its secret half, the webhook secret."""
        found = [self.token, self.token.partition(":")[2]]
        if self.webhook:
            found.append(self.webhook.secret)
        return [s for s in found if s]

    @property
    def refresh_seconds(self) -> float:
        """Seconds between scheduled feed refreshes (0: no scheduled refresh)."""
        return self.refresh_minutes * 60.0

    def is_admin(self, user_id: int | None) -> bool:
        return user_id is not None and user_id in self.admin_ids

    def may_add_path(self, path: Path) -> bool:
        """True if `/add` may read `path` (symlinks resolved): anywhere when no folders are
        configured, else only inside one of `add_folders`."""
        if not self.add_folders:
            return True
        resolved = path.expanduser().resolve()
        return any(resolved.is_relative_to(folder.expanduser().resolve())
                   for folder in self.add_folders)

    @classmethod
    def load(
        cls,
        environ: Mapping[str, str],
        *,
        env_file: Path | None = None,
        overrides: Mapping[str, object | None] | None = None,
    ) -> BotConfig:
        """Settings from `overrides` (flags, by field name), then `environ`, then `env_file`."""
        values = {**(read_env_file(env_file) if env_file else {}), **environ}
        flags = {k: v for k, v in (overrides or {}).items() if v not in (None, "")}

        def pick(name: str, env: str) -> str | None:
            flag = flags.get(name)
            return str(flag) if flag is not None else (values.get(env) or None)

        webhook_url = pick("webhook_url", ENV_WEBHOOK_URL)
        return cls(
            token=parse_token(pick("token", ENV_TOKEN)),
            admin_ids=parse_admin_ids(pick("admin_ids", ENV_ADMIN_IDS) or ""),
            allowed_users=parse_ids(pick("allowed_users", ENV_ALLOWED_USERS) or "",
                                    ENV_ALLOWED_USERS, what="user"),
            allowed_chats=parse_ids(pick("allowed_chats", ENV_ALLOWED_CHATS) or "",
                                    ENV_ALLOWED_CHATS, what="chat", negative=True),
            add_folders=parse_folders(pick("add_folders", ENV_ADD_FOLDERS) or ""),
            api_url=parse_api_url(pick("api_url", ENV_API_URL) or DEFAULT_API_URL),
            data_dir=_optional_path(pick("data_dir", ENV_DATA_DIR)),
            model=pick("model", ENV_MODEL),
            questions_per_window=_number(pick("rate_limit", ENV_RATE_LIMIT), 10, ENV_RATE_LIMIT,
                                         int, minimum=0),
            rate_window_seconds=_number(pick("rate_window", ENV_RATE_WINDOW), 60.0,
                                        ENV_RATE_WINDOW, float, minimum=1),
            max_retries=_number(pick("max_retries", ENV_MAX_RETRIES), 3, ENV_MAX_RETRIES, int,
                                minimum=0),
            progress_interval=_number(pick("progress_interval", ENV_PROGRESS_INTERVAL), 1.5,
                                      ENV_PROGRESS_INTERVAL, float, minimum=0.05),
            refresh_minutes=_number(pick("refresh_minutes", ENV_REFRESH_MINUTES), 60.0,
                                    ENV_REFRESH_MINUTES, float, minimum=0),
            webhook=None if webhook_url is None else WebhookConfig(
                url=parse_webhook_url(webhook_url),
                secret=parse_webhook_secret(pick("webhook_secret", ENV_WEBHOOK_SECRET)),
                listen=pick("webhook_listen", ENV_WEBHOOK_LISTEN) or "127.0.0.1",
                port=_number(pick("webhook_port", ENV_WEBHOOK_PORT), 8443, ENV_WEBHOOK_PORT,
                             int, minimum=1),
                path=(pick("webhook_path", ENV_WEBHOOK_PATH)
                      or urlsplit(webhook_url).path).strip("/"),
            ),
        )


def read_env_file(path: Path) -> dict[str, str]:
    """`KEY=VALUE` lines of a `.env` file (`export`, comments and quotes allowed); {} if absent."""
    if not path.is_file():
        return {}
    values: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.removeprefix("export ").partition("=")
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key.strip()):
            raise ConfigError(f"{path}:{number}: expected KEY=VALUE")
        values[key.strip()] = _unquote(value.strip())
    return values


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value.split(" #", 1)[0].strip()


def parse_token(token: str | None) -> str:
    """The bot token, checked for BotFather's shape `123456:ABC…` (never echoed back)."""
    if not token:
        raise ConfigError(
            f"no bot token: set {ENV_TOKEN} (in the environment or .env) or pass --token; "
            "get one from @BotFather"
        )
    token = token.strip()
    if not TOKEN_PATTERN.fullmatch(token):
        raise ConfigError(
            f"the bot token ({ENV_TOKEN} or --token) is malformed: expected the form "
            "'123456789:AAH…' (digits, a colon, 30+ letters, digits, '_' or '-') "
            "as given by @BotFather"
        )
    return token


def parse_admin_ids(text: str) -> frozenset[int]:
    """Comma- or space-separated Telegram user ids."""
    return parse_ids(text, ENV_ADMIN_IDS, what="user")


def parse_ids(text: str, name: str, *, what: str, negative: bool = False) -> frozenset[int]:
    """Comma- or space-separated Telegram ids (chat ids of groups are negative)."""
    ids: set[int] = set()
    pattern = r"-?\d{1,20}" if negative else r"\d{1,20}"
    for part in re.split(r"[,\s]+", text.strip()):
        if not part:
            continue
        if not re.fullmatch(pattern, part):
            raise ConfigError(f"{name}: {part[:40]!r} is not a numeric Telegram {what} id")
        ids.add(int(part))
    return frozenset(ids)


def parse_folders(text: str) -> tuple[Path, ...]:
    """Folders separated by commas or the OS path separator (":" on Linux)."""
    parts = re.split(rf"[,{re.escape(os.pathsep)}]", text)
    return tuple(Path(part.strip()).expanduser() for part in parts if part.strip())


def parse_api_url(url: str) -> str:
    """A Bot API base URL such as `http://127.0.0.1:8081/bot` (the token is appended)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"{ENV_API_URL} must be an http(s) URL such as https://api.telegram.org/bot, "
            f"got {url!r}"
        )
    return url.strip()


def parse_webhook_url(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{ENV_WEBHOOK_URL} must be an https URL, got {url!r}")
    return url.strip()


def parse_webhook_secret(secret: str | None) -> str:
    """The webhook secret token (1-256 of A-Z a-z 0-9 _ -); a random one when unset."""
    if not secret:
        return secrets.token_urlsafe(32)
    if not WEBHOOK_SECRET_PATTERN.fullmatch(secret):
        raise ConfigError(
            f"{ENV_WEBHOOK_SECRET} may only use A-Z, a-z, 0-9, '_' and '-' (1-256 characters)"
        )
    return secret


def _optional_path(value: str | None) -> Path | None:
    return Path(value).expanduser() if value else None


def _number(
    value: str | None, default: _Number, name: str, kind: type[_Number], *, minimum: float
) -> _Number:
    if value is None:
        return default
    try:
        number = kind(value)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise ConfigError(f"{name} must be a finite number, got {value!r}")
    if number < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value!r}")
    return number
