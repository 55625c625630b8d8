"""Web sources through the real CLI: URLs and feeds from a local web server into cited answers.

The local server (tests/local_web.py) serves realistic news pages — navigation, cookie
banner, share bar, ads, byline box, related articles, comments — plus RSS and Atom feeds
that change between polls and answer conditional GETs with 304, redirects, a 404, a page
over 5 MB, a PDF and a slow page. Loopback is allowed through CITEBOT_ALLOW_PRIVATE_URLS,
except in the test that checks refusal.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import Result

from index.storage import StoredArticle
from index.storage.sqlite_store import SQLiteStore
from tests.local_web import (
    COUNCIL_STORY,
    SEED_TITLE,
    LocalWeb,
    Reply,
    article_page,
    seed_article_page,
    seed_story,
)
from tests.test_feeds import ATOM, ATOM_ENTRY, RSS, RSS_ITEM, FeedSite, Story
from tests.test_html import BOILERPLATE

SEED_PATH = "/en/huawei-chinese-emperor-ai-chips/"

ROBOTS_STORY = [
    "A team of pupils from Monmouth Comprehensive School has won the national schools "
    "robotics prize with a machine that sorts household recycling by material.",
    "The robot uses a camera and a small neural network to tell glass from plastic and "
    "metal, and drops each item into the right bin in under two seconds.",
    "The judges said the entry stood out for being cheap to build: the parts cost less than "
    "ninety pounds, and the pupils have published the design online.",
]
FLOOD_STORY = [
    "The Environment Agency lifted the flood warning for the lower Wye on Wednesday morning "
    "after water levels fell by almost a metre overnight.",
    "Residents of the riverside streets in Chepstow, who had been told to move valuables "
    "upstairs, were allowed back into their cellars by nine o'clock.",
    "Forecasters expect a dry week, but the agency said it would keep monitoring the river "
    "because the ground upstream is still saturated.",
]
CHIP_STORY = [
    "Huawei is shifting its Ascend accelerators towards inference, the stage at which a "
    "trained model answers requests, rather than training.",
    "The company says the Ascend 910C can serve large language models for Chinese cloud "
    "providers who can no longer buy the most advanced American parts.",
]


def news_head(*, site: str, author: str, published: str) -> str:
    return (f'<meta property="og:site_name" content="{site}">'
            f'<meta name="author" content="{author}">'
            f'<meta property="article:published_time" content="{published}">')


def _json(result: Result) -> dict:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _articles(data_dir: Path) -> dict[str, StoredArticle]:
    """Every stored article by origin."""
    store = SQLiteStore(data_dir)
    try:
        ids = [row[0] for row in store.db.execute("SELECT id FROM articles")]
        return {a.origin: a for a in store.articles(ids).values()}
    finally:
        store.close()


def _https(web: LocalWeb, path: str) -> str:
    """The canonical URL (the origin) of a page of the local server."""
    return "https://" + web.url(path).split("://", 1)[1]


@pytest.fixture
def web(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalWeb]:
    monkeypatch.setenv("CITEBOT_ALLOW_PRIVATE_URLS", "1")
    with LocalWeb() as server:
        yield server


def _since(web: LocalWeb, mark: int) -> list[str]:
    """Paths requested after the first `mark` requests."""
    return [request.path for request in web.requests[mark:]]


# --- URLs --------------------------------------------------------------------------------


def test_urls_and_paths_in_one_ingest_with_bad_pages_skipped(
    cli: Callable[..., Result], web: LocalWeb, data_dir: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CITEBOT_FETCH_TIMEOUT", "1")
    seed = web.route(SEED_PATH, Reply(seed_article_page()))
    moved = web.route("/2024/07/huawei", Reply(status=301, headers={"Location": SEED_PATH}))
    bridge = web.route("/news/bridge", Reply(article_page(
        title="Council approves the river bridge", paragraphs=COUNCIL_STORY,
        head=news_head(site="Wye Valley Gazette", author="Maria Jones",
                       published="2024-03-05T15:00:00+01:00"))))
    huge = web.route("/huge", Reply("<html><body><p>" + "x" * (5 * 1024 * 1024) + "</p>"))
    pdf = web.route("/report.pdf", Reply(b"%PDF-1.7 ...", content_type="application/pdf"))
    slow = web.route("/slow", Reply(article_page(title="Late", paragraphs=["Too late."]),
                                    delay=2.5))
    missing = web.url("/gone")
    note = tmp_path / "note.txt"
    note.write_text("Dam opens\n\nThe new dam on the river Usk opened on Friday after ten "
                    "years of work, the water company said.\n", encoding="utf-8")

    report = _json(cli("ingest", seed + "?utm_source=rss&utm_medium=feed", moved, bridge,
                       missing, huge, pdf, slow, str(note), "--json"))

    assert (report["added"], report["unchanged"]) == (3, 1)  # the redirect is the seed again
    reasons = {item["path"]: item["reason"] for item in report["skipped"]}
    assert reasons == {
        missing: "HTTP 404 Not Found",
        huge: "page too large (> 5 MB)",
        pdf: "not an HTML page (content-type application/pdf)",
        slow: "timed out after 1 s",
    }
    articles = _articles(data_dir)
    assert set(articles) == {_https(web, SEED_PATH.rstrip("/")), _https(web, "/news/bridge"),
                             str(note.resolve())}
    page = articles[_https(web, SEED_PATH.rstrip("/"))]
    assert (page.title, page.outlet, page.author) == (SEED_TITLE, "Presse-citron",
                                                      "Teilor Stone")
    assert page.published_at == "2024-07-01T07:30:00+00:00"  # 09:30 at +02:00
    assert page.url == web.url(SEED_PATH + "?utm_source=rss")  # the page's canonical link
    paragraphs, bullets = seed_story()
    for text in paragraphs + bullets:
        assert text in page.body
    for phrase in BOILERPLATE:
        assert phrase.lower() not in page.body.lower(), phrase
    council = articles[_https(web, "/news/bridge")]
    assert (council.outlet, council.author, council.published_at) == (
        "Wye Valley Gazette", "Maria Jones", "2024-03-05T14:00:00+00:00")
    assert council.body == "\n\n".join(COUNCIL_STORY)

    answer = _json(cli("ask", "Which processors has Huawei decided to focus on?", "--json"))
    assert answer["citations"][0]["origin"] == _https(web, SEED_PATH.rstrip("/"))
    assert answer["citations"][0]["url"] == page.url


def test_url_variants_of_one_story_give_one_article(
    cli: Callable[..., Result], web: LocalWeb, data_dir: Path
) -> None:
    page = Reply(article_page(title="Council approves the river bridge",
                              paragraphs=COUNCIL_STORY))
    for path in ("/news/bridge", "/news/bridge/", "/news/bridge/amp"):
        web.route(path, page)
    web.route("/r/8842", Reply(status=302, headers={"Location": "/news/bridge"}))
    first = _json(cli("ingest", web.url("/news/bridge"), "--json"))
    assert first["added"] == 1

    variants = [
        web.url("/news/bridge?utm_source=newsletter&utm_campaign=daily&fbclid=IwAR0x"),
        web.url("/news/bridge/"),
        web.url("/news/bridge/amp"),
        web.url("/news/bridge?amp=1#comments"),
        web.url("/r/8842"),
        web.url("/news/bridge/?utm_source=twitter#top"),
    ]
    again = _json(cli("ingest", *variants, "--json"))
    assert (again["added"], again["updated"], again["unchanged"]) == (0, 0, len(variants))
    assert again["skipped"] == []
    assert list(_articles(data_dir)) == [_https(web, "/news/bridge")]


def test_private_addresses_are_refused_without_the_setting(
    cli: Callable[..., Result], web: LocalWeb, monkeypatch: pytest.MonkeyPatch
) -> None:
    feed = FeedSite(RSS, RSS_ITEM, "application/rss+xml", [])
    feed_url = web.route("/feed.rss", feed)
    page = web.route("/news/bridge", Reply(article_page(title="Bridge",
                                                        paragraphs=COUNCIL_STORY)))
    assert cli("feeds", "add", feed_url).exit_code == 0  # allowed: followed

    monkeypatch.delenv("CITEBOT_ALLOW_PRIVATE_URLS")
    mark = len(web.requests)
    refused = cli("ingest", page, "--json")
    assert refused.exit_code == 1
    assert json.loads(refused.stdout)["skipped"] == [
        {"path": page, "reason": "refused: 127.0.0.1 is a loopback address"}]
    for url, reason in [
        (web.url("/other.rss"), "refused: 127.0.0.1 is a loopback address"),
        ("http://169.254.169.254/latest/meta-data/", "refused: 169.254.169.254 is a link-local"),
        ("http://10.1.2.3/feed", "refused: 10.1.2.3 is a private address"),
        ("http://localhost/feed", "refused: localhost is a local or internal host name"),
        ("file:///etc/passwd", "refused: only http and https URLs can be fetched (file)"),
    ]:
        result = cli("feeds", "add", url)
        assert result.exit_code == 1 and reason in result.stderr, (url, result.stderr)
    report = _json(cli("refresh", "--json"))  # the feed followed earlier is refused too
    assert report["skipped"] == [
        {"path": feed_url, "reason": "refused: 127.0.0.1 is a loopback address"}]
    assert _since(web, mark) == []  # nothing reached the server
    listed = json.loads(cli("feeds", "list", "--json").stdout)
    assert listed[0]["last_error"] == "refused: 127.0.0.1 is a loopback address"


# --- feeds -------------------------------------------------------------------------------


def _rss_stories(web: LocalWeb) -> list[Story]:
    return [
        Story("gazette-101", "Council approves the river bridge", web.url("/news/bridge"),
              "Tue, 05 Mar 2024 15:00:00 +0100", "Maria Jones",
              "The footbridge will link the market square to the station."),
        Story("gazette-102", "School wins robotics prize", web.url("/news/robots"),
              "Tue, 05 Mar 2024 18:30:00 GMT", "Sam Green",
              "Pupils built a robot that sorts recycling."),
    ]


def _atom_stories(web: LocalWeb) -> list[Story]:
    return [
        Story("tag:tech.example.org,2024:1", "Huawei bets on inference chips",
              web.url("/tech/huawei-ascend"), "2024-03-05T09:30:00+02:00", "Teilor Stone",
              "The Ascend 910C is aimed at inference."),
        Story("tag:tech.example.org,2024:2", "Open model for code runs on laptops",
              web.url("/tech/deleted-page"), "2024-03-06T08:00:00Z", "Lee Park",
              "A new open model for writing code runs on an ordinary laptop without a "
              "graphics card, its authors at the Tallinn university lab said on Wednesday."),
    ]


def _gazette_page(title: str, story: list[str]) -> Reply:
    return Reply(article_page(title=title, paragraphs=story,
                              head='<meta property="og:site_name" content="Wye Gazette">'))


def test_feeds_are_refreshed_incrementally(
    cli: Callable[..., Result], web: LocalWeb, data_dir: Path
) -> None:
    rss = FeedSite(RSS, RSS_ITEM, "application/rss+xml", _rss_stories(web))
    atom = FeedSite(ATOM, ATOM_ENTRY, "application/atom+xml", _atom_stories(web),
                    use_etag=False)
    rss_url, atom_url = web.route("/feed.rss", rss), web.route("/atom.xml", atom)
    web.route("/news/bridge", _gazette_page("Council approves the river bridge", COUNCIL_STORY))
    web.route("/news/robots", _gazette_page("School wins robotics prize", ROBOTS_STORY))
    web.route("/tech/huawei-ascend", Reply(article_page(
        title="Huawei bets on inference chips", paragraphs=CHIP_STORY)))  # no metadata
    # /tech/deleted-page is a 404: that item is stored from its summary

    added = cli("feeds", "add", rss_url)
    assert added.exit_code == 0 and "Wye Valley Gazette – News" in added.stdout
    assert cli("feeds", "add", atom_url).exit_code == 0
    again = cli("feeds", "add", rss_url.replace("http://", "https://") + "?utm_source=x")
    assert "already following" in again.stdout

    first = _json(cli("refresh", "--json"))
    assert (first["added"], first["updated"], first["skipped"]) == (4, 0, [])
    articles = _articles(data_dir)
    robots = articles[_https(web, "/news/robots")]
    assert robots.outlet == "Wye Gazette"  # the page's own metadata wins
    assert (robots.author, robots.published_at) == ("Sam Green", "2024-03-05T18:30:00+00:00")
    assert robots.body == "\n\n".join(ROBOTS_STORY)
    chips = articles[_https(web, "/tech/huawei-ascend")]  # the feed fills the page's gaps
    assert (chips.author, chips.published_at) == ("Teilor Stone", "2024-03-05T07:30:00+00:00")
    from_summary = articles[_https(web, "/tech/deleted-page")]
    assert (from_summary.title, from_summary.outlet) == ("Open model for code runs on laptops",
                                                         "Tech Desk")
    assert from_summary.body.startswith("A new open model for writing code")
    assert from_summary.published_at == "2024-03-06T08:00:00+00:00"

    mark = len(web.requests)
    unchanged = _json(cli("refresh", "--json"))
    assert (unchanged["added"], unchanged["updated"], unchanged["embedded"]) == (0, 0, 0)
    assert sorted(_since(web, mark)) == ["/atom.xml", "/feed.rss"]  # the feeds, nothing else
    assert rss.seen[-1].headers["if-none-match"] == '"v1"'
    assert atom.seen[-1].headers["if-modified-since"] == atom.last_modified

    stories = _rss_stories(web)
    flood = Story("gazette-103", "Flood warning lifted", web.url("/news/flood"),
                  "Wed, 06 Mar 2024 07:00:00 GMT", "Maria Jones", "Water levels fell.")
    corrected = Story(**{**vars(stories[1]), "title": "School wins national robotics prize"})
    rss.publish([flood, stories[0], corrected], "Wed, 06 Mar 2024 08:00:00 GMT")
    web.route("/news/flood", _gazette_page("Flood warning lifted", FLOOD_STORY))
    web.route("/news/robots", _gazette_page("School wins national robotics prize",
                                            ROBOTS_STORY))
    mark = len(web.requests)
    changed = _json(cli("refresh", "--json"))
    assert (changed["added"], changed["updated"], changed["unchanged"]) == (1, 1, 1)
    assert sorted(_since(web, mark)) == ["/atom.xml", "/feed.rss", "/news/flood",
                                         "/news/robots"]
    assert _articles(data_dir)[_https(web, "/news/robots")].title == (
        "School wins national robotics prize")

    answer = _json(cli("ask", "Why was the flood warning on the Wye lifted?", "--json"))
    assert answer["citations"][0]["origin"] == _https(web, "/news/flood")
    assert answer["citations"][0]["published_at"] == "2024-03-06T07:00:00+00:00"

    listed = {f["url"]: f for f in json.loads(cli("feeds", "list", "--json").stdout)}
    assert (listed[rss_url]["items"], listed[atom_url]["items"]) == (3, 2)
    assert listed[rss_url]["etag"] == '"v2"' and listed[rss_url]["last_error"] is None

    assert cli("feeds", "remove", rss_url).exit_code == 0  # its articles stay
    removed = cli("feeds", "remove", atom_url, "--delete-articles")
    assert "removed 2 articles" in removed.stdout
    assert len(_articles(data_dir)) == 3
    assert cli("feeds", "list").stdout.startswith("no feeds")
    assert cli("feeds", "remove", atom_url).exit_code == 1


def test_an_item_without_page_or_summary_is_retried(
    cli: Callable[..., Result], web: LocalWeb, data_dir: Path
) -> None:
    broken = Story("gazette-9", "Bypass opens", web.url("/news/bypass"),
                   "Thu, 07 Mar 2024 10:00:00 GMT", "Maria Jones", "")
    rss = FeedSite(RSS, RSS_ITEM.replace("<![CDATA[<p>{summary} <a href=\"/more\">Read more"
                                         "</a></p>]]>", "{summary}"),
                   "application/rss+xml", [broken])
    feed_url = web.route("/feed.rss", rss)
    cli("feeds", "add", feed_url)

    first = _json(cli("refresh", "--json"))
    assert first["added"] == 0
    assert first["skipped"] == [{"path": web.url("/news/bypass"),
                                 "reason": "HTTP 404 Not Found; and the item has no summary"}]
    web.route("/news/bypass", _gazette_page("Bypass opens", COUNCIL_STORY))
    retried = _json(cli("refresh", "--json"))  # no 304: the validators were not kept
    assert (retried["added"], retried["skipped"]) == (1, [])
    assert rss.seen[-1].headers.get("if-none-match") is None
