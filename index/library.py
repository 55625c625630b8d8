"""`Library`: the one object the CLI and the bot talk to — a facade over one collection.

Writes go to the `Indexer` (`index.indexer`: store → embed → swap in a new index
generation, one transaction each); questions are answered from the live index and a
snapshot of the store; browsing and stats read the store. Long writes report progress
through a callback and are safe to run in a background thread while other threads keep
answering from the live index.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from index import answer as answering
from index.answer import Answer
from index.config import Settings
from index.embed import Embedder, shared_embedder
from index.indexer import Indexer
from index.reports import IngestReport, Progress, ProgressCallback
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
from index.storage import StoredArticle, StoredFeed
from index.storage.embedding_cache import EmbeddingCache
from index.storage.faiss_index import FaissVectorIndex
from index.storage.generations import FaissGenerations
from index.storage.sqlite_store import (
    SQLiteStore,
    sentence_inputs,
    sentence_model,
    text_key,
)

if TYPE_CHECKING:
    from index.fetch import FetchSettings

__all__ = ["IngestReport", "Library", "NotIndexedError", "Progress", "ProgressCallback"]


class NotIndexedError(RuntimeError):
    """Asked before anything was indexed."""


# Articles whose sentence vectors stay in memory between questions (~30 KB each).
SENTENCE_CACHE_ARTICLES = 2048
SentenceVectors = tuple[list[tuple[int, int]], np.ndarray]


def _fetch_settings_from_env() -> FetchSettings:
    from index.fetch import FetchSettings

    return FetchSettings.from_env()


class Library:
    """A collection of articles on disk: store + vector index + model.

    Args: `settings`, read from the environment when not given; `fetch_settings`, gives
    the limits and policy of each web fetch (by default read from the environment at each
    fetch, so `CITEBOT_ALLOW_PRIVATE_URLS` changed while the bot runs takes effect).
    """

    def __init__(self, settings: Settings | None = None, *,
                 fetch_settings: Callable[[], FetchSettings] | None = None) -> None:
        self.settings = settings or Settings.from_env()
        self.store = SQLiteStore(self.settings.data_dir)
        self.cache = EmbeddingCache(self.settings.data_dir)
        self.generations = FaissGenerations(self.settings.data_dir, self.store)
        self.indexer = Indexer(
            self.settings, self.store, self.cache, self.generations,
            embedder=partial(shared_embedder, self.settings.model),
            fetch_settings=fetch_settings or _fetch_settings_from_env,
        )
        self._index: FaissVectorIndex | None = None
        self._index_generation: str | None = None
        # Passage frequency of words, for the live index generation (see `term_weights`).
        self._frequencies: dict[str, int] = {}
        self._passage_total: int | None = None
        # Recently used articles' sentence spans and vectors, for the live generation.
        self._sentences: OrderedDict[tuple[int, int], SentenceVectors] = OrderedDict()
        self._sentences_lock = threading.Lock()

    @property
    def embedder(self) -> Embedder:
        """The embedding model, loaded on first use, once per process."""
        return shared_embedder(self.settings.model)

    # -- writes (see `index.indexer.Indexer`) -------------------------------------------

    def ingest(self, paths: Iterable[str | Path], *, build_index: bool = True,
               progress: ProgressCallback | None = None) -> IngestReport:
        """Read files/folders into the store and (by default) bring the index up to date."""
        return self.indexer.ingest(paths, build_index=build_index, progress=progress)

    def reindex(self, *, full: bool = False, progress: ProgressCallback | None = None
                ) -> IngestReport:
        """Re-read every remembered source, embed what is not cached and swap in a fresh
        index. `full` re-embeds everything."""
        return self.indexer.reindex(full=full, progress=progress)

    def ingest_url(self, url: str, progress: ProgressCallback | None = None) -> IngestReport:
        """Fetch one web article, store it and bring the index up to date. Raises
        `index.fetch.FetchError` when the page can't be used."""
        return self.indexer.ingest_url(url, progress)

    def ingest_urls(self, urls: Iterable[str], *, build_index: bool = True,
                    progress: ProgressCallback | None = None) -> IngestReport:
        """Like `ingest_url` for several URLs, indexing once; a URL that can't be used is
        reported in `skipped` with the reason."""
        return self.indexer.ingest_urls(urls, build_index=build_index, progress=progress)

    def remove(self, origin: str) -> bool:
        """Delete one article with its passages and vectors."""
        return self.indexer.remove(origin)

    def is_busy(self) -> bool:
        """True while an ingest or reindex runs in this process."""
        return self.indexer.is_busy()

    # -- feeds --------------------------------------------------------------------------

    def feeds(self) -> list[StoredFeed]:
        """The followed feeds, oldest first."""
        return self.store.feeds()

    def feed(self, url: str) -> StoredFeed | None:
        """The followed feed at `url` or at a variant of it (http/https, tracking, slash)."""
        return self.indexer.feed(url)

    def add_feed(self, url: str) -> StoredFeed:
        """Follow the RSS/Atom feed at `url` (returned as is when followed already); its
        items are read by `refresh`. Raises `index.fetch.FetchError` with the reason when
        it can't be fetched or is not a feed."""
        return self.indexer.add_feed(url)

    def remove_feed(self, url: str, *, delete_articles: bool = False) -> IngestReport | None:
        """Stop following a feed (None if it isn't followed); with `delete_articles`, the
        articles that came only from it are removed too."""
        return self.indexer.remove_feed(url, delete_articles=delete_articles)

    def refresh(self, progress: ProgressCallback | None = None) -> IngestReport:
        """Poll every followed feed, store its new and changed items, index them once."""
        return self.indexer.refresh(progress)

    # -- the live index -----------------------------------------------------------------

    def live_index(self) -> FaissVectorIndex:
        """The live vector index, reloaded when another run swapped in a new generation."""
        generation = self.generations.live_generation()
        if generation is None:
            raise NotIndexedError("nothing is indexed yet: run `citebot ingest PATH` first")
        if self._index is None or generation != self._index_generation:
            indexed_model = self.generations.record().model
            if indexed_model != self.settings.model:
                raise NotIndexedError(
                    f"the index was built with model {indexed_model!r}, not "
                    f"{self.settings.model!r}: run `citebot reindex` to rebuild it"
                )
            self._index = self.generations.load_live()
            self._frequencies, self._passage_total = {}, None
            with self._sentences_lock:
                self._sentences.clear()
            self._index_generation = generation
        return self._index

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
        record = self.generations.record()
        return {
            **self.store.counts(),
            "vectors": record.vectors,
            "cached_vectors": self.cache.count(),
            "model": record.model or self.settings.model,
            "passage_vectors": record.passage_vectors or self.settings.passage_vectors,
            "index_bytes": self.generations.live_bytes(),
            "index_generation": record.generation,
            "last_reindex": record.last_reindex,
            "data_dir": str(self.settings.data_dir),
            "sources": self.store.sources(),
        }

    def close(self) -> None:
        self.store.close()
        self.cache.close()
