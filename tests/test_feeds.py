"""Tests for index.sources.feeds: RSS and Atom polls, new and changed items, conditional GETs."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from index.sources.feeds import FeedItem, FeedPoll, poll_feed
from index.sources.fetch import FetchError, FetchSettings
from tests.local_web import LocalWeb, Reply, Request

LOCAL = FetchSettings(allow_private=True)

RSS_ITEM = """
  <item>
    <title>{title}</title>
    <link>{link}</link>
    <guid isPermaLink="false">{guid}</guid>
    <pubDate>{date}</pubDate>
    <dc:creator>{author}</dc:creator>
    <description><![CDATA[<p>{summary} <a href="/more">Read more</a></p>]]></description>
  </item>"""

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel>
  <title>Wye Valley Gazette – News</title>
  <link>https://www.wyegazette.co.uk/</link>
  <description>Local news</description>
  {items}
</channel>
</rss>"""

ATOM_ENTRY = """
  <entry>
    <title>{title}</title>
    <link rel="alternate" href="{link}"/>
    <id>{guid}</id>
    <published>{date}</published>
    <updated>{date}</updated>
    <author><name>{author}</name></author>
    <summary type="html">&lt;p&gt;{summary}&lt;/p&gt;</summary>
  </entry>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Tech Desk</title>
  <link rel="alternate" href="https://tech.example.org/"/>
  <id>urn:uuid:60a76c80-d399-11d9-b91C-0003939e0af6</id>
  <updated>2024-03-06T10:00:00Z</updated>
  {items}
</feed>"""


@dataclass
class Story:
    guid: str
    title: str
    link: str
    date: str
    author: str
    summary: str


RSS_STORIES = [
    Story(
        "gazette-101",
        "Council approves the river bridge",
        "https://www.wyegazette.co.uk/news/bridge",
        "Tue, 05 Mar 2024 15:00:00 +0100",
        "Maria Jones",
        "The footbridge will link the market square to the station.",
    ),
    Story(
        "gazette-102",
        "School wins robotics prize",
        "https://www.wyegazette.co.uk/news/robots",
        "Tue, 05 Mar 2024 18:30:00 GMT",
        "Sam Green",
        "Pupils built a robot that sorts recycling.",
    ),
]
ATOM_STORIES = [
    Story(
        "tag:tech.example.org,2024:1",
        "Huawei bets on inference chips",
        "https://tech.example.org/huawei-ascend",
        "2024-03-05T09:30:00+02:00",
        "Teilor Stone",
        "The Ascend 910C is aimed at inference.",
    ),
    Story(
        "tag:tech.example.org,2024:2",
        "A new open model for code",
        "https://tech.example.org/open-code-model",
        "2024-03-06T08:00:00Z",
        "Lee Park",
        "It runs on a laptop.",
    ),
]
NEW_STORY = Story(
    "new-1",
    "Flood warning lifted",
    "https://www.wyegazette.co.uk/news/flood",
    "Wed, 06 Mar 2024 07:00:00 GMT",
    "Maria Jones",
    "Water levels fell overnight.",
)


@dataclass
class FeedSite:
    """A feed that changes between versions and answers conditional GETs with 304."""

    template: str
    entry: str
    content_type: str
    stories: list[Story]
    use_etag: bool = True
    version: int = 1
    last_modified: str = "Tue, 05 Mar 2024 19:00:00 GMT"
    seen: list[Request] = field(default_factory=list)

    def publish(self, stories: list[Story], last_modified: str) -> None:
        self.stories, self.last_modified = stories, last_modified
        self.version += 1

    def __call__(self, request: Request) -> Reply:
        self.seen.append(request)
        validators = {"Last-Modified": self.last_modified}
        if self.use_etag:
            validators["ETag"] = f'"v{self.version}"'
        if self._unchanged_for(request, validators):
            return Reply(status=304, content_type=None, headers=validators)
        items = "".join(self.entry.format(**vars(story)) for story in self.stories)
        body = self.template.format(items=items)
        return Reply(body, content_type=self.content_type, headers=validators)

    @staticmethod
    def _unchanged_for(request: Request, validators: dict[str, str]) -> bool:
        if "if-none-match" in request.headers:
            return request.headers["if-none-match"] == validators.get("ETag")
        return request.headers.get("if-modified-since") == validators["Last-Modified"]


@pytest.fixture
def web() -> Iterator[LocalWeb]:
    with LocalWeb() as server:
        yield server


def by_key(poll: FeedPoll) -> dict[str, FeedItem]:
    return {item.key: item for item in poll.items}


def test_rss_poll_items_and_fields(web: LocalWeb) -> None:
    site = FeedSite(RSS, RSS_ITEM, "application/rss+xml; charset=utf-8", list(RSS_STORIES))
    url = web.route("/feed.rss", site)
    poll = poll_feed(url, settings=LOCAL)

    assert poll.not_modified is False
    assert poll.title == "Wye Valley Gazette – News"
    assert poll.link == "https://www.wyegazette.co.uk/"
    assert poll.url == url
    assert poll.etag == '"v1"'
    assert poll.modified == "Tue, 05 Mar 2024 19:00:00 GMT"
    assert [item.key for item in poll.items] == ["gazette-101", "gazette-102"]
    first = poll.items[0]
    assert first.title == "Council approves the river bridge"
    assert first.link == "https://www.wyegazette.co.uk/news/bridge"
    assert first.published_at == "2024-03-05T14:00:00+00:00"
    assert first.author == "Maria Jones"
    assert first.summary == ("The footbridge will link the market square to the station. Read more")
    assert len(first.content_hash) == 64
    assert "citebot/0.1" in site.seen[0].headers["user-agent"]


def test_rss_second_poll_adds_one_item_and_changes_another(web: LocalWeb) -> None:
    site = FeedSite(RSS, RSS_ITEM, "application/rss+xml", list(RSS_STORIES))
    url = web.route("/feed.rss", site)
    before = by_key(poll_feed(url, settings=LOCAL))

    edited = Story(**{**vars(RSS_STORIES[1]), "summary": "Pupils built a robot (corrected)."})
    site.publish([NEW_STORY, RSS_STORIES[0], edited], "Wed, 06 Mar 2024 08:00:00 GMT")
    poll = poll_feed(url, etag='"v1"', modified="Tue, 05 Mar 2024 19:00:00 GMT", settings=LOCAL)
    after = by_key(poll)

    assert poll.not_modified is False
    assert poll.etag == '"v2"'
    assert poll.modified == "Wed, 06 Mar 2024 08:00:00 GMT"
    assert set(after) - set(before) == {"new-1"}
    assert after["gazette-101"].content_hash == before["gazette-101"].content_hash
    assert after["gazette-102"].content_hash != before["gazette-102"].content_hash
    assert after["gazette-102"].summary == "Pupils built a robot (corrected). Read more"


def test_rss_etag_gives_not_modified(web: LocalWeb) -> None:
    site = FeedSite(RSS, RSS_ITEM, "application/rss+xml", list(RSS_STORIES))
    url = web.route("/feed.rss", site)
    first = poll_feed(url, settings=LOCAL)
    again = poll_feed(url, etag=first.etag, modified=first.modified, settings=LOCAL)

    assert site.seen[-1].headers["if-none-match"] == '"v1"'
    assert site.seen[-1].headers["if-modified-since"] == "Tue, 05 Mar 2024 19:00:00 GMT"
    assert again.not_modified is True
    assert again.items == ()
    assert (again.etag, again.modified) == (first.etag, first.modified)


def test_atom_poll_with_last_modified_only(web: LocalWeb) -> None:
    site = FeedSite(ATOM, ATOM_ENTRY, "application/atom+xml", list(ATOM_STORIES), use_etag=False)
    url = web.route("/atom.xml", site)
    first = poll_feed(url, settings=LOCAL)

    assert first.title == "Tech Desk"
    assert first.etag is None
    assert first.modified == "Tue, 05 Mar 2024 19:00:00 GMT"
    items = by_key(first)
    huawei = items["tag:tech.example.org,2024:1"]
    assert huawei.link == "https://tech.example.org/huawei-ascend"
    assert huawei.published_at == "2024-03-05T07:30:00+00:00"
    assert huawei.author == "Teilor Stone"
    assert huawei.summary == "The Ascend 910C is aimed at inference."

    unchanged = poll_feed(url, modified=first.modified, settings=LOCAL)
    assert unchanged.not_modified is True
    assert "if-none-match" not in site.seen[-1].headers

    retitled = Story(**{**vars(ATOM_STORIES[0]), "title": "Huawei bets big on inference chips"})
    new = Story(**{**vars(ATOM_STORIES[1]), "guid": "tag:tech.example.org,2024:3"})
    site.publish([new, retitled, ATOM_STORIES[1]], "Thu, 07 Mar 2024 06:00:00 GMT")
    changed = by_key(poll_feed(url, modified=first.modified, settings=LOCAL))
    assert set(changed) - set(items) == {"tag:tech.example.org,2024:3"}
    assert changed["tag:tech.example.org,2024:1"].content_hash != huawei.content_hash
    same = "tag:tech.example.org,2024:2"
    assert changed[same].content_hash == items[same].content_hash


def test_item_without_guid_is_keyed_by_its_link(web: LocalWeb) -> None:
    feed = RSS.format(items="<item><title>No guid here</title><link>/news/no-guid</link></item>")
    url = web.route("/plain.rss", Reply(feed, content_type="text/xml"))
    item = poll_feed(url, settings=LOCAL).items[0]
    assert item.key == item.link == web.url("/news/no-guid")
    assert item.published_at is None
    assert item.summary is None


def test_feed_redirect_is_followed(web: LocalWeb) -> None:
    site = FeedSite(RSS, RSS_ITEM, "application/rss+xml", list(RSS_STORIES))
    final = web.route("/new-home/feed.rss", site)
    old = web.route("/feed", Reply(status=301, headers={"Location": "/new-home/feed.rss"}))
    poll = poll_feed(old, settings=LOCAL)
    assert poll.url == final
    assert len(poll.items) == 2


def test_an_html_page_is_not_a_feed(web: LocalWeb) -> None:
    url = web.route("/news", Reply("<html><body><p>News</p></body></html>"))
    with pytest.raises(FetchError, match=r"not an RSS or Atom feed \(content-type text/html\)"):
        poll_feed(url, settings=LOCAL)


def test_a_broken_feed_is_an_error(web: LocalWeb) -> None:
    url = web.route("/broken.xml", Reply("this is { not xml", content_type="application/xml"))
    with pytest.raises(FetchError, match="not an RSS or Atom feed"):
        poll_feed(url, settings=LOCAL)


def test_feed_fetch_is_as_safe_as_page_fetch(web: LocalWeb) -> None:
    url = web.route("/feed.rss", Reply(RSS.format(items=""), content_type="application/rss+xml"))
    with pytest.raises(FetchError, match="loopback address"):
        poll_feed(url, settings=FetchSettings())
