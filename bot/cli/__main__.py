"""`python -m bot.cli`: the `citebot` command."""

from bot.cli import run

run()
