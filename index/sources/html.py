"""HTML → `ArticleDraft`: the main text and metadata of one web page or local .html file.

This module owns article extraction from HTML. trafilatura finds the main text (leaving
out navigation, ads, share bars, cookie banners, related-article lists, byline boxes and
comments) and the metadata (title, author, date, site name, canonical link); this module
adds the page language, turns the date into an ISO-8601 UTC timestamp and lays the body
out as paragraphs separated by a blank line. It does no fetching: see `index.sources.fetch`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

import trafilatura
from lxml.html import HtmlElement
from trafilatura.settings import Document
from trafilatura.xml import xmltotxt

from index.sources.article import ArticleDraft

# htmldate (used by trafilatura) returns the publication time with its offset when the
# page gives one, e.g. "2024-03-05T15:00:00+0100"; a bare date comes back as midnight.
# No extensive search: guessing a date from free text ("© 2024" in a footer) is worse
# than no date, so only markup (meta tags, JSON-LD, <time>, the URL) is trusted.
_DATE_PARAMS = {
    "original_date": True,
    "extensive_search": False,
    "outputformat": "%Y-%m-%dT%H:%M:%S%z",
}

_LANGUAGE_META_XPATH = (
    "//meta[translate(@http-equiv, 'CONTENT-LANGUAGE', 'content-language')"
    "='content-language']/@content"
    " | //meta[@property='og:locale']/@content"
    " | //meta[translate(@name, 'DCLANGUAGE.', 'dclanguage.')='dc.language']/@content"
    " | //meta[@name='language']/@content"
)

# trafilatura logs every page it discards as a warning; an empty page is not a problem here.
logging.getLogger("trafilatura").setLevel(logging.ERROR)


def draft_from_html(
    html: str | bytes, *, origin: str, url: str | None = None
) -> ArticleDraft | None:
    """Extract the article in `html` as a draft, or None when the page has no main text.

    `origin` is stored as given (a file path, or the canonical URL chosen by the fetcher);
    `url` is where the page came from and resolves a relative canonical link. The draft's
    `url` is the page's canonical link when it declares one, else its og:url, else `url`.
    """
    tree = _parse(html)
    if tree is None:
        return None
    canonical = canonical_link(tree, url)
    document = trafilatura.bare_extraction(
        tree,
        url=url,
        with_metadata=True,
        include_comments=False,
        favor_precision=True,
        include_tables=True,
        include_images=False,
        include_links=False,
        include_formatting=False,
        date_extraction_params=_DATE_PARAMS,
    )
    if not isinstance(document, Document):
        return None
    title = _clean(document.title) or ""
    body = _body_text(document, title)
    if not body:
        return None
    return ArticleDraft(
        origin=origin,
        title=title,
        body=body,
        url=canonical or document.url or url,
        outlet=_clean(document.sitename),
        author=_clean(document.author),
        published_at=to_utc_iso(document.date),
        language=page_language(tree),
        extra=_extra(document),
    )


def canonical_link(tree: HtmlElement, base_url: str | None = None) -> str | None:
    """The absolute http(s) URL of the page's `<link rel="canonical">`, if it has one."""
    for href in tree.xpath("//link[@href][contains(concat(' ', @rel, ' '), ' canonical ')]/@href"):
        href = href.strip()
        absolute = urljoin(base_url, href) if base_url else href
        if urlsplit(absolute).scheme in ("http", "https") and urlsplit(absolute).hostname:
            return absolute
    return None


def page_language(tree: HtmlElement) -> str | None:
    """The page's primary language subtag, lower-case ("en" for `lang="en-GB"`), if declared.

    Looks at `<html lang>`, then language meta tags (Content-Language, og:locale,
    DC.language), then JSON-LD `inLanguage`.
    """
    declared = [
        *tree.xpath("/html/@lang | /html/@xml:lang"),
        *tree.xpath(_LANGUAGE_META_XPATH),
        *_json_ld_values(tree, "inLanguage"),
    ]
    for value in declared:
        primary = value.strip().replace("_", "-").split("-")[0].split(",")[0].strip().lower()
        if primary.isalpha() and 2 <= len(primary) <= 3:
            return primary
    return None


def to_utc_iso(value: str | None) -> str | None:
    """An ISO-8601 date or timestamp as a UTC timestamp; a naive time is taken to be UTC."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat()


def _json_ld_values(tree: HtmlElement, key: str) -> list[str]:
    """Every string value of `key`, at any depth, in the page's JSON-LD blocks."""
    values: list[str] = []
    for script in tree.xpath("//script[@type='application/ld+json']/text()"):
        try:
            data = json.loads(script)
        except ValueError:
            continue
        values.extend(_values_of(data, key))
    return values


def _values_of(data: object, key: str) -> Iterator[str]:
    if isinstance(data, dict):
        for name, value in data.items():
            if name == key and isinstance(value, str):
                yield value
            else:
                yield from _values_of(value, key)
    elif isinstance(data, list):
        for value in data:
            yield from _values_of(value, key)


def _parse(html: str | bytes) -> HtmlElement | None:
    if not html or (isinstance(html, str) and not html.strip()):
        return None
    try:
        return trafilatura.load_html(html)
    except (TypeError, ValueError):
        return None


def _body_text(document: Document, title: str) -> str:
    """The main text as paragraphs (one per block element) separated by a blank line.

    A heading that only repeats the title at the top of the text is dropped.
    """
    if document.body is None:
        return ""
    blocks = [_clean(xmltotxt(block, False)) for block in document.body]
    paragraphs = [block for block in blocks if block]
    if paragraphs and title and _same_text(paragraphs[0], title):
        paragraphs = paragraphs[1:]
    return "\n\n".join(paragraphs)


def _extra(document: Document) -> dict[str, str]:
    extra: dict[str, str] = {}
    if description := _clean(document.description):
        extra["description"] = description
    if document.categories:
        extra["categories"] = ", ".join(document.categories)
    if document.tags:
        extra["tags"] = ", ".join(document.tags)
    return extra


def _clean(text: str | None) -> str | None:
    """`text` with surrounding whitespace and blank lines removed; None when empty."""
    if not text:
        return None
    lines = [" ".join(line.split()) for line in text.strip().splitlines()]
    return "\n".join(line for line in lines if line) or None


def _same_text(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()
