"""The building blocks of the bot's Telegram HTML: escaping, links, short forms of text and
dates, and the UTF-16 length Telegram counts in.

Everything dynamic reaches a message through `escape` or `link`, so Telegram never sees a
stray `<` or `&`, a control character or a bidi override.
"""

from __future__ import annotations

import html
import re
from pathlib import PurePath
from urllib.parse import urlsplit

MAX_MESSAGE_UTF16 = 4096
MAX_LINK_URL = 1024

# Control characters, lone surrogates, and the bidi embedding/override/isolate controls
# (U+202A-U+202E, U+2066-U+2069) that can make shown text read differently from what it is.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def clean_text(text: str) -> str:
    """Text Telegram accepts: no lone surrogates or control characters (newlines and tabs
    stay; `\\r\\n` becomes `\\n`)."""
    return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def escape(text: str | None) -> str:
    """Dynamic text made safe for parse_mode=HTML."""
    return html.escape(clean_text(text or ""), quote=False)


def link(text: str, url: str | None) -> str:
    """`text` as a link to `url` when it is a usable http(s) URL, else as plain text."""
    if not url or not is_web_url(url):
        return escape(text)
    return f'<a href="{html.escape(clean_text(url), quote=True)}">{escape(text)}</a>'


def is_web_url(url: str) -> bool:
    """An http(s) URL with a host, of a sane length, with no spaces."""
    if len(url) > MAX_LINK_URL or any(c.isspace() for c in url):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def shorten(text: str, limit: int) -> str:
    """`text` on one line, cut at a word boundary with "…" when longer than `limit`."""
    line = " ".join(clean_text(text).split())
    if len(line) <= limit:
        return line
    cut = line[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:.-") + "…"


def format_date(timestamp: str | None) -> str:
    """`YYYY-MM-DD` of an ISO timestamp, or "" when unknown."""
    return (timestamp or "")[:10]


def source_name(origin: str, url: str | None) -> str:
    """What to call a source in a message: its URL, or a file's name (never a server path)."""
    if url and is_web_url(url):
        return url
    if is_web_url(origin):
        return origin
    return PurePath(origin.split("#", 1)[0]).name or origin


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's message limit."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def format_time(timestamp: str | None) -> str:
    """`YYYY-MM-DD HH:MM UTC` of an ISO UTC timestamp (as the store writes them)."""
    if not timestamp:
        return "never"
    if re.match(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", timestamp):
        suffix = " UTC" if timestamp.endswith(("+00:00", "Z")) else ""
        return timestamp[:10] + " " + timestamp[11:16] + suffix
    return shorten(timestamp, 40)
