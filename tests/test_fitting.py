"""Fitting the answer model without some features (`fit_answer_model(drop=...)`, what
bench/ablate_features.py measures): by default nothing is dropped and the fit is the one it
always was; a dropped feature gets no weight in either model. Real sample articles, store,
embedding model and regression; the natural questions split into two files, so that the
fit's cross-validation by file has two folds. The hedge threshold (answers said to be unsure)
is chosen where answers were mostly wrong."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from index.fitting import Collected, Outcome, choose_hedge_below, collect, fit_answer_model
from index.library import Library
from index.qa.features import FEATURES, QUESTION_FEATURES
from index.qa.tuning import AnswerTuning
from index.settings import Settings
from tests.conftest import SAMPLES

QUESTIONS = Path(__file__).parent / "questions" / "samples_natural.jsonl"


@pytest.fixture(scope="module")
def items(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Collected]]:
    folder = tmp_path_factory.mktemp("fitting")
    samples = folder / "articles"
    shutil.copytree(SAMPLES, samples)
    lines = [line for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line]
    files = [folder / "first.jsonl", folder / "second.jsonl"]
    files[0].write_text("\n".join(lines[::2]) + "\n", encoding="utf-8")
    files[1].write_text("\n".join(lines[1::2]) + "\n", encoding="utf-8")
    library = Library(Settings(data_dir=folder / "store"))
    try:
        library.ingest([samples])
        yield collect(library, files, samples)
    finally:
        library.close()


def test_by_default_nothing_is_dropped_and_the_fit_is_unchanged(items: list[Collected]
                                                                ) -> None:
    tuning = AnswerTuning()
    default = fit_answer_model(items, tuning, regularisation=0.3)
    assert list(default.model.weights) == list(FEATURES)
    assert list(default.model.answer_weights) == list(QUESTION_FEATURES)
    nothing = fit_answer_model(items, tuning, regularisation=0.3, drop=())
    assert nothing.model == default.model
    assert nothing.model.to_json() == default.model.to_json()
    assert nothing.out_of_fold == default.out_of_fold
    assert nothing.in_sample == default.in_sample


def test_a_dropped_feature_has_no_weight_in_either_model(items: list[Collected]) -> None:
    tuning = AnswerTuning()
    report = fit_answer_model(items, tuning, regularisation=0.3, drop=["new_fact"])
    assert set(report.model.weights) == set(FEATURES) - {"new_fact"}
    assert set(report.model.answer_weights) == set(QUESTION_FEATURES) - {"top_new_fact"}
    assert report.model.vector()[FEATURES.index("new_fact")] == 0.0
    assert report.out_of_fold["all"]["questions"] == len(items)

    question_only = fit_answer_model(items, tuning, regularisation=0.3,
                                     drop=["runner_up_gap"])
    assert set(question_only.model.weights) == set(FEATURES)
    assert set(question_only.model.answer_weights) == set(QUESTION_FEATURES) - {
        "runner_up_gap"}

    with pytest.raises(ValueError, match="no such feature: newfact"):
        fit_answer_model(items, tuning, drop=["newfact"])


def outcome(confidence: float, right: bool, *, abstained: bool = False) -> Outcome:
    return Outcome(rank=1 if right else 2, span_found=right, citation_correct=right or None,
                   abstained=abstained, answerable=True, filler=False, best_probability=0.5,
                   confidence=confidence)


def test_answers_are_hedged_below_the_band_where_they_were_mostly_wrong() -> None:
    # Out of fold: of the six least confident answers one was right; the rest all were.
    outcomes = [outcome(0.05 * (i + 1), right=(i == 2)) for i in range(6)]
    outcomes += [outcome(0.5 + 0.05 * i, right=True) for i in range(6)]
    outcomes.append(outcome(0.01, right=False, abstained=True))  # declined: not an answer
    hedge_below = choose_hedge_below(outcomes)
    # The widest band right at most a third of the time: the six, and the next right
    # answer too (2 of 7 right), but not two more (3 of 8).
    assert 0.5 < hedge_below < 0.55
    assert [o.confidence < hedge_below for o in outcomes if not o.abstained] == [True] * 7 + [
        False] * 5
    # No band where answers were right at most a third of the time: nothing is hedged.
    assert choose_hedge_below([outcome(0.1 * i, right=True) for i in range(1, 9)]) == 0.0
    # Fewer than five answers are no band.
    assert choose_hedge_below([outcome(0.1, right=False)] * 4) == 0.0


def test_the_fit_chooses_a_hedge_threshold_and_reports_hedged_answers(
        items: list[Collected]) -> None:
    report = fit_answer_model(items, AnswerTuning(), regularisation=0.3)
    assert 0.0 <= report.model.hedge_below < 1.0
    assert {"hedged_answers", "hedged_right", "sure_right"} <= set(report.out_of_fold["all"])
    assert f'"hedge_below": {report.model.hedge_below}' in report.model.to_json()
