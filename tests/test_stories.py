"""Stories: near-duplicate grouping, removal, publication dates and recency.

Duplicates are checked through the real store (SQLite) and through the CLI with wire copies
served by the local web server; removal and dates through the CLI with the real model and
FAISS index.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import faiss
import numpy as np
import pytest
from click.testing import Result

from index.library import Library
from index.qa.evidence import StoryEvidence
from index.qa.features import recency_of
from index.qa.question import Question, asks_for_recent
from index.qa.tuning import AnswerTuning
from index.settings import Settings
from index.sources import dedupe
from index.sources.article import ArticleDraft
from index.storage import StoredArticle
from index.storage.embedding_cache import EmbeddingCache
from index.storage.sqlite_store import _MIGRATIONS, SCHEMA_VERSION, SQLiteStore
from tests.local_web import LocalWeb, Reply, article_page

# A wire story as two outlets ran it: another headline, two small edits and a local line
# added at the second.
WIRE = [
    "Dock workers at the port of Rotterdam walked out on Monday in a dispute over the "
    "automation of container terminals, leaving dozens of ships waiting at anchor.",
    "The FNV union said the strike would last forty-eight hours and that further stoppages "
    "were planned for next week unless the port operators agreed to guarantee jobs.",
    "Operators say the new automated cranes are needed to keep Rotterdam competitive with "
    "Antwerp and Hamburg, and that no permanent staff will lose their jobs.",
    "Shipping lines warned of delays of up to a week for goods bound for Germany and "
    "Switzerland, which depend on barges that leave from the Rotterdam terminals.",
    "The last major strike at the port, in 2016, cost the local economy an estimated "
    "thirty million euros a day, according to the chamber of commerce.",
]
WIRE_COPY = [
    WIRE[0].replace("on Monday", "early on Monday"),
    *WIRE[1:3],
    WIRE[3].replace("a week", "seven days"),
    WIRE[4],
    "Local hauliers told the Gazette they had already cancelled Tuesday's collections.",
]
# The same report updated in place under its headline: one paragraph rewritten, another
# added — too changed for the text alone to call it a copy.
UPDATED = [
    WIRE[0].replace("on Monday", "on Monday morning"),
    *WIRE[1:3],
    "Shipping lines warned of long delays.",
    "Talks between the union and the port authority broke up on Monday evening without "
    "agreement, both sides said, and no date has been set for them to resume.",
    WIRE[4],
]
OTHER = [
    "The city council voted on Tuesday to build a new footbridge over the river Wye, "
    "linking the old market square to the railway station.",
    "The bridge will cost twelve million pounds and should open in two years.",
]


def draft(origin: str, paragraphs: list[str], **fields: str) -> ArticleDraft:
    return ArticleDraft(origin=origin, title=fields.pop("title", "Port strike"),
                        body="\n\n".join(paragraphs), **fields)


def stories_of(store: SQLiteStore) -> dict[str, int]:
    return dict(store.db.execute("SELECT origin, story_id FROM articles").fetchall())


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    opened = SQLiteStore(tmp_path / "store")
    yield opened
    opened.close()


# --- the rule and the store --------------------------------------------------------------


def test_the_rule_groups_edited_and_cut_copies_only() -> None:
    wire = dedupe.shingles(" ".join(WIRE))
    edited = dedupe.similarity(wire, dedupe.shingles(" ".join(WIRE_COPY)))
    assert edited.near_duplicate and edited.jaccard >= dedupe.SAME_TEXT_JACCARD
    cut = dedupe.similarity(wire, dedupe.shingles(" ".join(WIRE[:3])))
    assert cut.jaccard < dedupe.SAME_TEXT_JACCARD and cut.near_duplicate  # containment
    other = dedupe.similarity(wire, dedupe.shingles(" ".join(OTHER)))
    assert not other.near_duplicate
    follow_up = dedupe.similarity(wire, dedupe.shingles(" ".join(WIRE[:2] + OTHER)))
    assert not follow_up.near_duplicate  # shares two paragraphs, but is another story
    assert dedupe.shingles("Hello, WORLD!") == dedupe.shingles("hello world")


def test_an_update_under_the_same_headline_is_the_same_story() -> None:
    found = dedupe.similarity(dedupe.shingles(" ".join(WIRE)),
                              dedupe.shingles(" ".join(UPDATED)))
    assert dedupe.MIN_JACCARD <= found.jaccard < dedupe.SAME_TEXT_JACCARD
    assert found.containment < dedupe.CONTAINED and not found.near_duplicate
    assert found.same_story(same_headline=True) and not found.same_story(same_headline=False)
    assert dedupe.headline_key("  Port  STRIKE ") == dedupe.headline_key("Port strike")


def test_store_joins_same_headline_updates_only(store: SQLiteStore) -> None:
    store.upsert_article(draft("a", WIRE))
    store.upsert_article(draft("update", UPDATED, title="Dockers walk out"))
    assert stories_of(store)["update"] != stories_of(store)["a"]  # too changed on its own
    assert store.upsert_article(draft("update", UPDATED, title="PORT  strike")) == "updated"
    assert stories_of(store)["update"] == stories_of(store)["a"]


def test_migration_to_schema_4_joins_same_headline_updates(tmp_path: Path) -> None:
    data_dir = tmp_path / "store"
    store = SQLiteStore(data_dir)
    try:
        store.upsert_article(draft("a", WIRE))
        store.upsert_article(draft("update", UPDATED))
        store.upsert_article(draft("bridge", OTHER))
        with store.transaction():  # as schema 3 stored them: the update a story of its own
            store.db.execute("UPDATE articles SET story_id=id")
            store.db.execute("UPDATE meta SET value='3' WHERE key='schema_version'")
    finally:
        store.close()
    store = SQLiteStore(data_dir)
    try:
        stories = stories_of(store)
        assert stories["update"] == stories["a"] != stories["bridge"]
        assert store.get_meta("schema_version") == str(SCHEMA_VERSION)
    finally:
        store.close()


def test_store_groups_near_duplicates_and_regroups_when_the_head_goes(store: SQLiteStore) -> None:
    store.upsert_article(draft("a", WIRE))
    store.upsert_article(draft("copy", WIRE_COPY, title="Rotterdam dockers strike"))
    store.upsert_article(draft("first-half", WIRE[:3]))
    store.upsert_article(draft("second-half", WIRE[2:]))
    store.upsert_article(draft("exact", WIRE))
    store.upsert_article(draft("bridge", OTHER))
    stories = stories_of(store)
    head = stories["a"]
    assert {o for o, s in stories.items() if s == head} == {
        "a", "copy", "first-half", "second-half", "exact"}
    assert stories["bridge"] != head

    store.remove_origins(["a", "copy"])  # the halves share one paragraph only: they part
    stories = stories_of(store)
    assert stories["first-half"] == stories["exact"]
    assert stories["second-half"] not in (stories["exact"], stories["bridge"])
    assert store.db.execute("SELECT COUNT(*) FROM story_bands WHERE article_id NOT IN "
                            "(SELECT id FROM articles)").fetchone()[0] == 0


def test_an_edited_article_finds_its_story_again(store: SQLiteStore) -> None:
    store.upsert_article(draft("a", WIRE))
    store.upsert_article(draft("b", WIRE_COPY))
    assert store.upsert_article(draft("b", OTHER)) == "updated"
    assert stories_of(store)["b"] != stories_of(store)["a"]
    store.upsert_article(draft("b", WIRE_COPY))
    assert stories_of(store)["b"] == stories_of(store)["a"]


def test_migration_from_schema_1_groups_existing_near_duplicates(tmp_path: Path) -> None:
    data_dir = tmp_path / "old"
    data_dir.mkdir()
    connection = sqlite3.connect(data_dir / SQLiteStore.FILENAME)
    for statement in _MIGRATIONS[1]:
        connection.execute(statement)
    connection.execute("INSERT INTO meta VALUES('schema_version', '1')")
    for n, paragraphs in enumerate([WIRE, OTHER, WIRE_COPY], start=1):
        connection.execute(
            "INSERT INTO articles(id, origin, title, body, body_hash, content_hash, story_id, "
            "ingested_at, updated_at) VALUES(?, ?, 'T', ?, ?, 'c', ?, 'now', 'now')",
            [n, f"old-{n}", "\n\n".join(paragraphs), f"hash-{n}", n])
    connection.execute("INSERT INTO embeddings VALUES('m', 'k', ?)",
                       [np.ones(4, dtype=np.float32).tobytes()])
    connection.commit()
    connection.close()

    store = SQLiteStore(data_dir)
    try:
        assert store.get_meta("schema_version") == str(SCHEMA_VERSION)
        assert stories_of(store) == {"old-1": 1, "old-2": 2, "old-3": 1}
        assert store.feeds() == []
        # schema 3: the cache has its own file
        assert not store.db.execute(
            "SELECT 1 FROM sqlite_master WHERE name='embeddings'").fetchone()
    finally:
        store.close()
    cache = EmbeddingCache(data_dir)
    try:
        assert cache.get("m", ["k"])["k"].tolist() == [1.0, 1.0, 1.0, 1.0]
    finally:
        cache.close()


# --- through the CLI ---------------------------------------------------------------------


def _json(result: Result) -> dict:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _outlet_page(outlet: str, title: str, paragraphs: list[str]) -> Reply:
    head = (f'<meta property="og:site_name" content="{outlet}">'
            '<meta property="article:published_time" content="2024-05-13T09:00:00Z">')
    return Reply(article_page(title=title, paragraphs=paragraphs, head=head))


@pytest.fixture
def web(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalWeb]:
    monkeypatch.setenv("CITEBOT_ALLOW_PRIVATE_URLS", "1")
    with LocalWeb() as server:
        yield server


def _ingest_two_outlets(cli: Callable[..., Result], web: LocalWeb, samples: Path) -> dict:
    """The wire story at the Daily Courier and, edited, at the Harbour Gazette, with the
    bundled samples; returns the ingest report."""
    daily = web.route("/world/rotterdam-strike",
                      _outlet_page("Daily Courier", "Rotterdam dockers strike", WIRE))
    gazette = web.route("/business/port-walkout",
                        _outlet_page("Harbour Gazette", "Port walkout over robot cranes",
                                     WIRE_COPY))
    return _json(cli("ingest", daily, gazette, str(samples), "--json"))


def test_wire_copies_take_one_citation_slot(
    cli: Callable[..., Result], web: LocalWeb, samples: Path
) -> None:
    report = _ingest_two_outlets(cli, web, samples)
    assert report["added"] == 13
    stats = _json(cli("stats", "--json"))
    assert (stats["articles"], stats["stories"]) == (13, 12)

    answer = _json(cli("ask", "Why did the Rotterdam dock workers go on strike?", "--json"))
    cited = answer["citations"]
    assert not answer["abstained"]
    assert cited[0]["outlet"] == "Daily Courier"
    assert cited[0]["also_reported_by"] == ["Harbour Gazette"]
    assert not any(c["outlet"] == "Harbour Gazette" for c in cited)  # one slot, not two
    assert "also reported by: Harbour Gazette" in cli(
        "ask", "Why did the Rotterdam dock workers go on strike?").stdout


def test_the_copy_that_answers_is_the_one_cited(
    cli: Callable[..., Result], web: LocalWeb, samples: Path
) -> None:
    _ingest_two_outlets(cli, web, samples)
    answer = _json(cli("ask", "What did local hauliers say they had cancelled?", "--json"))
    cited = answer["citations"]
    assert "cancelled Tuesday's collections" in answer["answer"]
    assert cited[0]["outlet"] == "Harbour Gazette"  # only its copy has that paragraph
    assert cited[0]["also_reported_by"] == ["Daily Courier"]
    assert not any(c["outlet"] == "Daily Courier" for c in cited)


def test_a_removed_article_is_never_cited_again(
    cli: Callable[..., Result], samples: Path, data_dir: Path
) -> None:
    cli("ingest", str(samples))
    question = "Which processors has Huawei decided to focus on?"
    seed = str(samples / "presse-citron-huawei-ai-chips.txt")
    assert _json(cli("ask", question, "--json"))["citations"][0]["origin"] == seed
    store = SQLiteStore(data_dir)
    try:
        removed_ids = [r[0] for r in store.db.execute(
            "SELECT p.id FROM passages p JOIN articles a ON a.id = p.article_id "
            "WHERE a.origin = ?", [seed])]
    finally:
        store.close()
    assert removed_ids

    assert cli("remove", seed).stdout.strip() == f"removed {seed}"
    answer = _json(cli("ask", question, "--json"))
    assert all(c["origin"] != seed for c in answer["citations"])
    assert all(h["origin"] != seed for h in answer["retrieved"])
    stats = _json(cli("stats", "--json"))
    index = faiss.read_index(str(data_dir / f"vectors-{stats['index_generation']}.faiss"))
    live_ids = set(faiss.vector_to_array(index.id_map).tolist())
    assert index.ntotal == stats["passages"] == stats["vectors"]
    assert live_ids.isdisjoint(removed_ids)
    assert cli("remove", seed).exit_code == 1  # gone


# --- dates -------------------------------------------------------------------------------

BRIDGE_NEWS = [  # one question answered differently as the story develops
    {"title": "Council approves Wye footbridge", "published_at": "2024-01-10T18:00:00+01:00",
     "source": "Wye Gazette",
     "body": "The city council approved the new Wye footbridge on Wednesday evening, after a "
             "debate that lasted four years. Engineers said the Wye footbridge would be "
             "finished by the end of 2025."},
    {"title": "Wye footbridge delayed", "published_at": "2024-03-20T08:30:00-04:00",
     "source": "Valley Post",
     "body": "Work on the Wye footbridge started on Monday, two months later than planned, as "
             "the first piles went into the riverbed. Engineers said the Wye footbridge would "
             "be finished in the spring of 2026."},
    {"title": "Wye footbridge design unveiled", "published_at": "2024-02-14",
     "source": "Wye Gazette",
     "body": "Architects unveiled the design of the Wye footbridge, a single steel arch "
             "with a timber deck, at a public exhibition in the market hall on Tuesday."},
]


def _ingest_records(cli: Callable[..., Result], path: Path, records: list[dict]) -> dict:
    path.write_text("\n".join(json.dumps(record) for record in records), encoding="utf-8")
    return _json(cli("ingest", str(path), "--json"))


def _cited_titles(cli: Callable[..., Result], question: str, *options: str) -> list[str]:
    answer = _json(cli("ask", question, "--json", *options))
    return [c["title"] for c in answer["citations"]]


def test_since_and_until_filter_answers_by_publication_date(
    cli: Callable[..., Result], data_dir: Path, tmp_path: Path
) -> None:
    assert _ingest_records(cli, tmp_path / "bridge.jsonl", BRIDGE_NEWS)["added"] == 3
    question = "Tell me about the Wye footbridge."
    assert _cited_titles(cli, question, "--until", "2024-01-10") == [
        "Council approves Wye footbridge"]
    assert _cited_titles(cli, question, "--since", "2024-03-01") == ["Wye footbridge delayed"]
    only_feb = _cited_titles(cli, question, "--since", "2024-02-01", "--until", "2024-02-28")
    assert only_feb == ["Wye footbridge design unveiled"]
    assert _cited_titles(cli, question, "--since", "2025-01-01") == []

    library = Library(Settings(data_dir=data_dir))
    try:
        published = [a.published_at for a in library.latest(10)]
        assert published == ["2024-03-20T12:30:00+00:00", "2024-02-14T00:00:00+00:00",
                             "2024-01-10T17:00:00+00:00"]  # normalised to UTC, newest first
        assert [a.title for a in library.latest(10, since="2024-02-14", until="2024-03-19")
                ] == ["Wye footbridge design unveiled"]
    finally:
        library.close()


def test_questions_about_the_latest_news_prefer_newer_articles(
    cli: Callable[..., Result], tmp_path: Path
) -> None:
    """Two reports answer the question about equally well: without a word asking for
    recency the text decides which comes first, whatever the dates; with one, the newer."""
    council, delayed = BRIDGE_NEWS[:2]
    question = "When will the Wye footbridge be finished?"
    recent = [f"{question} Give me the newest estimate.",
              "When will the Wye footbridge be finished, according to the latest news?"]
    path = tmp_path / "bridge.jsonl"
    leaders = []
    for newer, older in [(delayed, council), (council, delayed)]:
        dated = [{**newer, "published_at": "2024-03-20"}, {**older, "published_at": "2024-01-10"}]
        assert _ingest_records(cli, path, dated)["skipped"] == []
        leaders.append(_cited_titles(cli, question)[0])
        for text in recent:
            assert _cited_titles(cli, text)[0] == newer["title"], (text, newer["title"])
    assert leaders[0] == leaders[1]  # the dates alone change nothing


def _story(story_id: int, published_at: str | None, score: float) -> StoryEvidence:
    article = StoredArticle(story_id, f"o{story_id}", None, "t", None, None, published_at,
                            "body", story_id, "2024-01-01", "2024-01-01")
    return StoryEvidence(story_id, article, [], [], np.zeros(0, dtype=np.float32), score)


def test_recency_feature() -> None:
    assert asks_for_recent("What's the latest on the strike?")
    assert asks_for_recent("Any news today about Huawei?")
    assert not asks_for_recent("What does the new bridge cost?")
    stories = [_story(1, "2024-01-01T00:00:00+00:00", 1.00),
               _story(2, "2024-01-08T00:00:00+00:00", 0.97),  # a week newer
               _story(3, None, 0.90)]
    assert recency_of(stories, Question.of("What does the bridge cost?"),
                      AnswerTuning()) == [0.0, 0.0, 0.0]
    latest = recency_of(stories, Question.of("What is the latest on the bridge?"),
                        AnswerTuning(recency_half_life_days=7))
    assert [round(value, 3) for value in latest] == [0.5, 1.0, 0.0]
