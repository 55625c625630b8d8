"""Features: what the answer engine measures of each candidate sentence, as one row of numbers.

For a question and its candidate stories (each copy of a story, with its sentences' closeness
to the question), `sentence_features` gives one row per quotable sentence: the sentence's own
closeness and its neighbours' (a sentence read in its context), its share of the question's
words (plain, weighted by rarity within the story, and with its headline and previous
sentence as context), whether it holds a new fact of the asked-for kind (`index.qa.facts`),
whether it attributes a report when the question asks who said or reported, and the evidence
for its story (lexical and dense retrieval, coverage of the question's rare words, recency,
years and names the collection lacks). `index.qa.model` combines the row into a probability
that the sentence answers; the combination is fitted (`index.fitting`), never set by hand.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from index.qa.abstain import absent_figures, absent_years, unknown_terms
from index.qa.evidence import Hit, StoryEvidence
from index.qa.facts import counts_noun, fills_slot, new_fact_spans
from index.qa.question import Question
from index.qa.tuning import AnswerTuning
from index.storage import StoredArticle
from index.text import stem, stemmed_words

FEATURES = (
    "similarity",            # cosine of the sentence (headline as context) with the question
    "previous_similarity",   # ... of the sentence before it
    "next_similarity",       # ... of the sentence after it
    "similarity_gap",        # its cosine minus the best cosine among all candidates (<= 0)
    "lexical_share",         # share of the question's words the sentence has
    "distinctive_share",     # that share weighted by each word's rarity among the story's sentences
    "context_share",         # share of the question's words in sentence + previous + headline
    "asks_fact",             # the question asks for a kind of fact (a figure, a name, …)
    "new_fact",              # the sentence holds a new fact of that kind
    "counts_noun",           # "how many X": a new figure right before X
    "fills_slot",            # "against which club": a new fact after the same preposition
    "attribution",           # "who reported/said": the sentence attributes ("according to")
    "idf_share",             # share of the question's words, each weighted by its rarity in
                             # the collection, in sentence + previous + headline
    "rarest_in_context",     # the question's rarest word is in sentence + previous + headline
    "rarest_in_article",     # ... anywhere in the article
    "lead",                  # 1 / (1 + the sentence's place in the article)
    "story_similarity",      # the story's best sentence cosine (over all its copies)
    "story_gap",             # that minus the best story's (<= 0)
    "story_lexical",         # the story's best BM25 score / the best of all hits
    "story_dense",           # the story's best passage cosine
    "story_coverage",        # IDF-weighted share of the question's words the article has
    "story_fused_rank",      # 1 / (1 + the story's place in the fused retrieval ranking,
                             # or the cross-encoder's with a reranker)
    "recency",               # a question asking for the latest: ½^(days older / half-life)
    "unknown_terms",         # the question names a name or figure the collection never uses
    "absent_year",           # the question names a year the article never mentions
    "absent_figure",         # ... or another figure ("PlayStation 3", "the third test")
)

# The features of a sentence itself (up to "lead"); the rest are its story's.
SENTENCE_COLUMNS = FEATURES.index("lead") + 1

_WHO_REPORTED = re.compile(
    r"\b(?:who|which (?:paper|newspaper|outlet|media|agency|magazine|broadcaster|publication|"
    r"site|website|source))\b[^?]*\b(?:report|reported|reports|say|said|says|told|tell|revealed|"
    r"reveal|broke|break|claim|claimed|announce|announced|according)\b|\baccording to (?:who|whom"
    r"|which)\b|\bwho (?:first )?(?:reported|revealed|said|broke)\b", re.I)
_ATTRIBUTES = re.compile(r"\baccording to\b|\btold (?:the )?[A-Z]|\b(?:reported|revealed|said) "
                         r"(?:by|in)\b|\b(?:reports?|reported|said|says|told)\b", re.I)


def asks_who_reported(question: str) -> bool:
    """Whether the question asks who reported or said something ("Who first reported …")."""
    return bool(_WHO_REPORTED.search(question))


@dataclass(slots=True)
class CandidateRows:
    """The quotable sentences of a question's candidate stories, one feature row each."""

    stories: list[StoryEvidence]  # every candidate copy, in the order of retrieval
    story_of_row: np.ndarray  # index into `stories` of each row's story
    spans: list[tuple[int, int]]  # each row's sentence in its article's body
    matrix: np.ndarray  # rows × len(FEATURES)
    # The question's words read as the collection's words ("schwarzeneger" → …), if any.
    corrections: dict[str, str] = field(default_factory=dict)

    def text(self, row: int) -> str:
        start, end = self.spans[row]
        return self.stories[int(self.story_of_row[row])].article.body[start:end]


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


def is_quotable(text: str, tuning: AnswerTuning) -> bool:
    """Long enough, and no subheading ("A crucial issue for Huawei… and for China")."""
    if len(text) < tuning.min_sentence_chars:
        return False
    return len(text.split()) >= tuning.heading_words or bool(
        re.search(r"[.!?][\"'”’)]*$", text))


def _published(article: StoredArticle) -> datetime | None:
    if not article.published_at:
        return None
    try:
        moment = datetime.fromisoformat(article.published_at)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def recency_of(stories: list[StoryEvidence], question: Question, tuning: AnswerTuning
             ) -> list[float]:
    """For a question asking for the latest news, ½^(days older than the newest candidate
    / half-life) per story (the newest 1, undated 0); 0 for every story otherwise."""
    if not question.wants_recent:
        return [0.0] * len(stories)
    published = [_published(story.article) for story in stories]
    newest = max((when for when in published if when), default=None)
    if newest is None:
        return [0.0] * len(stories)
    return [0.0 if when is None else 0.5 ** ((newest - when).total_seconds() / 86400
                                             / tuning.recency_half_life_days)
            for when in published]


def _sentence_block(question: Question, story: StoryEvidence, tuning: AnswerTuning,
                    term_weights: dict[str, float]) -> tuple[list[int], np.ndarray]:
    """The sentence-level features of one story's quotable sentences (the first
    `SENTENCE_COLUMNS`)."""
    body = story.article.body
    texts = [body[start:end] for start, end in story.spans]
    sentence_words = (story.words if story.words is not None
                      else [stemmed_words(text) for text in texts])
    title_words = (story.title_words if story.title_words is not None
                   else stemmed_words(story.article.title))
    weights = distinctive_weights(question.terms, sentence_words)
    total = sum(weights.values()) or 1.0
    stems = list(weights)
    who_reported = asks_who_reported(question.text)
    idf_total = sum(term_weights.values()) or 1.0
    rarest = max(term_weights, key=term_weights.__getitem__) if term_weights else None
    article_words = (story.article_words if story.article_words is not None
                     else stemmed_words(f"{story.article.title}\n{body}"))
    rarest_in_article = float(rarest is not None and rarest in article_words)
    sims = [float(s) for s in story.similarities]
    kept: list[int] = []
    rows: list[list[float]] = []
    for i, (text, found) in enumerate(zip(texts, sentence_words, strict=True)):
        if not is_quotable(text, tuning):
            continue
        shared = [term for term in stems if term in found]
        context = found | title_words | (sentence_words[i - 1] if i else frozenset())
        facts_at = new_fact_spans(question.kind, text, question.asked, tuning)
        kept.append(i)
        rows.append([
            sims[i], sims[i - 1] if i else 0.0, sims[i + 1] if i + 1 < len(sims) else 0.0,
            0.0,  # similarity_gap, filled in once every story is read
            len(shared) / len(stems) if stems else 0.0,
            sum(weights[t] for t in shared) / total,
            sum(1 for t in stems if t in context) / len(stems) if stems else 0.0,
            float(question.kind is not None), float(bool(facts_at)),
            float(counts_noun(question.counted, text, question.asked, tuning)),
            float(fills_slot(facts_at, text, question.preposition)),
            float(who_reported and bool(_ATTRIBUTES.search(text))),
            sum(w for t, w in term_weights.items() if t in context) / idf_total,
            float(rarest is not None and rarest in context), rarest_in_article,
            1.0 / (1 + i),
        ])
    return kept, np.array(rows, dtype=np.float64).reshape(len(rows), SENTENCE_COLUMNS)


def sentence_features(question: Question, stories: list[StoryEvidence],
                      story_hits: dict[int, list[Hit]], coverage: list[float],
                      fused_rank: list[int], tuning: AnswerTuning,
                      in_collection: Callable[[str], bool],
                      term_weights: dict[str, float] | None = None) -> CandidateRows:
    """One row of `FEATURES` per quotable sentence of every candidate story copy;
    `story_hits` are the passages found of each story (by story id: evidence for every
    copy), `coverage` and `fused_rank` each copy's (same order as `stories`),
    `term_weights` the rarity (IDF) of each of the question's stemmed words."""
    top_lexical = max((h.lexical for hits in story_hits.values() for h in hits),
                      default=0.0) or 1.0
    # A story's closeness is that of its closest copy: every copy shares the evidence.
    story_best: dict[int, float] = {}
    for story in stories:
        story_best[story.story_id] = max(story_best.get(story.story_id, -1.0),
                                         story.best_similarity)
    best_story = max(story_best.values(), default=0.0)
    recency = recency_of(stories, question, tuning)
    unknown = float(bool(unknown_terms(question, in_collection)))
    blocks, owners, spans = [], [], []
    for number, story in enumerate(stories):
        kept, block = _sentence_block(question, story, tuning, term_weights or {})
        if not kept:
            continue
        story_columns = np.array([
            story_best[story.story_id], story_best[story.story_id] - best_story,
            max((h.lexical for h in story_hits[story.story_id]), default=0.0) / top_lexical,
            max((h.dense for h in story_hits[story.story_id]), default=0.0),
            coverage[number], 1.0 / (1 + fused_rank[number]), recency[number], unknown,
            float(bool(absent_years(question, story))),
            float(bool(absent_figures(question, story))),
        ])
        blocks.append(np.hstack([block, np.tile(story_columns, (len(kept), 1))]))
        owners += [number] * len(kept)
        spans += [story.spans[i] for i in kept]
    matrix = np.vstack(blocks) if blocks else np.zeros((0, len(FEATURES)))
    if len(matrix):
        matrix[:, 3] = matrix[:, 0] - matrix[:, 0].max()
    return CandidateRows(stories, np.array(owners, dtype=np.int64), spans, matrix)


# What the decision to answer at all reads: the best sentence's model score and its row,
# and the gap to the best sentence of another story.
QUESTION_FEATURES = (
    "best_logit", "runner_up_gap", "top_similarity", "top_new_fact",
    "asks_fact", "top_lexical_share", "top_context_share", "top_idf_share",
    "top_rarest_in_context", "top_rarest_in_article", "top_story_coverage",
    "top_story_lexical", "unknown_terms", "absent_year", "absent_figure",
)
_TOP_COLUMNS = [FEATURES.index(name.removeprefix("top_")) for name in QUESTION_FEATURES[2:]]


def question_features(rows: CandidateRows, probabilities: np.ndarray) -> np.ndarray:
    """`QUESTION_FEATURES` of a question, from its rows and their probabilities."""
    if not len(probabilities):
        return np.array([-10.0, 0.0] + [0.0] * len(_TOP_COLUMNS))
    logits = np.log(np.clip(probabilities, 1e-9, 1.0)) - np.log(
        np.clip(1.0 - probabilities, 1e-9, 1.0))
    best = int(np.argmax(logits))
    best_story = rows.stories[int(rows.story_of_row[best])].story_id
    others = [logits[row] for row, owner in enumerate(rows.story_of_row.tolist())
              if rows.stories[owner].story_id != best_story]
    gap = float(logits[best] - max(others)) if others else 10.0
    return np.array([float(logits[best]), min(gap, 10.0), *rows.matrix[best, _TOP_COLUMNS]])
