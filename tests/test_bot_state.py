"""The bot's own state on both backends (`bot.state`): the chat log, the votes and the rate
limit behave the same in `bot.sqlite` / memory and in PostgreSQL; on PostgreSQL two
processes' objects on one database ("replicas") share everything — answers, the one-time
display of a quote, votes, and a rate limit counted atomically under concurrent checks —
and a database that goes away costs one log line, not the bot, and is used again once back.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from bot.chatlog import ChatLog, SQLiteChatLog
from bot.feedback import DOWN, UP, FeedbackLog, SQLiteFeedbackLog, Vote
from bot.ratelimit import QuestionRateLimiter, RateLimiter, Verdict
from index.qa.answer import Answer, Citation
from index.storage.interfaces import StorageUnavailableError
from tests.postgres_server import PostgresServer

CHAT, ALICE, BOB, CAROL = 2002, 2002, 3003, 4004


def answer(text: str = "It drew 40,000 visitors [1].", *, cited: bool = True) -> Answer:
    citation = Citation(
        n=1, article_id=7, passage_id=70, title="Zorblat festival in Lyon", origin="/a/lyon.txt",
        url="https://lyon.example.com/zorblat", outlet="Lyon Daily", author=None,
        published_at="2031-05-02", quote="drew 40,000 visitors", start=25, end=45, score=0.8,
        also_reported_by=["Porto News"], spans=[(25, 45)])
    return Answer(question="How many visitors?", answer=text, abstained=not cited,
                  citations=[citation] if cited else [], retrieved=[], timings_ms={})


# --------------------------------------------------------------------------------------
# Backends: each fixture gives two "replicas" of the state (for SQLite, two objects on
# one file in one process; the shared-state checks are for PostgreSQL only).
# --------------------------------------------------------------------------------------


@pytest.fixture
def bot_database(database_url: str) -> Iterator[object]:
    from bot.postgres_state import migrate_bot_tables
    from index.storage.postgres_db import PostgresDatabase

    database = PostgresDatabase(database_url, pool_size=4)
    migrate_bot_tables(database)
    yield database
    database.close()


def _sqlite_logs(tmp_path: Path) -> tuple[ChatLog, ChatLog, FeedbackLog, FeedbackLog]:
    return (SQLiteChatLog(tmp_path), SQLiteChatLog(tmp_path), SQLiteFeedbackLog(tmp_path),
            SQLiteFeedbackLog(tmp_path))


@pytest.fixture(params=["sqlite", "postgres"])
def logs(request: pytest.FixtureRequest, tmp_path: Path
         ) -> Iterator[tuple[ChatLog, ChatLog, FeedbackLog, FeedbackLog]]:
    if request.param == "sqlite":
        opened = _sqlite_logs(tmp_path)
    else:
        from bot.postgres_chatlog import PostgresChatLog
        from bot.postgres_feedback import PostgresFeedbackLog
        from index.storage.postgres_db import PostgresDatabase

        url = request.getfixturevalue("database_url")
        first, second = PostgresDatabase(url, pool_size=2), PostgresDatabase(url, pool_size=2)
        from bot.postgres_state import migrate_bot_tables

        migrate_bot_tables(first)
        migrate_bot_tables(second)  # a second replica starting: nothing to do
        request.addfinalizer(first.close)
        request.addfinalizer(second.close)
        opened = (PostgresChatLog(first), PostgresChatLog(second),
                  PostgresFeedbackLog(first), PostgresFeedbackLog(second))
    yield opened
    for log in opened:
        log.close()


# --------------------------------------------------------------------------------------
# The chat log and the votes, on both backends
# --------------------------------------------------------------------------------------


def test_an_answer_logged_by_one_is_found_by_the_other_with_its_citations(logs: tuple) -> None:
    mine, other, _, _ = logs
    answer_id = mine.record_answer(CHAT, ALICE, "How many visitors?", answer(), 3)
    mine.link_messages(answer_id, CHAT, [501, 502])
    found = other.answer_for_message(CHAT, 502)
    assert found is not None and found.id == answer_id and found.question == "How many visitors?"
    assert not found.abstained and found.user_id == ALICE
    assert datetime.fromisoformat(found.created_at).tzinfo is not None
    assert other.answer_for_message(CHAT, 999) is None
    assert other.answer_for_message(-1, 502) is None, "message ids are per chat"
    [citation] = other.citations(answer_id)
    assert (citation.quote, citation.start, citation.end) == ("drew 40,000 visitors", 25, 45)
    assert citation.also_reported_by == ["Porto News"] and citation.spans == [(25, 45)]
    assert other.citation(answer_id, 2) is None

    declined = mine.record_answer(CHAT, ALICE, "Who won?", answer("I couldn't find that.",
                                                                  cited=False))
    assert other.latest_answer(CHAT).id == answer_id, "the newest answer with citations"
    assert other.latest_answer(CHAT, with_citations=False).id == declined
    assert other.latest_answer(4004) is None
    mine.link_messages(declined, CHAT, [502])  # a message re-linked wins
    assert other.answer_for_message(CHAT, 502).id == declined


def test_a_quote_is_claimed_once_across_both(logs: tuple) -> None:
    mine, other, _, _ = logs
    answer_id = mine.record_answer(CHAT, ALICE, "q", answer())
    results: list[bool] = []
    barrier = threading.Barrier(8)

    def tap(log: ChatLog) -> None:
        barrier.wait()
        results.append(log.claim_citation_display(answer_id, 1))

    threads = [threading.Thread(target=tap, args=(log,)) for log in [mine, other] * 4]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 7 + [True]


def test_votes_counts_usage_and_export_agree_on_both_backends(logs: tuple) -> None:
    mine, _, votes, other_votes = logs
    good = mine.record_answer(CHAT, ALICE, "How many visitors?", answer(), 5)
    declined = mine.record_answer(CHAT, BOB, "Who won the cup?",
                                  answer("I couldn't find that.", cited=False), 5)
    votes.record(Vote(good, DOWN), ALICE)
    other_votes.record(Vote(good, DOWN, "source"), ALICE)  # the same user, another replica
    other_votes.record(Vote(good, DOWN), ALICE)  # a plain 👎 keeps the reason
    votes.record(Vote(good, UP), BOB)
    votes.record(Vote(declined, DOWN, "unknown"), BOB)
    assert other_votes.counts(good) == (1, 1) and votes.counts(declined) == (0, 1)
    assert other_votes.vote_of(good, ALICE) == ("down", "source")
    assert votes.vote_of(good, 4004) is None

    usage = other_votes.usage(7)
    assert (usage.questions, usage.answered, usage.declined, usage.up, usage.down) == (
        2, 1, 1, 1, 2)
    assert usage.reasons == {"source": 1, "unknown": 1}
    today = other_votes.daily(7)[-1]
    assert (today.day, today.answered, today.declined, today.up, today.down) == (
        datetime.now(UTC).date().isoformat(), 1, 1, 1, 2)
    assert [d.answered for d in votes.daily(3)[:-1]] == [0, 0]

    records = {r["question"]: r for r in votes.export_questions(Path("/a"))}
    assert records["How many visitors?"]["article"] == "lyon.txt"
    assert records["How many visitors?"]["reasons"] == ["wrong source"]
    assert records["How many visitors?"]["index_generation"] == 5
    assert records["Who won the cup?"]["answer"] is None, "unanswerable"


# --------------------------------------------------------------------------------------
# The rate limit
# --------------------------------------------------------------------------------------


@pytest.fixture(params=["memory", "postgres"])
def limiters(request: pytest.FixtureRequest) -> Callable[[int, float], tuple[RateLimiter, ...]]:
    """limiters(limit, window) → two limiters that should count as one (for memory, the
    same object twice)."""
    if request.param == "memory":
        def memory(limit: int, window: float) -> tuple[RateLimiter, ...]:
            shared = QuestionRateLimiter(limit, window)
            return shared, shared
        return memory
    from bot.postgres_ratelimit import PostgresRateLimiter

    database = request.getfixturevalue("bot_database")
    return lambda limit, window: (PostgresRateLimiter(database, limit, window),
                                  PostgresRateLimiter(database, limit, window))


def test_the_limit_warns_once_per_window_then_drops(limiters: Callable) -> None:
    first, second = limiters(2, 60.0)
    assert [first.check(ALICE), second.check(ALICE)] == [Verdict.ALLOW, Verdict.ALLOW]
    assert second.check(ALICE) is Verdict.WARN
    assert 0 < first.retry_in(ALICE) <= 60
    assert [first.check(ALICE), second.check(ALICE)] == [Verdict.DROP, Verdict.DROP]
    assert first.check(BOB) is Verdict.ALLOW, "other users are not affected"
    assert first.retry_in(BOB) == 0.0
    unlimited, _ = limiters(0, 60.0)
    assert all(unlimited.check(ALICE) is Verdict.ALLOW for _ in range(5))


def test_the_window_slides(limiters: Callable) -> None:
    first, second = limiters(1, 1.0)
    assert first.check(ALICE) is Verdict.ALLOW
    assert second.check(ALICE) is Verdict.WARN
    deadline = datetime.now(UTC).timestamp() + 10
    while (verdict := second.check(ALICE)) is not Verdict.ALLOW:
        assert verdict is Verdict.DROP and datetime.now(UTC).timestamp() < deadline
        threading.Event().wait(0.1)
    assert first.check(ALICE) is Verdict.WARN, "a new window: warned again once"


def test_concurrent_checks_on_two_replicas_allow_exactly_the_limit(bot_database: object,
                                                                   database_url: str) -> None:
    from bot.postgres_ratelimit import PostgresRateLimiter
    from index.storage.postgres_db import PostgresDatabase

    other = PostgresDatabase(database_url, pool_size=6)  # a second process's pool
    replicas = [PostgresRateLimiter(database, 5, 60.0) for database in (bot_database, other)]
    verdicts: list[Verdict] = []
    barrier = threading.Barrier(12)

    def ask(limiter: RateLimiter) -> None:
        barrier.wait()
        verdicts.append(limiter.check(ALICE))

    threads = [threading.Thread(target=ask, args=(replicas[i % 2],)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    other.close()
    assert verdicts.count(Verdict.ALLOW) == 5
    assert verdicts.count(Verdict.WARN) == 1 and verdicts.count(Verdict.DROP) == 6


# --------------------------------------------------------------------------------------
# The database going away
# --------------------------------------------------------------------------------------


def test_lost_connections_are_replaced_and_nothing_committed_is_lost(
    bot_database: object, database_url: str, postgres_server: PostgresServer
) -> None:
    from bot.postgres_chatlog import PostgresChatLog

    log = PostgresChatLog(bot_database)
    answer_id = log.record_answer(CHAT, ALICE, "q", answer())
    postgres_server.drop_connections(database_url)
    assert log.answer(answer_id).question == "q", "the pool reconnected"


def test_a_database_that_is_gone_is_one_line_and_the_limit_falls_back_then_recovers(
    bot_database: object, database_url: str, postgres_server: PostgresServer,
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot import postgres_state
    from bot.postgres_chatlog import PostgresChatLog
    from bot.postgres_ratelimit import PostgresRateLimiter

    monkeypatch.setattr(postgres_state, "WAIT_SECONDS", 0.5)  # not 5 s per call meanwhile

    log, limiter = PostgresChatLog(bot_database), PostgresRateLimiter(bot_database, 1, 60.0)
    assert limiter.check(ALICE) is Verdict.ALLOW
    postgres_server.allow_connections(database_url, False)
    try:
        postgres_server.drop_connections(database_url)
        with pytest.raises(StorageUnavailableError) as raised:
            log.answer(1)
        assert "\n" not in str(raised.value) and "PostgreSQL" in str(raised.value)
        caplog.set_level(logging.INFO, logger="bot.postgres_ratelimit")
        assert limiter.check(BOB) is Verdict.ALLOW  # counted in memory meanwhile
        assert limiter.check(BOB) is Verdict.WARN
        lines = [r for r in caplog.records if r.name == "bot.postgres_ratelimit"]
        assert len(lines) == 1 and "counted by this process alone" in lines[0].getMessage()
    finally:
        postgres_server.allow_connections(database_url, True)
    # The pool reconnects in the background (with backoff): wait for it, then the
    # database's count holds again (ALICE asked once before the outage).
    deadline = time.monotonic() + 30
    while "counted in the database again" not in caplog.text:
        assert time.monotonic() < deadline, "the pool did not reconnect"
        limiter.check(CAROL)
    assert limiter.check(ALICE) is Verdict.WARN
    assert log.answer(1) is None


# --------------------------------------------------------------------------------------
# The bot's schema, and the CLI's view of the votes on PostgreSQL
# --------------------------------------------------------------------------------------


def test_the_bots_tables_are_versioned_and_a_newer_version_is_refused(bot_database: object,
                                                                      database_url: str
                                                                      ) -> None:
    from bot.postgres_state import BOT_SCHEMA, migrate_bot_tables

    with psycopg.connect(database_url, autocommit=True) as connection:
        version = connection.execute("SELECT value FROM citebot_meta "
                                     "WHERE key = 'bot_schema_version'").fetchone()
        assert version == (str(BOT_SCHEMA.version),)
        migrate_bot_tables(bot_database)  # nothing to do
        connection.execute("UPDATE citebot_meta SET value = '99' "
                           "WHERE key = 'bot_schema_version'")
    with pytest.raises(StorageUnavailableError, match=r"bot state of schema 99.*upgrade citebot"):
        migrate_bot_tables(bot_database)


def test_citebot_stats_and_feedback_export_read_the_votes_in_postgresql(
    database_url: str, tmp_path: Path
) -> None:
    import json

    from click.testing import CliRunner

    from bot.cli import main
    from bot.postgres_chatlog import PostgresChatLog
    from bot.postgres_feedback import PostgresFeedbackLog
    from bot.postgres_state import migrate_bot_tables
    from index.storage.postgres_db import PostgresDatabase

    def citebot(*args: str) -> object:
        return CliRunner().invoke(main, ["--data-dir", str(tmp_path / "unused"),
                                         "--database-url", database_url, *args])

    fresh = citebot("stats", "--json")
    assert fresh.exit_code == 0, fresh.output
    assert json.loads(fresh.stdout)["bot_usage"] is None
    assert "no bot answers in postgresql://" in citebot("feedback", "export",
                                                        str(tmp_path / "x.jsonl")).output
    with psycopg.connect(database_url) as connection:
        assert connection.execute("SELECT to_regclass('bot_answers')").fetchone() == (None,), \
            "looking creates nothing"

    database = PostgresDatabase(database_url, pool_size=2)
    try:
        migrate_bot_tables(database)
        answer_id = PostgresChatLog(database).record_answer(CHAT, ALICE, "q?", answer(), 1)
        PostgresFeedbackLog(database).record(Vote(answer_id, DOWN, "source"), ALICE)
    finally:
        database.close()
    usage = json.loads(citebot("stats", "--json").stdout)["bot_usage"]
    assert (usage["questions"], usage["thumbs_down"], usage["reasons"]) == (1, 1, {"source": 1})
    exported = citebot("feedback", "export", str(tmp_path / "feedback.jsonl"))
    assert exported.exit_code == 0 and "wrote 1 questions" in exported.output, exported.output
    assert not (tmp_path / "unused" / "bot.sqlite").exists()
