"""Measuring answer quality on a question file: retrieval, answer spans, citations, abstention.

The question file is JSON Lines with `id`, `question`, `article` (path of the gold article
relative to the ingested folder, or null when the collection cannot answer), `answer` (a
verbatim span of that article, or null) and `style`; `article` may also be an absolute path
or URL as stored (files exported by `citebot feedback export`), and an empty `answer` (not
yet filled in) is an error naming the line. An exact duplicate of the gold article
(the same body) counts as gold; a near-duplicate, though grouped into the same story by
citebot, does not — so the scores are not flattered by the grouping.
"""

from __future__ import annotations

import json
import re
import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from index.library import Library
from index.qa.answer import Answer
from index.qa.facts import is_filler
from index.qa.question import Question as QuestionText


@dataclass(slots=True)
class Question:
    id: str
    question: str
    article: str | None
    answer: str | None
    style: str


@dataclass(slots=True)
class Outcome:
    """How one question went."""

    question: Question
    ranked_stories: list[str]  # body hashes of the cited, then retrieved, articles
    gold_story: str | None  # body hash of the gold article
    gold_article: int | None
    span_found: bool
    citation_correct: bool | None  # None when no answer sentence holds the span
    abstained: bool
    answer_chars: int
    latency_ms: float
    answer: Answer
    quotes_exact: bool = True  # every quote equals body[start:end] of its article

    @property
    def filler(self) -> bool:
        """An answer of several sentences, one of which holds neither a word of the question
        nor a new fact of the kind it asks for (`index.qa.facts.is_filler`)."""
        quotes = [quote for citation in self.answer.citations for quote in citation.quotes]
        question = QuestionText.of(self.question.question)
        return len(quotes) > 1 and any(is_filler(quote, question) for quote in quotes)

    @property
    def answerable(self) -> bool:
        return self.question.article is not None

    @property
    def right(self) -> bool:
        """Answered with the gold span, cited to the gold story."""
        return (not self.abstained and self.answerable and self.span_found
                and self.citation_correct is True)

    @property
    def rank(self) -> int | None:
        if self.gold_story is None or self.gold_story not in self.ranked_stories:
            return None
        return self.ranked_stories.index(self.gold_story) + 1


@dataclass(slots=True)
class Report:
    outcomes: list[Outcome] = field(default_factory=list)

    def metrics(self, outcomes: list[Outcome] | None = None) -> dict[str, float | int]:
        outcomes = self.outcomes if outcomes is None else outcomes
        answerable = [o for o in outcomes if o.answerable]
        unanswerable = [o for o in outcomes if not o.answerable]
        answered = [o for o in answerable if not o.abstained]
        with_span = [o for o in answered if o.citation_correct is not None]
        latencies = sorted(o.latency_ms for o in outcomes)
        lengths = [o.answer_chars for o in outcomes if not o.abstained]
        answered_any = [o for o in outcomes if not o.abstained]
        hedged = [o for o in answered_any if o.answer.hedged]
        sure = [o for o in answered_any if not o.answer.hedged]

        def share(items: Iterable[bool], total: int) -> float:
            return round(sum(items) / total, 4) if total else 0.0

        return {
            "questions": len(outcomes),
            "answerable": len(answerable),
            "hit_at_1": share(((o.rank or 99) <= 1 for o in answerable), len(answerable)),
            "hit_at_5": share(((o.rank or 99) <= 5 for o in answerable), len(answerable)),
            "mrr_at_10": round(
                sum(1 / o.rank for o in answerable if o.rank and o.rank <= 10)
                / len(answerable), 4) if answerable else 0.0,
            "span_recall": share((o.span_found for o in answerable), len(answerable)),
            "citation_precision": share((bool(o.citation_correct) for o in with_span),
                                        len(with_span)),
            "abstention": share((o.abstained for o in unanswerable), len(unanswerable)),
            "false_abstention": share((o.abstained for o in answerable), len(answerable)),
            "answer_chars_mean": round(statistics.mean(lengths), 1) if lengths else 0,
            "answer_chars_max": max(lengths) if lengths else 0,
            "filler_answers": share((o.filler for o in answered_any), len(answered_any)),
            # Answers said to be unsure (`Answer.hedged`), and how often those and the
            # others were right.
            "hedged_answers": share((o.answer.hedged for o in answered_any), len(answered_any)),
            "hedged_right": share((o.right for o in hedged), len(hedged)),
            "sure_right": share((o.right for o in sure), len(sure)),
            "quotes_not_verbatim": sum(1 for o in outcomes if not o.quotes_exact),
            "latency_p50_ms": round(percentile(latencies, 50), 2),
            "latency_p95_ms": round(percentile(latencies, 95), 2),
        }

    def by_style(self) -> dict[str, dict[str, float | int]]:
        styles = sorted({o.question.style for o in self.outcomes})
        return {s: self.metrics([o for o in self.outcomes if o.question.style == s])
                for s in styles}

    def misses(self) -> list[Outcome]:
        return [o for o in self.outcomes if _is_miss(o)]


def _is_miss(outcome: Outcome) -> bool:
    if not outcome.answerable:
        return not outcome.abstained
    return outcome.rank != 1 or not outcome.span_found or outcome.citation_correct is False


def percentile(values: list[float], percent: float) -> float:
    """The `percent`-th percentile of `values`, interpolated linearly (0 for none)."""
    return float(np.percentile(values, percent)) if values else 0.0


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


class UnfilledAnswer(ValueError):
    """A question file line whose `answer` is still empty (an exported feedback question
    the admin has not filled in yet)."""


def load_questions(path: Path) -> list[Question]:
    questions = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if record.get("answer") == "":
                raise UnfilledAnswer(
                    f"{path}:{number}: question {record.get('id', number)!r} has an empty "
                    "`answer`: fill in the exact words of the article that answer it, or "
                    "null if the articles can't answer it (then `article` null too)")
            questions.append(Question(
                id=str(record.get("id", number)), question=record["question"],
                article=record.get("article"), answer=record.get("answer"),
                style=record.get("style") or "unknown",
            ))
        except (json.JSONDecodeError, KeyError) as error:
            raise ValueError(f"{path}:{number}: not a question record ({error})") from error
    return questions


def _gold_origin(root: Path, article: str) -> str:
    """The stored origin of a gold article: a path relative to the corpus folder, or (in
    files exported from the bot's feedback) an absolute path or a URL as stored."""
    if re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", article) or Path(article).is_absolute():
        return article
    return str(root / article)


def _ranked_stories(answer: Answer, body_of: Callable[[int], str | None]) -> list[str]:
    """Exact-duplicate groups (body hashes) in the order the answer offers them: cited
    articles first, then the retrieved ones."""
    ranked: list[str] = []
    for article_id in [c.article_id for c in answer.citations] + [
            h.article.id for h in answer.retrieved]:
        body = body_of(article_id)
        if body is not None and body not in ranked:
            ranked.append(body)
    return ranked


def _citation_correct(answer: Answer, span: str, gold_story: str | None,
                      story_of_article: Callable[[int], str | None]) -> bool | None:
    """Whether the `[n]` of the answer sentence holding the span cites the gold story
    (None when no single sentence holds it)."""
    wanted = _squash(span)
    for sentence in re.split(r"(?<=\])\s+", answer.answer):
        marker = re.search(r"\[(\d+)\]\s*$", sentence)
        if marker and wanted in _squash(sentence[: marker.start()]):
            cited = next((c for c in answer.citations if c.n == int(marker.group(1))), None)
            return cited is not None and story_of_article(cited.article_id) == gold_story
    return None


def _quotes_are_verbatim(library: Library, answer: Answer) -> bool:
    """Every citation quotes its article exactly at its recorded offsets."""
    for citation in answer.citations:
        article = library.store.article(citation.article_id)
        if article is None or article.body[citation.start : citation.end] != citation.quote:
            return False
        if any(not article.body[start:end] for start, end in citation.spans):
            return False
    return True


def evaluate(library: Library, questions: list[Question], corpus_root: Path,
             on_question: Callable[[Outcome], None] | None = None,
             llm: bool | None = None) -> Report:
    """Ask every question and score it against its gold article and span (`llm`: through
    the LLM reader or not; default: the `CITEBOT_LLM` setting)."""
    root = corpus_root.resolve()
    report = Report()

    story_of_article = library.store.text_identity  # copies of one text are one story

    for question in questions:
        gold_story, gold_article = None, None
        if question.article:
            origin = _gold_origin(root, question.article)
            gold = library.store.article_by_origin(origin)
            if gold is None:
                raise ValueError(f"gold article {question.article} is not in the collection "
                                 f"(looked for {origin}); ingest {root} first")
            gold_story, gold_article = story_of_article(gold.id), gold.id
        answer = library.ask(question.question, llm=llm)
        span_found = bool(question.answer) and not answer.abstained and (
            _squash(question.answer or "") in _squash(answer.answer))
        citation_correct = None
        if span_found and question.answer:
            citation_correct = _citation_correct(answer, question.answer, gold_story,
                                                 story_of_article)
        outcome = Outcome(
            question=question, ranked_stories=_ranked_stories(answer, story_of_article),
            gold_story=gold_story, gold_article=gold_article,
            span_found=span_found, citation_correct=citation_correct,
            abstained=answer.abstained,
            answer_chars=len(re.sub(r"\s*\[\d+\]", "", answer.answer)),
            latency_ms=answer.timings_ms["total"], answer=answer,
        )
        outcome.quotes_exact = _quotes_are_verbatim(library, answer)
        report.outcomes.append(outcome)
        if on_question:
            on_question(outcome)
    return report


def misses_markdown(report: Report, library: Library) -> str:
    """A per-question list of misses for diagnosis."""
    lines = ["# Misses", ""]
    for outcome in report.misses():
        q = outcome.question
        cited = ", ".join(f"[{c.n}] {c.title}" for c in outcome.answer.citations) or "(abstained)"
        expected = "(unanswerable)"
        if outcome.gold_article is not None:
            gold = library.store.article(outcome.gold_article)
            expected = f"{q.article} — {gold.title if gold else '?'}"
        lines += [
            f"## {q.id} ({q.style})", f"- question: {q.question}",
            f"- expected: {expected}; span: {q.answer!r}",
            f"- gold rank: {outcome.rank}; span found: {outcome.span_found}; "
            f"citation correct: {outcome.citation_correct}",
            f"- cited: {cited}", f"- answer: {outcome.answer.answer}", "",
        ]
    return "\n".join(lines)


def reader_summary(stats: dict[str, object] | None) -> dict[str, object] | None:
    """The LLM reader's totals with the shares `citebot eval --llm` reports: generated
    sentences kept, dropped and re-attributed, and answers that fell back."""
    if stats is None:
        return None
    sentences: dict[str, int] = stats["sentences"]  # type: ignore[assignment]
    generated = max(1, sentences["generated"])
    asked = max(1, int(stats["llm_answers"]) + int(stats["fallbacks"]))  # type: ignore[call-overload]
    return {**stats,
            "kept_share": round(sentences["kept"] / generated, 3),
            "dropped_share": round(sentences["dropped"] / generated, 3),
            "reattributed_share": round(sentences["reattributed"] / generated, 3),
            "fallback_share": round(int(stats["fallbacks"]) / asked, 3)}  # type: ignore[call-overload]
