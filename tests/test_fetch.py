"""Tests for index.sources.fetch: safe fetching, redirects, limits, errors and canonical URLs."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from ipaddress import IPv4Address, IPv6Address, ip_address

import pytest

from index.settings import Settings, SettingsError
from index.sources import fetch
from index.sources.fetch import FetchError, FetchSettings, canonical_url, fetch_article, fetch_url
from tests.local_web import COUNCIL_STORY, LocalWeb, Reply, article_page

LOCAL = FetchSettings(allow_private=True, connect_timeout=2.0, read_timeout=2.0)
PUBLIC_ONLY = FetchSettings(connect_timeout=2.0, read_timeout=2.0)


@pytest.fixture
def web() -> Iterator[LocalWeb]:
    with LocalWeb() as server:
        yield server


@pytest.fixture
def loopback_is_public(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let the test server (127.0.0.1) pass the address check; every other address is checked.

    This stands in for a public news site that redirects to an internal address.
    """
    real = fetch.address_refusal

    def refusal(address: IPv4Address | IPv6Address) -> str | None:
        return None if address == ip_address("127.0.0.1") else real(address)

    monkeypatch.setattr(fetch, "address_refusal", refusal)


def council_page(head: str = "") -> str:
    return article_page(
        title="Council approves the river bridge", paragraphs=COUNCIL_STORY, head=head
    )


# --- fetching ------------------------------------------------------------------------------


def test_fetch_url_returns_status_type_headers_and_decoded_text(web: LocalWeb) -> None:
    url = web.route(
        "/latin",
        Reply(
            "<html><body><p>Un café à Zürich</p></body></html>".encode("iso-8859-1"),
            content_type="text/html; charset=ISO-8859-1",
            headers={"ETag": '"abc123"', "Last-Modified": "Tue, 05 Mar 2024 14:00:00 GMT"},
        ),
    )
    page = fetch_url(url, settings=LOCAL)
    assert page.status == 200
    assert page.url == url
    assert page.content_type == "text/html"
    assert page.etag == '"abc123"'
    assert page.last_modified == "Tue, 05 Mar 2024 14:00:00 GMT"
    assert "Un café à Zürich" in page.text
    assert web.requests[-1].headers["user-agent"] == "citebot/0.1 (+https://github.com/citebot)"


def test_text_falls_back_to_the_meta_charset(web: LocalWeb) -> None:
    html = '<html><head><meta charset="windows-1251"></head><body><p>Новости дня</p></body></html>'
    url = web.route("/cyrillic", Reply(html.encode("windows-1251"), content_type="text/html"))
    assert "Новости дня" in fetch_url(url, settings=LOCAL).text


def test_redirects_are_followed_relative_and_absolute(web: LocalWeb) -> None:
    final = web.route("/final", Reply(council_page()))
    web.route("/second", Reply(status=301, headers={"Location": final}))
    start = web.route("/first", Reply(status=302, headers={"Location": "/second"}))
    page = fetch_url(start, settings=LOCAL)
    assert page.url == final
    assert page.requested_url == start
    assert page.redirects == (start, web.url("/second"))


def test_redirect_chain_at_the_cap_is_followed_and_longer_is_refused(web: LocalWeb) -> None:
    settings = FetchSettings(allow_private=True, max_redirects=5)
    for hop in range(6):
        web.route(f"/hop{hop}", Reply(status=302, headers={"Location": f"/hop{hop + 1}"}))
    web.route("/hop6", Reply(council_page()))
    assert fetch_url(web.url("/hop1"), settings=settings).url == web.url("/hop6")
    with pytest.raises(FetchError, match=r"too many redirects \(more than 5\)"):
        fetch_url(web.url("/hop0"), settings=settings)


@pytest.mark.usefixtures("loopback_is_public")
@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"),
        ("http://10.0.0.7/admin", "10.0.0.7 is a private address"),
        ("http://localhost:8080/", "localhost is a local or internal host name"),
        ("http://metadata.google.internal/computeMetadata/v1/", "local or internal host name"),
        ("file:///etc/passwd", "only http and https"),
    ],
)
def test_redirect_to_a_private_address_is_refused(web: LocalWeb, target: str, message: str) -> None:
    start = web.route("/innocent", Reply(status=302, headers={"Location": target}))
    with pytest.raises(FetchError, match=message):
        fetch_url(start, settings=PUBLIC_ONLY)


def test_redirect_to_a_private_address_is_followed_when_allowed(web: LocalWeb) -> None:
    final = web.route("/internal", Reply(council_page()))
    start = web.route("/hop", Reply(status=307, headers={"Location": final}))
    assert fetch_url(start, settings=LOCAL).url == final


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://127.0.0.1:9/", "refused: 127.0.0.1 is a loopback address"),
        ("http://[::1]/", "refused: ::1 is a loopback address"),
        ("http://[::ffff:127.0.0.1]/", "loopback address"),
        ("http://2130706433/", "resolves to 127.0.0.1, a loopback address"),
        ("http://192.168.1.1/", "192.168.1.1 is a private address"),
        ("http://172.16.5.4/", "172.16.5.4 is a private address"),
        ("http://100.64.0.1/", "100.64.0.1 is a shared"),
        ("http://169.254.169.254/", "169.254.169.254 is a link-local address"),
        ("http://[fe80::1]/", "fe80::1 is a link-local address"),
        ("http://[fd12:3456::1]/", "fd12:3456::1 is a private address"),
        ("http://224.0.0.251/", "224.0.0.251 is a multicast address"),
        ("http://0.0.0.0/", "0.0.0.0 is an unspecified address"),
        ("http://240.0.0.1/", "240.0.0.1 is a reserved address"),
        ("http://LOCALHOST./", "localhost is a local or internal host name"),
        ("http://printer.local/", "local or internal host name"),
        ("ftp://example.com/file", "only http and https"),
        ("https:///path-only", "no host"),
    ],
)
def test_unsafe_urls_are_refused_before_connecting(url: str, message: str) -> None:
    with pytest.raises(FetchError, match=re.escape(message)):
        fetch_url(url, settings=PUBLIC_ONLY)


def test_a_host_resolving_to_loopback_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    def fake_getaddrinfo(host: str, port: int, **_: object) -> list[tuple[object, ...]]:
        return [(2, 1, 6, "", ("93.184.216.34", port)), (2, 1, 6, "", ("127.0.0.1", port))]

    monkeypatch.setattr(fetch.socket, "getaddrinfo", fake_getaddrinfo)
    with pytest.raises(FetchError, match=r"news.example.com resolves to 127.0.0.1, a loopback"):
        fetch_url("https://news.example.com/story", settings=PUBLIC_ONLY)


def test_the_connected_peer_is_checked_too(web: LocalWeb, monkeypatch: pytest.MonkeyPatch) -> None:
    """If DNS changed between the check and the connection, the peer address still counts."""
    monkeypatch.setattr(fetch, "check_destination", lambda url, settings: None)
    url = web.route("/rebound", Reply(council_page()))
    with pytest.raises(FetchError, match=r"connected to 127.0.0.1, a loopback address"):
        fetch_url(url, settings=PUBLIC_ONLY)


def test_http_errors_are_reported_with_status_and_reason(web: LocalWeb) -> None:
    with pytest.raises(FetchError, match=r"^HTTP 404 Not Found$"):
        fetch_url(web.url("/missing"), settings=LOCAL)
    web.route("/broken", Reply("oops", status=500))
    with pytest.raises(FetchError, match=r"^HTTP 500 Internal Server Error$"):
        fetch_url(web.url("/broken"), settings=LOCAL)


@pytest.mark.parametrize("sized", [True, False], ids=["content-length", "streamed"])
def test_a_page_over_the_size_cap_is_refused(web: LocalWeb, sized: bool) -> None:
    big = b"<html><body>" + b"<p>" + b"x" * 6 * 1024 * 1024 + b"</p></body></html>"
    url = web.route("/huge", Reply(big, sized=sized))
    with pytest.raises(FetchError, match=r"^page too large \(> 5 MB\)$"):
        fetch_url(url, settings=LOCAL)


def test_a_page_under_a_custom_cap_passes_and_over_it_fails(web: LocalWeb) -> None:
    url = web.route("/small", Reply(b"<html>" + b"a" * 2000 + b"</html>", sized=False))
    assert len(fetch_url(url, settings=LOCAL).content) == 2013
    tight = FetchSettings(allow_private=True, max_bytes=1024)
    with pytest.raises(FetchError, match=r"page too large \(> 1 KB\)"):
        fetch_url(url, settings=tight)


def test_a_non_html_content_type_is_refused(web: LocalWeb) -> None:
    url = web.route("/logo.png", Reply(b"\x89PNG\r\n\x1a\n", content_type="image/png"))
    with pytest.raises(FetchError, match=r"^not an HTML page \(content-type image/png\)$"):
        fetch_article(url, settings=LOCAL)
    with pytest.raises(FetchError, match="unsupported content type image/png"):
        fetch_url(url, settings=LOCAL)


def test_a_feed_is_not_an_article(web: LocalWeb) -> None:
    url = web.route("/rss", Reply("<rss/>", content_type="application/rss+xml"))
    assert fetch_url(url, settings=LOCAL).content_type == "application/rss+xml"
    with pytest.raises(FetchError, match="not an HTML page"):
        fetch_article(url, settings=LOCAL)


def test_a_slow_response_times_out(web: LocalWeb) -> None:
    url = web.route("/slow", Reply(council_page(), delay=2.0))
    settings = FetchSettings(allow_private=True, read_timeout=0.5)
    started = time.monotonic()
    with pytest.raises(FetchError, match=r"^timed out after 0.5 s$"):
        fetch_url(url, settings=settings)
    assert time.monotonic() - started < 1.5


def test_settings_from_env() -> None:
    def configured(**environ: str) -> FetchSettings:
        settings = Settings.from_env(environ=environ)
        return FetchSettings.configured(allow_private=settings.allow_private_urls,
                                        timeout=settings.fetch_timeout)

    assert configured().allow_private is False
    assert configured(CITEBOT_ALLOW_PRIVATE_URLS="1").allow_private is True
    assert configured(CITEBOT_ALLOW_PRIVATE_URLS="0").allow_private is False
    timed = configured(CITEBOT_FETCH_TIMEOUT="2.5")
    assert (timed.connect_timeout, timed.read_timeout) == (2.5, 2.5)
    with pytest.raises(SettingsError, match="CITEBOT_FETCH_TIMEOUT must be a number"):
        configured(CITEBOT_FETCH_TIMEOUT="soon")
    defaults = FetchSettings()
    assert (defaults.max_bytes, defaults.max_redirects) == (5 * 1024 * 1024, 5)
    assert "text/html" in defaults.allowed_content_types


# --- articles ------------------------------------------------------------------------------


def test_fetch_article_uses_the_same_site_canonical_link_as_origin(web: LocalWeb) -> None:
    page = council_page('<link rel="canonical" href="/news/bridge-vote/?utm_source=twitter">')
    web.route("/news/bridge-vote/", Reply(page))
    web.route("/news/bridge-vote/amp", Reply(page))
    origin = canonical_url(web.url("/news/bridge-vote"))
    for variant in (
        "/news/bridge-vote/?utm_medium=social&fbclid=abc#comments",
        "/news/bridge-vote/amp",
    ):
        draft = fetch_article(web.url(variant), settings=LOCAL)
        assert draft.origin == origin
        assert draft.title == "Council approves the river bridge"
        assert draft.body.startswith("The city council voted on Tuesday evening")
        assert "Spread the love" not in draft.body


def test_fetch_article_ignores_a_canonical_link_to_another_site(web: LocalWeb) -> None:
    page = council_page('<link rel="canonical" href="https://other-news.example.org/story">')
    url = web.route("/syndicated", Reply(page))
    draft = fetch_article(url + "?utm_source=feed", settings=LOCAL)
    assert draft.origin == canonical_url(url)
    assert draft.url == url + "?utm_source=feed"


def test_fetch_article_without_text_is_an_error(web: LocalWeb) -> None:
    url = web.route(
        "/empty", Reply("<html><head><title>Nothing</title></head><body></body></html>")
    )
    with pytest.raises(FetchError, match="no article text found"):
        fetch_article(url, settings=LOCAL)


# --- canonical URLs ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTP://Example.COM/News/Story", "https://example.com/News/Story"),
        ("https://example.com:443/a/", "https://example.com/a"),
        ("http://example.com:80/", "https://example.com/"),
        ("https://example.com", "https://example.com/"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        ("https://example.com/a#section-2", "https://example.com/a"),
        (
            "https://example.com/a?utm_source=tw&utm_medium=social&id=7&fbclid=X&gclid=Y",
            "https://example.com/a?id=7",
        ),
        (
            "https://example.com/a?b=2&a=1&mc_cid=1&mc_eid=2&ref=home",
            "https://example.com/a?a=1&b=2",
        ),
        ("https://example.com/a?cmpid=rss&ocid=msn&igshid=z", "https://example.com/a"),
        ("https://example.com/news/story/amp", "https://example.com/news/story"),
        ("https://example.com/amp/news/story/", "https://example.com/news/story"),
        ("https://example.com/news/story?amp", "https://example.com/news/story"),
        ("https://example.com/news/story?amp=1&page=2", "https://example.com/news/story?page=2"),
        ("https://example.com/news/story?outputType=amp", "https://example.com/news/story"),
        ("https://amp.example.com/news/story", "https://example.com/news/story"),
        ("https://www.bbc.co.uk/news/world-123.amp", "https://www.bbc.co.uk/news/world-123"),
        ("https://user:pw@example.com/a", "https://example.com/a"),
        ("https://[2001:DB8::1]:8080/a/", "https://[2001:db8::1]:8080/a"),
    ],
)
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


def test_canonical_url_is_idempotent_and_rejects_non_web_urls() -> None:
    once = canonical_url("http://Example.com/a/amp/?utm_campaign=x&z=1&a=2#top")
    assert once == "https://example.com/a?a=2&z=1"
    assert canonical_url(once) == once
    with pytest.raises(FetchError, match="only http and https"):
        canonical_url("mailto:desk@example.com")
