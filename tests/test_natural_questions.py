"""Natural questions about the bundled sample articles (tests/questions/samples_natural.jsonl,
written as a new user would ask them, with the fact each answer must hold) are answered with
that fact, through the real model, store and index."""

from __future__ import annotations

from pathlib import Path

from index.evaluate import evaluate, load_questions
from index.library import Library
from index.settings import Settings

QUESTIONS = Path(__file__).parent / "questions" / "samples_natural.jsonl"
# Not yet answered with their fact (docs/answer-quality.md says why): the sentence that
# holds it ranks below others of the right article. Listed so that a regression elsewhere
# fails this test, and a fix shows up here.
KNOWN_MISSES = {"n02", "n10", "n12"}


def test_natural_questions_are_answered_with_their_fact(samples: Path, data_dir: Path
                                                        ) -> None:
    questions = load_questions(QUESTIONS)
    assert len(questions) >= 12 and all(q.answer for q in questions)
    library = Library(Settings(data_dir=data_dir))
    try:
        library.ingest([samples])
        report = evaluate(library, questions, samples)
    finally:
        library.close()
    answered = {o.question.id for o in report.outcomes if o.span_found}
    missed = {q.id for q in questions} - answered
    assert missed <= KNOWN_MISSES, f"no longer answered with their fact: {missed - KNOWN_MISSES}"
    for outcome in report.outcomes:
        assert outcome.rank == 1, outcome.question.id  # the right article comes first
