"""Tests for index.sources.html: main text without boilerplate, and metadata from meta tags
and JSON-LD."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from index.sources.fetch import FetchSettings, fetch_article
from index.sources.html import draft_from_html, to_utc_iso
from tests.local_web import (
    COUNCIL_STORY,
    SEED_TITLE,
    LocalWeb,
    Reply,
    article_page,
    seed_article_page,
    seed_story,
)

LOCAL = FetchSettings(allow_private=True)

BOILERPLATE = [
    "Spread the love",
    "Share on Facebook",
    "Deposit Bonus",
    "Advertisement",
    "Shutterstock",
    "Google News",
    "follow us",
    "Teilor Stone has been a reporter",
    "teilor@nizhtimes.com",
    "Related articles",
    "SMIC's 7 nm process",
    "cookie",
    "Totally predictable",
    "Post comment",
    "All rights reserved",
    "Subscribe",
]


@pytest.fixture
def web() -> Iterator[LocalWeb]:
    with LocalWeb() as server:
        yield server


def council_page(head: str = "", lang: str | None = "en", byline: str = "") -> str:
    return article_page(
        title="Council approves the river bridge",
        paragraphs=COUNCIL_STORY,
        head=head,
        lang=lang,
        byline=byline,
    )


# --- the seed article ----------------------------------------------------------------------


def test_seed_article_page_gives_the_story_and_none_of_the_boilerplate(web: LocalWeb) -> None:
    page = seed_article_page()
    for phrase in BOILERPLATE:  # the page really has it all around the story
        assert phrase.lower() in page.lower(), phrase
    url = web.route("/en/huawei-chinese-emperor-ai-chips/", Reply(page))
    draft = fetch_article(url + "?utm_source=rss&utm_medium=feed", settings=LOCAL)

    assert draft.title == SEED_TITLE
    assert "Ascend 910C" in draft.body
    paragraphs, bullets = seed_story()
    for paragraph in paragraphs:
        assert paragraph in draft.body
    for bullet in bullets:
        assert bullet in draft.body
    for phrase in BOILERPLATE:
        assert phrase.lower() not in draft.body.lower(), phrase
    assert not draft.body.startswith(SEED_TITLE)


def test_seed_article_paragraphs_are_separated_by_a_blank_line(web: LocalWeb) -> None:
    url = web.route("/en/huawei/", Reply(seed_article_page()))
    body = fetch_article(url, settings=LOCAL).body
    blocks = body.split("\n\n")
    assert blocks[0].startswith("In China, the race for generative artificial intelligence")
    assert "Chips for inference" in blocks
    assert "\n\n\n" not in body
    assert body == body.strip()


def test_seed_article_metadata(web: LocalWeb) -> None:
    url = web.route("/en/huawei-chinese-emperor-ai-chips/", Reply(seed_article_page()))
    draft = fetch_article(url, settings=LOCAL)
    assert draft.author == "Teilor Stone"
    assert draft.published_at == "2024-07-01T07:30:00+00:00"  # 09:30 at +02:00
    assert draft.outlet == "Presse-citron"
    assert draft.language == "en"
    assert draft.url == url + "?utm_source=rss"  # as the page declares it
    assert draft.origin == "https://" + url.split("://")[1].rstrip("/")
    assert draft.extra["description"].startswith("Huawei wants to supply")


# --- metadata ------------------------------------------------------------------------------


def test_metadata_from_json_ld() -> None:
    json_ld = """<script type="application/ld+json">
    {"@context": "https://schema.org", "@graph": [
      {"@type": "WebSite", "name": "Wye Valley Gazette", "url": "https://www.wyegazette.co.uk/"},
      {"@type": "NewsArticle", "headline": "Council approves the river bridge",
       "datePublished": "2024-03-05T14:00:00Z", "dateModified": "2024-03-06T09:00:00Z",
       "inLanguage": "en-GB",
       "author": [{"@type": "Person", "name": "Maria Jones"}],
       "publisher": {"@type": "NewsMediaOrganization", "name": "Wye Valley Gazette"}}]}
    </script>"""
    draft = draft_from_html(
        council_page(head=json_ld, lang=None),
        origin="https://www.wyegazette.co.uk/news/bridge",
        url="https://www.wyegazette.co.uk/news/bridge",
    )
    assert draft is not None
    assert draft.title == "Council approves the river bridge"
    assert draft.author == "Maria Jones"
    assert draft.published_at == "2024-03-05T14:00:00+00:00"
    assert draft.outlet == "Wye Valley Gazette"
    assert draft.language == "en"
    assert draft.url == "https://www.wyegazette.co.uk/news/bridge"


def test_metadata_from_meta_tags_with_a_time_zone_and_canonical_link() -> None:
    head = """
    <meta property="og:site_name" content="Le Courrier du Wye">
    <meta property="og:title" content="Le conseil approuve le pont">
    <meta property="article:published_time" content="2024-03-05T21:30:00-05:00">
    <meta name="author" content="Claire Dubois">
    <meta property="og:locale" content="fr_FR">
    <link rel="canonical" href="https://courrier.example.fr/actualite/pont">"""
    draft = draft_from_html(council_page(head=head, lang=None), origin="page")
    assert draft is not None
    assert draft.title == "Le conseil approuve le pont"
    assert draft.author == "Claire Dubois"
    assert draft.published_at == "2024-03-06T02:30:00+00:00"
    assert draft.outlet == "Le Courrier du Wye"
    assert draft.language == "fr"
    assert draft.url == "https://courrier.example.fr/actualite/pont"
    assert draft.origin == "page"


def test_html_lang_and_byline_author() -> None:
    byline = '<p class="byline">By <span class="author">Sam Green</span></p>'
    draft = draft_from_html(council_page(lang="de-AT", byline=byline), origin="page")
    assert draft is not None
    assert draft.language == "de"
    assert draft.author == "Sam Green"
    assert "Sam Green" not in draft.body


def test_a_footer_year_is_not_taken_for_the_publication_date() -> None:
    draft = draft_from_html(council_page(), origin="page")
    assert draft is not None
    assert draft.published_at is None  # the footer says "© 2024": no date is better


# --- body ----------------------------------------------------------------------------------


def test_body_is_the_story_paragraphs_only() -> None:
    draft = draft_from_html(council_page(), origin="page")
    assert draft is not None
    assert draft.body == "\n\n".join(COUNCIL_STORY)


def test_a_page_without_main_text_gives_none() -> None:
    empty = """<!DOCTYPE html><html><head><title>Home</title></head><body>
    <nav><a href="/">Home</a> <a href="/news">News</a></nav>
    <footer>© 2024 Example</footer></body></html>"""
    assert draft_from_html(empty, origin="page") is None
    assert draft_from_html("", origin="page") is None
    assert draft_from_html(b"   ", origin="page") is None


def test_local_html_file_in_a_legacy_encoding(tmp_path: Path) -> None:
    page = council_page().replace('<meta charset="utf-8">', '<meta charset="windows-1252">')
    page = page.replace("footbridge", "café-lined footbridge")
    path = tmp_path / "bridge.html"
    path.write_bytes(page.encode("windows-1252"))
    draft = draft_from_html(path.read_bytes(), origin=str(path))
    assert draft is not None
    assert draft.origin == str(path)
    assert draft.url is None
    assert "café-lined footbridge" in draft.body


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-03-05T15:00:00+0100", "2024-03-05T14:00:00+00:00"),
        ("2024-03-05T14:00:00Z", "2024-03-05T14:00:00+00:00"),
        ("2024-03-05T14:00:00", "2024-03-05T14:00:00+00:00"),
        ("2024-03-05", "2024-03-05T00:00:00+00:00"),
        ("yesterday", None),
        (None, None),
    ],
)
def test_to_utc_iso(value: str | None, expected: str | None) -> None:
    assert to_utc_iso(value) == expected
