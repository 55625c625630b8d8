"""`Library`: the one object the CLI and the bot talk to.

It ties the concepts together — ingest files and web pages into the store, follow feeds,
embed what is new, build and swap the vector index, answer questions with citations, report
stats — and owns none of their details. Long operations report progress through a callback
and are safe to run in a background thread while other threads keep answering from the live
index. Network fetches happen outside the write lock.
"""

from __future__ import annotations

import math
import os
import signal
import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import faiss
import numpy as np

from index import answer as answering
from index.answer import Answer
from index.embed import Embedder, shared_embedder
from index.ingest import FileResult, iter_files, read_file
from index.search import (
    best_copy_per_story,
    in_date_range,
    names_in,
    query_terms,
    rank_stories,
    recency_boost,
    retrieve,
    stem,
)
from index.settings import Settings
from index.storage import StoredArticle, StoredFeed
from index.storage import faiss_index as vectors
from index.storage.embedding_cache import EmbeddingCache
from index.storage.faiss_index import FaissVectorIndex
from index.storage.sqlite_store import (
    SQLiteStore,
    sentence_inputs,
    sentence_model,
    text_key,
    utc_now,
)

if TYPE_CHECKING:
    from index.article import ArticleDraft
    from index.feed_sync import FeedChanges
    from index.fetch import FetchSettings


class NotIndexedError(RuntimeError):
    """Asked before anything was indexed."""


CRASH_AT_ENV = "CITEBOT_CRASH_AT"
# Articles whose sentence vectors stay in memory between questions (~30 KB each).
SENTENCE_CACHE_ARTICLES = 2048
# Passages whose sentence vectors are read from the cache at once (sentence-mean vectors).
SENTENCE_MEAN_SLICE = 5000
# Texts handed to the embedder in one call (its workers stay busy within a call).
EMBED_CHUNK = 50_000
SentenceVectors = tuple[list[tuple[int, int]], np.ndarray]


def crash_point(name: str) -> None:
    """Fault injection for the crash-safety tests: when CITEBOT_CRASH_AT names this point,
    the process kills itself with SIGKILL here, as a power cut or OOM kill would."""
    if os.environ.get(CRASH_AT_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


def file_checksum(path: Path) -> str:
    """CRC-32 of a file, to tell a damaged index file from the one that was written."""
    checksum = 0
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            checksum = zlib.crc32(block, checksum)
    return f"{checksum:08x}"


@dataclass(slots=True)
class Progress:
    """Where a long operation is: `stage` is "reading", "embedding" or "indexing"."""

    stage: str
    done: int
    total: int
    articles_seen: int = 0

    @property
    def percent(self) -> float:
        return 100.0 * self.done / self.total if self.total else 100.0


ProgressCallback = Callable[[Progress], None]


@dataclass(slots=True)
class IngestReport:
    """What an ingest or reindex did."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    embedded: int = 0  # passages embedded (not found in the cache)
    embedded_sentences: int = 0  # sentences embedded for answer selection
    vectors: int = 0
    seconds: float = 0.0

    @property
    def changed(self) -> int:
        return self.added + self.updated + self.removed

    def merge(self, other: IngestReport) -> None:
        """Add `other`'s counts to this report (`vectors`: the later index's size)."""
        for name in ("added", "updated", "unchanged", "removed", "embedded",
                     "embedded_sentences", "seconds"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.skipped.extend(other.skipped)
        self.vectors = other.vectors or self.vectors

    def count(self, outcome: str) -> None:
        """Count one `SQLiteStore.upsert_article` outcome: "added", "updated" or "unchanged"."""
        setattr(self, outcome, getattr(self, outcome) + 1)

    def summary(self) -> str:
        line = (f"added {self.added}, updated {self.updated}, unchanged {self.unchanged}, "
                f"removed {self.removed}, skipped {len(self.skipped)}")
        return (f"{line}; embedded {self.embedded} passages and {self.embedded_sentences} "
                f"sentences; {self.seconds:.1f} s")


class Library:
    """A collection of articles on disk: store + vector index + model."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings.from_env()
        self.store = SQLiteStore(self.settings.data_dir)
        self.cache = EmbeddingCache(self.settings.data_dir)
        self._index: FaissVectorIndex | None = None
        self._index_generation: str | None = None
        self._write_lock = threading.Lock()
        # Passage frequency of words, for the live index generation (see `term_weights`).
        self._frequencies: dict[str, int] = {}
        self._passage_total: int | None = None
        # Recently used articles' sentence spans and vectors, for the live generation.
        self._sentences: OrderedDict[tuple[int, int], SentenceVectors] = OrderedDict()
        self._sentences_lock = threading.Lock()

    # -- the model --------------------------------------------------------------------

    @property
    def embedder(self) -> Embedder:
        """The embedding model, loaded on first use, once per process."""
        return shared_embedder(self.settings.model, self.settings.embedding)

    def _fetch_settings(self) -> FetchSettings:
        """How web pages and feeds are fetched (private addresses, timeouts)."""
        from index.fetch import FetchSettings

        return FetchSettings.configured(allow_private=self.settings.allow_private_urls,
                                        timeout=self.settings.fetch_timeout)

    # -- ingest and index ---------------------------------------------------------------

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """One write: this process's write lock and ONE store transaction around all of it,
        from the first article changed to the new index recorded as live. Readers (other
        threads, other processes) see the old articles with the old index until it commits;
        a crash anywhere before leaves them exactly as they were. Files the transaction
        leaves behind (an index written but never made live) are removed afterwards."""
        with self._write_lock:
            with self.store.transaction():
                yield
            crash_point("committed")
            self._remove_stale_files()

    def _remove_stale_files(self) -> None:
        live = self.store.get_meta("index_file")
        if live:
            vectors.remove_other_generations(self.settings.data_dir,
                                             self.settings.data_dir / live)

    def ingest(
        self,
        paths: Iterable[str | Path],
        *,
        build_index: bool = True,
        progress: ProgressCallback | None = None,
    ) -> IngestReport:
        """Read files/folders into the store and (by default) bring the index up to date."""
        with self._writing():
            started = time.perf_counter()
            report = IngestReport()
            for path in paths:
                self._ingest_path(Path(path), report, progress, remember=True)
            crash_point("stored")
            if build_index:
                self._update_index(report, progress, full=False)
            report.seconds = time.perf_counter() - started
        return report

    def reindex(self, *, full: bool = False, progress: ProgressCallback | None = None
                ) -> IngestReport:
        """Re-read every remembered source (new, changed and deleted files), embed what is
        not cached and swap in a fresh index. `full` re-embeds everything."""
        with self._writing():
            started = time.perf_counter()
            report = IngestReport()
            for source in self.store.sources("path"):
                self._ingest_path(Path(source), report, progress, remember=False)
            crash_point("stored")
            self._update_index(report, progress, full=full)
            report.seconds = time.perf_counter() - started
        self._prune_cache()
        return report

    def ingest_url(self, url: str, progress: ProgressCallback | None = None) -> IngestReport:
        """Fetch one web article (safely, see `index.fetch`), store it and bring the index
        up to date. Raises `index.fetch.FetchError` when the page can't be used."""
        from index.fetch import fetch_article

        started = time.perf_counter()
        draft = fetch_article(url, settings=self._fetch_settings())  # no lock while fetching
        with self._writing():
            report = IngestReport()
            self._store_fetched([draft], report, progress)
            self._update_index(report, progress, full=False)
            report.seconds = time.perf_counter() - started
        return report

    def ingest_urls(self, urls: Iterable[str], *, build_index: bool = True,
                    progress: ProgressCallback | None = None) -> IngestReport:
        """Like `ingest_url` for several URLs, indexing once; a URL that can't be used is
        reported in `skipped` with the reason, and the others are still ingested."""
        from index.fetch import FetchError, fetch_article

        started = time.perf_counter()
        settings = self._fetch_settings()
        report = IngestReport()
        drafts = []
        for url in urls:  # no lock while fetching
            try:
                drafts.append(fetch_article(url, settings=settings))
            except FetchError as error:
                report.skipped.append((url, str(error)))
        with self._writing():
            self._store_fetched(drafts, report, progress)
            if build_index and drafts:
                self._update_index(report, progress, full=False)
            report.seconds = time.perf_counter() - started
        return report

    def _store_fetched(self, drafts: Iterable[ArticleDraft], report: IngestReport,
                       progress: ProgressCallback | None) -> None:
        """SQLiteStore drafts of web pages. A page fetched again under another variant of its URL
        (same origin) keeps the URL it was first stored with: a variant is no change."""
        for draft in drafts:
            draft.url = self.store.url_of(draft.origin) or draft.url
            report.count(self.store.upsert_article(
                draft, max_tokens=self.settings.max_passage_tokens))
            if progress:
                progress(Progress("reading", 0, 0, report.added + report.updated
                                  + report.unchanged))

    # -- feeds --------------------------------------------------------------------------

    def feeds(self) -> list[StoredFeed]:
        """The followed feeds, oldest first."""
        return self.store.feeds()

    def feed(self, url: str) -> StoredFeed | None:
        """The followed feed at `url` or at a variant of it (http/https, tracking, slash)."""
        from index.feed_sync import same_feed

        return next((feed for feed in self.store.feeds() if same_feed(feed.url, url)), None)

    def add_feed(self, url: str) -> StoredFeed:
        """Follow the RSS/Atom feed at `url` (returned as is when followed already).

        The feed is polled once to check that it can be fetched (http/https, no private
        address unless allowed) and is a feed; its items are read by `refresh`. Raises
        `index.fetch.FetchError` with the reason otherwise."""
        from index.feed_sync import feed_address
        from index.feeds import poll_feed

        address = feed_address(url)
        existing = self.feed(address)
        if existing is not None:
            return existing
        poll = poll_feed(address, settings=self._fetch_settings())
        self.store.add_feed(address, poll.title)
        added = self.feed(address)
        assert added is not None
        return added

    def remove_feed(self, url: str, *, delete_articles: bool = False) -> IngestReport | None:
        """Stop following a feed (None if it isn't followed). Its articles stay, unless
        `delete_articles`: then those that came only from this feed are removed too."""
        feed = self.feed(url)
        if feed is None:
            return None
        with self._writing():
            report = IngestReport()
            origins = self.store.remove_feed(feed.url)
            if delete_articles and origins:
                report.removed = self.store.remove_origins(origins)
                self._update_index(report, None, full=False)
        return report

    def refresh(self, progress: ProgressCallback | None = None) -> IngestReport:
        """Poll every followed feed (sending its ETag/Last-Modified: a 304 costs nothing),
        fetch the page of each new or changed item (its summary when the page can't be
        used), store the articles and index them once at the end.

        Items whose article could not be made are reported in `skipped` and retried by the
        next refresh: the feed's validators are kept only when every item was stored."""
        from index.feed_sync import PageCache, collect_changes

        started = time.perf_counter()
        settings = self._fetch_settings()
        pages: PageCache = {}
        changes = [  # network first, outside the write lock
            collect_changes(feed, self.store.feed_item_hashes(feed.url), settings, pages)
            for feed in self.store.feeds()
        ]
        with self._writing():
            report = IngestReport()
            for change in changes:
                self._apply_feed_changes(change, report, progress)
            if report.added or report.updated:
                self._update_index(report, progress, full=False)
            report.seconds = time.perf_counter() - started
        return report

    def _apply_feed_changes(self, change: FeedChanges, report: IngestReport,
                            progress: ProgressCallback | None) -> None:
        url = change.feed.url
        if change.poll is None:
            self.store.record_feed_error(url, change.error or "unknown error")
            report.skipped.append((url, change.error or "unknown error"))
            return
        report.unchanged += change.unchanged
        complete = True
        for pending in change.items:
            if pending.draft is None:
                report.skipped.append((pending.item.link or pending.item.key,
                                       pending.problem or "no article"))
                complete = False
                continue
            self._store_fetched([pending.draft], report, progress)
            self.store.save_feed_item(url, pending.item.key, pending.item.link,
                                      pending.item.content_hash, pending.draft.origin)
        poll = change.poll
        self.store.record_feed_poll(
            url, title=poll.title, etag=poll.etag if complete else None,
            modified=poll.modified if complete else None)

    def is_busy(self) -> bool:
        """True while an ingest or reindex runs in this process."""
        return self._write_lock.locked()

    def _ingest_path(self, root: Path, report: IngestReport,
                     progress: ProgressCallback | None, *, remember: bool) -> None:
        seen_origins: set[str] = set()
        found_any = False
        for item in iter_files(root):
            if isinstance(item, tuple):
                report.skipped.append((str(item[0]), item[1]))
                continue
            found_any = True
            result = read_file(item, max_bytes=self.settings.max_file_bytes)
            self._store_file_result(result, report, seen_origins)
            if progress:
                progress(Progress("reading", 0, 0, report.added + report.updated
                                  + report.unchanged))
        if found_any or root.exists():
            resolved = str(root.resolve()) if root.exists() else str(root)
            if remember:
                self.store.add_source(resolved, "path")
            gone = [o for o in self.store.origins_under(resolved) if o not in seen_origins]
            report.removed += self.store.remove_origins(gone)

    def _store_file_result(self, result: FileResult, report: IngestReport,
                           seen_origins: set[str]) -> None:
        for problem in result.problems:
            report.skipped.append((str(result.path), problem))
        for draft in result.drafts:
            seen_origins.add(draft.origin)
            report.count(self.store.upsert_article(
                draft, max_tokens=self.settings.max_passage_tokens))
        if result.problems and not result.drafts:
            # A file that now fails to read keeps its previously stored articles.
            seen_origins.update(self.store.origins_under(str(result.path)))

    def _update_index(self, report: IngestReport, progress: ProgressCallback | None,
                      *, full: bool) -> None:
        """Embed what the cache lacks (everything with `full`), build the index from the
        store's passages as this transaction sees them, write it aside and record it as
        live — the record commits with the rest of the write."""
        model = self.settings.model
        from_sentences = self.settings.passage_vectors == "sentence-mean"
        passages = [] if from_sentences else self.store.passage_inputs()
        sentences = self.store.sentence_keys()
        if not full:
            cached, cached_sentences = self.cache.keys(model), self.cache.keys(
                sentence_model(model))
            passages = [item for item in passages if item[0] not in cached]
            sentences = [item for item in sentences if item[0] not in cached_sentences]
        if passages or sentences:
            self._embed_and_cache(
                [(model, key, text) for key, text in passages]
                + [(sentence_model(model), key, text) for key, text in sentences],
                progress,
            )
        report.embedded, report.embedded_sentences = len(passages), len(sentences)
        if progress:
            progress(Progress("indexing", 0, 1))
        dim = self._dimension(embedded=bool(passages or sentences or full))
        ids, keys = self.store.passage_keys()
        matrix = (self._sentence_mean_vectors(ids, dim) if from_sentences
                  else self.cache.fill(model, keys, dim))
        index = vectors.build_index(ids, matrix, dim)
        generation = int(self.store.get_meta("index_generation", "0") or 0) + 1
        path = vectors.index_path(self.settings.data_dir, generation)
        vectors.write_index_atomically(index, path)
        crash_point("index-written")
        self.store.set_meta({
            "index_generation": str(generation), "index_file": path.name,
            "index_model": model, "index_dim": str(dim), "index_vectors": str(len(ids)),
            "index_passage_vectors": self.settings.passage_vectors,
            "index_checksum": file_checksum(path), "last_reindex": utc_now(),
        })
        crash_point("index-recorded")
        report.vectors = len(ids)
        if progress:
            progress(Progress("indexing", 1, 1))

    def _sentence_mean_vectors(self, ids: np.ndarray, dim: int) -> np.ndarray:
        """Each passage's vector as the normalised mean of its sentences' cached vectors
        (rows in the order of `ids`), read from the cache a slice at a time."""
        matrix = np.zeros((len(ids), dim), dtype=np.float32)
        row_of = {int(passage_id): row for row, passage_id in enumerate(ids)}
        namespace = sentence_model(self.settings.model)
        pending: list[tuple[int, list[str]]] = []

        def flush() -> None:
            found = self.cache.get(namespace, (key for _row, keys in pending for key in keys))
            for row, keys in pending:
                known = [found[key] for key in keys if key in found]
                if known:
                    mean = np.mean(known, axis=0)
                    norm = float(np.linalg.norm(mean))
                    matrix[row] = mean / norm if norm else mean
            pending.clear()

        for passage_id, keys in self.store.passage_sentence_keys():
            pending.append((row_of[passage_id], keys))
            if len(pending) >= SENTENCE_MEAN_SLICE:
                flush()
        flush()
        return matrix

    def _dimension(self, *, embedded: bool) -> int:
        """The vectors' dimension, without loading the model when nothing was embedded."""
        recorded = self.store.get_meta("index_dim")
        if embedded or not recorded or self.store.get_meta("index_model") != self.settings.model:
            return self.embedder.dim
        return int(recorded)

    def _prune_cache(self) -> None:
        """Drop cached vectors that no stored passage or sentence uses any more. Only
        `reindex` prunes (maintenance), so a question answered from the snapshot before a
        write rarely finds a vector it needs already gone; one that does abstains."""
        with self._write_lock:
            model = self.settings.model
            self.cache.prune(model, {key for key, _text in self.store.passage_inputs()})
            self.cache.prune(sentence_model(model),
                             {key for key, _text in self.store.sentence_keys()})

    def _embed_and_cache(self, missing: list[tuple[str, str, str]],
                         progress: ProgressCallback | None) -> None:
        """Embed (namespace, key, text) items and save their vectors to the cache every
        `embed_slice` texts (each save its own commit): a killed run keeps its work. The
        texts go to the embedder a chunk of `EMBED_CHUNK` at a time, so its workers never
        wait for a save and the token ids of a huge job are not all in memory at once."""
        done = 0
        if progress:
            progress(Progress("embedding", 0, len(missing)))
        # One backend for the whole job, chosen by its size (about 4 characters a token).
        job_tokens = sum(len(text) for _, _, text in missing) // 4
        unsaved: list[tuple[int, np.ndarray]] = []
        for first in range(0, len(missing), EMBED_CHUNK):
            chunk = missing[first : first + EMBED_CHUNK]
            batches = self.embedder.embed_batches([text for _, _, text in chunk],
                                                  job_tokens=job_tokens)
            for rows, matrix in batches:
                unsaved.extend((first + row, matrix[i]) for i, row in enumerate(rows))
                while len(unsaved) >= self.settings.embed_slice:
                    done += self._save_vectors(missing, unsaved[: self.settings.embed_slice])
                    del unsaved[: self.settings.embed_slice]
                    if progress:
                        progress(Progress("embedding", done, len(missing)))
        done += self._save_vectors(missing, unsaved)
        if progress:
            progress(Progress("embedding", done, len(missing)))

    def _save_vectors(self, items: list[tuple[str, str, str]],
                      unsaved: list[tuple[int, np.ndarray]]) -> int:
        """Save embedded vectors (item index, vector) to the cache, namespace by namespace
        (one commit each); returns how many there were."""
        by_namespace: dict[str, list[tuple[int, np.ndarray]]] = {}
        for item, vector in unsaved:
            by_namespace.setdefault(items[item][0], []).append((item, vector))
        for namespace, rows in by_namespace.items():
            self.cache.save(namespace, [items[item][1] for item, _ in rows],
                            np.stack([vector for _, vector in rows]))
        if unsaved:
            crash_point("embedding")
        return len(unsaved)

    def remove(self, origin: str) -> bool:
        """Delete one article with its passages and vectors."""
        with self._writing():
            removed = self.store.remove_origins([origin])
            if removed:
                self._update_index(IngestReport(), None, full=False)
        return bool(removed)

    # -- the live index -----------------------------------------------------------------

    def live_index(self) -> FaissVectorIndex:
        """The live vector index, reloaded when another run swapped in a new generation."""
        generation = self.store.get_meta("index_generation")
        if generation is None:
            raise NotIndexedError("nothing is indexed yet: run `citebot ingest PATH` first")
        if self._index is None or generation != self._index_generation:
            indexed_model = self.store.get_meta("index_model")
            if indexed_model != self.settings.model:
                raise NotIndexedError(
                    f"the index was built with model {indexed_model!r}, not "
                    f"{self.settings.model!r}: run `citebot reindex` to rebuild it"
                )
            self._index = FaissVectorIndex(self._load_checked_index())
            self._frequencies, self._passage_total = {}, None
            with self._sentences_lock:
                self._sentences.clear()
            self._index_generation = generation
        return self._index

    def _load_checked_index(self) -> faiss.Index:
        """Load the live index file, refusing one that is missing, damaged or not the one
        the store recorded — never serve it silently."""
        path = self.settings.data_dir / str(self.store.get_meta("index_file"))
        hint = "rebuild it from the store with `citebot reindex --full`"
        if not path.exists():
            raise vectors.IndexFileError(f"the vector index {path.name} is missing: {hint}")
        recorded = self.store.get_meta("index_checksum")
        if recorded and file_checksum(path) != recorded:
            raise vectors.IndexFileError(
                f"the vector index {path.name} is damaged (checksum mismatch): {hint}")
        try:
            index = vectors.read_index(path)
        except vectors.IndexFileError as error:
            raise vectors.IndexFileError(f"{error}: {hint}") from error
        if index.ntotal != int(self.store.get_meta("index_vectors", "0") or 0):
            raise vectors.IndexFileError(
                f"the vector index {path.name} does not match the store: {hint}")
        return index

    def check_index(self) -> None:
        """Raise NotIndexedError / IndexFileError now if questions could not be answered
        (for start-up: the bot refuses to run on a broken index)."""
        self.live_index()

    # -- questions ----------------------------------------------------------------------

    def ask(self, question: str, *, since: str | None = None, until: str | None = None
            ) -> Answer:
        """A short answer with numbered citations, or an abstention."""
        started = time.perf_counter()
        index = self.live_index()
        with self.store.snapshot():  # one state of the store for the whole question
            return self._answer(question, index, started, since=since, until=until)

    def _answer(self, question: str, index: FaissVectorIndex, started: float, *,
                since: str | None, until: str | None) -> Answer:
        tuning = self.settings.tuning
        query_vector = self.embedder.embed_query(question)
        embedded = time.perf_counter()
        hits = retrieve(
            self.store, index, query_vector, question, candidates=tuning.candidates,
            limit=tuning.passages, rrf_k=tuning.rrf_k, retriever_top=tuning.retriever_top,
            since=since, until=until,
        )
        searched = time.perf_counter()
        dim = int(query_vector.shape[0])
        stories = rank_stories(
            hits, query_vector,
            lambda article: self._sentence_vectors(article, dim),
            stories=tuning.rerank_stories, lexical_weight=tuning.story_lexical_weight,
            dense_weight=tuning.story_dense_weight, term_weights=self.term_weights(question),
            coverage_weight=tuning.story_coverage_weight,
            names=names_in(question) if tuning.whole_names else None,
            copies=lambda story: [copy for copy in self.store.story_members(story)
                                  if in_date_range(copy, since, until)],
        )
        stories = recency_boost(stories, question)
        stories = best_copy_per_story(answering.rescore_stories(question, stories, tuning))
        hits = [hit for story in stories for hit in story.hits]
        text, citations, abstained = answering.NO_ANSWER, [], True
        if not answering.should_abstain(question, stories, tuning, self.store.has_term):
            candidates = answering.candidate_sentences(question, stories, tuning)
            chosen = answering.select_sentences(candidates, tuning)
            if chosen:
                text, citations = answering.compose(
                    chosen, self.store.story_members,
                    lambda article, start, end: self.store.passage_at(article.id, start, end),
                )
                abstained = False
        finished = time.perf_counter()
        return Answer(
            question=question, answer=text, abstained=abstained, citations=citations,
            retrieved=hits,
            timings_ms={
                "embed": (embedded - started) * 1000, "search": (searched - embedded) * 1000,
                "answer": (finished - searched) * 1000, "total": (finished - started) * 1000,
            },
        )

    def term_weights(self, question: str) -> dict[str, float]:
        """The IDF of each content word of the question (stemmed) over the passages: rare
        words weigh more. Frequencies are cached until the index changes."""
        frequencies = self._frequencies
        if self._passage_total is None:
            self._passage_total = self.store.counts()["passages"]
        total = self._passage_total
        weights: dict[str, float] = {}
        for term in query_terms(question):
            if term not in frequencies:
                frequencies[term] = self.store.passage_frequency(term)
            weights[stem(term)] = math.log((total + 1) / (frequencies[term] + 0.5))
        return weights

    def _sentence_vectors(self, article: StoredArticle, dim: int) -> SentenceVectors:
        """An article's sentence spans with their cached vectors (zeros where missing),
        kept in memory for the most recently asked-about articles."""
        key = (article.id, hash((article.title, article.body)))
        with self._sentences_lock:
            found = self._sentences.get(key)
            if found is not None:
                self._sentences.move_to_end(key)
                return found
        inputs = sentence_inputs(article.title, article.body)
        matrix = self.cache.fill(sentence_model(self.settings.model),
                                 [text_key(text) for _s, _e, text in inputs], dim)
        found = [(start, end) for start, end, _text in inputs], matrix
        with self._sentences_lock:
            self._sentences[key] = found
            while len(self._sentences) > SENTENCE_CACHE_ARTICLES:
                self._sentences.popitem(last=False)
        return found

    # -- browsing -----------------------------------------------------------------------

    def article(self, article_id: int) -> StoredArticle | None:
        return self.store.article(article_id)

    def search_articles(self, query: str, limit: int = 10) -> list[StoredArticle]:
        """Articles matching the words of `query`, best first, one per story."""
        ids = self.store.search_titles(query_terms(query), limit)
        found = self.store.articles(ids)
        return [found[i] for i in ids if i in found]

    def latest(self, limit: int = 10, *, since: str | None = None, until: str | None = None
               ) -> list[StoredArticle]:
        """The newest stories, optionally only those published between `since` and `until`
        (ISO dates, both included)."""
        return self.store.latest_articles(limit, since=since, until=until)

    def stats(self) -> dict[str, object]:
        counts = self.store.counts()
        index_file = self.store.get_meta("index_file")
        size = 0
        if index_file and (self.settings.data_dir / index_file).exists():
            size = (self.settings.data_dir / index_file).stat().st_size
        return {
            **counts,
            "vectors": int(self.store.get_meta("index_vectors", "0") or 0),
            "cached_vectors": self.cache.count(),
            "model": self.store.get_meta("index_model") or self.settings.model,
            "passage_vectors": self.store.get_meta("index_passage_vectors")
            or self.settings.passage_vectors,
            "index_bytes": size,
            "index_generation": int(self.store.get_meta("index_generation", "0") or 0),
            "last_reindex": self.store.get_meta("last_reindex"),
            "data_dir": str(self.settings.data_dir),
            "sources": self.store.sources(),
        }

    def close(self) -> None:
        self.store.close()
        self.cache.close()
