"""The answer model: a fitted combination of the features that says how likely a sentence
answers, and the decisions taken on it.

`AnswerModel` holds the logistic-regression weights of `index.qa.features.FEATURES` and two
thresholds, all fitted by `index.fitting` and stored in `answer_model.json` beside this module
(nothing here is set by hand). `decide` ranks the candidate stories by their most likely
answering sentence, declines when the question-level model (the best sentence's score, the
gap to other stories, the signals to decline…) finds an answer unlikely (`abstain_below`),
and quotes the best
sentence plus those others likely enough to add to the answer (`extra_min`). An answer given
although that probability is below `hedge_below` — the band where, out of fold, answers were
right at most a third of the time — is *hedged*: the user is told it may not answer the
question exactly.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.qa.evidence import StoryEvidence
from index.qa.features import FEATURES, QUESTION_FEATURES, CandidateRows, question_features
from index.qa.sentences import Candidate, restates
from index.qa.stories import best_copy_per_story
from index.qa.tuning import AnswerTuning

MODEL_PATH = Path(__file__).with_name("answer_model.json")


@dataclass(frozen=True, slots=True)
class AnswerModel:
    """Weights per sentence feature (on raw feature values) and an intercept; weights per
    question feature for the decision to answer at all; the thresholds."""

    weights: dict[str, float]
    intercept: float
    answer_weights: dict[str, float]  # of `QUESTION_FEATURES`
    answer_intercept: float
    abstain_below: float  # decline when the probability of answering is below this
    extra_min: float  # quote a further sentence only when its probability reaches this
    hedge_below: float = 0.0  # an answer below this probability of answering is hedged

    def vector(self) -> np.ndarray:
        return np.array([self.weights.get(name, 0.0) for name in FEATURES])

    def answerable(self, rows: CandidateRows, probabilities: np.ndarray) -> float:
        """The probability that the question can be answered from these candidates."""
        values = question_features(rows, probabilities)
        weights = np.array([self.answer_weights.get(name, 0.0) for name in QUESTION_FEATURES])
        logit = float(values @ weights + self.answer_intercept)
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, logit))))

    def probabilities(self, matrix: np.ndarray) -> np.ndarray:
        """The probability that each row's sentence answers the question."""
        if not len(matrix):
            return np.zeros(0)
        logits = matrix @ self.vector() + self.intercept
        return 1.0 / (1.0 + np.exp(-np.clip(logits, -30, 30)))

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> AnswerModel:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(weights=dict(data["weights"]), intercept=float(data["intercept"]),
                   answer_weights=dict(data["answer_weights"]),
                   answer_intercept=float(data["answer_intercept"]),
                   abstain_below=float(data["abstain_below"]),
                   extra_min=float(data["extra_min"]),
                   hedge_below=float(data.get("hedge_below", 0.0)))

    def to_json(self, **extra: object) -> str:
        return json.dumps({"weights": self.weights, "intercept": self.intercept,
                           "answer_weights": self.answer_weights,
                           "answer_intercept": self.answer_intercept,
                           "abstain_below": self.abstain_below, "extra_min": self.extra_min,
                           "hedge_below": self.hedge_below, **extra}, indent=2) + "\n"


@dataclass(slots=True)
class Decision:
    """What the model made of a question's candidates."""

    stories: list[StoryEvidence]  # one copy per story, most likely to answer first
    chosen: list[Candidate]  # the sentences to quote (empty when declined)
    best_probability: float  # of the best sentence
    answerable: float  # the probability that the question can be answered
    abstained: bool
    hedged: bool = False  # answered, but below the model's `hedge_below`


def decide(rows: CandidateRows, probabilities: np.ndarray, model: AnswerModel,
           tuning: AnswerTuning) -> Decision:
    """Rank stories by their most likely sentence (for a question asking for the latest
    news, newer stories' sentences gain `recency_weight` × their recency), decline below
    `abstain_below` (the tuning's when set, else the model's), else quote the best sentence
    and the further ones that reach `extra_min`."""
    answerable = model.answerable(rows, probabilities) if len(rows.stories) else 0.0
    if len(probabilities) and tuning.recency_weight:  # "the latest": newer stories first
        probabilities = probabilities + tuning.recency_weight * rows.matrix[
            :, FEATURES.index("recency")]
    best_of_copy = np.full(len(rows.stories), -1.0)
    if len(probabilities):
        np.maximum.at(best_of_copy, rows.story_of_row, probabilities)
    for story, best in zip(rows.stories, best_of_copy, strict=True):
        story.score = float(best)
    stories = best_copy_per_story(rows.stories)
    best_probability = max(stories[0].score, 0.0) if stories else 0.0
    if not stories or answerable < (tuning.abstain_below or model.abstain_below):
        return Decision(stories, [], best_probability, answerable, True)
    rank_of = {id(story): rank for rank, story in enumerate(stories[: tuning.max_sources])}
    candidates = [
        Candidate(rows.stories[owner], rank_of[id(rows.stories[owner])], *rows.spans[row],
                  rows.text(row), float(probabilities[row]))
        for row, owner in enumerate(rows.story_of_row.tolist())
        if id(rows.stories[owner]) in rank_of]
    return Decision(stories, select_sentences(candidates, model, tuning), best_probability,
                    answerable, False, hedged=answerable < model.hedge_below)


def select_sentences(candidates: list[Candidate], model: AnswerModel, tuning: AnswerTuning
                     ) -> list[Candidate]:
    """The most likely sentence, plus others likely enough (`extra_min`) while the answer
    stays short and they don't restate one already chosen."""
    chosen: list[Candidate] = []
    length = 0
    for candidate in sorted(candidates, key=lambda c: -c.score):
        if len(chosen) >= tuning.max_sentences:
            break
        if chosen and candidate.score < model.extra_min:
            break
        if length + len(candidate.text) > tuning.max_answer_chars:
            if not chosen:
                chosen.append(candidate)  # the best sentence alone may not fit: clipped later
                length += len(candidate.text)
            continue
        if any(restates(c.text, candidate.text, tuning.restated_overlap) for c in chosen):
            continue  # the same sentence in a copy of the story, or another outlet's wording
        chosen.append(candidate)
        length += len(candidate.text) + 5  # and its " [n] " marker
    return chosen
