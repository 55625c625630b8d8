"""Two bot replicas, one PostgreSQL: two real `citebot serve` processes in webhook mode
behind one webhook URL (a small balancer in this module, as a load balancer would be, that
sends each update to the replica the test names), the Bot API stand-in, and one database
(tests/postgres_server.py) holding the collection and the bot's own state.

Shown on real outputs (the messages the stand-in received, the feed requests the local web
saw, the processes' logs): a citation button, `/source N` and a follow-up reply on an
answer replica A sent are served by replica B, even a reply that reaches B before A has
linked the answer's message; votes from both count together; one user's
rate limit is counted across both; an article added through one replica is answered by
the other at its next question without a restart; an answer that can't be logged (its
database connection killed mid-insert) is still sent, with one line in the log, and the
next one is logged again; the scheduled feed refresh runs once per period, not once per
replica; a database that refuses connections for a while costs a notice and one log line,
and the bot is back with it without a restart. Neither replica writes a `bot.sqlite`.
"""

from __future__ import annotations

import itertools
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psycopg
import pytest

from bot import render
from index.library import Library
from index.settings import Settings
from tests.conftest import PROJECT, SAMPLES
from tests.local_web import COUNCIL_STORY, LocalWeb, Request
from tests.postgres_server import PostgresServer
from tests.telegram_standin import TelegramStandin
from tests.test_bot import (
    ADMIN,
    BMW_QUESTION,
    FESTIVALS,
    HUAWEI_QUESTION,
    HUAWEI_TITLE,
    OFF_TOPIC_QUESTION,
    WAIT,
    buttons,
    feedback_buttons,
    free_port,
    replying_to,
    text_of,
)
from tests.test_bot_sources import gazette_feed, gazette_page, story

JSON = dict[str, Any]
ALICE, BOB, CAROL, DAVE, ERIN, FRANK, GRACE, HENRY = (
    2002, 3003, 4004, 5005, 6006, 7007, 8008, 9009)
GROUP = -100600
SECRET = "replica-Secret_1"
RATE_LIMIT = 3
REFRESH_SECONDS = 2.0
OBSERVATORY = """---
outlet: Moor Gazette
url: https://moor.example.com/quillmoor
published_at: 2032-02-01
---
Quillmoor observatory opens its new telescope

The Quillmoor observatory opened a telescope with a mirror 12 metres wide on Monday. \
Astronomers from nine countries will share the observing time.
"""
OBSERVATORY_QUESTION = "How wide is the mirror of the new Quillmoor telescope?"


# --------------------------------------------------------------------------------------
# The balancer: one webhook URL, any replica behind it
# --------------------------------------------------------------------------------------


@dataclass
class Balancer:
    """An HTTP front for the replicas: each POST (body and secret header as sent) goes to
    the replica named by `target`; `deliveries` records (update_id, replica, status)."""

    replicas: dict[str, str] = field(default_factory=dict)
    target: str = "A"
    deliveries: list[tuple[int, str, int]] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/telegram"

    def start(self) -> Balancer:
        balancer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status = balancer.forward(body, dict(self.headers))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()
        return self

    def forward(self, body: bytes, headers: dict[str, str]) -> int:
        import json

        target = self.target
        kept = {k: v for k, v in headers.items()
                if k.lower() in ("content-type", "x-telegram-bot-api-secret-token")}
        request = urllib.request.Request(self.replicas[target], data=body, headers=kept,
                                         method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        except OSError:
            status = 502  # not listening yet: the stand-in retries
        self.deliveries.append((json.loads(body)["update_id"], target, status))
        return status

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


# --------------------------------------------------------------------------------------
# The replicas
# --------------------------------------------------------------------------------------


@dataclass
class Replicas:
    """Two running `citebot serve` processes on one database, and what they talk to."""

    standin: TelegramStandin
    balancer: Balancer
    web: LocalWeb
    database_url: str
    data_dirs: dict[str, Path]
    logs: dict[str, Path]
    processes: dict[str, subprocess.Popen[str]]
    feed_requests: list[float] = field(default_factory=list)

    def via(self, replica: str) -> Replicas:
        """Send the next updates to `replica` ("A" or "B")."""
        self.balancer.target = replica
        return self

    def ask(self, replica: str, chat_id: int, user_id: int, text: str, **options: Any) -> JSON:
        """`text` from a user, delivered to `replica`; the bot's first reply to it."""
        self.via(replica)
        since = self.standin.mark()
        update = self.standin.add_user_message(chat_id, user_id, text, **options)
        reply = self.standin.wait_for_message(
            chat_id, replying_to(update["message"]["message_id"]), timeout=WAIT, since=since)
        assert self.delivered_to(update["update_id"]) == replica
        return reply

    def press(self, replica: str, chat_id: int, user_id: int, message: JSON, data: str
              ) -> int:
        """A button press delivered to `replica`; the stand-in's call index before it."""
        self.via(replica)
        since = self.standin.mark()
        update = self.standin.add_callback_query(chat_id, user_id, message["message_id"], data)
        self.standin.wait_for(lambda: self.delivered_to(update["update_id"]), WAIT,
                              "the press delivered")
        assert self.delivered_to(update["update_id"]) == replica
        return since

    def press_for_notice(self, replica: str, chat_id: int, user_id: int, message: JSON,
                         data: str) -> str | None:
        """A button press delivered to `replica`; the notice it was answered with."""
        self.via(replica)
        update = self.standin.add_callback_query(chat_id, user_id, message["message_id"], data)
        query_id = update["callback_query"]["id"]
        answered = self.standin.wait_for(lambda: [
            a for a in self.standin.callback_answers()
            if a.get("callback_query_id") == query_id], WAIT, "the press answered")
        assert self.delivered_to(update["update_id"]) == replica
        return answered[0].get("text")

    def delivered_to(self, update_id: int) -> str | None:
        return next((target for uid, target, status in self.balancer.deliveries
                     if uid == update_id and status == 200), None)

    def log(self, replica: str) -> str:
        return self.logs[replica].read_text(encoding="utf-8", errors="replace")


def _serve(name: str, standin: TelegramStandin, balancer: Balancer, database_url: str,
           data_dir: Path, log: Path) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": standin.token,
           "CITEBOT_TELEGRAM_API_URL": f"{standin.base_url}/bot",
           "CITEBOT_ADMIN_IDS": str(ADMIN), "CITEBOT_ALLOW_PRIVATE_URLS": "1",
           "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "bot.cli", "--data-dir", str(data_dir),
               "--database-url", database_url, "serve", "--env-file", str(data_dir / "no.env"),
               "--webhook-url", balancer.url, "--webhook-secret", SECRET,
               "--listen", "127.0.0.1", "--port", str(port), "--webhook-path", "telegram",
               "--rate-limit", str(RATE_LIMIT), "--refresh-minutes", str(REFRESH_SECONDS / 60)]
    with log.open("w", encoding="utf-8") as stderr:
        process = subprocess.Popen(command, cwd=PROJECT, env=env, stdout=subprocess.DEVNULL,
                                   stderr=stderr, text=True)
    return process, f"http://127.0.0.1:{port}/telegram"


@pytest.fixture(scope="module")
def replicas(postgres_server: PostgresServer, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[Replicas]:
    root = tmp_path_factory.mktemp("replicas")
    database_url = postgres_server.fresh_database()
    articles = root / "articles"
    articles.mkdir()
    for sample in SAMPLES.iterdir():
        articles.joinpath(sample.name).write_bytes(sample.read_bytes())
    for name, text in FESTIVALS.items():
        articles.joinpath(name).write_text(text, encoding="utf-8")
    library = Library(replace(Settings.from_env(root / "setup"), database_url=database_url))
    try:
        assert library.ingest([articles]).added == 13
    finally:
        library.close()

    with TelegramStandin() as standin, LocalWeb() as web:
        balancer = Balancer().start()
        data_dirs = {name: root / f"replica-{name}" for name in "AB"}
        logs = {name: root / f"replica-{name}.log" for name in "AB"}
        processes: dict[str, subprocess.Popen[str]] = {}
        try:
            for name in "AB":
                data_dirs[name].mkdir()
                processes[name], balancer.replicas[name] = _serve(
                    name, standin, balancer, database_url, data_dirs[name], logs[name])
            standin.wait_for(lambda: sum(c.method == "setWebhook" and c.ok
                                         for c in standin.calls) >= 2, 60, "both replicas")
            assert standin.webhook["url"] == balancer.url
            yield Replicas(standin, balancer, web, database_url, data_dirs, logs, processes)
        finally:
            for process in processes.values():
                process.send_signal(signal.SIGINT)
            for process in processes.values():
                process.wait(WAIT)
            balancer.stop()
        for name, process in processes.items():
            log = logs[name].read_text(encoding="utf-8", errors="replace")
            assert process.returncode == 0, log[-3000:]
            assert "Traceback" not in log and " ERROR " not in log, log[-3000:]
            assert standin.token.split(":")[1] not in log
            assert not (data_dirs[name] / "bot.sqlite").exists(), "the state is in PostgreSQL"
        assert standin.errors() == []


# --------------------------------------------------------------------------------------
# The tests (in this order: they share the replicas; each uses its own users)
# --------------------------------------------------------------------------------------


def bold_text(message: JSON) -> list[str]:
    text = text_of(message)
    return [text[e["offset"]: e["offset"] + e["length"]] for e in message.get("entities", [])
            if e["type"] == "bold"]


def test_buttons_source_and_replies_on_replica_as_answer_are_served_by_replica_b(
    replicas: Replicas
) -> None:
    standin = replicas.standin
    answer = replicas.ask("A", ALICE, ALICE, HUAWEI_QUESTION)
    assert "[1]" in text_of(answer) and HUAWEI_TITLE in text_of(answer)
    button = buttons(answer)[0]["callback_data"]

    since = replicas.press("B", ALICE, ALICE, answer, button)
    quote = standin.wait_for_message(ALICE, replying_to(answer["message_id"]), timeout=WAIT,
                                     since=since)
    quoted = [b for b in bold_text(quote) if b in text_of(answer)]
    assert quoted, "B shows the sentence A's answer quoted, in bold, in its article"
    assert HUAWEI_TITLE in text_of(quote)

    since = replicas.press("A", ALICE, ALICE, answer, button)
    standin.wait_for(lambda: len(standin.callback_answers()) >= 2, WAIT, "the second notice")
    assert standin.callback_answers()[-1].get("text") == render.QUOTE_ALREADY_SHOWN
    assert not [c for c in standin.calls[since:] if c.method == "sendMessage"], \
        "the quote was posted once, whichever replica got the taps"

    source = replicas.ask("B", ALICE, ALICE, "/source 1")
    assert quoted[0] in bold_text(source), "/source on B finds A's answer as the latest"

    bmw = replicas.ask("A", ALICE, ALICE, BMW_QUESTION)
    assert "150,000" in text_of(bmw)
    follow_up = replicas.ask("B", ALICE, ALICE, "and in which year?",
                             reply_to_message_id=bmw["message_id"])
    assert "[1]" in text_of(follow_up), text_of(follow_up)
    with psycopg.connect(replicas.database_url) as connection:
        questions = [row[0] for row in connection.execute(
            "SELECT question FROM bot_answers WHERE chat_id = %s ORDER BY id", [ALICE])]
    assert questions == [HUAWEI_QUESTION, BMW_QUESTION, f"{BMW_QUESTION} and in which year?"]


def test_a_reply_reaching_b_before_a_has_linked_its_answer_waits_for_the_link(
    replicas: Replicas
) -> None:
    """The gap of test_bot's held-response test, across replicas: the stand-in holds the
    response of A's sendMessage (the user sees the answer, A does not know its id yet) while
    the user's reply to it reaches B. B finds the answer being sent in `bot_sending`, polls
    until A has linked it (seen: B's query in pg_stat_activity), then follows it up."""
    standin = replicas.standin
    standin.hold_responses("sendMessage")
    try:
        replicas.via("A")
        since = standin.mark()
        question = standin.add_user_message(GRACE, GRACE, BMW_QUESTION)
        answer = standin.wait_for_message(
            GRACE, replying_to(question["message"]["message_id"]), timeout=WAIT, since=since)
        replicas.via("B")
        reply = standin.add_user_message(GRACE, GRACE, "and in which year?",
                                         reply_to_message_id=answer["message_id"])
        with psycopg.connect(replicas.database_url, autocommit=True) as watcher:
            standin.wait_for(lambda: watcher.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND query LIKE 'SELECT EXISTS (SELECT 1 FROM bot_sending%'").fetchone()[0],
                WAIT, "B waiting for A's answer to be linked")
            assert not watcher.execute(
                "SELECT 1 FROM bot_answer_messages WHERE chat_id = %s AND message_id = %s",
                [GRACE, answer["message_id"]]).fetchone(), "A could not have linked it yet"
    finally:
        standin.release_responses("sendMessage")
    follow_up = standin.wait_for_message(
        GRACE, replying_to(reply["message"]["message_id"]), timeout=WAIT, since=since)
    assert replicas.delivered_to(reply["update_id"]) == "B"
    assert "[1]" in text_of(follow_up), text_of(follow_up)
    with psycopg.connect(replicas.database_url) as connection:
        questions = [row[0] for row in connection.execute(
            "SELECT question FROM bot_answers WHERE chat_id = %s ORDER BY id", [GRACE])]
    assert questions == [BMW_QUESTION, f"{BMW_QUESTION} and in which year?"]


def test_votes_pressed_on_both_replicas_count_together(replicas: Replicas) -> None:
    standin = replicas.standin
    standin.add_chat(GROUP, chat_type="group", title="Newsroom", bot_is_admin=True)
    answer = replicas.ask("A", GROUP, BOB, f"/ask {BMW_QUESTION}", chat_type="group")
    up = feedback_buttons(answer)["up"]["callback_data"]
    since = replicas.press("A", GROUP, BOB, answer, up)
    standin.wait_for_message(GROUP, lambda m: m["message_id"] == answer["message_id"]
                             and feedback_buttons(m)["up"]["text"] == "👍 1", WAIT, since)
    since = replicas.press("B", GROUP, CAROL, answer, up)
    redrawn = standin.wait_for_message(GROUP, lambda m: m["message_id"] == answer["message_id"],
                                       timeout=WAIT, since=since)
    assert feedback_buttons(redrawn)["up"]["text"] == "👍 2", "B counts A's vote too"


def test_one_users_rate_limit_is_counted_across_both_replicas(replicas: Replicas) -> None:
    standin = replicas.standin
    for number, replica in enumerate("ABA"[:RATE_LIMIT]):
        answered = replicas.ask(replica, DAVE, DAVE, f"{OFF_TOPIC_QUESTION} ({number})")
        assert text_of(answered) == "I couldn't find that in the articles I have."
    slow = replicas.ask("B", DAVE, DAVE, BMW_QUESTION)
    assert text_of(slow).startswith("Slow down a little"), text_of(slow)
    replicas.via("A")
    flood = standin.add_user_message(DAVE, DAVE, BMW_QUESTION)
    standin.wait_for(lambda: replicas.delivered_to(flood["update_id"]) == "A", WAIT,
                     "the flood message delivered")
    replicas.ask("A", DAVE, DAVE, "/help")  # handled after the flood message on A
    replicas.ask("A", ERIN, ERIN, OFF_TOPIC_QUESTION)
    replies = [m.get("reply_to_message", {}).get("message_id")
               for m in standin.sent_messages(DAVE)]
    assert flood["message"]["message_id"] not in replies, "warned once, then dropped"
    other = replicas.ask("B", FRANK, FRANK, BMW_QUESTION)
    assert "150,000" in text_of(other), "other users are still answered"


def test_an_article_added_through_one_replica_is_answered_by_the_other(
    replicas: Replicas, tmp_path: Path
) -> None:
    before = replicas.ask("B", FRANK, FRANK, OBSERVATORY_QUESTION)
    assert "Quillmoor" not in text_of(before)
    article = tmp_path / "quillmoor.txt"
    article.write_text(OBSERVATORY, encoding="utf-8")
    added = replicas.ask("A", ADMIN, ADMIN, f"/add {article}")
    assert "Added 1" in text_of(added), text_of(added)
    after = replicas.ask("B", FRANK, FRANK, OBSERVATORY_QUESTION)
    assert "12 metres" in text_of(after) and "Quillmoor observatory" in text_of(after), \
        text_of(after)


def test_an_answer_whose_logging_fails_is_still_sent_and_the_next_is_logged(
    replicas: Replicas
) -> None:
    """The database connection dies while the answer is being logged (a trigger makes the
    server end the session of whoever inserts an answer): the answer goes out without
    buttons, the log says why in one line; once the trigger is gone, answers are logged
    and have their buttons again, on a new pooled connection."""
    with psycopg.connect(replicas.database_url, autocommit=True) as admin:
        admin.execute("CREATE FUNCTION citebot_test_cut() RETURNS trigger LANGUAGE plpgsql AS "
                      "$$ BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); RETURN NEW; "
                      "END $$")
        admin.execute("CREATE TRIGGER citebot_test_cut BEFORE INSERT ON bot_answers "
                      "FOR EACH ROW EXECUTE FUNCTION citebot_test_cut()")
        try:
            cut = replicas.ask("A", ERIN, ERIN, HUAWEI_QUESTION)
        finally:
            admin.execute("DROP TRIGGER citebot_test_cut ON bot_answers")
            admin.execute("DROP FUNCTION citebot_test_cut()")
    assert HUAWEI_TITLE in text_of(cut) and not cut.get("reply_markup")
    lines = [line for line in replicas.log("A").splitlines()
             if "answer sent without its buttons" in line]
    assert len(lines) == 1 and "PostgreSQL" in lines[0], lines
    again = replicas.ask("A", ERIN, ERIN, HUAWEI_QUESTION)
    assert buttons(again), "logged again, with its buttons"


def test_the_scheduled_feed_refresh_runs_once_per_period_not_once_per_replica(
    replicas: Replicas
) -> None:
    web, standin = replicas.web, replicas.standin
    feed, feed_url = gazette_feed(web, [story(web, "bridge", "Council approves the river bridge",
                                              "Tue, 05 Mar 2024 15:00:00 +0100")])
    web.route("/news/bridge", gazette_page("Council approves the river bridge", COUNCIL_STORY))

    def counted(request: Request) -> Any:
        replicas.feed_requests.append(time.monotonic())
        return feed(request)

    web.route("/feed.rss", counted)
    followed = replicas.ask("B", ADMIN, ADMIN, f"/feeds add {feed_url}")
    assert "Wye Valley Gazette" in text_of(followed), text_of(followed)
    first = len(replicas.feed_requests)  # following fetches the feed once
    standin.wait_for(lambda: len(replicas.feed_requests) >= first + 3, 10 * REFRESH_SECONDS,
                     "three scheduled refreshes")
    scheduled = replicas.feed_requests[first:]
    gaps = [b - a for a, b in itertools.pairwise(scheduled)]
    # A claim waits 0.9 of a period after the last one; the fetch follows its claim by a
    # varying delay, hence the margin.
    assert min(gaps) > 0.6 * REFRESH_SECONDS, f"one refresh per period, not per replica: {gaps}"
    logs = replicas.log("A") + replicas.log("B")
    started = len(re.findall(r"scheduled feed refresh of 1 feeds started", logs))
    skipped = len(re.findall(r"skipped: another process sharing the collection has run it",
                             logs))
    assert len(scheduled) <= started <= len(scheduled) + 1, (started, len(scheduled))
    assert skipped >= 1, "both replicas had their turns due; the one that came second skipped"
    assert not [r for r in web.requests if r.path == "/news/bridge"][1:], \
        "the item was read once, by one replica"
    unfollowed = replicas.ask("A", ADMIN, ADMIN, f"/feeds remove {feed_url}")
    assert "Stopped following" in text_of(unfollowed), text_of(unfollowed)


def test_a_database_that_goes_away_costs_one_line_and_the_bot_is_back_with_it(
    replicas: Replicas, postgres_server: PostgresServer
) -> None:
    """The database refuses every connection for a while (its sessions ended too): a
    button press on B gets a notice that the database can't be reached, and B's log one
    line; once connections are allowed again, the same button shows its quote, without a
    restart (the pool reconnects)."""
    standin, url = replicas.standin, replicas.database_url
    answer = replicas.ask("A", HENRY, HENRY, HUAWEI_QUESTION)
    button = buttons(answer)[0]["callback_data"]
    postgres_server.allow_connections(url, False)
    try:
        postgres_server.drop_connections(url)
        notice = replicas.press_for_notice("B", HENRY, HENRY, answer, button)
        assert notice == render.STORAGE_UNAVAILABLE_SHORT
    finally:
        postgres_server.allow_connections(url, True)
    lines = [line for line in replicas.log("B").splitlines()
             if "update not handled: " in line]
    assert len(lines) == 1 and "PostgreSQL" in lines[0], lines
    deadline = time.monotonic() + 60
    while True:
        since = standin.mark()
        notice = replicas.press_for_notice("B", HENRY, HENRY, answer, button)
        if notice != render.STORAGE_UNAVAILABLE_SHORT:
            break
        assert time.monotonic() < deadline, "B did not get its database back"
    quote = standin.wait_for_message(HENRY, replying_to(answer["message_id"]), timeout=WAIT,
                                     since=since)
    assert HUAWEI_TITLE in text_of(quote)
