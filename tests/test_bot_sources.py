"""The bot's side of articles from the real world, end to end: the real Application against
the Bot API stand-in, a real Library (SQLite + FAISS + the real model) in a fresh data dir
per test, and RSS feeds and article pages served by the local web server.

Covered: the admin commands /feeds (list, add, remove), /refresh (one progress message, a
final report) and /remove; the scheduled refresh (a PTB JobQueue job); `since:`/`until:`
date filters in questions and /latest; "also reported by" for a story run by two outlets.
Every test ends with no Telegram error provoked (`standin.errors() == []`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bot.app import REFRESH_JOB_NAME, build_application
from bot.cli import main
from bot.config import BotConfig
from index.library import Library
from index.settings import Settings, SettingsError
from tests import test_bot
from tests.local_web import COUNCIL_STORY, LocalWeb, Reply, article_page
from tests.telegram_standin import TelegramStandin, telegram_standin_fixture  # noqa: F401
from tests.test_bot import (
    ADMIN,
    ALICE,
    BOB,
    WAIT,
    ask,
    buttons,
    make_config,
    replying_to,
    running_bot,
    text_of,
)
from tests.test_feeds import RSS, RSS_ITEM, FeedSite, Story
from tests.test_sources import FLOOD_STORY, ROBOTS_STORY
from tests.test_stories import WIRE, WIRE_COPY

standin = test_bot.standin

JSON = dict[str, Any]
ADMIN_ONLY = "only for the bot's admins"
FEED_TITLE = "Wye Valley Gazette – News"
FLOOD_QUESTION = "Why was the flood warning on the Wye lifted?"
BRIDGE_QUESTION = "How much will the footbridge over the Wye cost?"
ROBOT_QUESTION = "What does the recycling robot built by the pupils do?"
ZORBLAT_QUESTION = "How many visitors did the Zorblat festival draw?"
STRIKE_QUESTION = "How long will the strike at the port of Rotterdam last?"
# Two dated stories that answer one question (JSONL records with `published_at`).
DATED = [
    {"title": "Zorblat festival in Lyon draws a crowd", "outlet": "Lyon Daily",
     "url": "https://lyon.example.com/zorblat", "published_at": "2023-05-02",
     "body": "The Zorblat festival in Lyon drew 40,000 visitors, the organisers said. "
             "Street performers filled the old town on Saturday."},
    {"title": "Zorblat festival in Porto draws a crowd", "outlet": "Porto News",
     "url": "https://porto.example.com/zorblat", "published_at": "2024-06-10",
     "body": "The Zorblat festival in Porto drew 25,000 visitors, the council said. "
             "Musicians played by the river until dawn."},
]
# One wire story at two outlets (near-duplicates: one story).
WIRE_COPIES = [
    {"title": "Port strike halts Rotterdam terminals", "outlet": "Harbour Times",
     "url": "https://harbour.example.com/strike", "published_at": "2024-04-08",
     "body": "\n\n".join(WIRE)},
    {"title": "Rotterdam dockers strike", "outlet": "Rhine Gazette",
     "url": "https://rhine.example.com/dockers", "published_at": "2024-04-08",
     "body": "\n\n".join(WIRE_COPY)},
]


# --------------------------------------------------------------------------------------
# Fixtures and helpers
# --------------------------------------------------------------------------------------


@pytest.fixture
def library(tmp_path: Path) -> Iterator[Library]:
    """An empty collection of this test's own, allowed to fetch the local web server."""
    settings = replace(Settings.from_env(tmp_path / "store"), allow_private_urls=True)
    opened = Library(settings)
    yield opened
    opened.close()


@pytest.fixture
def web(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalWeb]:
    monkeypatch.setenv("CITEBOT_EMBED_SLICE", "16")  # several embedding progress steps
    with LocalWeb() as server:
        yield server


def config(standin: TelegramStandin, **changes: Any) -> BotConfig:
    """The test bot's settings, without the scheduled refresh unless asked for."""
    return make_config(standin, **{"refresh_minutes": 0, **changes})


def gazette_page(title: str, story: list[str], delay: float = 0.0) -> Reply:
    return Reply(article_page(title=title, paragraphs=story,
                              head='<meta property="og:site_name" content="Wye Gazette">'),
                 delay=delay)


def story(web: LocalWeb, slug: str, title: str, date: str) -> Story:
    return Story(f"gazette-{slug}", title, web.url(f"/news/{slug}"), date, "Maria Jones",
                 f"{title}.")


def gazette_feed(web: LocalWeb, stories: list[Story]) -> tuple[FeedSite, str]:
    feed = FeedSite(RSS, RSS_ITEM, "application/rss+xml", stories)
    return feed, web.route("/feed.rss", feed)


def write_jsonl(folder: Path, name: str, records: list[JSON]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def source_lines(answer: JSON) -> list[str]:
    """The `[n] …` lines of an answer's source list."""
    sources = text_of(answer).partition("Sources\n")[2]
    return [line for line in sources.splitlines() if line.startswith("[")]


def refresh_with_progress(standin: TelegramStandin) -> tuple[JSON, JSON, list[str]]:
    """An admin's /refresh: (progress message, final report, the texts of the edits)."""
    since = standin.mark()
    progress = ask(standin, ADMIN, ADMIN, "/refresh")
    assert text_of(progress).startswith("🔄 Refreshing 1 feed…"), text_of(progress)
    final = standin.wait_for_message(
        ADMIN, lambda m: "Feeds refreshed" in text_of(m), timeout=WAIT, since=since)
    assert final["message_id"] == progress["message_id"]
    edits = [c.params["text"] for c in standin.calls[since:] if c.method == "editMessageText"]
    return progress, final, edits


# --------------------------------------------------------------------------------------
# /feeds, /refresh, /remove
# --------------------------------------------------------------------------------------


def test_admin_follows_a_feed_refreshes_it_and_stops_following(
    standin: TelegramStandin, library: Library, web: LocalWeb, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    stories = [story(web, "bridge", "Council approves the river bridge",
                     "Tue, 05 Mar 2024 15:00:00 +0100"),
               story(web, "robots", "School wins robotics prize",
                     "Tue, 05 Mar 2024 18:30:00 GMT"),
               story(web, "flood", "Flood warning lifted", "Wed, 06 Mar 2024 07:00:00 GMT")]
    feed, feed_url = gazette_feed(web, stories)
    web.route("/news/bridge", gazette_page("Council approves the river bridge", COUNCIL_STORY,
                                           delay=1.0))  # time to try a second refresh
    web.route("/news/robots", gazette_page("School wins robotics prize", ROBOTS_STORY))
    web.route("/news/flood", gazette_page("Flood warning lifted", FLOOD_STORY))
    with running_bot(config(standin, progress_interval=0.05), library):
        for command in (f"/feeds add {feed_url}", "/refresh", "/remove https://x.org/a",
                        "/feeds"):
            assert ADMIN_ONLY in text_of(ask(standin, BOB, BOB, command)), command
        assert any("refused /refresh" in r.getMessage() and str(BOB) in r.getMessage()
                   for r in caplog.records)
        assert library.feeds() == []

        nothing = ask(standin, ADMIN, ADMIN, "/refresh")
        assert "not following any feeds" in text_of(nothing)
        missing = ask(standin, ADMIN, ADMIN, f"/feeds add {web.url('/nowhere.rss')}")
        assert text_of(missing).startswith(f"❌ Could not follow {web.url('/nowhere.rss')}\n")
        assert "404" in text_of(missing)
        not_a_feed = ask(standin, ADMIN, ADMIN, f"/feeds add {web.url('/news/robots')}")
        assert "not an RSS or Atom feed" in text_of(not_a_feed)
        assert "Usage: /feeds" in text_of(ask(standin, ADMIN, ADMIN, "/feeds follow x"))

        added = ask(standin, ADMIN, ADMIN, f"/feeds add {feed_url}")
        assert text_of(added).startswith(f"✅ Now following {FEED_TITLE}\n{feed_url}")
        again = ask(standin, ADMIN, ADMIN, f"/feeds add {feed_url}?utm_source=x")
        assert text_of(again).startswith("I'm already following")
        listed = text_of(ask(standin, ADMIN, ADMIN, "/feeds"))
        assert listed.startswith("Followed feeds (1)") and FEED_TITLE in listed
        assert feed_url in listed and "last polled: never" in listed

        since = standin.mark()
        progress = ask(standin, ADMIN, ADMIN, "/refresh")
        assert text_of(progress).startswith("🔄 Refreshing 1 feed…")
        second = ask(standin, ADMIN, ADMIN, "/refresh")
        assert text_of(second).startswith(
            "A feed refresh is already running:\n\n🔄 Refreshing 1 feed…")
        reindex = ask(standin, ADMIN, ADMIN, "/reindex")
        assert text_of(reindex).startswith("A feed refresh is already running:")
        final = standin.wait_for_message(
            ADMIN, lambda m: "Feeds refreshed" in text_of(m), timeout=WAIT, since=since)
        assert final["message_id"] == progress["message_id"]
        assert "Added 3 · updated 0 · unchanged 0 · skipped 0" in text_of(final)
        edits = [c.params["text"] for c in standin.calls[since:]
                 if c.method == "editMessageText"]
        assert any("Articles stored: " in t or "Embedded: " in t for t in edits[:-1]), edits

        answer = ask(standin, ALICE, ALICE, FLOOD_QUESTION)
        assert "Flood warning lifted" in source_lines(answer)[0], text_of(answer)
        assert buttons(answer)

        _, unchanged, _ = refresh_with_progress(standin)
        assert "Added 0 · updated 0" in text_of(unchanged)
        assert "Nothing new" in text_of(unchanged)
        assert feed.seen[-1].headers["if-none-match"] == '"v1"'  # a conditional GET
        listed = text_of(ask(standin, ADMIN, ADMIN, "/feeds"))
        assert "Items read: 3" in listed and "last polled: never" not in listed

        removed = ask(standin, ADMIN, ADMIN, f"/feeds remove {feed_url}")
        assert text_of(removed).startswith(f"Stopped following {FEED_TITLE}")
        assert "not following any feeds" in text_of(ask(standin, ADMIN, ADMIN, "/feeds"))
        gone = ask(standin, ADMIN, ADMIN, f"/feeds remove {feed_url}")
        assert text_of(gone).startswith(f"I'm not following {feed_url}")
        still = ask(standin, ALICE, ALICE, FLOOD_QUESTION)  # the articles stay
        assert "Flood warning lifted" in source_lines(still)[0]
    assert library.stats()["articles"] == 3


def test_remove_deletes_an_article_so_it_is_no_longer_cited(
    standin: TelegramStandin, library: Library, web: LocalWeb
) -> None:
    bridge = web.route("/news/bridge", gazette_page("Council approves the river bridge",
                                                    COUNCIL_STORY))
    flood = web.route("/news/flood", gazette_page("Flood warning lifted", FLOOD_STORY))
    library.ingest_urls([bridge, flood])
    with running_bot(config(standin), library):
        before = ask(standin, ALICE, ALICE, BRIDGE_QUESTION)
        assert "Council approves the river bridge" in text_of(before)

        refused = ask(standin, BOB, BOB, f"/remove {bridge}")
        assert ADMIN_ONLY in text_of(refused)
        assert "Usage: /remove ORIGIN_OR_URL" in text_of(ask(standin, ADMIN, ADMIN, "/remove"))
        unknown = ask(standin, ADMIN, ADMIN, f"/remove {web.url('/news/other')}")
        assert text_of(unknown).startswith("No article is stored under")

        # A variant of the URL (tracking, http): its canonical form is the origin.
        removed = ask(standin, ADMIN, ADMIN, f"/remove {bridge}/?utm_source=rss")
        origin = "https://" + bridge.split("://", 1)[1]
        assert text_of(removed) == f"🗑 Removed {origin}: it will no longer be cited."
        after = ask(standin, ALICE, ALICE, BRIDGE_QUESTION)
        assert "Council approves the river bridge" not in text_of(after), text_of(after)
        again = ask(standin, ADMIN, ADMIN, f"/remove {bridge}")
        assert text_of(again).startswith("No article is stored under")
        assert "Flood warning lifted" in text_of(ask(standin, ALICE, ALICE, FLOOD_QUESTION))
    assert library.stats()["articles"] == 1


# --------------------------------------------------------------------------------------
# The scheduled refresh
# --------------------------------------------------------------------------------------


def test_the_scheduled_refresh_reads_new_items_without_a_command(
    standin: TelegramStandin, library: Library, web: LocalWeb, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    feed, feed_url = gazette_feed(web, [story(web, "bridge", "Council approves the river bridge",
                                              "Tue, 05 Mar 2024 15:00:00 +0100")])
    web.route("/news/bridge", gazette_page("Council approves the river bridge", COUNCIL_STORY,
                                           delay=3.0))
    web.route("/news/robots", gazette_page("School wins robotics prize", ROBOTS_STORY))
    library.add_feed(feed_url)
    with running_bot(config(standin, refresh_minutes=2 / 60), library):  # every 2 s
        # An admin's refresh (slow: its page takes 3 s) is running when the job is due:
        # the scheduled run is skipped.
        _, final, _ = refresh_with_progress(standin)
        assert "Added 1 · updated 0" in text_of(final)
        assert any("scheduled feed refresh skipped: a feed refresh is running"
                   in r.getMessage() for r in caplog.records)

        mark = len(caplog.records)
        feed.publish([story(web, "robots", "School wins robotics prize",
                            "Wed, 06 Mar 2024 09:00:00 GMT"), *feed.stories],
                     "Wed, 06 Mar 2024 09:05:00 GMT")
        standin.wait_for(lambda: library.search_articles("robotics prize"), timeout=WAIT,
                         what="the new item stored by the scheduled refresh")
        standin.wait_for(lambda: any(
            r.getMessage().startswith("feed refresh finished: added 1")
            for r in caplog.records[mark:]), timeout=WAIT, what="the scheduled refresh's report")
        answer = ask(standin, ALICE, ALICE, ROBOT_QUESTION)
        assert "School wins robotics prize" in source_lines(answer)[0], text_of(answer)
    assert any(r.getMessage().startswith("scheduled feed refresh of 1 feeds started")
               for r in caplog.records)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not standin.sent_messages(ADMIN)[1:], "the scheduled refresh sends no message"
    assert not [r for r in caplog.records if r.name.startswith("apscheduler")], \
        "the scheduler's INFO lines stay out of the bot's log"


def test_the_refresh_interval_comes_from_the_environment_or_the_serve_flag(
    standin: TelegramStandin, library: Library, tmp_path: Path
) -> None:
    token = "123456:" + "A" * 35
    assert BotConfig.load({"TELEGRAM_BOT_TOKEN": token}).refresh_minutes == 60
    env = {"TELEGRAM_BOT_TOKEN": token, "CITEBOT_REFRESH_MINUTES": "15"}
    assert BotConfig.load(env).refresh_seconds == 900
    assert BotConfig.load(env, overrides={"refresh_minutes": 0.0}).refresh_minutes == 0
    for bad in ("-5", "soon", "nan"):
        with pytest.raises(SettingsError, match="CITEBOT_REFRESH_MINUTES"):
            BotConfig.load({**env, "CITEBOT_REFRESH_MINUTES": bad})
    result = CliRunner().invoke(main, [
        "--data-dir", str(tmp_path / "store"), "serve", "--env-file", str(tmp_path / "none"),
        "--refresh-minutes=-1"], env={"TELEGRAM_BOT_TOKEN": token})
    assert result.exit_code == 2 and "must be at least 0" in result.stderr

    for minutes, expected in ((30, [REFRESH_JOB_NAME]), (0, [])):
        app = build_application(config(standin, refresh_minutes=minutes), library)
        assert [job.name for job in app.job_queue.jobs()] == expected
        app.bot_data["services"].chatlog.close()


# --------------------------------------------------------------------------------------
# Date filters
# --------------------------------------------------------------------------------------


def test_since_and_until_pick_the_articles_a_question_is_answered_from(
    standin: TelegramStandin, library: Library, tmp_path: Path
) -> None:
    library.ingest([write_jsonl(tmp_path / "dated", "festivals.jsonl", DATED)])
    lyon, porto = DATED[0]["title"], DATED[1]["title"]
    with running_bot(config(standin), library):
        both = source_lines(ask(standin, ALICE, ALICE, ZORBLAT_QUESTION))
        assert len(both) == 2

        recent = ask(standin, ALICE, ALICE, f"/ask since:2024-01-01 {ZORBLAT_QUESTION}")
        assert text_of(recent).startswith("Only articles published since 2024-01-01.")
        assert [porto in line for line in source_lines(recent)] == [True], text_of(recent)
        older = ask(standin, ALICE, ALICE, f"/ask until:2023-12-31 {ZORBLAT_QUESTION}")
        assert [lyon in line for line in source_lines(older)] == [True], text_of(older)
        ranged = ask(standin, ALICE, ALICE,
                     f"until:2023-12 since:2023-01-01 {ZORBLAT_QUESTION}")  # plain message
        assert text_of(ranged).startswith(
            "Only articles published from 2023-01-01 to 2023-12.")
        assert [lyon in line for line in source_lines(ranged)] == [True], text_of(ranged)
        nothing = ask(standin, ALICE, ALICE, f"/ask since:2025 {ZORBLAT_QUESTION}")
        assert "I couldn't find that in the articles I have." in text_of(nothing)

        for bad, shown in [("since:2024-13-01", "since:2024-13-01"),
                           ("until:yesterday", "until:yesterday"),
                           ("since: ", "since: (no date given)")]:
            hint = text_of(ask(standin, ALICE, ALICE, f"/ask {bad} {ZORBLAT_QUESTION}"))
            assert hint.startswith(f"I couldn't read the date in {shown}."), hint
            assert "Write dates as YYYY-MM-DD" in hint and "Usage: /ask QUESTION" in hint
        backwards = text_of(ask(standin, ALICE, ALICE,
                                f"since:2024-02-01 until:2024-01-31 {ZORBLAT_QUESTION}"))
        assert backwards.startswith("since:2024-02-01 is after until:2024-01-31.")
        assert "Usage: /ask" in text_of(ask(standin, ALICE, ALICE, "/ask since:2024-01-01"))

        latest = text_of(ask(standin, ALICE, ALICE, "/latest since:2024-01-01"))
        assert porto in latest and lyon not in latest
        latest = text_of(ask(standin, ALICE, ALICE, "/latest 5 until:2023-12-31"))
        assert lyon in latest and porto not in latest
        hint = text_of(ask(standin, ALICE, ALICE, "/latest since:2024-99"))
        assert "since:2024-99." in hint and "Usage: /latest [N]" in hint


# --------------------------------------------------------------------------------------
# Also reported by
# --------------------------------------------------------------------------------------


def test_a_story_at_two_outlets_is_one_source_also_reported_by_the_other(
    standin: TelegramStandin, library: Library, tmp_path: Path
) -> None:
    library.ingest([write_jsonl(tmp_path / "wire", "wire.jsonl", WIRE_COPIES)])
    outlets = {record["outlet"] for record in WIRE_COPIES}
    with running_bot(config(standin), library):
        answer = ask(standin, ALICE, ALICE, STRIKE_QUESTION)
        lines = source_lines(answer)
        assert len(lines) == 1 and len(buttons(answer)) == 1, text_of(answer)
        cited = next(o for o in outlets if f" · {o} · " in lines[0])
        other = (outlets - {cited}).pop()
        assert lines[0].endswith(f"(also reported by {other})"), lines[0]

        since = standin.mark()
        standin.add_callback_query(ALICE, ALICE, answer["message_id"],
                                   buttons(answer)[0]["callback_data"])
        quote = standin.wait_for_message(ALICE, replying_to(answer["message_id"]),
                                         timeout=WAIT, since=since)
        assert f"Also reported by {other}" in text_of(quote)
        assert "forty-eight hours" in text_of(quote)
