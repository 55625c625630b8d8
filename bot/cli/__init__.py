"""The `citebot` command line: one subcommand per capability of `index.library.Library`.

`ingest`, `reindex`, `ask`, `search`, `latest`, `stats`, `remove`, `feeds add|list|remove` and
`refresh` mirror the Library's methods one to one, deciding what a target or a date means by
the same rules as the bot (`index.targets`, `index.filters`); `serve` starts the Telegram
bot; `feedback export` turns the bot's 👎 answers into a question file for `eval`; `config`
shows every setting in effect. Settings come from `index.settings`: the group's
flags, then the environment, then a `.env` file in the working directory. Human-readable
output by default, `--json` for machines.

One module per kind of command, each registering on the group of `_app`: `collection`
(ingest, reindex, remove, refresh, migrate), `asking` (ask, eval), `browsing` (search,
latest), `feeds`, `reports` (stats, feedback export), `serving` (serve, config); `_common`
holds what several of them share.
"""

from bot.cli import asking, browsing, collection, feeds, reports, serving
from bot.cli._app import main, run

__all__ = ["asking", "browsing", "collection", "feeds", "main", "reports", "run", "serving"]
