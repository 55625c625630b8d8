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

from index.qa.answer import Answer
from index.qa.pipeline import Answerer
from index.qa.rerank import shared_reranker
from index.qa.sentences import SentenceVectorCache
from index.reports import IngestReport, Progress, ProgressCallback
from index.settings import Settings, SettingsError
from index.storage import StoredArticle, StoredFeed, VectorIndex
from index.storage.backends import open_backend
from index.text import query_terms
from index.vectors.embed import Embedder, shared_embedder
from index.vectors.embedding_inputs import sentence_model

if TYPE_CHECKING:
    from index.indexer import Indexer
    from index.reader.stage import SentenceListener
    from index.sources.fetch import FetchSettings

__all__ = ["IngestReport", "Library", "NotIndexedError", "Progress", "ProgressCallback"]


class NotIndexedError(RuntimeError):
    """Asked before anything was indexed."""




class Library:
    """A collection of articles: store + vector index + model, in the backend the settings
    name (`index.storage.backends`: files in the data directory, or PostgreSQL).

    Args: `settings`, read from the environment when not given (and only then: the
    library reads no environment variable of its own afterwards).
    """

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings.from_env()
        self.backend = open_backend(self.settings)
        self.store = self.backend.store
        self.cache = self.backend.cache
        self.generations = self.backend.generations
        self._ray_embedder: Embedder | None = None
        self._index: VectorIndex | None = None
        self._index_generation: str | None = None
        self.answerer = self._answerer()

    @cached_property
    def indexer(self) -> Indexer:
        """The write path, built on the first write: a process that only answers
        questions never loads the readers and cleaners of the write path."""
        from index.indexer import Indexer

        return Indexer(
            self.settings, self.store, self.cache, self.generations,  # type: ignore[arg-type]
            embedder=self._bulk_embedder, fetch_settings=self._fetch_settings,
        )

    @property
    def embedder(self) -> Embedder:
        """The embedding model, loaded on first use, once per process."""
        return shared_embedder(self.settings.model, self.settings.embedding)

    def _bulk_embedder(self) -> Embedder:
        """The embedder of indexing jobs: in-process, or Ray workers when the settings
        name a Ray address (`index.vectors.ray_embedding`)."""
        if not self.settings.ray_address:
            return self.embedder
        if self._ray_embedder is None:
            from index.vectors.ray_embedding import RayEmbedder

            self._ray_embedder = RayEmbedder(  # type: ignore[assignment]
                self.settings.model, self.settings.embedding, self.settings.ray_address)
        assert self._ray_embedder is not None
        return self._ray_embedder

    def _fetch_settings(self) -> FetchSettings:
        """How web pages and feeds are fetched (private addresses, timeouts)."""
        from index.sources.fetch import FetchSettings

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
        `index.sources.fetch.FetchError` when the page can't be used."""
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
        items are read by `refresh`. Raises `index.sources.fetch.FetchError` with the reason when
        it can't be fetched or is not a feed."""
        return self.indexer.add_feed(url)

    def remove_feed(self, url: str, *, delete_articles: bool = False) -> IngestReport | None:
        """Stop following a feed (None if it isn't followed); with `delete_articles`, the
        articles that came only from it are removed too."""
        return self.indexer.remove_feed(url, delete_articles=delete_articles)

    def claim_scheduled_refresh(self, period_seconds: float) -> bool:
        """Whether this process should run the scheduled feed refresh now: True for one
        of the processes sharing the collection per period, and never while another's is
        still running (`index.schedule`); call `end_scheduled_refresh` when it is over."""
        from index.schedule import claim_turn

        return claim_turn(self.store, "feed_refresh", period_seconds)

    def end_scheduled_refresh(self) -> None:
        """The scheduled feed refresh this process claimed has ended (run or not)."""
        from index.schedule import end_turn

        end_turn(self.store, "feed_refresh")

    def refresh(self, progress: ProgressCallback | None = None) -> IngestReport:
        """Poll every followed feed, store its new and changed items, index them once."""
        return self.indexer.refresh(progress)

    # -- the live index -----------------------------------------------------------------

    def live_index(self) -> VectorIndex:
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

    def check_reranker(self) -> None:
        """Load the reranker now, when one is configured (`CITEBOT_RERANKER`), instead of on
        the first question: raises `index.qa.rerank.RerankerError` (one line) when it can't
        be loaded (for start-up: the bot does not start with a reranker it can't use)."""
        if self.settings.reranker:
            shared_reranker(self.settings.reranker, self.settings.embedding.threads)

    # -- questions ----------------------------------------------------------------------

    def _answerer(self) -> Answerer:
        """The read path: answers from the store and the live index, with the model (and
        the reranker, when one is configured) loaded on the first question and sentence
        vectors read from the embedding cache."""
        tuning = self.settings.tuning
        sentence_vectors = SentenceVectorCache(self.cache, sentence_model(self.settings.model),
                                               tuning.sentence_cache_articles)
        reader = None
        if self.settings.llm.configured:  # the reader's modules load only when it is used
            from index.reader.stage import LlmReader

            reader = LlmReader(self.settings.llm, self.store, lambda: self.embedder.embed)
        reranker = None
        if self.settings.reranker:  # torch and sentence-transformers load only when it is used
            reranker = partial(shared_reranker, self.settings.reranker,
                               self.settings.embedding.threads)
        return Answerer(self.store, self.live_index, partial(shared_embedder, self.settings.model,
                                                            self.settings.embedding),
                        sentence_vectors, tuning, reader=reader,
                        languages=self.settings.model_languages, reranker=reranker)

    def ask(self, question: str, *, since: str | None = None, until: str | None = None,
            llm: bool | None = None, on_sentence: SentenceListener | None = None,
            earlier: str | None = None) -> Answer:
        """A short answer with numbered citations, or an abstention (`Answerer.ask`). With
        `llm` (default: the `CITEBOT_LLM` setting) the LLM reader rewrites it, handing each
        verified sentence to `on_sentence` as it comes (docs/llm-reader.md). `earlier`: the
        question this one follows up (a reply to an answer)."""
        read = self.settings.llm.enabled if llm is None else llm
        if read and self.answerer.reader is None:
            raise SettingsError("the LLM reader needs CITEBOT_LLM_URL and CITEBOT_LLM_MODEL")
        return self.answerer.ask(question, since=since, until=until, read=read,
                                 on_sentence=on_sentence, earlier=earlier)

    def reader_stats(self) -> dict[str, object] | None:
        """What the LLM reader did in this process (None when it is not configured)."""
        reader = self.answerer.reader
        stats = getattr(reader, "stats", None)
        return stats.to_dict() if stats is not None else None

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

    def added_per_day(self, since: str) -> dict[tuple[str, str], int]:
        """Articles added per day and outlet since `since` (ISO date), for usage charts."""
        return self.store.added_per_day(since)

    def index_generation(self) -> int | None:
        """The live index's generation number, None before the first index."""
        generation = self.generations.live_generation()
        return int(generation) if generation else None

    def stats(self) -> dict[str, object]:
        """The collection's counts and index state; "llm" has what the LLM reader did in
        this process when it is configured."""
        record = self.generations.record()
        reader = self.reader_stats()
        return {**({"llm": reader} if reader is not None else {}),
            **self.store.counts(),
            "vectors": record.vectors,
            "cached_vectors": self.cache.count(),
            "model": record.model or self.settings.model,
            "passage_vectors": record.passage_vectors or self.settings.passage_vectors,
            "index_bytes": self.generations.live_bytes(),
            "index_generation": record.generation,
            "last_reindex": record.last_reindex,
            "data_dir": str(self.settings.data_dir),
            **({"database": self.backend.location} if self.settings.database_url else {}),
            "sources": self.store.sources(),
            "languages": self.store.language_counts(),
            "model_languages": list(self.settings.model_languages),
        }

    def close(self) -> None:
        self.backend.close()
