"""Sentences: how well each sentence of a story answers the question, and which to quote.

`sentence_scores` scores every sentence of a story: its closeness to the question (headline as
context), some of the previous sentence's, the share of the question's words it has (plainly
and weighted by their rarity within the story), and credits for holding a new fact of the
kind asked for (`index.qa.facts`). Story ranking uses it for each story's best answer;
`candidate_sentences` and `select_sentences` pick the few sentences an answer quotes.
`SentenceVectorCache` keeps the sentence vectors of recently asked-about articles in memory.
"""

from __future__ import annotations

import math
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from index.qa.evidence import Span, StoryEvidence
from index.qa.facts import counts_noun, fact_near, fills_slot, names_role, new_fact_spans
from index.qa.question import Question
from index.qa.tuning import AnswerTuning
from index.storage import StoredArticle
from index.storage.sqlite_store import sentence_inputs, text_key
from index.text import one_line, stem, stemmed_words

SentenceVectors = tuple[list[Span], np.ndarray]


class VectorCache(Protocol):
    """Where embedded texts' vectors are kept (`index.storage.embedding_cache`)."""

    def fill(self, model: str, keys: list[str], dim: int) -> np.ndarray:
        """The cached vector of each key, row for row (zeros where missing)."""
        ...


class SentenceVectorCache:
    """Each article's sentence spans with their vectors (headline + sentence, as embedded at
    index time, from the embedding cache under `namespace`), kept in memory for the
    `capacity` most recently asked-about articles. Thread-safe."""

    def __init__(self, cache: VectorCache, namespace: str, capacity: int) -> None:
        self._cache = cache
        self._namespace = namespace
        self._capacity = capacity
        self._articles: OrderedDict[tuple[int, int], SentenceVectors] = OrderedDict()
        self._lock = threading.Lock()

    def of(self, article: StoredArticle, dim: int) -> SentenceVectors:
        """An article's sentence spans with their cached vectors (zeros where missing)."""
        key = (article.id, hash((article.title, article.body)))
        with self._lock:
            found = self._articles.get(key)
            if found is not None:
                self._articles.move_to_end(key)
                return found
        inputs = sentence_inputs(article.title, article.body)
        matrix = self._cache.fill(self._namespace, [text_key(text) for _s, _e, text in inputs],
                                  dim)
        found = [(start, end) for start, end, _text in inputs], matrix
        with self._lock:
            self._articles[key] = found
            while len(self._articles) > self._capacity:
                self._articles.popitem(last=False)
        return found

    def clear(self) -> None:
        """Forget every article (the live index changed)."""
        with self._lock:
            self._articles.clear()


@dataclass(slots=True)
class Candidate:
    """A sentence that may be quoted, with its score and the rank of its story."""

    story: StoryEvidence
    story_rank: int
    start: int
    end: int
    text: str
    score: float = 0.0


def distinctive_weights(terms: list[str], sentence_words: list[frozenset[str]]
                        ) -> dict[str, float]:
    """Weight of each question word (stemmed) by how rare it is among the story's
    sentences: the story's subject ("Joy Division") is in many of them and tells them
    apart little; the detail asked about ("directed") is in few."""
    count = len(sentence_words)
    weights: dict[str, float] = {}
    for term in dict.fromkeys(stem(t) for t in terms):
        holding = sum(1 for found in sentence_words if term in found)
        weights[term] = math.log((count + 1) / (holding + 0.5))
    return weights


def sentence_scores(question: Question, story: StoryEvidence, tuning: AnswerTuning,
                    distinctive_weight: float = 0.0, near_detail_weight: float = 0.0,
                    role_weight: float = 0.0, slot_weight: float = 0.0) -> list[float]:
    """How well each sentence of a story answers the question: its closeness (headline as
    context) plus some of the previous sentence's (an answer often follows the sentence
    that sets the scene), the share of the question's words it has (plainly, and weighted
    by their rarity within the story, which tells the sentences of one story apart but not
    stories), and whether it holds the kind of fact asked for."""
    body = story.article.body
    texts = [body[start:end] for start, end in story.spans]
    sentence_words = [stemmed_words(text) for text in texts]
    weights = distinctive_weights(question.terms, sentence_words)
    total = sum(weights.values()) or 1.0
    stems = list(weights)
    # The question's rare words in this story: in at most `rare_detail_share` of its
    # sentences (only when they earn credit: ranking stories scores every sentence without).
    rare = math.log((len(texts) + 1)
                    / (max(1.0, tuning.rare_detail_share * len(texts)) + 0.5))
    details = {term for term, weight in weights.items()
               if weight >= rare} if near_detail_weight else set()
    scores: list[float] = []
    previous = 0.0
    for text, found, similarity in zip(texts, sentence_words, story.similarities, strict=True):
        shared = [term for term in stems if term in found]
        facts_at = new_fact_spans(question.kind, text, question.asked, tuning)
        scores.append(
            float(similarity)
            + tuning.context_weight * previous
            + tuning.sentence_lexical_weight * (len(shared) / len(stems) if stems else 0.0)
            + distinctive_weight * sum(weights[t] for t in shared) / total
            + tuning.answer_kind_bonus * bool(facts_at)
            + tuning.counted_noun_bonus * counts_noun(question.counted, text, question.asked,
                                                      tuning)
            + near_detail_weight * fact_near(
                facts_at, text, details.intersection(shared), tuning)
            + role_weight * names_role(facts_at, text, question.roles, tuning)
            + slot_weight * fills_slot(facts_at, text, question.preposition)
        )
        previous = float(similarity)
    return scores


def _is_heading(text: str, tuning: AnswerTuning) -> bool:
    """A subheading ("A crucial issue for Huawei… and for China") is not an answer."""
    return len(text.split()) < tuning.heading_words and not re.search(r"[.!?][\"'”’)]*$", text)


def candidate_sentences(
    question: Question, stories: list[StoryEvidence], tuning: AnswerTuning
) -> list[Candidate]:
    """Every sentence of the best stories, scored by `sentence_scores`; sentences of
    lower-ranked stories pay a small penalty."""
    candidates: list[Candidate] = []
    for rank, story in enumerate(stories[: tuning.max_sources]):
        if rank and story.score < stories[0].score - tuning.source_margin:
            break
        body = story.article.body
        scores = sentence_scores(question, story, tuning, tuning.sentence_distinctive_weight,
                                 tuning.fact_near_detail_bonus, tuning.role_name_bonus,
                                 tuning.slot_bonus)
        for (start, end), score in zip(story.spans, scores, strict=True):
            text = body[start:end]
            if len(text) < tuning.min_sentence_chars or _is_heading(text, tuning):
                continue
            candidates.append(Candidate(story, rank, start, end, text,
                                        score - tuning.lower_source_penalty * rank))
    return candidates


def select_sentences(candidates: list[Candidate], tuning: AnswerTuning) -> list[Candidate]:
    """The best sentence, plus close runners-up while the answer stays short."""
    ranked = sorted(candidates, key=lambda c: -c.score)
    chosen: list[Candidate] = []
    length = 0
    for candidate in ranked:
        if len(chosen) >= tuning.max_sentences:
            break
        if chosen and candidate.score < tuning.runner_up_ratio * chosen[0].score:
            break
        if length + len(candidate.text) > tuning.max_answer_chars:
            if not chosen:
                chosen.append(candidate)  # the best sentence alone may not fit: clip below
                length += len(candidate.text)
            continue
        if any(restates(c.text, candidate.text, tuning.restated_overlap) for c in chosen):
            continue  # the same sentence in a copy of the story, or another outlet's wording
        chosen.append(candidate)
        length += len(candidate.text) + 5  # and its " [n] " marker
    return chosen


def restates(first: str, second: str, overlap: float) -> bool:
    """Whether two sentences say the same thing: equal, or sharing at least `overlap` of
    their words ("IBM test results show…" and "DOE test results show…")."""
    if one_line(first) == one_line(second):
        return True
    a, b = stemmed_words(first), stemmed_words(second)
    return bool(a and b) and len(a & b) / len(a | b) >= overlap
