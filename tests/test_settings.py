"""The settings registry through the real CLI: where each value comes from (flag > environment
> .env > default), one clear line for a bad value, secrets masked by `citebot config`, and
docs/configuration.md in step with the registry."""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from bot.cli import main
from index.qa.tuning import AnswerTuning
from index.settings import (
    BY_NAME,
    DOC_BEGIN,
    MASK,
    SETTINGS,
    Settings,
    configuration_tables,
    generated_part,
)
from tests.conftest import PROJECT

TOKEN = "123456:" + "Q" * 35
WEBHOOK_SECRET = "s3cret-Webhook_value"


def citebot(*args: str, env: dict[str, str | None] | None = None) -> Result:
    """`citebot ARGS` in this process, with `env` over the environment (None: unset)."""
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def config_json(tmp_path: Path, *flags: str, env: dict[str, str | None] | None = None,
                env_file_text: str = "") -> dict[str, dict]:
    env_file = tmp_path / "settings.env"
    env_file.write_text(env_file_text, encoding="utf-8")
    result = citebot(*flags, "config", "--json", "--env-file", str(env_file), env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_a_flag_wins_over_the_environment_which_wins_over_dotenv_and_the_default(
        tmp_path: Path) -> None:
    dotenv = ("# comments, export and quotes are allowed\nCITEBOT_DATA_DIR=/from/dotenv\n"
              "CITEBOT_RATE_LIMIT=5  # per window\nexport CITEBOT_ABSTAIN_BELOW='0.6'\n")
    env = {"CITEBOT_DATA_DIR": "/from/env", "CITEBOT_RATE_LIMIT": "7",
           "CITEBOT_ABSTAIN_BELOW": None, "CITEBOT_MAX_SOURCES": None}
    shown = config_json(tmp_path, "--data-dir", str(tmp_path / "flag"), env=env,
                        env_file_text=dotenv)
    assert shown["CITEBOT_DATA_DIR"] == {"value": str(tmp_path / "flag"), "source": "flag"}
    assert shown["CITEBOT_RATE_LIMIT"] == {"value": 7, "source": "env"}
    assert shown["CITEBOT_ABSTAIN_BELOW"] == {"value": 0.6, "source": ".env"}
    assert shown["CITEBOT_MAX_SOURCES"] == {"value": AnswerTuning().max_sources,
                                            "source": "default"}

    without_flag = config_json(tmp_path, env=env, env_file_text=dotenv)
    assert without_flag["CITEBOT_DATA_DIR"] == {"value": "/from/env", "source": "env"}
    blank_env = {**env, "CITEBOT_DATA_DIR": " "}  # blank counts as unset
    from_dotenv = config_json(tmp_path, env=blank_env, env_file_text=dotenv)
    assert from_dotenv["CITEBOT_DATA_DIR"] == {"value": "/from/dotenv", "source": ".env"}


def test_the_plain_listing_is_one_setting_per_line_with_its_source(tmp_path: Path) -> None:
    result = citebot("config", "--env-file", str(tmp_path / "absent.env"),
                     env={"CITEBOT_RATE_LIMIT": "3", "TELEGRAM_BOT_TOKEN": None})
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert [line.split("=", 1)[0] for line in lines] == [s.env for s in SETTINGS]
    by_variable = {line.split("=", 1)[0]: line for line in lines}
    assert by_variable["CITEBOT_RATE_LIMIT"].split() == ["CITEBOT_RATE_LIMIT=3", "#", "env"]
    assert by_variable["CITEBOT_MAX_SENTENCES"].endswith("# default")
    assert by_variable["TELEGRAM_BOT_TOKEN"].split()[:3] == ["TELEGRAM_BOT_TOKEN=", "#",
                                                             "default:"]


def test_secrets_are_masked_and_no_token_is_needed(tmp_path: Path) -> None:
    env = {"TELEGRAM_BOT_TOKEN": TOKEN, "CITEBOT_WEBHOOK_URL": "https://bot.example.com/hook",
           "CITEBOT_WEBHOOK_SECRET": WEBHOOK_SECRET}
    plain = citebot("config", "--env-file", str(tmp_path / "absent.env"), env=env)
    assert plain.exit_code == 0, plain.output
    shown = config_json(tmp_path, env=env)
    for output in (plain.output, json.dumps(shown)):
        assert TOKEN not in output and TOKEN.split(":")[1] not in output
        assert WEBHOOK_SECRET not in output
    assert f"TELEGRAM_BOT_TOKEN={MASK}" in plain.stdout
    assert shown["TELEGRAM_BOT_TOKEN"] == {"value": MASK, "source": "env"}
    assert shown["CITEBOT_WEBHOOK_SECRET"] == {"value": MASK, "source": "env"}
    assert shown["CITEBOT_WEBHOOK_URL"]["value"] == "https://bot.example.com/hook"

    unset = config_json(tmp_path, env={"TELEGRAM_BOT_TOKEN": None})
    assert unset["TELEGRAM_BOT_TOKEN"] == {"value": None, "source": "default"}


@pytest.mark.parametrize(("variable", "raw", "message"), [
    ("CITEBOT_EMBED_THREADS", "many", "CITEBOT_EMBED_THREADS must be a number, not 'many'"),
    ("CITEBOT_MAX_SENTENCES", "2.5", "CITEBOT_MAX_SENTENCES must be a whole number, not '2.5'"),
    ("CITEBOT_ABSTAIN_BELOW", "-1", "CITEBOT_ABSTAIN_BELOW must be at least 0, not '-1'"),
    ("CITEBOT_FETCH_TIMEOUT", "inf", "CITEBOT_FETCH_TIMEOUT must be a finite number, not 'inf'"),
    ("CITEBOT_WHOLE_NAMES", "maybe", "CITEBOT_WHOLE_NAMES must be true or false, not 'maybe'"),
    ("CITEBOT_BULK_BACKEND", "gpu",
     "CITEBOT_BULK_BACKEND must be one of auto, onnx, torch, bf16, not 'gpu'"),
    ("CITEBOT_ADMIN_IDS", "1,bob", "CITEBOT_ADMIN_IDS: 'bob' is not a numeric Telegram user id"),
    ("CITEBOT_WEBHOOK_URL", "bot.example.com",
     "CITEBOT_WEBHOOK_URL must be an http(s) URL such as https://bot.example.com/telegram, "
     "not 'bot.example.com'"),
])
def test_a_bad_value_is_one_line_naming_its_variable(tmp_path: Path, variable: str, raw: str,
                                                     message: str) -> None:
    result = citebot("config", "--env-file", str(tmp_path / "absent.env"), env={variable: raw})
    assert result.exit_code == 2
    assert result.stderr == f"error: {message}\n"
    assert result.stdout == ""


def test_a_bad_token_is_named_but_never_shown(tmp_path: Path) -> None:
    wrong = "123456:tooshort-" + "Z" * 5
    result = citebot("config", "--env-file", str(tmp_path / "absent.env"),
                     env={"TELEGRAM_BOT_TOKEN": wrong})
    assert result.exit_code == 2
    assert "TELEGRAM_BOT_TOKEN" in result.stderr and "malformed" in result.stderr
    assert "tooshort" not in result.output and len(result.stderr.splitlines()) == 1


def test_every_command_reads_the_dotenv_file_of_the_working_directory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    dotenv = tmp_path / ".env"
    dotenv.write_text("CITEBOT_PASSAGE_VECTORS=embedded\n", encoding="utf-8")
    shown = json.loads(citebot("config", "--json").stdout)
    assert shown["CITEBOT_PASSAGE_VECTORS"] == {"value": "embedded", "source": ".env"}

    dotenv.write_text("# answer knobs\nCITEBOT_ABSTAIN_BELOW=high\n", encoding="utf-8")
    stats = citebot("--data-dir", str(tmp_path / "store"), "stats")
    assert stats.exit_code == 2
    assert stats.stderr == "error: CITEBOT_ABSTAIN_BELOW must be a number, not 'high'\n"

    dotenv.write_text("CITEBOT_RATE_LIMIT=5\nnot a setting\n", encoding="utf-8")
    broken = citebot("config")
    assert broken.exit_code == 2
    assert broken.stderr == "error: .env:2: expected KEY=VALUE\n"


def test_settings_from_the_environment_are_typed_and_read_once() -> None:
    settings = Settings.from_env(environ={
        "CITEBOT_MAX_FILE_MB": "2", "CITEBOT_EMBED_SLICE": "0", "CITEBOT_EMBED_THREADS": "3",
        "CITEBOT_CACHE_DIR": "~/exports", "CITEBOT_QUERY_BACKEND": "TORCH",
        "CITEBOT_ALLOW_PRIVATE_URLS": "yes", "CITEBOT_FETCH_TIMEOUT": "2.5",
        "CITEBOT_WHOLE_NAMES": "off"})
    assert settings.max_file_bytes == 2 * 1024 * 1024
    assert settings.embed_slice == 1  # at least one text between two saves
    assert settings.embedding.threads == 3
    assert settings.embedding.cache_dir == Path("~/exports").expanduser()
    assert settings.embedding.query_backend == "torch"
    assert (settings.allow_private_urls, settings.fetch_timeout) == (True, 2.5)
    assert settings.tuning.whole_names is False
    assert Settings.from_env(environ={"XDG_CACHE_HOME": "/xdg"}).embedding.cache_dir == Path(
        "/xdg/citebot")


def test_every_answer_knob_is_a_setting() -> None:
    knobs = [s for s in SETTINGS if s.group == "answer tuning"]
    assert [s.name for s in knobs] == [knob.name for knob in fields(AnswerTuning)]
    assert all(s.env == f"CITEBOT_{s.name.upper()}" for s in knobs)
    assert len({s.env for s in SETTINGS}) == len(SETTINGS) == len(BY_NAME)


def test_every_flag_the_registry_names_is_an_option_of_that_command() -> None:
    commands = {"citebot": main, **main.commands}
    for setting in (s for s in SETTINGS if s.flag):
        command, option = setting.flag.split()
        params = {p.name: p for p in commands[command].params if isinstance(p, click.Option)}
        assert setting.name in params, setting.flag
        assert option in params[setting.name].opts, setting.flag


def test_the_configuration_doc_lists_every_setting_as_the_registry_says() -> None:
    document = (PROJECT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert DOC_BEGIN in document
    assert generated_part(document) == configuration_tables().strip("\n"), (
        "docs/configuration.md is out of date: run "
        "`python -m index.settings docs/configuration.md`")
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    assert "docs/configuration.md" in readme and "`citebot config [--json]`" in readme
