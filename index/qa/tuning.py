"""`AnswerTuning`: every number that decides how a question is answered, in one place.

Retrieval depths, ranking and sentence weights, answer length and the abstention thresholds.
Each knob can be set by its `CITEBOT_<KNOB>` variable (see `index.settings`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AnswerTuning:
    """Knobs of retrieval, answer composition and abstention (see README, "Answer quality")."""

    candidates: int = 60  # passages fetched from each retriever before fusion
    passages: int = 24  # passages kept after fusion (at most two per story)
    rrf_k: int = 60
    # The first passages of each retriever's own ranking that always reach story re-ranking
    # (beyond `rerank_stories`), however low they fuse.
    retriever_top: int = 2
    # Story re-ranking: best sentence similarity + these weights × lexical / dense evidence.
    rerank_stories: int = 10
    story_lexical_weight: float = 1.0
    story_dense_weight: float = 0.25
    story_answer_weight: float = 1.0  # credit for the story's best answer sentence
    # Credit for the IDF-weighted share of the question's words the whole article has.
    story_coverage_weight: float = 3.0
    # A name of several words in the question ("Martyn Williams") counts in coverage only
    # for an article that gives it whole.
    whole_names: bool = True
    # Answer composition.
    max_sources: int = 2  # citation slots in one answer
    source_margin: float = 0.05  # a second source only if its story scores this close
    lower_source_penalty: float = 0.05  # per rank, on sentences of lower-ranked sources
    sentence_lexical_weight: float = 0.4  # × share of the question's words in the sentence
    sentence_distinctive_weight: float = 0.3  # × that share weighted by rarity in the story
    answer_kind_bonus: float = 0.3  # for a sentence holding the kind of fact asked for
    counted_noun_bonus: float = 0.2  # "how many X": for a new figure right before X
    fact_near_detail_bonus: float = 0.1  # for that fact next to a rare word of the question
    # "against which club": for a new fact right after the same preposition ("against
    # Blackburn"), in ranking stories and in choosing sentences.
    slot_bonus: float = 0.7
    role_name_bonus: float = 0.3  # "which lawyer": for a new name beside the role asked about
    context_weight: float = 0.15  # × the previous sentence's closeness to the question
    max_sentences: int = 3
    runner_up_ratio: float = 0.5  # further sentences must score at least this × the best
    max_answer_chars: int = 500
    # Abstain when no sentence of the best `abstain_stories` stories is this close (cosine)
    # to the question; below the next, when the question names a word the collection never
    # uses; below the one after (1.0: at any closeness), when it names a year the best
    # story never mentions.
    abstain_below: float = 0.48
    abstain_stories: int = 3
    abstain_missing_detail_below: float = 0.65
    abstain_absent_year_below: float = 1.0  # a year the best story lacks: at any closeness
    # Abstain too when the best story — the one an answer quotes — has no sentence this close.
    abstain_cited_below: float = 0.35
