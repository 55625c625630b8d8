"""The CLI starts at once: importing it (what `citebot --help` does) loads no model
library, no web stack and not numpy; the read path (`index.library`, what `citebot ask`
imports) loads neither torch nor the write path's heavy libraries. Checked in a fresh
interpreter, by what lands in sys.modules. Timings: bench/bench_startup.py."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from index.storage.sqlite_store import SQLiteStore
from index.vectors.embed import _installed_versions

MODEL_LIBRARIES = ("torch", "sentence_transformers", "transformers")
WRITE_PATH_LIBRARIES = ("trafilatura", "httpx", "feedparser", "datasketch", "scipy",
                        "index.indexer", "index.sources.fetch")


def _loaded_after(statement: str, names: tuple[str, ...]) -> list[str]:
    code = (f"import json, sys; {statement}; "
            f"print(json.dumps([n for n in {list(names)!r} if n in sys.modules]))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    return json.loads(run.stdout)


def test_importing_the_cli_loads_no_heavy_library() -> None:
    heavy = (*MODEL_LIBRARIES, *WRITE_PATH_LIBRARIES, "numpy", "faiss", "onnxruntime",
             "telegram", "index.library")
    assert _loaded_after("import bot.cli", heavy) == []


def test_the_read_path_loads_neither_torch_nor_the_write_path() -> None:
    assert _loaded_after("import index.library", (*MODEL_LIBRARIES,
                                                  *WRITE_PATH_LIBRARIES)) == []


def test_the_spelling_library_loads_only_for_a_question_with_an_unknown_word() -> None:
    """rapidfuzz (index.vocabulary) is imported by the first lookup of a misspelled word,
    not by the read path or by opening a store."""
    assert _loaded_after("import index.library; import index.storage.sqlite_store",
                         ("rapidfuzz",)) == []


def test_opening_a_store_and_the_encoder_skips_sqlite_utils_and_package_metadata(
        tmp_path: Path) -> None:
    """sqlite-utils (~70 ms to import) is loaded only to create or migrate a store, and the
    cached ONNX export is found without importlib.metadata (~30 ms)."""
    SQLiteStore(tmp_path).close()  # created (and migrated) here, in this process
    opened = (f"from index.storage.sqlite_store import SQLiteStore; "
              f"SQLiteStore(__import__('pathlib').Path({str(tmp_path)!r})).close(); "
              f"from index.vectors.embed import shared_embedder; shared_embedder()")
    assert _loaded_after(opened, ("sqlite_utils", "importlib.metadata", "torch")) == []


def test_the_export_key_reads_the_versions_importlib_metadata_reads() -> None:
    from importlib.metadata import PackageNotFoundError, version

    packages = ("onnxruntime", "numpy", "sqlite-utils", "no-such-package-here")
    expected = {}
    for package in packages:
        try:
            expected[package] = version(package)
        except PackageNotFoundError:
            expected[package] = "none"
    assert _installed_versions(packages) == expected
