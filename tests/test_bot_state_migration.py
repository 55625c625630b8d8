"""`citebot migrate` copies the bot's state too (`bot.state_migration`): answers logged in an
embedded library's `bot.sqlite` through the real chat log and votes are, after the move, the
same through the PostgreSQL chat log and votes — the answer a message belongs to, its
citations as shown, which were already shown, the votes and the usage numbers — with their
ids, so the buttons already sent keep working, and the next answer gets a higher id. A
target a bot has already answered from is refused before anything is copied, and a copy
the target refuses half-way leaves its bot tables as they were."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner, Result

from bot.chatlog import FILENAME, ChatLog, SQLiteChatLog
from bot.feedback import DOWN, UP, FeedbackLog, SQLiteFeedbackLog, Vote
from index.library import Library
from index.settings import Settings

CHAT, ALICE, BOB = 5005, 5005, 6006
ANSWERED = "What annual sales figure in Asia is BMW aiming for by 2008?"
DECLINED = "Who won the 2014 FIFA World Cup final in Brazil?"


def citebot(*args: str) -> Result:
    from bot.cli import main

    result = CliRunner().invoke(main, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


@pytest.fixture
def store(samples: Path, tmp_path: Path) -> Iterator[Path]:
    """An embedded library of the samples whose bot.sqlite holds three answers, as the bot
    logs them: ids 1, 3 and 4 (2 is gone, its vote left behind, as in a file an older bot
    left), the first with messages linked, a citation shown and two votes, the declined one
    voted 👎."""
    data_dir = tmp_path / "store"
    assert citebot("--data-dir", str(data_dir), "ingest", str(samples)).exit_code == 0
    library = Library(Settings.from_env(data_dir))
    chatlog, feedback = SQLiteChatLog(data_dir), SQLiteFeedbackLog(data_dir)
    try:
        generation = library.index_generation()
        cited = library.ask(ANSWERED)
        assert not cited.abstained and cited.citations
        first = chatlog.record_answer(CHAT, ALICE, ANSWERED, cited, generation)
        gone = chatlog.record_answer(CHAT, ALICE, ANSWERED, cited, generation)
        declined = chatlog.record_answer(CHAT, BOB, DECLINED, library.ask(DECLINED),
                                         generation)
        chatlog.link_messages(first, CHAT, [101, 102])
        chatlog.link_messages(declined, CHAT, [103])
        assert chatlog.claim_citation_display(first, 1)
        feedback.record(Vote(first, UP), ALICE)
        feedback.record(Vote(first, DOWN, "source"), BOB)
        feedback.record(Vote(declined, DOWN, "unknown"), BOB)
        feedback.record(Vote(gone, UP), BOB)  # left naming no answer: skipped
        again = chatlog.record_answer(CHAT, ALICE, "And in Europe?", cited, generation)
        assert (first, gone, declined, again) == (1, 2, 3, 4)
    finally:
        chatlog.close()
        feedback.close()
        library.close()
    with sqlite3.connect(data_dir / FILENAME) as connection:
        connection.execute("DELETE FROM citations WHERE answer_id = 2")
        connection.execute("DELETE FROM answers WHERE id = 2")
    connection.close()
    yield data_dir


def _postgres_logs(url: str) -> tuple[ChatLog, FeedbackLog, object]:
    from bot.postgres_chatlog import PostgresChatLog
    from bot.postgres_feedback import PostgresFeedbackLog
    from index.storage.postgres_db import PostgresDatabase

    database = PostgresDatabase(url, pool_size=2)
    return PostgresChatLog(database), PostgresFeedbackLog(database), database


def test_migrate_copies_the_bots_answers_citations_and_votes(store: Path,
                                                            database_url: str) -> None:
    migrated = citebot("--data-dir", str(store), "migrate", "--to", database_url, "--json")
    assert migrated.exit_code == 0, migrated.output
    report = json.loads(migrated.stdout)
    assert report["counts_match"] is True
    bot_state = report["bot_state"]
    assert (bot_state["answers"], bot_state["votes"], bot_state["largest_id"]) == (3, 3, 4)
    assert bot_state["skipped"] == 1
    assert bot_state["counts"] == {"answers": [3, 3], "messages": [3, 3],
                                   "citations": [2 * len(_citations(store, 1))] * 2,
                                   "shown citations": [1, 1], "votes": [3, 3]}
    before_log, before_votes = SQLiteChatLog(store), SQLiteFeedbackLog(store)
    after_log, after_votes, database = _postgres_logs(database_url)
    try:
        for message in (101, 102, 103, 999):
            assert after_log.answer_for_message(CHAT, message) == \
                before_log.answer_for_message(CHAT, message)
        assert after_log.answer_for_message(CHAT, 101).id == 1  # type: ignore[union-attr]
        assert after_log.answer(2) is None and after_log.answer(4) == before_log.answer(4)
        for answer_id in (1, 3, 4):
            assert after_log.citations(answer_id) == before_log.citations(answer_id)
        assert after_log.citations(1) and after_log.citations(1)[0].quote
        assert after_log.latest_answer(CHAT) == before_log.latest_answer(CHAT)
        assert not after_log.claim_citation_display(1, 1)  # shown before the move
        assert after_log.claim_citation_display(4, 1)  # never shown
        for answer_id in (1, 3, 4):
            assert after_votes.counts(answer_id) == before_votes.counts(answer_id)
        assert after_votes.vote_of(1, BOB) == before_votes.vote_of(1, BOB) == (DOWN, "source")
        assert after_votes.usage() == before_votes.usage()
        assert after_votes.usage().up == 1 and after_votes.usage().down == 2
        assert after_votes.daily() == before_votes.daily()
        assert after_votes.export_questions(store) == before_votes.export_questions(store)
        assert _vote_times(database_url) == _vote_times_sqlite(store)
        library = Library(Settings.from_env(store))
        try:
            newest = after_log.record_answer(CHAT, ALICE, ANSWERED, library.ask(ANSWERED))
        finally:
            library.close()
        assert newest == 5
    finally:
        before_log.close()
        before_votes.close()
        database.close()  # type: ignore[attr-defined]


def test_the_text_report_says_what_was_copied(store: Path, database_url: str) -> None:
    migrated = citebot("--data-dir", str(store), "migrate", "--to", database_url)
    assert migrated.exit_code == 0, migrated.output
    assert "copied 3 bot answers and 3 votes from bot.sqlite (rate limits are not copied); " \
        "skipped 1 row naming no answer" in migrated.output
    assert "bot answers: 3 → 3" in migrated.output and "MISMATCH" not in migrated.output


def test_a_target_a_bot_has_answered_from_is_refused_before_anything_is_copied(
    store: Path, database_url: str
) -> None:
    chatlog, _votes, database = _postgres_logs(database_url)
    from bot.postgres_state import migrate_bot_tables

    migrate_bot_tables(database)  # type: ignore[arg-type]
    chatlog.record_answer(77, 77, "anything?", _declined(store))
    try:
        refused = citebot("--data-dir", str(store), "migrate", "--to", database_url)
        assert refused.exit_code == 1
        assert refused.output.strip().splitlines() == [
            "Error: the target's bot tables already hold 1 answer: migrate bot.sqlite into a "
            "database no bot has answered from (two histories are not mixed)"]
        with psycopg.connect(database_url) as connection:
            assert connection.execute("SELECT count(*) FROM articles").fetchone() == (0,)
            assert connection.execute("SELECT count(*) FROM bot_answers").fetchone() == (1,)
    finally:
        database.close()  # type: ignore[attr-defined]


def test_a_copy_the_target_refuses_half_way_leaves_its_bot_tables_as_they_were(
    store: Path, database_url: str
) -> None:
    from bot.postgres_state import migrate_bot_tables
    from index.storage.postgres_db import PostgresDatabase

    database = PostgresDatabase(database_url, pool_size=1)
    migrate_bot_tables(database)
    database.close()
    with psycopg.connect(database_url, autocommit=True) as admin:
        admin.execute("CREATE FUNCTION citebot_test_refuse() RETURNS trigger LANGUAGE plpgsql "
                      "AS $$ BEGIN RAISE EXCEPTION 'no votes today'; END $$")
        admin.execute("CREATE TRIGGER citebot_test_refuse BEFORE INSERT ON bot_feedback "
                      "FOR EACH ROW EXECUTE FUNCTION citebot_test_refuse()")
    failed = citebot("--data-dir", str(store), "migrate", "--to", database_url)
    assert failed.exit_code == 1
    assert "Error: cannot copy bot.sqlite into postgresql://" in failed.output
    assert "no votes today; the bot's tables there are as they were (the collection itself " \
        "was copied)" in failed.output
    assert len(failed.output.strip().splitlines()) == 1
    with psycopg.connect(database_url) as connection:
        for table in ("bot_answers", "bot_answer_messages", "bot_citations",
                      "bot_shown_citations", "bot_feedback"):
            assert connection.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,)


def _citations(store: Path, answer_id: int) -> list[object]:
    chatlog = SQLiteChatLog(store)
    try:
        return list(chatlog.citations(answer_id))
    finally:
        chatlog.close()


def _declined(store: Path) -> object:
    library = Library(Settings.from_env(store))
    try:
        return library.ask(DECLINED)
    finally:
        library.close()


def _vote_times_sqlite(store: Path) -> list[tuple[int, int, datetime]]:
    with sqlite3.connect(store / FILENAME) as connection:
        rows = connection.execute("SELECT answer_id, user_id, updated_at FROM feedback "
                                  "WHERE answer_id IN (SELECT id FROM answers) "
                                  "ORDER BY answer_id, user_id").fetchall()
    connection.close()
    return [(a, u, datetime.fromisoformat(t)) for a, u, t in rows]


def _vote_times(url: str) -> list[tuple[int, int, datetime]]:
    with psycopg.connect(url) as connection:
        return connection.execute("SELECT answer_id, user_id, updated_at FROM bot_feedback "
                                  "ORDER BY answer_id, user_id").fetchall()
