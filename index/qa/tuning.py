"""`AnswerTuning`: every number set by hand that shapes how a question is answered.

Retrieval depths, the candidates the answer model reads, the windows of the fact rules,
answer length and the answer path's memory. How the features weigh, when to decline and when
a further sentence adds are not here: they are fitted (`index.qa.model`, `index.fitting`).
Each knob can be set by its `CITEBOT_<KNOB>` variable (see `index.settings`); each says what
it does in its `help` (`knob_help`), which `docs/answer-quality.md` lists with the defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any


def _knob(default: Any, what: str) -> Any:
    """A field of `AnswerTuning`: its default and one line on what it does (its `help`)."""
    return field(default=default, metadata={"help": what})


@dataclass(frozen=True, slots=True)
class AnswerTuning:
    """Knobs of retrieval, the candidates, the fact rules and answer composition; the
    defaults are the values measured on the question files (see docs/answer-quality.md)."""

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
    rerank_stories: int = _knob(10, "stories of the fused ranking (the cross-encoder's, with "
                                    "CITEBOT_RERANKER) whose sentences the answer model reads")
    whole_names: bool = _knob(True, "a name of several words in the question counts in "
                                    "coverage only for an article that gives it whole")
    recency_weight: float = _knob(0.15, "a question asking for the latest news: the newest "
                                        "candidate story's sentences gain this on their "
                                        "probability, older ones less (set by hand: the "
                                        "question files have no dated stories to fit it on)")
    recency_half_life_days: float = _knob(7.0, "that gain halves for each this many days a "
                                               "story is older than the newest candidate")
    # -- choosing sentences (index.qa.sentences, index.qa.facts) ----------------------
    max_sources: int = _knob(2, "citation slots in one answer (the best stories whose "
                                "sentences may be quoted)")
    count_window_chars: int = _knob(60, "a figure counts the plural noun in this many "
                                        "characters after it (within its clause)")
    count_window_words: int = _knob(4, "... and among this many words after it")
    max_sentences: int = _knob(3, "at most this many sentences in one answer (further ones "
                                  "only when the model finds them likely to answer)")
    max_answer_chars: int = _knob(500, "the answer's length in characters")
    min_sentence_chars: int = _knob(15, "shorter sentences are never quoted")
    heading_words: int = _knob(10, "a line of fewer words without closing punctuation is a "
                                   "subheading, never quoted")
    restated_overlap: float = _knob(0.8, "a sentence of which this share of the words (of "
                                         "the shorter of the two) are in one already "
                                         "chosen says the same: skipped")
    # -- declining (index.qa.model) ----------------------------------------------------
    abstain_below: float = _knob(0.0, "decline when the fitted probability that the question "
                                      "can be answered is below this; 0: the threshold fitted "
                                      "with the model (answer_model.json)")
    # -- memory (index.qa.sentences) --------------------------------------------------
    sentence_cache_articles: int = _knob(2048, "articles whose sentence vectors stay in "
                                               "memory between questions (~30 KB each)")


DEFAULT_TUNING = AnswerTuning()


def knob_help() -> dict[str, str]:
    """Each knob's name and what it does, in the order `AnswerTuning` lists them."""
    return {knob.name: knob.metadata["help"] for knob in fields(AnswerTuning)}
