"""`LlmReader`: the optional stage after story ranking that rewrites the answer in the
model's words, keeping only verified sentences.

It takes the extractive `Answer` (its retrieved passages, best stories first), asks the model
with the top passages numbered, cuts the stream into sentences and verifies each
(`index.reader.verify`). A supported sentence is handed to `on_sentence` at once (streaming)
and kept with a verbatim quote of the sentence(s) that support it; an unsupported one is
dropped. If the first sentence fails, the model declines, or nothing survives, the extractive
answer stands and the cause is recorded; if the stream fails after verified sentences, those
are the answer. Nothing unverified is ever shown.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import replace

from index.qa.answer import Answer, Citation
from index.reader.client import ReaderFailure, stream_text
from index.reader.prompt import PromptPassage, messages
from index.reader.stats import ReaderOutcome, ReaderStats
from index.reader.stream import GeneratedSentence, SentenceCutter
from index.reader.verify import Embed, SupportPassage, Verdict, Verifier
from index.settings import LlmSettings
from index.storage import ArticleStore

SentenceListener = Callable[[str], None]

MAX_PASSAGES = 6  # passages given to the model
MAX_SENTENCES = 6  # sentences kept at most; the model is asked for 1-4
CHARS_PER_TOKEN = 6  # a stream longer than max_tokens × this is cut off
_DECLINES = re.compile(r"^\W*(?:NO_ANSWER|the (?:passages|articles) do(?:n't| not))",
                       re.IGNORECASE)


class _Stop(Exception):
    def __init__(self, cause: str) -> None:
        super().__init__(cause)
        self.cause = cause


class LlmReader:
    """Rewrites answers with a model over an OpenAI-compatible API, verified sentence by
    sentence. `stream` is `client.stream_text` (a parameter so benches can replay text)."""

    def __init__(self, settings: LlmSettings, store: ArticleStore, embed: Callable[[], Embed],
                 stats: ReaderStats | None = None,
                 stream: Callable[[LlmSettings, list[dict[str, str]]], Iterator[str]]
                 = stream_text) -> None:
        self.settings = settings
        self.store = store
        self._embed = embed
        self.stats = stats or ReaderStats()
        self._stream = stream

    def read(self, answer: Answer, on_sentence: SentenceListener | None = None, *,
             question: str | None = None, earlier: str | None = None) -> Answer:
        """The answer in the model's words, or `answer` itself with the reason recorded.
        `question`: what the user asked (default: the question searched); `earlier`: the
        question it follows up, given to the model as the conversation so far."""
        started = time.perf_counter()
        passages = self.passages(answer)
        outcome = ReaderOutcome(used="extractive")
        kept: list[tuple[GeneratedSentence, Verdict]] = []
        if passages:
            self._run(question or answer.question, passages, kept, outcome, on_sentence,
                      earlier)
        else:
            outcome.cause = "no passages"
        if kept:
            outcome.used = "llm"
            result = self._compose(answer, passages, kept)
        else:
            outcome.cause = outcome.cause or "nothing verified"
            result = answer
        outcome.kept = len(kept) if outcome.used == "llm" else 0
        self.stats.record(outcome)
        stage_ms = {**answer.stage_ms, "reader": (time.perf_counter() - started) * 1000}
        timings = {**answer.timings_ms}
        timings["answer"] = timings.get("answer", 0.0) + stage_ms["reader"]
        timings["total"] = timings.get("total", 0.0) + stage_ms["reader"]
        return replace(result, stage_ms=stage_ms, timings_ms=timings,
                       reader=outcome.to_dict())

    def passages(self, answer: Answer) -> list[SupportPassage]:
        """The top retrieved passages (best stories first), numbered from 1."""
        chosen: list[SupportPassage] = []
        seen: set[int] = set()
        for hit in answer.retrieved:
            if hit.passage.id in seen:
                continue
            seen.add(hit.passage.id)
            support = SupportPassage.of(len(chosen) + 1, hit.passage, hit.article, hit.score)
            if support.sentences:
                chosen.append(support)
            if len(chosen) == MAX_PASSAGES:
                break
        return chosen

    def _run(self, question: str, passages: list[SupportPassage],
             kept: list[tuple[GeneratedSentence, Verdict]], outcome: ReaderOutcome,
             on_sentence: SentenceListener | None, earlier: str | None = None) -> None:
        chat = messages(question, [PromptPassage(p.n, p.article.title, p.article.published_at,
                                                 p.text) for p in passages], context=earlier)
        verifier = Verifier(self._embed())
        cutter = SentenceCutter()
        seen: set[str] = set()
        numbers: dict[int, int] = {}
        limit = self.settings.max_tokens * CHARS_PER_TOKEN

        def take(sentence: GeneratedSentence) -> None:
            outcome.generated += 1
            key = re.sub(r"\W+", " ", sentence.text.casefold()).strip()
            if key in seen:
                raise _Stop("loop")
            seen.add(key)
            if outcome.generated == 1 and _DECLINES.search(sentence.text):
                raise _Stop("declined")
            verdict = verifier.check(sentence, passages)
            if not verdict.supported:
                outcome.dropped += 1
                outcome.dropped_reasons.append(verdict.reason)
                if not kept:
                    raise _Stop("first sentence unsupported")
                return
            outcome.reattributed += verdict.reattributed
            kept.append((sentence, verdict))
            if on_sentence is not None:
                on_sentence(_rendered(sentence, verdict, passages, numbers))
            if len(kept) >= MAX_SENTENCES:
                raise _Stop("too long")

        try:
            written = 0
            for piece in self._stream(self.settings, chat):
                written += len(piece)
                if written > limit:
                    raise _Stop("too long")
                for sentence in cutter.feed(piece):
                    take(sentence)
            for sentence in cutter.finish():
                take(sentence)
        except _Stop as stop:
            outcome.cause = stop.cause
        except ReaderFailure as failure:
            outcome.cause = failure.cause

    def _compose(self, answer: Answer, passages: list[SupportPassage],
                 kept: list[tuple[GeneratedSentence, Verdict]]) -> Answer:
        """The kept sentences with `[n]` numbered by story in order of first use, and one
        citation per story quoting the supporting sentences verbatim."""
        by_number = {p.n: p for p in passages}
        numbers: dict[int, int] = {}
        citations: dict[int, Citation] = {}
        parts: list[str] = []
        for sentence, verdict in kept:
            parts.append(_rendered(sentence, verdict, passages, numbers))
            for n in verdict.passages:
                support = by_number[n]
                story = support.article.story_id
                citation = citations.get(story)
                for start, end in verdict.quotes[n]:
                    if citation is None:
                        citation = citations[story] = self._citation(numbers[story], support,
                                                                     start, end)
                    elif (start, end) not in citation.spans:
                        citation.spans.append((start, end))
                        citation.quotes.append(support.article.body[start:end])
        return replace(answer, answer=" ".join(parts), abstained=False,
                       citations=sorted(citations.values(), key=lambda c: c.n))

    def _citation(self, n: int, support: SupportPassage, start: int, end: int) -> Citation:
        article = support.article
        twins = self.store.story_members(article.story_id)
        quote = article.body[start:end]
        return Citation(
            n=n, article_id=article.id, passage_id=support.passage.id, title=article.title,
            origin=article.origin, url=article.url, outlet=article.outlet,
            author=article.author, published_at=article.published_at, quote=quote,
            start=start, end=end, score=support.score,
            also_reported_by=[t.outlet or t.origin for t in twins if t.id != article.id],
            spans=[(start, end)], quotes=[quote])


def _rendered(sentence: GeneratedSentence, verdict: Verdict, passages: list[SupportPassage],
              numbers: dict[int, int]) -> str:
    """The sentence with its citations renumbered by story in order of first use."""
    by_number = {p.n: p for p in passages}
    marks: list[int] = []
    for n in verdict.passages:
        story = by_number[n].article.story_id
        mark = numbers.setdefault(story, len(numbers) + 1)
        if mark not in marks:
            marks.append(mark)
    return sentence.text + " " + "".join(f"[{m}]" for m in marks)

