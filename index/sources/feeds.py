"""RSS and Atom feeds: one conditional poll of a feed, parsed into items.

This module owns reading a feed: it fetches with the safe fetcher of `index.sources.fetch` (sending
If-None-Match / If-Modified-Since from the previous poll), parses with feedparser and returns
plain items with a stable key and a content hash, so the caller can tell new items from
changed and unchanged ones. It stores nothing: remembering ETags, items and feeds is the
caller's job.
"""

from __future__ import annotations

import calendar
import hashlib
import io
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import feedparser
import lxml.html
from lxml.etree import ParserError

from index.sources.fetch import FEED_TYPES, FetchedPage, FetchError, FetchSettings, fetch_url


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One entry of a feed.

    `key` identifies the item across polls (its guid/id, else its link, else a hash of its
    title); `content_hash` changes whenever the item's title, link, text, author or date do.
    `summary` is plain text; `published_at` is an ISO-8601 UTC timestamp.
    """

    key: str
    link: str | None
    title: str
    published_at: str | None
    summary: str | None
    author: str | None
    content_hash: str


@dataclass(frozen=True, slots=True)
class FeedPoll:
    """The result of one poll. When `not_modified`, `items` is empty and `title` is None.

    `etag` and `modified` are what to send next time (the server's new values, or the ones
    given when it sent none); `url` is the feed's final URL after redirects.
    """

    url: str
    not_modified: bool
    title: str | None
    items: tuple[FeedItem, ...]
    etag: str | None
    modified: str | None
    link: str | None = None


def poll_feed(
    url: str,
    *,
    etag: str | None = None,
    modified: str | None = None,
    settings: FetchSettings,
) -> FeedPoll:
    """Fetch and parse the feed at `url`; a 304 gives `not_modified=True` and no items.

    `etag`/`modified` are the ETag and Last-Modified values of the previous poll.
    Raises FetchError when the feed cannot be fetched or is not a feed.
    """
    page = fetch_url(
        url, settings=settings, headers=_conditional_headers(etag, modified), accept=FEED_TYPES
    )
    new_etag = page.etag or etag
    new_modified = page.last_modified or modified
    if page.not_modified:
        return FeedPoll(page.url, True, None, (), new_etag, new_modified)
    parsed = _parse(page)
    feed = parsed.get("feed", {})
    items = tuple(_item(entry) for entry in parsed.get("entries", []))
    return FeedPoll(
        url=page.url,
        not_modified=False,
        title=_text(feed.get("title")),
        items=items,
        etag=new_etag,
        modified=new_modified,
        link=feed.get("link"),
    )


def _conditional_headers(etag: str | None, modified: str | None) -> dict[str, str]:
    headers: dict[str, str] = {}
    if etag:
        headers["If-None-Match"] = etag
    if modified:
        headers["If-Modified-Since"] = modified
    return headers


def _parse(page: FetchedPage) -> feedparser.FeedParserDict:
    """Parse the feed bytes; the page's headers give the encoding and the base URL."""
    response_headers = {
        "content-type": page.headers.get("content-type", page.content_type),
        "content-location": page.url,
    }
    # A stream, never a str: feedparser treats a string as a URL or path to open.
    parsed = feedparser.parse(io.BytesIO(page.content), response_headers=response_headers)
    if parsed.get("bozo") and not parsed.get("entries") and not parsed.get("version"):
        reason = parsed.get("bozo_exception") or "unreadable"
        raise FetchError(f"not an RSS or Atom feed ({reason})")
    return parsed


def _item(entry: Mapping[str, object]) -> FeedItem:
    title = _text(entry.get("title")) or ""
    link = _text(entry.get("link"))
    summary = _html_to_text(entry.get("summary"))
    author = _text(entry.get("author"))
    published_at = _utc_iso(entry.get("published_parsed") or entry.get("updated_parsed"))
    content = " ".join(_html_to_text(part.get("value")) or "" for part in _contents(entry))
    digest = _hash(title, link, summary, content, author, published_at)
    key = _text(entry.get("id")) or link or f"title:{_hash(title)[:16]}"
    return FeedItem(key, link, title, published_at, summary, author, digest)


def _contents(entry: Mapping[str, object]) -> list[Mapping[str, str]]:
    content = entry.get("content")
    if not isinstance(content, list):
        return []
    return [part for part in content if isinstance(part, Mapping)]


def _utc_iso(value: object) -> str | None:
    """feedparser's parsed dates are UTC `struct_time`s."""
    if not isinstance(value, time.struct_time):
        return None
    return datetime.fromtimestamp(calendar.timegm(value), tz=UTC).isoformat()


def _html_to_text(value: object) -> str | None:
    """Plain text of a (sanitised) HTML fragment, whitespace collapsed."""
    text = _text(value)
    if not text or "<" not in text:
        return text
    try:
        fragment = lxml.html.fragment_fromstring(text, create_parent="div")
    except (ParserError, ValueError):
        return text
    return _text(fragment.text_content())


def _text(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    return " ".join(value.split()) or None


def _hash(*parts: str | None) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update((part or "").encode("utf-8"))
        digest.update(b"\x00")
    return digest.hexdigest()
