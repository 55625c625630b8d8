"""`Library`: the one object the CLI and the bot talk to — a facade over one collection.

Writes go to the `Indexer` (`index.indexer`: store → embed → swap in a new index
generation, one transaction each); questions are answered from the live index and a
snapshot of the store; browsing and stats read the store. Long writes report progress
through a callback and are safe to run in a background thread while other threads keep
answering from the live index.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property, partial
from pathlib import Path
from typing import TYPE_CHECKING

from index.embed import Embedder, shared_embedder
from index.qa.answer import Answer
from index.qa.pipeline import Answerer
from index.qa.sentences import SentenceVectorCache
from index.reports import IngestReport, Progress, ProgressCallback
from index.settings import Settings
from index.storage import StoredArticle, StoredFeed
from index.storage.embedding_cache import EmbeddingCache
from index.storage.faiss_index import FaissVectorIndex
from index.storage.generations import FaissGenerations
from index.storage.sqlite_store import SQLiteStore, sentence_model
from index.text import query_terms

if TYPE_CHECKING:
    from index.fetch import FetchSettings
    from index.indexer import Indexer

__all__ = ["IngestReport", "Library", "NotIndexedError", "Progress", "ProgressCallback"]


class NotIndexedError(RuntimeError):
    """Asked before anything was indexed."""




class Library:
    """A collection of articles on disk: store + vector index + model.

    Args: `settings`, read from the environment when not given (and only then: the
    library reads no environment variable of its own afterwards).
    """

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings.from_env()
        self.store = SQLiteStore(self.settings.data_dir)
        self.cache = EmbeddingCache(self.settings.data_dir)
        self.generations = FaissGenerations(self.settings.data_dir, self.store)
        self._index: FaissVectorIndex | None = None
        self._index_generation: str | None = None
        self.answerer = self._answerer()

    @cached_property
    def indexer(self) -> Indexer:
        """The write path, built on the first write: a process that only answers
        questions never loads the readers and cleaners of the write path."""
        from index.indexer import Indexer

        return Indexer(
            self.settings, self.store, self.cache, self.generations,
            embedder=partial(shared_embedder, self.settings.model, self.settings.embedding),
            fetch_settings=self._fetch_settings,
        )

    @property
    def embedder(self) -> Embedder:
        """The embedding model, loaded on first use, once per process."""
        return shared_embedder(self.settings.model, self.settings.embedding)

    def _fetch_settings(self) -> FetchSettings:
        """How web pages and feeds are fetched (private addresses, timeouts)."""
        from index.fetch import FetchSettings

        return FetchSettings.configured(allow_private=self.settings.allow_private_urls,
                                        timeout=self.settings.fetch_timeout)

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
            self._index_generation = generation
        return self._index

    def check_index(self) -> None:
        """Raise NotIndexedError / IndexFileError now if questions could not be answered
        (for start-up: the bot refuses to run on a broken index)."""
        self.live_index()

    # -- questions ----------------------------------------------------------------------

    def _answerer(self) -> Answerer:
        """The read path: answers from the store and the live index, with the model loaded
        on the first question and sentence vectors read from the embedding cache."""
        tuning = self.settings.tuning
        sentence_vectors = SentenceVectorCache(self.cache, sentence_model(self.settings.model),
                                               tuning.sentence_cache_articles)
        return Answerer(self.store, self.live_index, partial(shared_embedder, self.settings.model,
                                                            self.settings.embedding),
                        sentence_vectors, tuning)

    def ask(self, question: str, *, since: str | None = None, until: str | None = None
            ) -> Answer:
        """A short answer with numbered citations, or an abstention (`Answerer.ask`)."""
        return self.answerer.ask(question, since=since, until=until)

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
