"""What a user's target names, decided once for the CLI and the bot: whether a text is a
web address or a path (`ingest`, `/add`), and which stored origins `remove` tries.

Pure functions: nothing here reads the store or the network.
"""

from __future__ import annotations

import re
from contextlib import suppress
from pathlib import Path

# `scheme://…`: a web address (only http and https are ever fetched; the fetcher refuses
# the other schemes with a clear reason rather than having them read as file names).
_WEB_ADDRESS = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")


def is_web_address(target: str) -> bool:
    """True when `target` is written as a URL (`scheme://…`), False for a file path."""
    return _WEB_ADDRESS.match(target.strip()) is not None


def removal_candidates(target: str) -> list[str]:
    """The origins `remove TARGET` tries, in order: TARGET as given, then for a URL its
    canonical form (the origin a fetched page is stored under), for a path its absolute
    form (the origin an ingested file is stored under)."""
    from index.sources.fetch import FetchError, canonical_url  # the web stack loads only for this

    candidates = [target]
    alternative: str | None = None
    if is_web_address(target):
        with suppress(FetchError, ValueError):
            alternative = canonical_url(target)
    else:
        with suppress(OSError, ValueError, RuntimeError):
            alternative = str(Path(target).expanduser().resolve())
    if alternative is not None and alternative not in candidates:
        candidates.append(alternative)
    return candidates
