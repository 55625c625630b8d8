"""`Indexer`: the write path — store the articles, embed what is new, swap in a new index.

Every write (files, web pages, a reindex, feed changes, a removal) runs one outline,
`Indexer._write`: this process's write lock, then ONE store transaction around the whole
change, from the first article changed to the new vector index recorded as live. Readers
(other threads, other processes) see the old articles with the old index until it commits;
a crash anywhere before leaves them exactly as they were. Embedding work is saved to the
cache as it goes, so a killed run keeps it. Network fetches happen before the lock is taken.

`crash_point` names the steps of that outline; the crash-safety tests kill a real process
at each of them (`CITEBOT_CRASH_AT`).
"""

from __future__ import annotations

import functools
import hashlib
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from index.language import article_language
from index.reading import READINGS, Reading, reading_key
from index.reports import IngestReport, Progress, ProgressCallback
from index.settings import Settings
from index.sources.article import ArticleDraft
from index.sources.ingest import FileResult, iter_files, read_file
from index.sources.unchanged_files import UnchangedFiles
from index.storage.embedding_cache import EmbeddingCache, article_matrices
from index.storage.interfaces import IndexerStore, IndexGenerations
from index.storage.records import StoredFeed
from index.vectors.embed import Embedder
from index.vectors.embedding_inputs import sentence_inputs, sentence_model, text_key
from index.vectors.embedding_jobs import embed_into_cache, sentence_mean_vectors

if TYPE_CHECKING:  # the web modules load when a write fetches (`ask` starts faster)
    from index.sources.feed_sync import FeedChanges
    from index.sources.fetch import FetchSettings

CRASH_AT_ENV = "CITEBOT_CRASH_AT"
# The store's record of which passages the live index was built over (a digest of their
# ids, which are never reused): equal means a write that changed nothing needs no new index.
INDEXED_PASSAGES_META = "index_passage_ids"
# The live generation the embedding cache was last pruned for: a reindex that changes
# nothing prunes only when it differs (a kill between a commit and its pruning).
PRUNED_FOR_META = "cache_pruned_for"

# A write's change to the store, inside its transaction: it fills the report and returns
# whether the vector index must follow (False when nothing it indexes changed).
WriteStep = Callable[[IngestReport], bool]
# Articles' readings (`index.reading`) worked out and saved to the cache at a time.
READINGS_SLICE = 500


@functools.cache
def _armed_crash_point() -> str | None:
    """The crash point named in the environment, read once per process."""
    return os.environ.get(CRASH_AT_ENV)


def crash_point(name: str) -> None:
    """Fault injection for the crash-safety tests: when CITEBOT_CRASH_AT names this point,
    the process kills itself with SIGKILL here, as a power cut or OOM kill would.

    The points, in order: "stored" (the store changed, nothing committed), "embedding"
    (a slice of vectors saved to the cache), "index-written" (the new index file is
    complete, not live), "index-recorded" (recorded as live, not committed), "committed"."""
    if _armed_crash_point() == name:
        os.kill(os.getpid(), signal.SIGKILL)


def _ids_digest(ids: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(ids, dtype=np.int64).tobytes()).hexdigest()


class Indexer:
    """Writes to one collection: its store, embedding cache and vector index generations.

    Args: `settings`, the collection's settings; `embedder`, gives the embedding model
    (called only when something must be embedded: loading it is slow); `fetch_settings`,
    gives the limits and policy of each web fetch.
    """

    def __init__(self, settings: Settings, store: IndexerStore, cache: EmbeddingCache,
                 generations: IndexGenerations, *, embedder: Callable[[], Embedder],
                 fetch_settings: Callable[[], FetchSettings]) -> None:
        self.settings = settings
        self.store = store
        self.cache = cache
        self.generations = generations
        self._embedder = embedder
        self._fetch_settings = fetch_settings
        self._lock = threading.Lock()

    def is_busy(self) -> bool:
        """True while a write runs in this process."""
        return self._lock.locked()

    # -- the outline of every write -----------------------------------------------------

    def _write(self, step: WriteStep, *, report: IngestReport | None = None,
               started: float | None = None, full: bool = False,
               progress: ProgressCallback | None = None) -> IngestReport:
        """Run `step` as one write and return its report.

        Under the write lock and in one store transaction: the step changes the store,
        then, if it says so, what the cache lacks is embedded (everything with `full`) and
        a new index generation is written and recorded as live; the transaction commits;
        after a new generation, the index files no longer live are removed. `report` may
        hold what happened before (skipped URLs), `started` when the work began (before
        fetching), for its seconds.
        """
        with self._lock:
            started = time.perf_counter() if started is None else started
            report = IngestReport() if report is None else report
            with self.store.transaction():
                needs_index = step(report)
                crash_point("stored")
                if needs_index:
                    self._update_index(report, progress, full=full)
                report.seconds = time.perf_counter() - started
            crash_point("committed")
            if needs_index:
                self.generations.remove_stale()
        return report

    # -- writes -------------------------------------------------------------------------

    def ingest(self, paths: Iterable[str | Path], *, build_index: bool = True,
               progress: ProgressCallback | None = None) -> IngestReport:
        """Read files/folders into the store (remembered for `reindex`) and, by default,
        bring the index up to date."""
        def store_files(report: IngestReport) -> bool:
            for path in paths:
                self._ingest_path(Path(path), report, progress, remember=True)
            if not build_index:
                return False
            if report.changed > 0 or self._index_is_stale():
                return True
            report.vectors = self.generations.record().vectors
            return False

        return self._write(store_files, progress=progress)

    def reindex(self, *, full: bool = False, progress: ProgressCallback | None = None
                ) -> IngestReport:
        """Re-read every remembered source (new, changed and deleted files; files whose
        size and mtime, or content, are unchanged since the last read are skipped), embed
        what is not cached and swap in a fresh index, then drop cached vectors nothing uses
        any more. When nothing changed and the live index already holds every passage, the
        index is left as it is (only the articles' readings the cache lacks are made, e.g.
        after an upgrade changed the code that reads). `full` re-reads every file,
        re-embeds everything and rebuilds the index."""
        rebuilt = False

        def reread_sources(report: IngestReport) -> bool:
            nonlocal rebuilt
            for source in self.store.sources("path"):
                self._ingest_path(Path(source), report, progress, remember=False,
                                  skip_unchanged=not full)
            rebuilt = full or report.changed > 0 or self._index_is_stale()
            if not rebuilt:
                report.vectors = self.generations.record().vectors
                report.readings = self._read_articles()  # e.g. read by an upgraded citebot
            return rebuilt

        report = self._write(reread_sources, full=full, progress=progress)
        if not rebuilt:  # a killed earlier write may have left an index file behind
            self.generations.remove_stale()
        live = self.generations.live_generation()
        if rebuilt or report.readings or self.store.get_meta(PRUNED_FOR_META) != live:
            self._prune_cache()  # what the live index no longer uses
            with self._lock, self.store.transaction():
                self.store.set_meta({PRUNED_FOR_META: live or ""})
        return report

    def ingest_url(self, url: str, progress: ProgressCallback | None = None) -> IngestReport:
        """Fetch one web article (safely, see `index.sources.fetch`), store it and bring the index
        up to date. Raises `index.sources.fetch.FetchError` when the page can't be used."""
        from index.sources.fetch import fetch_article

        started = time.perf_counter()
        draft = fetch_article(url, settings=self._fetch_settings())

        def store_page(report: IngestReport) -> bool:
            self._store_fetched([draft], report, progress)
            return True

        return self._write(store_page, started=started, progress=progress)

    def ingest_urls(self, urls: Iterable[str], *, build_index: bool = True,
                    progress: ProgressCallback | None = None) -> IngestReport:
        """Like `ingest_url` for several URLs, indexing once; a URL that can't be used is
        reported in `skipped` with the reason, and the others are still ingested."""
        from index.sources.fetch import FetchError, fetch_article

        started = time.perf_counter()
        settings = self._fetch_settings()
        report = IngestReport()
        drafts = []
        for url in urls:
            try:
                drafts.append(fetch_article(url, settings=settings))
            except FetchError as error:
                report.skipped.append((url, str(error)))

        def store_pages(report: IngestReport) -> bool:
            self._store_fetched(drafts, report, progress)
            return build_index and bool(drafts)

        return self._write(store_pages, report=report, started=started, progress=progress)

    def remove(self, origin: str) -> bool:
        """Delete one article with its passages and vectors; False if it wasn't stored."""
        def remove_article(report: IngestReport) -> bool:
            report.removed = self.store.remove_origins([origin])
            # A file's article removed by hand comes back when the file is read again.
            self.store.forget_files([origin, origin.rpartition("#")[0]])
            return report.removed > 0

        return self._write(remove_article).removed > 0

    # -- feeds --------------------------------------------------------------------------

    def feed(self, url: str) -> StoredFeed | None:
        """The followed feed at `url` or at a variant of it (http/https, tracking, slash)."""
        from index.sources.feed_sync import same_feed

        return next((feed for feed in self.store.feeds() if same_feed(feed.url, url)), None)

    def add_feed(self, url: str) -> StoredFeed:
        """Follow the RSS/Atom feed at `url` (returned as is when followed already), after
        one poll to check that it can be fetched and is a feed (`FetchError` otherwise)."""
        from index.sources.feed_sync import feed_address
        from index.sources.feeds import poll_feed

        address = feed_address(url)
        existing = self.feed(address)
        if existing is not None:
            return existing
        poll = poll_feed(address, settings=self._fetch_settings())

        def follow(_report: IngestReport) -> bool:
            self.store.add_feed(address, poll.title)
            return False

        self._write(follow)
        added = self.feed(address)
        assert added is not None
        return added

    def remove_feed(self, url: str, *, delete_articles: bool = False) -> IngestReport | None:
        """Stop following a feed (None if it isn't followed). Its articles stay, unless
        `delete_articles`: then those that came only from this feed are removed too."""
        feed = self.feed(url)
        if feed is None:
            return None

        def unfollow(report: IngestReport) -> bool:
            origins = self.store.remove_feed(feed.url)
            if not (delete_articles and origins):
                return False
            report.removed = self.store.remove_origins(origins)
            return True

        return self._write(unfollow)

    def refresh(self, progress: ProgressCallback | None = None) -> IngestReport:
        """Poll every followed feed (sending its ETag/Last-Modified: a 304 costs nothing),
        fetch the page of each new or changed item (its summary when the page can't be
        used), store the articles and index them once at the end.

        Items whose article could not be made are reported in `skipped` and retried by the
        next refresh: the feed's validators are kept only when every item was stored."""
        from index.sources.feed_sync import PageCache, collect_changes

        started = time.perf_counter()
        settings = self._fetch_settings()
        pages: PageCache = {}
        changes = [  # network first, outside the write lock
            collect_changes(feed, self.store.feed_item_hashes(feed.url), settings, pages)
            for feed in self.store.feeds()
        ]

        def apply_changes(report: IngestReport) -> bool:
            for change in changes:
                self._apply_feed_changes(change, report, progress)
            return bool(report.added or report.updated)

        return self._write(apply_changes, started=started, progress=progress)

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

    # -- storing articles ---------------------------------------------------------------

    def _store_fetched(self, drafts: Iterable[ArticleDraft], report: IngestReport,
                       progress: ProgressCallback | None) -> None:
        """Store drafts of web pages. A page fetched again under another variant of its URL
        (same origin) keeps the URL it was first stored with: a variant is no change."""
        for draft in drafts:
            draft.url = self.store.url_of(draft.origin) or draft.url
            report.count(self._upsert(draft))
            if progress:
                progress(Progress("reading", 0, 0, report.articles_seen))

    def _ingest_path(self, root: Path, report: IngestReport,
                     progress: ProgressCallback | None, *, remember: bool,
                     skip_unchanged: bool = True) -> None:
        """Store every article under `root` and remove those of its files that are gone.
        Files unchanged since they were last read whole are skipped (unless not
        `skip_unchanged`): their articles count as unchanged."""
        seen_origins: set[str] = set()
        found_any = False
        resolved = str(root.resolve()) if root.exists() else str(root)
        files = UnchangedFiles(self.store, resolved)
        for item in iter_files(root, report.not_read):
            if isinstance(item, tuple):
                report.skipped.append((str(item[0]), item[1]))
                continue
            found_any = True
            stored = files.stored_origins_if_unchanged(item) if skip_unchanged else None
            if stored is not None:
                seen_origins.update(stored)
                report.unchanged += len(stored)
                report.unchanged_files += 1
            else:
                before = files.before_reading(item)
                result = read_file(item, max_bytes=self.settings.max_file_bytes)
                self._store_file_result(result, report, seen_origins)
                files.after_reading(item, before, result)
            if progress:
                progress(Progress("reading", 0, 0, report.articles_seen))
        if found_any or root.exists():
            if remember:
                self.store.add_source(resolved, "path")
            gone = [o for o in self.store.origins_under(resolved) if o not in seen_origins]
            report.removed += self.store.remove_origins(gone)
            files.forget_gone()

    def _store_file_result(self, result: FileResult, report: IngestReport,
                           seen_origins: set[str]) -> None:
        for problem in result.problems:
            report.skipped.append((str(result.path), problem))
        for draft in result.drafts:
            seen_origins.add(draft.origin)
            report.count(self._upsert(draft))
        if result.problems and not result.drafts:
            # A file that now fails to read keeps its previously stored articles.
            seen_origins.update(self.store.origins_under(str(result.path)))

    def _upsert(self, draft: ArticleDraft) -> str:
        """Store one draft, its language identified when its source did not declare one;
        "added", "updated" or "unchanged"."""
        if draft.language is None:
            draft.language = article_language(draft.title, draft.body)
        return self.store.upsert_article(draft, max_tokens=self.settings.max_passage_tokens)

    # -- embedding and the index --------------------------------------------------------

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
            cached = self.cache.keys(model)
            cached_sentences = self.cache.keys(sentence_model(model))
            passages = [item for item in passages if item[0] not in cached]
            sentences = [item for item in sentences if item[0] not in cached_sentences]
        if passages or sentences:
            embed_into_cache(
                [(model, key, text) for key, text in passages]
                + [(sentence_model(model), key, text) for key, text in sentences],
                embedder=self._embedder(), cache=self.cache,
                save_every=self.settings.embed_slice, progress=progress,
                after_save=lambda: crash_point("embedding"),
            )
        report.embedded, report.embedded_sentences = len(passages), len(sentences)
        report.readings = self._read_articles()
        if progress:
            progress(Progress("indexing", 0, 1))
        dim = self._dimension(embedded=bool(passages or sentences or full))
        ids, keys = self.store.passage_keys()
        matrix = (sentence_mean_vectors(ids, self.store.passage_sentence_keys(), self.cache,
                                        sentence_model(model), dim) if from_sentences
                  else self.cache.fill(model, keys, dim))
        written = self.generations.write(ids, matrix, dim)
        crash_point("index-written")
        self.generations.make_live(written, model=model,
                                   passage_vectors=self.settings.passage_vectors)
        self.store.set_meta({INDEXED_PASSAGES_META: _ids_digest(ids)})
        crash_point("index-recorded")
        report.vectors = written.vectors
        if progress:
            progress(Progress("indexing", 1, 1))

    def _read_articles(self) -> int:
        """Make what the cache lacks of each article's reading and sentence matrix, so that
        no question has to; returns how many articles were read."""
        texts: dict[str, tuple[str, str]] = {}
        for title, body in self.store.article_texts():
            texts.setdefault(reading_key(title, body), (title, body))
        self._save_sentence_matrices(texts)
        return self._save_readings(texts)

    def _save_readings(self, texts: dict[str, tuple[str, str]]) -> int:
        """Read each article (`texts`: headline and body by reading key) the cache holds no
        reading of (`index.reading`: its sentences and their words); returns how many."""
        held = self.cache.keys(READINGS)
        items = [(key, texts[key]) for key in texts if key not in held]
        for first in range(0, len(items), READINGS_SLICE):
            self.cache.save_blobs(READINGS, [(key, Reading.of(title, body).encode())
                                             for key, (title, body)
                                             in items[first : first + READINGS_SLICE]])
        return len(items)

    def _save_sentence_matrices(self, texts: dict[str, tuple[str, str]]) -> int:
        """Keep each article's sentence vectors as one matrix too (`article_matrices`,
        under its reading's key), so that a question reads an article's vectors in one
        look-up rather than one a sentence. An article with a sentence not embedded yet gets
        none (its questions read the sentences one by one). Returns how many were made."""
        sentences = sentence_model(self.settings.model)
        namespace = article_matrices(sentences)
        held = self.cache.keys(namespace)
        items, made = [(key, texts[key]) for key in texts if key not in held], 0
        for first in range(0, len(items), READINGS_SLICE):
            keys_of = {key: [text_key(text) for _start, _end, text in sentence_inputs(*article)]
                       for key, article in items[first : first + READINGS_SLICE]}
            vectors = self.cache.get(sentences, [k for keys in keys_of.values() for k in keys])
            blobs = [(key, np.stack([vectors[k] for k in keys]).astype(np.float32).tobytes())
                     for key, keys in keys_of.items()
                     if keys and all(k in vectors for k in keys)]
            self.cache.save_blobs(namespace, blobs)
            made += len(blobs)
        return made

    def _index_is_stale(self) -> bool:
        """Whether the live index is missing, made with other settings, or not exactly
        over the stored passages (e.g. after `ingest --no-index`)."""
        record = self.generations.record()
        if (self.generations.live_generation() is None or record.model != self.settings.model
                or record.passage_vectors != self.settings.passage_vectors):
            return True
        ids, _keys = self.store.passage_keys()
        return self.store.get_meta(INDEXED_PASSAGES_META) != _ids_digest(ids)

    def _dimension(self, *, embedded: bool) -> int:
        """The vectors' dimension, without loading the model when nothing was embedded."""
        record = self.generations.record()
        if embedded or record.dim is None or record.model != self.settings.model:
            return self._embedder().dim
        return record.dim

    def _prune_cache(self) -> None:
        """Drop cached vectors that no stored passage or sentence uses any more. Only
        `reindex` prunes (maintenance), so a question answered from the snapshot before a
        write rarely finds a vector it needs already gone; one that does abstains."""
        with self._lock:
            model = self.settings.model
            self.cache.prune(model, {key for key, _text in self.store.passage_inputs()})
            self.cache.prune(sentence_model(model),
                             {key for key, _text in self.store.sentence_keys()})
            live_readings = {reading_key(title, body)
                             for title, body in self.store.article_texts()}
            self.cache.prune(READINGS, live_readings)
            self.cache.prune(article_matrices(sentence_model(model)), live_readings)
