"""`AnswerTuning`: every number that decides how a question is answered, in one place.

Retrieval depths, ranking and sentence weights, the windows of the fact rules, answer length,
the abstention thresholds and the answer path's memory. Each knob can be set by its
`CITEBOT_<KNOB>` variable (see `index.settings`); each says what it does in its `help`
(`knob_help`), which `docs/answer-quality.md` lists with the defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any


def _knob(default: Any, what: str) -> Any:
    """A field of `AnswerTuning`: its default and one line on what it does (its `help`)."""
    return field(default=default, metadata={"help": what})


@dataclass(frozen=True, slots=True)
class AnswerTuning:
    """Knobs of retrieval, story ranking, answer composition and abstention; the defaults
    are the values measured on the dev set (see docs/answer-quality.md)."""

    # -- retrieval (index.qa.retrieve) ------------------------------------------------
    candidates: int = _knob(60, "passages fetched from each retriever (dense, lexical) "
                                "before fusion")
    passages: int = _knob(24, "passages kept after fusion")
    passages_per_story: int = _knob(2, "at most this many of the kept passages from one story")
    rrf_k: int = _knob(60, "reciprocal-rank fusion: a passage at rank r of a retriever "
                           "scores 1 / (rrf_k + r)")
    retriever_top: int = _knob(2, "the first passages of each retriever's own ranking that "
                                  "always reach story re-ranking, however low they fuse")
    date_filter_widen: int = _knob(4, "with --since/--until, each retriever fetches this × "
                                      "`candidates` (the filter drops many)")
    # -- story ranking (index.qa.stories) ---------------------------------------------
    rerank_stories: int = _knob(10, "stories of the fused ranking re-ranked on their sentences")
    story_lexical_weight: float = _knob(1.0, "× the story's best BM25 score, normalised")
    story_dense_weight: float = _knob(0.25, "× the story's best passage cosine")
    story_answer_weight: float = _knob(1.0, "× how much better the story's best answer "
                                            "sentence scores than its closest sentence")
    story_coverage_weight: float = _knob(3.0, "× the IDF-weighted share of the question's "
                                              "words the whole article has")
    whole_names: bool = _knob(True, "a name of several words in the question counts in "
                                    "coverage only for an article that gives it whole")
    recency_weight: float = _knob(0.15, "a question asking for the latest news: the newest "
                                        "candidate story gains this, older ones less")
    recency_half_life_days: float = _knob(7.0, "that gain halves for each this many days a "
                                               "story is older than the newest candidate")
    # -- choosing sentences (index.qa.sentences, index.qa.facts) ----------------------
    max_sources: int = _knob(2, "citation slots in one answer")
    source_margin: float = _knob(0.05, "a second source only if its story scores this close "
                                       "to the first")
    lower_source_penalty: float = _knob(0.05, "per rank, on sentences of lower-ranked sources")
    sentence_lexical_weight: float = _knob(0.4, "× the share of the question's words in the "
                                                "sentence")
    sentence_distinctive_weight: float = _knob(0.3, "× that share weighted by each word's "
                                                    "rarity among the story's sentences")
    context_weight: float = _knob(0.15, "× the previous sentence's closeness to the question")
    answer_kind_bonus: float = _knob(0.3, "for a sentence holding a new fact of the kind "
                                          "asked for")
    counted_noun_bonus: float = _knob(0.2, "\"how many X\": for a new figure right before X")
    fact_near_detail_bonus: float = _knob(0.1, "for that fact next to a rare word of the "
                                               "question")
    rare_detail_share: float = _knob(0.1, "a question word is a rare word of a story when at "
                                          "most this share of its sentences have it")
    near_chars: int = _knob(40, "\"next to\" a rare word: within this many characters")
    role_name_bonus: float = _knob(0.3, "\"which lawyer\": for a new name beside the role "
                                        "asked about")
    role_chars: int = _knob(30, "\"beside\" the role: within this many characters")
    slot_bonus: float = _knob(0.7, "\"against which club\": for a new fact right after the "
                                   "same preposition, in ranking stories and choosing "
                                   "sentences")
    count_window_chars: int = _knob(60, "a figure counts the plural noun in this many "
                                        "characters after it (within its clause)")
    count_window_words: int = _knob(4, "... and among this many words after it")
    max_sentences: int = _knob(3, "sentences in one answer")
    runner_up_ratio: float = _knob(0.5, "further sentences must score at least this × "
                                        "the best")
    max_answer_chars: int = _knob(500, "the answer's length in characters")
    min_sentence_chars: int = _knob(15, "shorter sentences are never quoted")
    heading_words: int = _knob(10, "a line of fewer words without closing punctuation is a "
                                   "subheading, never quoted")
    restated_overlap: float = _knob(0.8, "a sentence sharing this share of its words with "
                                         "one already chosen says the same: skipped")
    # -- abstention (index.qa.abstain) ------------------------------------------------
    abstain_below: float = _knob(0.48, "abstain when no sentence of the best "
                                       "`abstain_stories` stories is this close (cosine)")
    abstain_stories: int = _knob(3, "the stories that rule looks at")
    abstain_missing_detail_below: float = _knob(0.65, "below this, abstain when the question "
                                                      "names a name or figure the collection "
                                                      "never uses")
    abstain_absent_year_below: float = _knob(1.0, "below this (1.0: at any closeness), "
                                                  "abstain when it names a year the best "
                                                  "story never mentions")
    abstain_cited_below: float = _knob(0.35, "abstain when the best story, the one an answer "
                                             "quotes, has no sentence this close")
    # -- memory (index.qa.sentences) --------------------------------------------------
    sentence_cache_articles: int = _knob(2048, "articles whose sentence vectors stay in "
                                               "memory between questions (~30 KB each)")


DEFAULT_TUNING = AnswerTuning()


def knob_help() -> dict[str, str]:
    """Each knob's name and what it does, in the order `AnswerTuning` lists them."""
    return {knob.name: knob.metadata["help"] for knob in fields(AnswerTuning)}
