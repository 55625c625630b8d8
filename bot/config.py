"""`BotConfig`: everything `citebot serve` needs, built from the settings of `index.settings`.

The bot's settings — token, admin ids, who may use the bot, Bot API URL, data dir, per-user
rate limit, webhook options, the feed refresh interval — are defined, read and checked in
`index.settings` with every other setting (flags win over the environment, which wins over
the `.env` file). This module only gathers them into `BotConfig` and adds what the registry
cannot say: a token is required, a webhook secret is random when none is given, the webhook's
path defaults to its URL's. Every problem is an `index.settings.SettingsError` whose message
can be shown as is; no message ever contains the token.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from index.settings import BY_NAME, DEFAULT_API_URL, SettingsError, SettingValues


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
        """Settings from `overrides` (flags, by setting name), then `environ`, then
        `env_file`."""
        return cls.from_values(SettingValues.read(overrides, environ=environ, env_file=env_file))

    @classmethod
    def from_values(cls, values: SettingValues) -> BotConfig:
        """The bot's settings out of all the settings read (see `index.settings`)."""
        return cls(
            token=_required_token(values),
            admin_ids=values.get("admin_ids"),
            allowed_users=values.get("allowed_users"),
            allowed_chats=values.get("allowed_chats"),
            add_folders=values.get("add_folders"),
            api_url=values.get("api_url"),
            questions_per_window=values.get("rate_limit"),
            rate_window_seconds=values.get("rate_window"),
            max_retries=values.get("max_retries"),
            progress_interval=values.get("progress_interval"),
            refresh_minutes=values.get("refresh_minutes"),
            webhook=_webhook(values),
        )


def _required_token(values: SettingValues) -> str:
    token: str | None = values.get("token")
    if token is None:
        raise SettingsError(
            f"no bot token: set {BY_NAME['token'].env} (in the environment or .env) or pass "
            "--token; get one from @BotFather"
        )
    return token


def _webhook(values: SettingValues) -> WebhookConfig | None:
    """Webhook mode when a webhook URL is set: its secret random unless given, its local
    path the URL's unless given."""
    if not values.is_set("webhook_url"):
        return None
    url: str = values.get("webhook_url")
    return WebhookConfig(
        url=url,
        secret=values.get("webhook_secret") or secrets.token_urlsafe(32),
        listen=values.get("webhook_listen"),
        port=values.get("webhook_port"),
        path=(values.get("webhook_path") or urlsplit(url).path).strip("/"),
    )
