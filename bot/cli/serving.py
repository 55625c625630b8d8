"""`serve` (the Telegram bot) and `config` (every setting in effect and where it came
from)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from bot.cli._app import main, setting_values
from index.settings import DEFAULT_ENV_FILE, Settings, SettingsError

if TYPE_CHECKING:  # the heavy modules load in the commands that use them: --help is instant
    pass


@main.command()
@click.option("--token", help="Bot token from @BotFather [env TELEGRAM_BOT_TOKEN; prefer the "
              "environment or .env: flags are visible to other users of the machine].")
@click.option("--admin-ids", help="Comma-separated Telegram user ids allowed to /reindex, /add, "
              "/stats, /feeds, /refresh and /remove [env CITEBOT_ADMIN_IDS].")
@click.option("--allowed-users", help="Comma-separated user ids who may use the bot; "
              "empty = everyone, admins always [env CITEBOT_ALLOWED_USERS].")
@click.option("--allowed-chats", help="Comma-separated chat ids (groups are negative) where "
              "the bot answers; empty = every chat [env CITEBOT_ALLOWED_CHATS].")
@click.option("--api-url", help="Bot API base URL, the token is appended "
              "[env CITEBOT_TELEGRAM_API_URL; default https://api.telegram.org/bot].")
@click.option("--env-file", type=click.Path(dir_okay=False, path_type=Path), default=".env",
              show_default=True, help="KEY=VALUE settings; the environment wins over it.")
@click.option("--rate-limit", type=int, help="Questions per user per window; 0 = unlimited "
              "[env CITEBOT_RATE_LIMIT; default 10].")
@click.option("--rate-window", type=float, help="The rate-limit window in seconds "
              "[env CITEBOT_RATE_WINDOW; default 60].")
@click.option("--refresh-minutes", type=float, help="Refresh the followed feeds every N "
              "minutes; 0 = never [env CITEBOT_REFRESH_MINUTES; default 60].")
@click.option("--llm/--no-llm", default=None, help="Answer in the LLM reader's words, each "
              "sentence verified, shown as it is verified [env CITEBOT_LLM; default off].")
@click.option("--webhook-url", help="Run as a webhook at this public https URL instead of "
              "polling [env CITEBOT_WEBHOOK_URL].")
@click.option("--webhook-secret", help="Secret token Telegram sends with each webhook call "
              "[env CITEBOT_WEBHOOK_SECRET; default random].")
@click.option("--listen", "webhook_listen", help="Webhook listen address "
              "[env CITEBOT_WEBHOOK_LISTEN; default 127.0.0.1].")
@click.option("--port", "webhook_port", type=int, help="Webhook listen port "
              "[env CITEBOT_WEBHOOK_PORT; default 8443].")
@click.option("--webhook-path", help="Local URL path of the webhook "
              "[env CITEBOT_WEBHOOK_PATH; default the path of --webhook-url].")
@click.pass_context
def serve(ctx: click.Context, env_file: Path, **flags: object) -> None:
    """Run the Telegram bot (long polling, or a webhook with --webhook-url)."""
    from bot.app import StartupError
    from bot.app import serve as serve_bot
    from bot.config import BotConfig

    try:
        values = setting_values(ctx, env_file, **flags)
        serve_bot(BotConfig.from_values(values), Settings.from_values(values))
    except (SettingsError, StartupError) as error:
        click.echo(f"error: {error}", err=True)
        ctx.exit(2)


@main.command("config")
@click.option("--env-file", type=click.Path(dir_okay=False, path_type=Path),
              default=str(DEFAULT_ENV_FILE), show_default=True,
              help="KEY=VALUE settings; the environment wins over it.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
def show_config(ctx: click.Context, env_file: Path, as_json: bool) -> None:
    """Print every setting in effect and where it came from (flag, env, .env, default).

    One KEY=VALUE line per setting with its source as a comment; secrets (the bot token,
    the webhook secret) are masked. Needs no bot token. docs/configuration.md lists every
    setting."""
    effective = setting_values(ctx, env_file).effective()
    if as_json:
        click.echo(json.dumps({e.setting.env: {"value": e.json_value(), "source": e.source}
                               for e in effective}, indent=2))
        return
    assignments = [f"{e.setting.env}={e.shown()}" for e in effective]
    width = max(map(len, assignments))
    for assignment, e in zip(assignments, effective, strict=True):
        note = e.source
        if not e.shown() and e.setting.shown_default:
            note += ": " + e.setting.shown_default.replace("`", "")
        click.echo(f"{assignment:<{width}}  # {note}")
