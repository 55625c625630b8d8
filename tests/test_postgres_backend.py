"""The PostgreSQL backend end to end, on a real server (tests/postgres_server.py): the
CLI ingesting the samples into PostgreSQL and answering with citations, `citebot migrate`
from an embedded collection, the write lock between processes' writers, and the failures a
user meets — a wrong address, no pgvector, another schema version, a lost connection
(mid-question and mid-ingest) — each one clear line, with nothing committed lost."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
from click.testing import CliRunner, Result

from bot.cli import main
from index.storage.interfaces import StorageUnavailableError, StoreBusyError
from index.storage.postgres_store import PostgresStore
from tests.postgres_server import PostgresServer
from tests.storage_contract import BRIDGE, HARBOUR, copy_of


def citebot(*args: str) -> Result:
    result = CliRunner().invoke(main, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def test_the_cli_ingests_into_postgresql_and_answers_with_citations(
    database_url: str, samples: Path, tmp_path: Path
) -> None:
    ingested = citebot("--data-dir", str(tmp_path / "unused"), "--database-url", database_url,
                       "ingest", str(samples), "--json")
    assert ingested.exit_code == 0, ingested.output
    assert json.loads(ingested.stdout)["added"] == 11
    assert not (tmp_path / "unused" / "citebot.sqlite").exists()
    asked = citebot("--database-url", database_url, "ask",
                    "What annual sales figure in Asia is BMW aiming for by 2008?", "--json")
    answer = json.loads(asked.stdout)
    assert not answer["abstained"] and "150,000" in answer["answer"]
    assert "bbc-bmw-asia-sales.txt" in answer["citations"][0]["origin"]
    abstained = json.loads(citebot("--database-url", database_url, "ask",
                                   "Who won the 2014 FIFA World Cup final in Brazil?",
                                   "--json").stdout)
    assert abstained["abstained"] is True
    again = json.loads(citebot("--database-url", database_url, "reindex", "--json").stdout)
    assert (again["unchanged"], again["embedded_sentences"]) == (11, 0)


def test_migrate_copies_an_embedded_collection_without_embedding(
    database_url: str, samples: Path, tmp_path: Path
) -> None:
    data_dir = str(tmp_path / "store")
    assert citebot("--data-dir", data_dir, "ingest", str(samples)).exit_code == 0
    migrated = citebot("--data-dir", data_dir, "migrate", "--to", database_url, "--json")
    assert migrated.exit_code == 0, migrated.output
    report = json.loads(migrated.stdout)
    assert report["embedded"] == 0 and report["counts_match"] is True
    assert report["counts"]["articles"] == [11, 11] and report["vectors_copied"] > 100
    assert report["answers_same"] == report["answers_compared"] == 5
    assert report["bot_state"] is None  # no bot.sqlite: no bot tables created
    with psycopg.connect(database_url) as connection:
        assert connection.execute("SELECT to_regclass('bot_answers')").fetchone() == (None,)
    source = json.loads(citebot("--data-dir", data_dir, "latest", "3", "--json").stdout)
    copy = json.loads(citebot("--database-url", database_url, "latest", "3", "--json").stdout)
    assert source == copy  # same ids, titles and dates
    copied = PostgresStore.open(database_url)
    try:  # the vocabulary is made again as each article is copied in
        assert copied.similar_words("spenymoor", 1) == [("spennymoor", 1)]
    finally:
        copied.close()
    twice = citebot("--data-dir", data_dir, "migrate", "--to", database_url)
    assert twice.exit_code == 1 and "already holds 11 articles" in twice.output


def test_two_writers_never_run_together(database_url: str) -> None:
    first, second = PostgresStore.open(database_url), PostgresStore.open(database_url)
    try:
        with first.transaction():
            first.upsert_article(copy_of(HARBOUR))
            with pytest.raises(StoreBusyError, match="another citebot process is writing"):
                second.upsert_article(copy_of(BRIDGE))
            assert second.counts()["articles"] == 0  # not committed yet: not seen
        assert second.upsert_article(copy_of(BRIDGE)) == "added"
        assert first.counts()["articles"] == 2
    finally:
        first.close()
        second.close()


def test_a_bad_address_is_one_line(postgres_server: PostgresServer) -> None:
    unreachable = "postgresql://citebot:secret@127.0.0.1:9/citebot?connect_timeout=2"
    result = citebot("--database-url", unreachable, "stats")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: cannot connect to PostgreSQL at ")
    assert "secret" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    missing = postgres_server.url_of("no_such_database")
    result = citebot("--database-url", missing, "stats")
    assert result.exit_code == 2 and "no_such_database" in result.stderr
    result = citebot("--database-url", "mysql://u:pw@host/db", "stats")
    assert result.exit_code == 2 and "postgresql://" in result.stderr and "pw" not in result.stderr


def test_a_server_without_pgvector_is_refused_clearly(postgres_server: PostgresServer
                                                      ) -> None:
    with psycopg.connect(postgres_server.admin_url, autocommit=True) as admin:
        admin.execute("DROP ROLE IF EXISTS citebot_plain")
        admin.execute("CREATE ROLE citebot_plain LOGIN")
    url = postgres_server.fresh_database()
    plain = url.replace("postgres:@", "citebot_plain:@", 1)
    assert plain != url
    result = citebot("--database-url", plain, "stats")
    assert result.exit_code == 2
    assert "the pgvector extension is not available" in result.stderr
    assert "CREATE EXTENSION vector" in result.stderr


def test_another_schema_version_is_refused(database_url: str) -> None:
    PostgresStore.open(database_url).close()
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute("UPDATE citebot_meta SET value = '99' WHERE key = 'schema_version'")
    result = citebot("--database-url", database_url, "stats")
    assert result.exit_code == 2
    assert "schema 99" in result.stderr and "upgrade citebot" in result.stderr


def test_a_lost_connection_fails_one_call_and_the_next_reconnects(
    database_url: str, postgres_server: PostgresServer
) -> None:
    store = PostgresStore.open(database_url)
    try:
        store.upsert_article(copy_of(HARBOUR))
        with pytest.raises(StorageUnavailableError, match="lost the connection"):  # noqa: SIM117
            with store.snapshot():
                assert store.counts()["articles"] == 1
                _drop_connections(postgres_server, database_url)
                store.counts()
        _drop_connections(postgres_server, database_url)  # idle pool connections too
        assert store.counts()["articles"] == 1  # reconnected; nothing committed was lost
    finally:
        store.close()


def _drop_connections(server: PostgresServer, url: str) -> None:
    database = urlsplit(url).path.lstrip("/")
    with psycopg.connect(server.admin_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                      "WHERE datname = %s AND pid <> pg_backend_pid()", [database])


def test_a_second_process_sees_a_new_generation_at_its_next_question(
    database_url: str, samples: Path, tmp_path: Path
) -> None:
    """Two Library objects on one database stand for two bot replicas: what one ingests
    and makes live is answered by the other at its next question, without a restart."""
    from dataclasses import replace

    from index.library import Library
    from index.reading import READINGS, Reading, reading_key
    from index.settings import Settings
    from index.storage.embedding_cache import article_matrices
    from index.vectors.embedding_inputs import sentence_inputs, sentence_model, text_key

    settings = replace(Settings(data_dir=tmp_path / "unused"), database_url=database_url)
    first, second = Library(settings), Library(settings)
    try:
        first.ingest([samples / "bbc-bmw-asia-sales.txt"])
        question = "What does Electrolux plan for its factories?"
        assert second.ask(question).abstained or not any(
            "electrolux" in c.origin for c in second.ask(question).citations)
        before = second.live_index()
        first.ingest([samples / "bbc-electrolux-jobs.txt"])
        answer = second.ask(question)
        assert second.live_index() is not before
        assert any("bbc-electrolux-jobs.txt" in c.origin for c in answer.citations)
        sentences = sentence_model(settings.model)
        for article in second.store.all_articles():  # the readings and matrices ingest kept
            key = reading_key(article.title, article.body)
            blob = second.cache.get_blob(READINGS, key)
            assert blob and Reading.decode(blob) == Reading.of(article.title, article.body)
            keys = [text_key(text) for _s, _e, text in sentence_inputs(article.title,
                                                                        article.body)]
            matrix = second.cache.get_blob(article_matrices(sentences), key)
            assert matrix == second.cache.fill(sentences, keys, 384).tobytes()
        assert second.cache.count() == len(second.cache.keys(settings.model)) + len(
            second.cache.keys(sentences))
    finally:
        first.close()
        second.close()


@pytest.mark.parametrize("crash_at", ["stored", "index-recorded"])
def test_a_reindex_killed_mid_way_leaves_the_collection_as_it_was(
    database_url: str, samples: Path, crash_at: str
) -> None:
    import os
    import signal
    import subprocess
    import sys

    assert citebot("--database-url", database_url, "ingest", str(samples)).exit_code == 0
    before = json.loads(citebot("--database-url", database_url, "stats", "--json").stdout)
    edited = samples / "bbc-bmw-asia-sales.txt"
    edited.write_text(edited.read_text(encoding="utf-8") + "\nA late paragraph.\n",
                      encoding="utf-8")
    (samples / "bbc-super-casinos.txt").unlink()
    env = dict(os.environ, CITEBOT_CRASH_AT=crash_at)
    killed = subprocess.run([sys.executable, "-m", "bot.cli", "--database-url", database_url,
                             "reindex"], capture_output=True, text=True, env=env,
                            timeout=300, check=False)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    after = json.loads(citebot("--database-url", database_url, "stats", "--json").stdout)
    assert {k: after[k] for k in ("articles", "passages", "vectors", "index_generation")} == {
        k: before[k] for k in ("articles", "passages", "vectors", "index_generation")}
    store = PostgresStore.open(database_url)
    try:
        assert "late paragraph" not in (store.article_by_origin(str(edited.resolve()))
                                        or store.article_by_origin(str(edited))).body
    finally:
        store.close()
    again = json.loads(citebot("--database-url", database_url, "reindex", "--json").stdout)
    assert (again["updated"], again["removed"]) == (1, 1)


def test_one_process_per_period_gets_the_scheduled_refresh(database_url: str,
                                                           tmp_path: Path) -> None:
    """Replicas on one database: the first to claim a period's feed refresh runs it; the
    others skip it until the next period, and while it is still running; a writer holding
    the lock makes them skip; a turn whose process died is taken again after ten periods."""
    from datetime import UTC, datetime, timedelta

    from index.schedule import claim_turn, end_turn

    first, second = PostgresStore.open(database_url), PostgresStore.open(database_url)
    try:
        now = datetime(2026, 1, 1, tzinfo=UTC)
        assert claim_turn(first, "feed_refresh", 600, now=now)
        assert not claim_turn(second, "feed_refresh", 600, now=now + timedelta(seconds=30))
        later = now + timedelta(seconds=600)
        assert not claim_turn(second, "feed_refresh", 600, now=later), \
            "the first refresh, slower than its period, is still running"
        end_turn(first, "feed_refresh")
        with first.transaction():  # an ingest running elsewhere
            assert not claim_turn(second, "feed_refresh", 600, now=later)
        assert claim_turn(second, "feed_refresh", 600, now=later)
        assert not claim_turn(first, "feed_refresh", 600, now=later)
        # `second` dies mid-turn: its mark holds the turn for ten periods, then lapses.
        assert not claim_turn(first, "feed_refresh", 600, now=later + timedelta(seconds=5400))
        assert claim_turn(first, "feed_refresh", 600, now=later + timedelta(seconds=6000))
    finally:
        first.close()
        second.close()


def test_the_database_going_away_mid_ingest_loses_nothing_and_answers_go_on(
    database_url: str, postgres_server: PostgresServer, samples: Path, tmp_path: Path
) -> None:
    """The server drops every connection while an ingest holds the write lock: the ingest
    stops with one line (exit 2), the collection is what was committed before, questions
    are answered from it, and the same ingest run again succeeds."""
    import os
    import shutil
    import subprocess
    import sys
    import time

    from index.storage.postgres_db import WRITE_LOCK
    from tests.conftest import BBC, assert_stopped_with_one_line

    if not BBC.is_dir():
        pytest.skip("../shared/corpora/bbc is missing")
    assert citebot("--database-url", database_url, "ingest", str(samples)).exit_code == 0
    before = json.loads(citebot("--database-url", database_url, "stats", "--json").stdout)
    more = tmp_path / "more"
    more.mkdir()
    for path in sorted((BBC / "tech").glob("*.txt"))[:40]:
        shutil.copy(path, more / path.name)
    ingest = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "--database-url", database_url, "ingest", str(more)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ),
        cwd=Path(__file__).resolve().parents[1])
    database = urlsplit(database_url).path.lstrip("/")
    dropped = False
    deadline = time.monotonic() + 120
    with psycopg.connect(postgres_server.admin_url, autocommit=True) as admin:
        while ingest.poll() is None and not dropped and time.monotonic() < deadline:
            holding = admin.execute(
                "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
                "WHERE l.locktype = 'advisory' AND d.datname = %s AND l.granted "
                "AND l.classid = %s AND l.objid = %s",
                [database, WRITE_LOCK >> 32, WRITE_LOCK & 0xFFFFFFFF]).fetchone()[0]
            if holding:
                _drop_connections(postgres_server, database_url)
                dropped = True
            time.sleep(0.02)
    _stdout, stderr = ingest.communicate(timeout=120)
    assert dropped, f"the ingest ended before the connections could be dropped: {stderr}"
    assert_stopped_with_one_line(ingest.returncode, stderr, "connection to PostgreSQL")
    after = json.loads(citebot("--database-url", database_url, "stats", "--json").stdout)
    assert {k: after[k] for k in ("articles", "passages", "vectors", "index_generation")} == {
        k: before[k] for k in ("articles", "passages", "vectors", "index_generation")}
    answer = json.loads(citebot("--database-url", database_url, "ask", "--json",
                                "What does Electrolux plan for its factories?").stdout)
    assert not answer["abstained"]
    assert any("electrolux" in c["origin"] for c in answer["citations"])
    again = citebot("--database-url", database_url, "ingest", str(more), "--json")
    assert again.exit_code == 0 and json.loads(again.stdout)["added"] == 40
