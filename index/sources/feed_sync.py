"""Following feeds: what a poll brings that is new or changed, as articles ready to store.

This module owns the step between a polled feed (`index.sources.feeds`) and the store: the address
of a feed an admin adds (an http/https URL), which items are new or
changed since the last poll (by key and content hash), and the article of each such item —
its web page fetched with `index.sources.fetch.fetch_article` (so every item link passes the same
safety checks as an admin's URL), the feed's own metadata filling what the page lacks, or,
when the page can't be fetched or holds no article, the item's summary as the body. It
stores nothing: `Indexer.refresh` writes the results under its write lock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from index.sources.article import ArticleDraft
from index.sources.clean import normalize_text
from index.sources.feeds import FeedItem, FeedPoll, poll_feed
from index.sources.fetch import (
    FetchError,
    FetchSettings,
    canonical_url,
    check_url,
    fetch_article,
)
from index.storage import StoredFeed

# One fetch per page in one refresh, however many feeds list it: canonical URL → result.
PageCache = dict[str, ArticleDraft | FetchError]


@dataclass(slots=True)
class ItemArticle:
    """A new or changed feed item with its article, or the reason it has none."""

    item: FeedItem
    draft: ArticleDraft | None
    problem: str | None = None
    from_summary: bool = False


@dataclass(slots=True)
class FeedChanges:
    """One feed's poll: an error, a 304 (`poll.not_modified`), or new/changed items."""

    feed: StoredFeed
    poll: FeedPoll | None = None
    error: str | None = None
    items: list[ItemArticle] = field(default_factory=list)
    unchanged: int = 0


def feed_address(url: str) -> str:
    """The URL to poll for a feed an admin gives: an http(s) URL without its fragment.
    Raises FetchError. (Whether its host may be fetched from is checked by every poll.)"""
    parts = urlsplit(check_url(url))
    return urlunsplit((parts.scheme.lower(), parts.netloc, parts.path or "/", parts.query, ""))


def same_feed(a: str, b: str) -> bool:
    """Whether two feed URLs are variants of one address (scheme, tracking, slash…)."""
    try:
        return a == b or canonical_url(a) == canonical_url(b)
    except FetchError:
        return False


def collect_changes(feed: StoredFeed, known: Mapping[str, str], settings: FetchSettings,
                    pages: PageCache) -> FeedChanges:
    """Poll `feed` with its stored validators; fetch the article of every item whose key is
    new or whose content hash differs from `known` (key → hash of the last poll)."""
    try:
        poll = poll_feed(feed.url, etag=feed.etag, modified=feed.modified, settings=settings)
    except FetchError as error:
        return FeedChanges(feed, error=str(error))
    changes = FeedChanges(feed, poll=poll)
    for item in poll.items:
        if known.get(item.key) == item.content_hash:
            changes.unchanged += 1
        else:
            changes.items.append(item_article(item, poll.title or feed.title, feed.url,
                                              settings, pages))
    return changes


def item_article(item: FeedItem, feed_title: str | None, feed_url: str,
                 settings: FetchSettings, pages: PageCache) -> ItemArticle:
    """The article of one item: its page, else its summary."""
    page = _page(item.link, settings, pages) if item.link else FetchError("the item has no link")
    if isinstance(page, ArticleDraft):
        return ItemArticle(item, _with_feed_metadata(page, item, feed_title))
    summary = summary_draft(item, feed_title, feed_url)
    if summary is not None:
        return ItemArticle(item, summary, problem=str(page), from_summary=True)
    return ItemArticle(item, None, problem=f"{page}; and the item has no summary")


def summary_draft(item: FeedItem, feed_title: str | None, feed_url: str) -> ArticleDraft | None:
    """The item's own text as an article, when its page can't be used."""
    body = normalize_text(item.summary or "").strip()
    if not body:
        return None
    return ArticleDraft(
        origin=_item_origin(item, feed_url), title=item.title or body[:80], body=body,
        url=item.link, outlet=feed_title, author=item.author, published_at=item.published_at,
    )


def _page(link: str, settings: FetchSettings, pages: PageCache) -> ArticleDraft | FetchError:
    try:
        key = canonical_url(link)
    except FetchError as error:
        return error
    if key not in pages:
        try:
            pages[key] = fetch_article(link, settings=settings)
        except FetchError as error:
            pages[key] = error
    return pages[key]


def _with_feed_metadata(page: ArticleDraft, item: FeedItem,
                        feed_title: str | None) -> ArticleDraft:
    """A copy of the page's draft, its missing metadata taken from the feed."""
    return ArticleDraft(
        origin=page.origin, title=page.title or item.title, body=page.body, url=page.url,
        outlet=page.outlet or feed_title, author=page.author or item.author,
        published_at=page.published_at or item.published_at, language=page.language,
        extra=dict(page.extra),
    )


def _item_origin(item: FeedItem, feed_url: str) -> str:
    if item.link:
        try:
            return canonical_url(item.link)
        except FetchError:
            pass
    return f"{canonical_url(feed_url)}#{item.key}"
