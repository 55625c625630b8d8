"""`Answerer`: a question's whole path, stage by stage, in one method.

tell the question's language (declined with a hint when the model doesn't read it) → read the
question → read a word no article uses as the collection's closest word (spelling) → embed
it → retrieve passages (dense + lexical, fused) → with a reranker, reorder them by a
cross-encoder's score → gather the candidate stories (every copy) → one feature row per
candidate sentence → the fitted answer model ranks stories by their likeliest sentence,
declines, or chooses sentences → compose the cited answer. Each stage is timed
(`Answer.stage_ms`; "rerank" only when there is a reranker). The stages live in their own
modules of `index.qa`; the `Answerer` is handed what they need when it is built: the store,
the live vector index, the query encoder, the sentence vectors, the tuning and, optionally,
the reranker.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol

import numpy as np

from index.filters import DateRange
from index.language import question_language, serves, unsupported_language_message
from index.qa.answer import NO_ANSWER, Answer, Citation
from index.qa.compose import compose
from index.qa.features import CandidateRows, sentence_features
from index.qa.model import AnswerModel, decide
from index.qa.question import Question
from index.qa.rerank import Reranker, rerank
from index.qa.retrieve import retrieve
from index.qa.sentences import SentenceVectorCache
from index.qa.spelling import corrected, corrections
from index.qa.stories import TermWeights, candidate_stories
from index.qa.tuning import AnswerTuning
from index.storage import ArticleStore, VectorIndex

# The stages up to the question's vector, and retrieval (with reranking, when on), in
# `Answer.timings_ms` terms; the stages after them make up "answer".
_EMBED_STAGES = ("language", "index", "question", "spelling", "embed")
_SEARCH_STAGES = ("retrieve", "rerank")


class QueryEncoder(Protocol):
    """Turns a question into a normalised vector (`index.vectors.embed.Embedder`)."""

    def embed_query(self, text: str) -> np.ndarray: ...


class AnswerReader(Protocol):
    """An optional stage after the extractive answer (`index.reader.stage.LlmReader`): it
    may rewrite the answer from the same retrieved passages, calling `on_sentence` with each
    sentence it is sure of as it goes."""

    def read(self, answer: Answer, on_sentence: Callable[[str], None] | None = None, *,
             question: str | None = None, earlier: str | None = None) -> Answer: ...


class _Stopwatch:
    """The time of each stage, in milliseconds, in the order they ran."""

    def __init__(self) -> None:
        self.stage_ms: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.stage_ms[stage] = (now - self._last) * 1000
        self._last = now

    def summary(self) -> dict[str, float]:
        """The four times of `Answer.timings_ms`."""
        embed = sum(self.stage_ms.get(stage, 0.0) for stage in _EMBED_STAGES)
        search = sum(self.stage_ms.get(stage, 0.0) for stage in _SEARCH_STAGES)
        total = sum(self.stage_ms.values())
        return {"embed": embed, "search": search, "answer": total - embed - search,
                "total": total}


class Answerer:
    """Answers questions from a store and its live vector index, with citations."""

    def __init__(
        self,
        store: ArticleStore,
        index: Callable[[], VectorIndex],
        encoder: Callable[[], QueryEncoder],
        sentence_vectors: SentenceVectorCache,
        tuning: AnswerTuning,
        model: AnswerModel | None = None,
        reader: AnswerReader | None = None,
        languages: tuple[str, ...] = ("en",),
        reranker: Callable[[], Reranker] | None = None,
    ) -> None:
        """`index` returns the live vector index (a new one when the index is swapped);
        `encoder` the query encoder (loaded on the first question); `model` the fitted
        answer model (default: the one stored beside `index.qa.model`); `reader`, when
        given, is run after the answer on `ask(..., read=True)`; `languages` those the
        encoder reads ("*": any); `reranker`, when given, returns the cross-encoder that
        reorders the retrieved passages (loaded on the first question; `index.qa.rerank`)."""
        self.store = store
        self.tuning = tuning
        self.model = model or AnswerModel.load()
        self.sentence_vectors = sentence_vectors
        self.term_weights = TermWeights(store)
        self.languages = languages
        self._index = index
        self._encoder = encoder
        self._reranker = reranker
        self.reader = reader
        self._index_seen: VectorIndex | None = None
        self._index_lock = threading.Lock()

    def ask(self, text: str, *, since: str | None = None, until: str | None = None,
            read: bool = False, on_sentence: Callable[[str], None] | None = None,
            earlier: str | None = None) -> Answer:
        """A short answer with numbered citations, or an abstention; `since`/`until` limit
        the articles to those published between them (ISO dates, both included). With
        `read`, the reader (if any) rewrites an answer that was not an abstention.
        `earlier`: the question `text` follows up ("and nvidia?" after a question on
        Huawei); both are searched together, and the reader is told which is which."""
        clock = _Stopwatch()
        language = question_language(text)
        clock.lap("language")
        if not serves(self.languages, language):
            assert language is not None
            return Answer(
                question=text, abstained=True, citations=[], retrieved=[],
                answer=unsupported_language_message(language, self.languages),
                timings_ms=clock.summary(), stage_ms=clock.stage_ms, language=language,
                declined_because="language")
        index = self._live_index()
        clock.lap("index")
        searched = f"{earlier.strip()} {text.strip()}" if earlier else text
        with self.store.snapshot():  # one state of the store for the whole question
            answer = self._answer(searched, index, DateRange(since, until), clock,
                                  english=language in (None, "en"),
                                  follow_up=(earlier, text) if earlier else None)
        answer.language = language
        if read and self.reader is not None and not answer.abstained:
            answer = self.reader.read(answer, on_sentence, question=text, earlier=earlier)
        return answer

    def candidates(self, text: str, *, since: str | None = None, until: str | None = None
                   ) -> CandidateRows:
        """The feature rows of a question's candidate sentences, as the answer model reads
        them (for fitting it: `index.fitting`)."""
        index = self._live_index()
        with self.store.snapshot():
            return self._candidates(text, index, DateRange(since, until), _Stopwatch())

    def _candidates(self, text: str, index: VectorIndex, dates: DateRange, clock: _Stopwatch,
                    *, english: bool = True, follow_up: tuple[str, str] | None = None
                    ) -> CandidateRows:
        """The stages up to the feature rows: question, spelling, embed, retrieve, rerank
        (with a reranker), stories. `text` is what is searched; `follow_up`, the earlier
        question and the reply when `text` joins them (`Question.follow_up`)."""
        tuning = self.tuning

        def read(fix: dict[str, str]) -> Question:  # a follow-up is read as one, fixed or not
            if follow_up:
                return Question.follow_up(*(corrected(p, fix) for p in follow_up),
                                          english=english)
            return Question.of(corrected(text, fix), english=english)

        question = read({})
        clock.lap("question")

        misspelled = corrections(question.terms, self.store.similar_words, self.store.has_term)
        if misspelled:  # read and search the question as the collection spells its words
            question = read(misspelled)
            text = corrected(text, misspelled)
        clock.lap("spelling")

        query_vector = self._encoder().embed_query(text)
        clock.lap("embed")

        hits = retrieve(self.store, index, question, query_vector, tuning, dates)
        clock.lap("retrieve")

        if self._reranker is not None:  # the cross-encoder's order replaces the fused one
            hits = rerank(self._reranker(), text, hits)
            clock.lap("rerank")

        term_weights = self.term_weights.of(question)
        found = candidate_stories(hits, question, query_vector, tuning, self.sentence_vectors,
                                  term_weights=term_weights, store=self.store, dates=dates)
        rows = sentence_features(question, found.copies, found.story_hits, found.coverage,
                                 found.fused_rank, tuning, self.store.has_term, term_weights)
        rows.corrections = misspelled
        clock.lap("stories")
        return rows

    def _answer(self, text: str, index: VectorIndex, dates: DateRange, clock: _Stopwatch,
                *, english: bool = True, follow_up: tuple[str, str] | None = None) -> Answer:
        """The stages, in order."""
        rows = self._candidates(text, index, dates, clock, english=english, follow_up=follow_up)
        decision = decide(rows, self.model.probabilities(rows.matrix), self.model, self.tuning)
        clock.lap("abstain")  # the model's decision: decline, or the sentences to quote

        answer_text, abstained = NO_ANSWER, True
        citations: list[Citation] = []
        if decision.chosen:
            answer_text, citations = compose(decision.chosen, self.store)
            abstained = False
        clock.lap("compose")

        return Answer(
            question=text, answer=answer_text, abstained=abstained, citations=citations,
            retrieved=[hit for story in decision.stories for hit in story.hits],
            timings_ms=clock.summary(), stage_ms=clock.stage_ms, corrections=rows.corrections,
            confidence=decision.answerable, hedged=decision.hedged and not abstained,
        )

    def _live_index(self) -> VectorIndex:
        """The live index; the word frequencies and sentence vectors kept in memory are
        dropped when it is another one than the last question's (the collection changed)."""
        index = self._index()
        with self._index_lock:
            if index is not self._index_seen:
                self._index_seen = index
                self.term_weights.clear()
                self.sentence_vectors.clear()
        return index
