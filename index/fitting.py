"""Fitting the answer model on question files, and measuring it honestly.

`collect` asks each question of the files up to the feature rows (`Answerer.candidates`) and
labels each candidate sentence: it answers when it is of the gold article (or an exact copy)
and holds the gold answer span. `fit_answer_model` fits with cross-validation by file (each
file's questions are scored by a model fitted on the other files only): first the sentence
model (does this sentence answer?), then on its scores the question model (can the question
be answered at all?). It chooses the thresholds on the out-of-fold probabilities
(declining: as many unanswerable questions as possible with at most `max_false_abstention`
of the answerable ones; further sentences: the best span recall less a cost per quoted
sentence that holds no answer; hedging: the band of answers right at most a third of the
time, `choose_hedge_below`), then refits on every file; `drop` leaves named features out
of both models (what each is worth: `bench/ablate_features.py`). `simulate` replays the
answerer's decisions (`index.qa.model.decide`) on stored rows, so every metric — out of fold
and in sample — is that of the real answer path.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from index.evaluate import Question as GoldQuestion
from index.evaluate import load_questions
from index.library import Library
from index.qa.facts import is_filler
from index.qa.features import FEATURES, QUESTION_FEATURES, CandidateRows, question_features
from index.qa.model import AnswerModel, decide
from index.qa.question import Question
from index.qa.tuning import AnswerTuning

METRICS = ("hit_at_1", "mrr_at_10", "span_recall", "citation_precision", "abstention",
           "false_abstention", "filler_answers", "hedged_answers", "hedged_right", "sure_right")
# An answer is hedged where, out of fold, answers were right at most this share of the time.
HEDGE_MAX_RIGHT = 1 / 3
HEDGE_LEAST_ANSWERS = 5  # ... over at least this many answers


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


@dataclass(slots=True)
class Collected:
    """One question with its candidate rows, their labels and the gold story."""

    file: str
    gold: GoldQuestion
    rows: CandidateRows
    labels: np.ndarray  # per row: the sentence answers
    gold_identity: str | None
    identity: dict[int, str | None]  # text identity of each article id seen
    original_hits: list[list] = field(default_factory=list)

    def reset(self) -> None:
        """Undo what `decide` changes on the stories (merged hits, copies' closeness)."""
        for story, hits in zip(self.rows.stories, self.original_hits, strict=True):
            story.hits = list(hits)
            story.other_copies_similarity = 0.0


def collect(library: Library, files: Iterable[Path], corpus: Path,
            on_question: Callable[[str], None] | None = None) -> list[Collected]:
    """Every question of `files` with its labelled candidate rows."""
    store = library.store
    root = corpus.resolve()
    found: list[Collected] = []
    for path in files:
        for gold in load_questions(path):
            rows = library.answerer.candidates(gold.question)
            gold_identity = None
            if gold.article:
                article = store.article_by_origin(str(root / gold.article))
                if article is None:
                    raise ValueError(f"{path}: gold article {gold.article} is not ingested")
                gold_identity = store.text_identity(article.id)
            identity: dict[int, str | None] = {}
            for story in rows.stories:
                for article_id in [story.article.id, *(h.article.id for h in story.hits)]:
                    if article_id not in identity:
                        identity[article_id] = store.text_identity(article_id)
            span = squash(gold.answer or "")
            labels = np.array([
                bool(span) and gold_identity is not None
                and identity[rows.stories[int(owner)].article.id] == gold_identity
                and span in squash(rows.text(row))
                for row, owner in enumerate(rows.story_of_row)], dtype=bool)
            found.append(Collected(path.name, gold, rows, labels, gold_identity, identity,
                                   [list(s.hits) for s in rows.stories]))
            if on_question:
                on_question(gold.id)
    return found


@dataclass(slots=True)
class Outcome:
    rank: int | None
    span_found: bool
    citation_correct: bool | None
    abstained: bool
    answerable: bool
    filler: bool  # an answer of several sentences, one of them with no question word or fact
    best_probability: float
    confidence: float = 0.0  # the question model's probability that it can be answered
    hedged: bool = False

    @property
    def right(self) -> bool:
        """Answered with the gold span, cited to the gold story."""
        return (not self.abstained and self.answerable and self.span_found
                and self.citation_correct is True)


def simulate(item: Collected, probabilities: np.ndarray, model: AnswerModel,
             tuning: AnswerTuning) -> Outcome:
    """The answer path's decision on stored rows, scored as `index.evaluate` scores it."""
    item.reset()
    decision = decide(item.rows, probabilities, model, tuning)
    identity = item.identity
    ranked: list[str | None] = []
    ordered = sorted(decision.chosen, key=lambda c: c.story_rank)
    for article_id in [c.story.article.id for c in ordered] + [
            h.article.id for s in decision.stories for h in s.hits]:
        if identity.get(article_id) not in ranked:
            ranked.append(identity.get(article_id))
    gold = item.gold_identity
    rank = ranked.index(gold) + 1 if gold is not None and gold in ranked else None
    span = squash(item.gold.answer or "")
    texts = [c.text for c in decision.chosen]
    span_found = bool(span) and bool(texts) and span in squash(" ".join(texts))
    citation = None
    if span_found:
        holding = next((c for c in decision.chosen if span in squash(c.text)), None)
        citation = None if holding is None else identity.get(holding.story.article.id) == gold
    question = Question.of(item.gold.question)
    filler = len(texts) > 1 and any(is_filler(text, question) for text in texts)
    return Outcome(rank, span_found, citation, decision.abstained, gold is not None, filler,
                   decision.best_probability, decision.answerable, decision.hedged)


def metrics(outcomes: list[Outcome]) -> dict[str, float]:
    answerable = [o for o in outcomes if o.answerable]
    unanswerable = [o for o in outcomes if not o.answerable]
    answered = [o for o in outcomes if not o.abstained]
    cited = [o for o in answerable if o.citation_correct is not None]

    def share(values: list[bool]) -> float:
        return round(sum(values) / len(values), 3) if values else 0.0

    return {
        "questions": len(outcomes),
        "hit_at_1": share([o.rank == 1 for o in answerable]),
        "mrr_at_10": round(sum(1 / o.rank for o in answerable if o.rank and o.rank <= 10)
                           / len(answerable), 3) if answerable else 0.0,
        "span_recall": share([o.span_found for o in answerable]),
        "citation_precision": share([bool(o.citation_correct) for o in cited]),
        "abstention": share([o.abstained for o in unanswerable]),
        "false_abstention": share([o.abstained for o in answerable]),
        "filler_answers": share([o.filler for o in answered]),
        "hedged_answers": share([o.hedged for o in answered]),
        "hedged_right": share([o.right for o in answered if o.hedged]),
        "sure_right": share([o.right for o in answered if not o.hedged]),
    }


def _logistic(matrix: np.ndarray, labels: np.ndarray, regularisation: float
              ) -> tuple[np.ndarray, float]:
    """Logistic regression (standardised while fitting), as weights on the raw values."""
    from sklearn.linear_model import LogisticRegression

    mean, scale = matrix.mean(axis=0), matrix.std(axis=0)
    scale[scale == 0] = 1.0
    regression = LogisticRegression(C=regularisation, max_iter=5000)
    regression.fit((matrix - mean) / scale, labels)
    weights = regression.coef_[0] / scale
    return weights, float(regression.intercept_[0] - weights @ mean)


def _named(names: tuple[str, ...], weights: np.ndarray) -> dict[str, float]:
    return {name: round(float(w), 6) for name, w in zip(names, weights, strict=True)}


def without_gold(item: Collected) -> CandidateRows | None:
    """The question's candidates as a collection without its gold story would offer them —
    a near-topic question it cannot answer (a hard negative); None when the gold story is
    not among the candidates. The closeness gaps are measured anew among what is left."""
    rows = item.rows
    gold = {story.story_id for story in rows.stories
            if item.identity.get(story.article.id) == item.gold_identity}
    if item.gold_identity is None or not gold:
        return None
    keep_story = [story.story_id not in gold for story in rows.stories]
    keep = np.array([keep_story[owner] for owner in rows.story_of_row.tolist()], dtype=bool)
    if not keep.any():
        return None
    renumber = np.cumsum(keep_story) - 1
    matrix = rows.matrix[keep].copy()
    for column, gap in ((FEATURES.index("similarity"), FEATURES.index("similarity_gap")),
                        (FEATURES.index("story_similarity"), FEATURES.index("story_gap"))):
        matrix[:, gap] = matrix[:, column] - matrix[:, column].max()
    return CandidateRows([s for s, k in zip(rows.stories, keep_story, strict=True) if k],
                         renumber[rows.story_of_row[keep]],
                         [span for span, k in zip(rows.spans, keep, strict=True) if k],
                         matrix)


def _kept(names: tuple[str, ...], drop: frozenset[str]) -> list[int]:
    """The columns of `names` not dropped: a question feature goes with the sentence feature
    it reads ("top_new_fact" with "new_fact", "asks_fact" with "asks_fact")."""
    return [i for i, name in enumerate(names)
            if name not in drop and name.removeprefix("top_") not in drop]


def _fit(items: list[Collected], regularisation: float,
         drop: frozenset[str] = frozenset()) -> AnswerModel:
    """The sentence model on every row of `items`, then the question model (can it be
    answered?) on each question's features under that sentence model — with each answerable
    question also asked as if its story were missing (`without_gold`); thresholds unset.
    The features in `drop` get no weight (left out of the regression, not zeroed)."""
    matrix = np.vstack([item.rows.matrix for item in items])
    names = FEATURES
    if drop:
        kept = _kept(FEATURES, drop)
        matrix, names = matrix[:, kept], tuple(FEATURES[i] for i in kept)
    weights, intercept = _logistic(matrix, np.concatenate([item.labels for item in items]),
                                   regularisation)
    sentence_model = AnswerModel(_named(names, weights), intercept, {}, 0.0, 0.0, 1.0)
    cases = [(item.rows, item.gold_identity is not None) for item in items]
    cases += [(rows, False) for rows in map(without_gold, items) if rows is not None]
    questions = np.vstack([question_features(rows, sentence_model.probabilities(rows.matrix))
                           for rows, _answerable in cases])
    answerable = np.array([answerable for _rows, answerable in cases])
    question_names = QUESTION_FEATURES
    if drop:
        kept = _kept(QUESTION_FEATURES, drop)
        questions, question_names = questions[:, kept], tuple(QUESTION_FEATURES[i] for i in kept)
    answer_weights, answer_intercept = _logistic(questions, answerable, regularisation)
    return replace(sentence_model, answer_weights=_named(question_names, answer_weights),
                   answer_intercept=answer_intercept)


def choose_abstain_below(items: list[Collected], answerable: list[float],
                         max_false_abstention: float) -> float:
    """The highest threshold on the probability of answering that declines at most
    `max_false_abstention` of the answerable questions."""
    scores = sorted(p for item, p in zip(items, answerable, strict=True)
                    if item.gold_identity is not None)
    allowed = int(max_false_abstention * len(scores))
    return scores[allowed] - 1e-6 if scores else 0.5


def choose_hedge_below(outcomes: list[Outcome], max_right: float = HEDGE_MAX_RIGHT,
                       least: int = HEDGE_LEAST_ANSWERS) -> float:
    """The highest probability of answering under which the answers given (out of fold)
    were right (`Outcome.right`) at most `max_right` of the time, over at least `least`
    answers; 0 (no hedging) when no such band exists."""
    answered = sorted((o.confidence, o.right) for o in outcomes if not o.abstained)
    threshold, right = 0.0, 0
    for count, (confidence, was_right) in enumerate(answered, start=1):
        right += was_right
        if count >= least and right <= max_right * count:
            threshold = confidence + 1e-6
    return threshold


def choose_extra_min(items: list[Collected], models: list[AnswerModel], tuning: AnswerTuning,
                     sentence_cost: float) -> float:
    """The threshold a further sentence's probability must reach: the best span recall less
    `sentence_cost` per quoted sentence that holds no answer span."""
    def value(extra_min: float) -> float:
        recall = spare = 0.0
        for item, model in zip(items, models, strict=True):
            model = replace(model, abstain_below=0.0, extra_min=extra_min)
            probabilities = model.probabilities(item.rows.matrix)
            outcome = simulate(item, probabilities, model, tuning)
            recall += outcome.span_found
            span = squash(item.gold.answer or "")
            item.reset()
            texts = [c.text for c in decide(item.rows, probabilities, model, tuning).chosen]
            spare += sum(1 for t in texts if not span or span not in squash(t))
        return (recall - sentence_cost * spare) / len(items)

    grid = [0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.01]
    return max(grid, key=value)


@dataclass(slots=True)
class FitReport:
    model: AnswerModel
    out_of_fold: dict[str, dict[str, float]]  # per file, and "all"
    in_sample: dict[str, dict[str, float]]


def _per_file(items: list[Collected], models: list[AnswerModel], tuning: AnswerTuning
              ) -> dict[str, dict[str, float]]:
    outcomes = [simulate(item, model.probabilities(item.rows.matrix), model, tuning)
                for item, model in zip(items, models, strict=True)]
    report = {name: metrics([o for o, item in zip(outcomes, items, strict=True)
                             if item.file == name])
              for name in dict.fromkeys(item.file for item in items)}
    for style in sorted({item.gold.style for item in items}):
        report[f"style {style}"] = metrics([o for o, item in zip(outcomes, items, strict=True)
                                            if item.gold.style == style])
    report["all"] = metrics(outcomes)
    return report


def fit_answer_model(items: list[Collected], tuning: AnswerTuning, *,
                     regularisation: float = 1.0, max_false_abstention: float = 0.03,
                     sentence_cost: float = 0.05, drop: Collection[str] = ()) -> FitReport:
    """Fit with cross-validation by file, choose the thresholds out of fold, refit on all.
    `drop` names features (of `FEATURES` or `QUESTION_FEATURES`) both models do without; a
    sentence feature takes the question model's reading of it along ("new_fact" drops
    "top_new_fact" too)."""
    dropped = frozenset(drop)
    unknown = dropped - set(FEATURES) - set(QUESTION_FEATURES)
    if unknown:
        raise ValueError(f"no such feature: {', '.join(sorted(unknown))}")
    files = list(dict.fromkeys(item.file for item in items))
    fold_model = {held_out: _fit([i for i in items if i.file != held_out], regularisation,
                                 dropped)
                  for held_out in files}
    out_of_fold = [fold_model[item.file] for item in items]
    answerable = [model.answerable(item.rows, model.probabilities(item.rows.matrix))
                  for item, model in zip(items, out_of_fold, strict=True)]
    abstain_below = round(choose_abstain_below(items, answerable, max_false_abstention), 6)
    extra_min = choose_extra_min(items, out_of_fold, tuning, sentence_cost)
    out_of_fold = [replace(m, abstain_below=abstain_below, extra_min=extra_min)
                   for m in out_of_fold]
    hedge_below = round(choose_hedge_below(
        [simulate(item, model.probabilities(item.rows.matrix), model, tuning)
         for item, model in zip(items, out_of_fold, strict=True)]), 6)
    out_of_fold = [replace(m, hedge_below=hedge_below) for m in out_of_fold]
    model = replace(_fit(items, regularisation, dropped), abstain_below=abstain_below,
                    extra_min=extra_min, hedge_below=hedge_below)
    return FitReport(model, _per_file(items, out_of_fold, tuning),
                     _per_file(items, [model] * len(items), tuning))


def report_table(report: FitReport) -> str:
    """Out-of-fold metrics per file, in-sample beside them."""
    lines = ["file | " + " | ".join(METRICS) + "   (out of fold; in sample)"]
    for name, values in report.out_of_fold.items():
        inside = report.in_sample[name]
        lines.append(f"{name} ({values['questions']}) | " + " | ".join(
            f"{values[m]:.3f} ({inside[m]:.3f})" for m in METRICS))
    return "\n".join(lines)
