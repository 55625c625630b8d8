"""The storage contract: what every storage backend must do, tested through the interfaces
of `index.storage.interfaces` only (no SQL, no file names).

A backend runs these tests by subclassing `StorageContract` in a test module of its own and
giving a `backend` fixture — a `StorageBackend` saying how to open its store and its vector
index generations in an empty folder (see tests/test_storage_sqlite.py). Everything is
real: the backend's own database and index files.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

import numpy as np
import pytest

from index.sources.article import ArticleDraft
from index.storage.interfaces import (
    ArticleCatalog,
    ArticleStore,
    IndexerStore,
    IndexGenerations,
)
from index.storage.records import FileState


class ContractStore(ArticleStore, ArticleCatalog, IndexerStore, Protocol):
    """A backend's store: every store-side interface, and `close`."""

    def close(self) -> None: ...


@dataclass(frozen=True)
class StorageBackend:
    """How to open a backend in an empty folder: its store, then its index generations;
    and how to make an open store's database as a citebot before the vocabulary left it
    (its schema version back, no vocabulary) and open it again, migrating it."""

    name: str
    open_store: Callable[[Path], ContractStore]
    open_generations: Callable[[Path, ContractStore], IndexGenerations]
    reopen_before_vocabulary: Callable[[Path, ContractStore], ContractStore]


HARBOUR = ArticleDraft(
    origin="/news/harbour.txt", title="Zorvik repairs its sea defences",
    url="https://example.org/harbour", outlet="Coast Gazette", author="A. Writer",
    published_at="2024-03-02T00:00:00+00:00",
    body="The harbour wall in Zorvik was repaired on Monday. Engineers used granite blocks "
         "from the old quarry. The council paid two million euros for the work.",
)
BRIDGE = ArticleDraft(
    origin="/news/bridge.txt", title="Council approves river bridge",
    published_at="2024-05-10T00:00:00+00:00",
    body="The council approved a footbridge over the river Wye on Tuesday. It will cost "
         "twelve million pounds, and its deck rests on granite piers. Work starts in spring.",
)
WIRE_COPY = ArticleDraft(  # the harbour story, word for word, from another source
    origin="https://wire.example/harbour", title="Zorvik repairs its sea defences",
    published_at="2024-03-03T00:00:00+00:00", body=HARBOUR.body,
)
SMALL_PASSAGES = 12  # tokens: every article above makes several passages


def copy_of(draft: ArticleDraft, **changes: str | None) -> ArticleDraft:
    """A fresh draft like `draft` (the store may fill fields of the one it is given)."""
    return replace(draft, extra=dict(draft.extra), **changes)


class StorageContract:
    """The shared tests. A subclass provides the `backend` fixture."""

    @pytest.fixture
    def store(self, backend: StorageBackend, tmp_path: Path) -> Iterator[ContractStore]:
        opened = backend.open_store(tmp_path / "store")
        yield opened
        opened.close()

    @pytest.fixture
    def generations(self, backend: StorageBackend, store: ContractStore,
                    tmp_path: Path) -> IndexGenerations:
        return backend.open_generations(tmp_path / "store", store)

    def add(self, store: ContractStore, *drafts: ArticleDraft) -> list[int]:
        """Store drafts (a copy each: the store may fill fields in); their article ids."""
        ids = []
        for draft in drafts:
            assert store.upsert_article(copy_of(draft), max_tokens=SMALL_PASSAGES) == "added"
            stored = store.article_by_origin(draft.origin)
            assert stored is not None
            ids.append(stored.id)
        return ids

    # -- articles -----------------------------------------------------------------------

    def test_an_added_article_reads_back_as_stored(self, store: ContractStore) -> None:
        assert store.counts() == {"articles": 0, "stories": 0, "passages": 0}
        [harbour_id] = self.add(store, HARBOUR)
        article = store.article(harbour_id)
        assert article is not None
        assert (article.origin, article.url, article.title, article.outlet, article.author,
                article.published_at, article.body) == (
            HARBOUR.origin, HARBOUR.url, HARBOUR.title, HARBOUR.outlet, HARBOUR.author,
            HARBOUR.published_at, HARBOUR.body)
        assert article.ingested_at and article.updated_at
        assert store.articles([harbour_id, harbour_id + 1000]) == {harbour_id: article}
        assert store.article(harbour_id + 1000) is None
        assert store.article_by_origin("/news/missing.txt") is None
        assert store.url_of(HARBOUR.origin) == HARBOUR.url
        assert store.url_of("/news/missing.txt") is None
        counts = store.counts()
        assert (counts["articles"], counts["stories"]) == (1, 1) and counts["passages"] > 1
        assert list(store.all_articles()) == [article]

    def test_the_same_content_is_unchanged_and_new_content_updates_in_place(
        self, store: ContractStore
    ) -> None:
        [harbour_id] = self.add(store, HARBOUR)
        assert store.upsert_article(copy_of(HARBOUR), max_tokens=SMALL_PASSAGES) == "unchanged"
        body = HARBOUR.body + " Fishing boats returned on Friday."
        assert store.upsert_article(copy_of(HARBOUR, body=body),
                                    max_tokens=SMALL_PASSAGES) == "updated"
        updated = store.article_by_origin(HARBOUR.origin)
        assert updated is not None and (updated.id, updated.body) == (harbour_id, body)
        assert store.counts()["articles"] == 1
        assert store.lexical_search(["fishing"], 5)

    # -- passages and what is embedded --------------------------------------------------

    def test_passages_quote_their_article_at_exact_offsets(self, store: ContractStore
                                                           ) -> None:
        [harbour_id] = self.add(store, HARBOUR)
        ids, keys = store.passage_keys()
        assert ids.dtype == np.int64 and list(ids) == sorted(ids) and len(keys) == len(ids)
        passages = store.passages(ids.tolist())
        assert sorted(passages) == ids.tolist()
        article = store.article(harbour_id)
        assert article is not None
        ordered = sorted(passages.values(), key=lambda p: p.seq)
        assert [p.seq for p in ordered] == list(range(len(ordered)))
        for passage in ordered:
            assert passage.text == article.body[passage.start : passage.end]
            assert (passage.article_id, passage.story_id) == (harbour_id, article.story_id)
        second = ordered[1]
        inside = article.body.index(" ", second.start + 1)
        assert store.passage_at(harbour_id, second.start, inside) == second.id
        assert store.passage_at(harbour_id + 1000, 0, 1) is None
        assert store.passages([]) == {}

    def test_every_passage_and_sentence_has_one_text_to_embed(self, store: ContractStore
                                                              ) -> None:
        self.add(store, HARBOUR, BRIDGE, WIRE_COPY)
        ids, keys = store.passage_keys()
        inputs = dict(store.passage_inputs())
        assert set(inputs) == set(keys)  # one input per distinct key: copies share theirs
        assert len(set(keys)) < len(keys)
        assert all(text.startswith(HARBOUR.title) or text.startswith(BRIDGE.title)
                   for text in inputs.values())
        sentences = dict(store.sentence_keys())
        assert len(sentences) == 6  # three sentences each; the copy adds none
        assert any(text.endswith("Work starts in spring.") for text in sentences.values())
        held = list(store.passage_sentence_keys())
        assert sorted(passage_id for passage_id, _keys in held) == ids.tolist()
        assert all(set(found) <= set(sentences) for _id, found in held)
        assert set().union(*(found for _id, found in held)) == set(sentences)
        assert list(store.article_texts()) == [(article.title, article.body)
                                               for article in store.all_articles()]
        assert len(list(store.article_texts())) == 3

    # -- lexical search -----------------------------------------------------------------

    def test_lexical_search_ranks_passages_holding_more_of_the_words_first(
        self, store: ContractStore
    ) -> None:
        self.add(store, HARBOUR, BRIDGE)
        passages = store.passages(pid for pid, _score in
                                  store.lexical_search(["granite", "quarry"], 10))
        found = store.lexical_search(["granite", "quarry"], 10)
        assert len(found) == 2  # a harbour passage and a bridge passage hold "granite"
        assert [s for _id, s in found] == sorted((s for _id, s in found), reverse=True)
        assert "quarry" in passages[found[0][0]].text
        assert "quarry" not in passages[found[1][0]].text
        assert store.lexical_search(["granite", "quarry"], 1) == found[:1]
        assert store.lexical_search(["zeppelin"], 10) == []
        assert store.lexical_search([], 10) == []
        hostile = store.lexical_search(['"granite', "AND", "quarry)", "NEAR(", "*"], 10)
        assert {pid for pid, _s in hostile} >= {pid for pid, _s in found}

    def test_word_statistics_count_passages_and_headlines(self, store: ContractStore) -> None:
        self.add(store, HARBOUR, BRIDGE)
        assert store.passage_frequency("granite") == 2
        assert store.passage_frequency("footbridge") == 1
        assert store.passage_frequency("zeppelin") == 0
        assert store.has_term("defences")  # only in a headline
        assert not store.has_term("zeppelin")

    # -- stories ------------------------------------------------------------------------

    def test_copies_of_an_article_share_its_story(self, store: ContractStore) -> None:
        harbour_id, bridge_id, copy_id = self.add(store, HARBOUR, BRIDGE, WIRE_COPY)
        articles = store.articles([harbour_id, bridge_id, copy_id])
        story = articles[harbour_id].story_id
        assert articles[copy_id].story_id == story != articles[bridge_id].story_id
        assert [a.id for a in store.story_members(story)] == [harbour_id, copy_id]
        assert store.text_identity(copy_id) == store.text_identity(harbour_id)
        assert store.text_identity(bridge_id) != store.text_identity(harbour_id)
        assert store.text_identity(copy_id + 1000) is None
        assert store.counts()["stories"] == 2
        assert store.search_titles(["granite"], 10).count(harbour_id) == 1
        assert copy_id not in store.search_titles(["granite"], 10)
        assert [a.id for a in store.latest_articles(10)] == [bridge_id, harbour_id]

    def test_latest_stories_within_dates(self, store: ContractStore) -> None:
        harbour_id, bridge_id = self.add(store, HARBOUR, BRIDGE)
        assert [a.id for a in store.latest_articles(1)] == [bridge_id]
        assert [a.id for a in store.latest_articles(10, until="2024-03-31")] == [harbour_id]
        assert [a.id for a in store.latest_articles(10, since="2024-04-01")] == [bridge_id]
        assert store.latest_articles(10, since="2024-06-01") == []

    def test_articles_added_per_day_by_outlet(self, store: ContractStore) -> None:
        harbour_id, _, _ = self.add(store, HARBOUR, BRIDGE, WIRE_COPY)
        today = store.article(harbour_id).ingested_at[:10]
        added = store.added_per_day(today)
        assert sum(added.values()) == 3 and {day for day, _ in added} == {today}
        assert store.added_per_day("2999-01-01") == {}

    def test_articles_are_counted_by_language(self, store: ContractStore) -> None:
        assert store.language_counts() == {}
        self.add(store, copy_of(HARBOUR, language="en"), copy_of(BRIDGE, language="fr"),
                 copy_of(WIRE_COPY, language="en"))
        assert store.language_counts() == {"en": 2, "fr": 1}
        assert list(store.language_counts()) == ["en", "fr"]  # most first

    # -- removal ------------------------------------------------------------------------

    def test_removing_an_article_takes_its_passages_and_keeps_its_copies(
        self, store: ContractStore
    ) -> None:
        harbour_id, bridge_id, copy_id = self.add(store, HARBOUR, BRIDGE, WIRE_COPY)
        removed = [pid for pid, p in store.passages(store.passage_keys()[0].tolist()).items()
                   if p.article_id == harbour_id]
        assert store.remove_origins([HARBOUR.origin, "/news/missing.txt"]) == 1
        assert store.article(harbour_id) is None and store.passages(removed) == {}
        assert store.remove_origins([HARBOUR.origin]) == 0
        copy = store.article(copy_id)
        assert copy is not None
        assert [a.id for a in store.story_members(copy.story_id)] == [copy_id]
        assert all(store.passages([pid])[pid].article_id == copy_id
                   for pid, _s in store.lexical_search(["quarry"], 10))
        assert store.counts()["articles"] == 2 and store.counts()["stories"] == 2
        assert bridge_id in {a.id for a in store.all_articles()}

    # -- the vocabulary -------------------------------------------------------------------

    def test_the_vocabulary_counts_the_articles_using_each_word(self, store: ContractStore
                                                                ) -> None:
        assert store.similar_words("zorvik", 5) == []
        self.add(store, HARBOUR, BRIDGE, WIRE_COPY)
        assert store.similar_words("zorvik", 5) == [("zorvik", 2)]  # the story and its copy
        assert store.similar_words("ZORVICK", 5) == [("zorvik", 2)]  # case, a typo
        assert store.similar_words("zrovik", 5) == [("zorvik", 2)]  # two letters swapped
        assert store.similar_words("granit", 1) == [("granite", 3)]
        assert store.similar_words("footbrige", 5) == [("footbridge", 1)]
        assert store.similar_words("defences", 1) == [("defences", 2)]  # headline words too
        assert store.similar_words("sorvik", 5) == []  # another first letter
        assert store.similar_words("zeppelin", 5) == [] and store.similar_words("", 5) == []
        assert store.similar_words("zorvik", 0) == []

    def test_among_equally_close_words_the_more_used_comes_first(self, store: ContractStore
                                                                 ) -> None:
        self.add(store, copy_of(HARBOUR, origin="/a", body="A merlin hunted over the dunes."),
                 copy_of(BRIDGE, origin="/b", body="The merlin nests on the cliffs."),
                 copy_of(BRIDGE, origin="/c", title="Anglers", body="A blue marlin was landed."))
        assert store.similar_words("mirlin", 5) == [("merlin", 2), ("marlin", 1)]
        assert store.similar_words("merlin", 5) == [("merlin", 2), ("marlin", 1)]
        assert store.remove_origins(["/a"]) == 1
        assert store.similar_words("mirlin", 5) == [("marlin", 1), ("merlin", 1)]

    def test_the_vocabulary_follows_updates_and_removals(self, store: ContractStore) -> None:
        self.add(store, HARBOUR, BRIDGE)
        assert store.similar_words("quarry", 1) == [("quarry", 1)]
        body = HARBOUR.body.replace("from the old quarry", "from Norway") + " Fishing resumed."
        assert store.upsert_article(copy_of(HARBOUR, body=body),
                                    max_tokens=SMALL_PASSAGES) == "updated"
        assert store.similar_words("quarry", 1) == []  # no article uses it any more
        assert store.similar_words("fishing", 1) == [("fishing", 1)]
        assert store.similar_words("granite", 1) == [("granite", 2)]  # counted once each
        assert store.remove_origins([BRIDGE.origin]) == 1
        assert store.similar_words("footbridge", 1) == []
        assert store.similar_words("granite", 1) == [("granite", 1)]
        assert store.remove_origins([HARBOUR.origin]) == 1
        assert store.similar_words("granite", 1) == [] and store.similar_words("zorvik", 1) == []

    def test_the_vocabulary_rolls_back_with_its_articles(self, store: ContractStore) -> None:
        self.add(store, BRIDGE)
        with pytest.raises(RuntimeError), store.transaction():
            self.add(store, HARBOUR)
            store.remove_origins([BRIDGE.origin])
            assert store.similar_words("zorvik", 1) == [("zorvik", 1)]  # seen inside it
            raise RuntimeError("a write failed")
        assert store.similar_words("zorvik", 1) == []
        assert store.similar_words("footbridge", 1) == [("footbridge", 1)]

    def test_a_store_from_before_the_vocabulary_gets_it_built(
            self, backend: StorageBackend, store: ContractStore, tmp_path: Path) -> None:
        self.add(store, HARBOUR, BRIDGE, WIRE_COPY)
        migrated = backend.reopen_before_vocabulary(tmp_path / "store", store)
        try:
            assert migrated.counts()["articles"] == 3
            assert migrated.similar_words("zorvik", 5) == [("zorvik", 2)]
            assert migrated.similar_words("granit", 1) == [("granite", 3)]
            assert migrated.remove_origins([BRIDGE.origin]) == 1
            assert migrated.similar_words("footbridge", 1) == []
            assert migrated.similar_words("granite", 1) == [("granite", 2)]
        finally:
            migrated.close()

    # -- sources ------------------------------------------------------------------------

    def test_sources_and_the_origins_under_them(self, store: ContractStore) -> None:
        self.add(store, copy_of(BRIDGE, origin="/data/a/x.txt"),
                 copy_of(HARBOUR, origin="/data/a/y.json#1"),
                 copy_of(BRIDGE, origin="/data/ab.txt", body=BRIDGE.body + " Again."))
        assert sorted(store.origins_under("/data/a")) == ["/data/a/x.txt", "/data/a/y.json#1"]
        assert store.origins_under("/data/a/y.json") == ["/data/a/y.json#1"]
        assert store.origins_under("/data/a_") == []
        store.add_source("/data/a", "path")
        store.add_source("/data/a", "path")
        store.add_source("https://example.org/feed", "feed")
        assert store.sources("path") == ["/data/a"]
        assert store.sources() == ["/data/a", "https://example.org/feed"]

    def test_remembered_files_under_a_folder_are_kept_replaced_and_forgotten(
            self, store: ContractStore) -> None:
        with store.transaction():
            store.remember_file(FileState("/data/a/x.txt", 10, 1_000, "h1"))
            store.remember_file(FileState("/data/a/sub/y.json", 20, 2_000, "h2"))
            store.remember_file(FileState("/data/ab.txt", 30, 3_000, "h3"))
        assert store.file_states("/data/a") == {
            "/data/a/x.txt": FileState("/data/a/x.txt", 10, 1_000, "h1"),
            "/data/a/sub/y.json": FileState("/data/a/sub/y.json", 20, 2_000, "h2")}
        assert set(store.file_states("/data/a/")) == {"/data/a/x.txt", "/data/a/sub/y.json"}
        assert list(store.file_states("/data/ab.txt")) == ["/data/ab.txt"]
        assert store.file_states("/data/a_") == {}

        store.remember_file(FileState("/data/a/x.txt", 11, 1_500, "h1b"))  # replaced
        assert store.file_states("/data/a/x.txt")["/data/a/x.txt"].size == 11
        store.forget_files(["/data/a/x.txt", "/not/known"])
        assert set(store.file_states("/data")) == {"/data/a/sub/y.json", "/data/ab.txt"}

    def test_remembered_files_roll_back_with_their_transaction(self, store: ContractStore
                                                               ) -> None:
        with pytest.raises(RuntimeError), store.transaction():
            store.remember_file(FileState("/data/x.txt", 10, 1_000, "h1"))
            raise RuntimeError("a write failed")
        assert store.file_states("/data") == {}

    # -- feeds --------------------------------------------------------------------------

    def test_followed_feeds_remember_their_items_and_polls(self, store: ContractStore
                                                           ) -> None:
        gazette, wire = "https://gazette.example/rss", "https://wire.example/atom"
        assert store.add_feed(gazette, "Gazette") and not store.add_feed(gazette, "Again")
        assert store.add_feed(wire, None)
        assert [(f.url, f.title, f.items) for f in store.feeds()] == [
            (gazette, "Gazette", 0), (wire, None, 0)]
        store.save_feed_item(gazette, "k1", "https://gazette.example/1", "h1", "/o/only")
        store.save_feed_item(gazette, "k2", None, "h2", "/o/shared")
        store.save_feed_item(wire, "w1", None, "h3", "/o/shared")
        store.save_feed_item(gazette, "k1", "https://gazette.example/1", "h1b", "/o/only")
        assert store.feed_item_hashes(gazette) == {"k1": "h1b", "k2": "h2"}
        store.record_feed_error(wire, "timed out")
        store.record_feed_poll(gazette, title=None, etag='"abc"', modified="Mon")
        feeds = {f.url: f for f in store.feeds()}
        assert (feeds[gazette].title, feeds[gazette].etag, feeds[gazette].modified,
                feeds[gazette].items, feeds[gazette].last_error) == (
            "Gazette", '"abc"', "Mon", 2, None)
        assert feeds[gazette].last_polled_at and feeds[wire].last_error == "timed out"
        assert store.remove_feed(gazette) == ["/o/only"]  # "/o/shared" came from wire too
        assert [f.url for f in store.feeds()] == [wire]
        assert store.feed_item_hashes(gazette) == {}

    # -- transactions, snapshots, state -------------------------------------------------

    def test_a_failed_transaction_leaves_nothing_behind(self, store: ContractStore) -> None:
        class Abort(Exception):
            pass

        with pytest.raises(Abort), store.transaction():
            self.add(store, HARBOUR)
            store.set_meta({"marker": "1"})
            raise Abort
        assert store.counts()["articles"] == 0 and store.get_meta("marker") is None
        with store.transaction():
            self.add(store, HARBOUR)
            with store.transaction():  # nested: part of the outer one
                self.add(store, BRIDGE)
        assert store.counts()["articles"] == 2

    def test_named_values_are_kept(self, store: ContractStore) -> None:
        assert store.get_meta("index_generation") is None
        assert store.get_meta("index_generation", "0") == "0"
        store.set_meta({"a": "1", "b": "2"})
        store.set_meta({"a": "3"})
        assert (store.get_meta("a"), store.get_meta("b")) == ("3", "2")

    def test_a_snapshot_reads_one_state_while_another_thread_writes(
        self, store: ContractStore
    ) -> None:
        self.add(store, HARBOUR)
        writer = threading.Thread(target=lambda: self.add(store, BRIDGE))
        with store.snapshot():
            before = store.counts()
            writer.start()
            writer.join()
            assert store.counts() == before
            assert store.lexical_search(["footbridge"], 5) == []
        assert store.counts()["articles"] == 2
        assert store.lexical_search(["footbridge"], 5)

    # -- vector index -------------------------------------------------------------------

    def _vectors(self, store: ContractStore, dim: int = 8) -> tuple[np.ndarray, np.ndarray]:
        """The stored passages' ids with random normalised vectors."""
        self.add(store, HARBOUR, BRIDGE)
        ids, _keys = store.passage_keys()
        vectors = np.random.default_rng(7).normal(size=(len(ids), dim)).astype(np.float32)
        return ids, vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    def _publish(self, store: ContractStore, generations: IndexGenerations,
                 ids: np.ndarray, vectors: np.ndarray) -> None:
        with store.transaction():
            written = generations.write(ids, vectors, vectors.shape[1])
            generations.make_live(written, model="test-model", passage_vectors="embedded")

    def test_vector_search_finds_the_nearest_passages_first(
        self, store: ContractStore, generations: IndexGenerations
    ) -> None:
        ids, vectors = self._vectors(store)
        self._publish(store, generations, ids, vectors)
        index = generations.load_live()
        assert len(index) == len(ids)
        assert sorted(index.ids().tolist()) == ids.tolist()
        query = vectors[2] + 0.1 * vectors[0]
        query /= np.linalg.norm(query)
        expected = [int(ids[row]) for row in np.argsort(-(vectors @ query))]
        found = index.search(query, len(ids) + 5)
        assert [pid for pid, _score in found] == expected
        assert [score for _pid, score in found] == sorted(
            (score for _pid, score in found), reverse=True)
        assert found[0][1] == pytest.approx(float(vectors[2] @ query), abs=1e-4)
        assert index.search(query, 2) == found[:2]
        stored = index.vector(int(ids[3]))
        assert stored is not None
        np.testing.assert_allclose(stored, vectors[3], atol=1e-5)
        assert index.vector(int(ids.max()) + 1000) is None

    def test_an_index_is_live_only_when_its_transaction_commits(
        self, store: ContractStore, generations: IndexGenerations
    ) -> None:
        ids, vectors = self._vectors(store)
        assert generations.live_generation() is None and generations.live_bytes() == 0
        assert generations.record().vectors == 0
        self._publish(store, generations, ids[:2], vectors[:2])
        first = generations.live_generation()
        assert first is not None and len(generations.load_live()) == 2

        class Abort(Exception):
            pass

        with pytest.raises(Abort), store.transaction():
            written = generations.write(ids, vectors, vectors.shape[1])
            generations.make_live(written, model="test-model", passage_vectors="embedded")
            raise Abort
        assert generations.live_generation() == first
        assert len(generations.load_live()) == 2
        generations.remove_stale()
        self._publish(store, generations, ids, vectors)
        assert generations.live_generation() not in (None, first)
        record = generations.record()
        assert (record.model, record.dim, record.vectors, record.passage_vectors) == (
            "test-model", vectors.shape[1], len(ids), "embedded")
        assert record.last_reindex
        generations.remove_stale()
        assert len(generations.load_live()) == len(ids) and generations.live_bytes() > 0

    def test_an_empty_index_finds_nothing(self, store: ContractStore,
                                          generations: IndexGenerations) -> None:
        self._publish(store, generations, np.zeros(0, dtype=np.int64),
                      np.zeros((0, 8), dtype=np.float32))
        index = generations.load_live()
        assert len(index) == 0 and index.search(np.ones(8, np.float32) / 8 ** 0.5, 5) == []
