"""The CLI starts at once: importing it (what `citebot --help` does) loads no model
library, no web stack and not numpy; the read path (`index.library`, what `citebot ask`
imports) loads neither torch nor the write path's heavy libraries. Checked in a fresh
interpreter, by what lands in sys.modules. Timings: bench/bench_startup.py."""

from __future__ import annotations

import json
import subprocess
import sys

MODEL_LIBRARIES = ("torch", "sentence_transformers", "transformers")
WRITE_PATH_LIBRARIES = ("trafilatura", "httpx", "feedparser", "datasketch", "scipy",
                        "index.indexer", "index.fetch")


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
