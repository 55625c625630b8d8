"""Fitting the answer model without some features (`fit_answer_model(drop=...)`, what
bench/ablate_features.py measures): by default nothing is dropped and the fit is the one it
always was; a dropped feature gets no weight in either model. Real sample articles, store,
embedding model and regression; the natural questions split into two files, so that the
fit's cross-validation by file has two folds."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from index.fitting import Collected, collect, fit_answer_model
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
