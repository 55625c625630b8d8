"""What a question gets back: `Answer`, its `Citation`s, and how long each stage took.

A citation's quote is always the exact text `body[start:end]` of its article, so a reader can
check it. `Answer.to_dict` is the JSON shape of `citebot ask --json`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from index.qa.evidence import Hit

NO_ANSWER = "I couldn't find that in the articles I have."
# Shown above a hedged answer (`Answer.hedged`): one the answer model finds unlikely to
# answer the question, though likely enough to show.
HEDGE_NOTE = "I'm not sure this answers your question: it is the closest I found in the articles."


@dataclass(slots=True)
class Citation:
    """One numbered source of an answer, with the exact quote that supports it."""

    n: int
    article_id: int
    passage_id: int
    title: str
    origin: str
    url: str | None
    outlet: str | None
    author: str | None
    published_at: str | None
    quote: str
    start: int
    end: int
    score: float
    also_reported_by: list[str] = field(default_factory=list)
    # Every (start, end) of this source quoted in the answer, in answer order, and the
    # quoted texts (`quotes[0]` is `quote`).
    spans: list[tuple[int, int]] = field(default_factory=list)
    quotes: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Answer:
    """The result of a question: answer text with `[n]` markers and its citations.

    `timings_ms` has the four summary times of `citebot ask --json` ("embed": up to the
    question's vector, "search": retrieval, "answer": everything after, "total");
    `stage_ms` has the time of each stage of `index.qa.pipeline.Answerer` in order."""

    question: str
    answer: str
    abstained: bool
    citations: list[Citation]
    retrieved: list[Hit]
    timings_ms: dict[str, float]
    stage_ms: dict[str, float] = field(default_factory=dict)
    # What the optional LLM reader did (`index.reader.stats.ReaderOutcome.to_dict`); None
    # when it was not asked.
    reader: dict[str, object] | None = None
    # The question's language when it could be told ("en", "fr"), and why a question was
    # declined before any search ("language": the model doesn't read it; the answer text
    # then says so, in that language where possible).
    language: str | None = None
    declined_because: str | None = None
    # The question's words no article uses, each read as the collection's closest word
    # ("schwarzeneger" → "schwarzenegger", `index.qa.spelling`).
    corrections: dict[str, str] = field(default_factory=dict)
    # The answer model's probability that the articles answer the question (None when it
    # was declined before any search), and whether an answer was given below the model's
    # `hedge_below`: likely enough to show, unlikely enough to say it may be off.
    confidence: float | None = None
    hedged: bool = False

    def to_dict(self) -> dict[str, object]:
        """The JSON shape of `citebot ask --json` ("reader" only when the reader was asked,
        "corrections" only when a word was read as another)."""
        shape = {
            "question": self.question,
            "answer": self.answer,
            "abstained": self.abstained,
            "citations": [
                {
                    "n": c.n, "article_id": c.article_id, "title": c.title, "origin": c.origin,
                    "url": c.url, "outlet": c.outlet, "author": c.author,
                    "published_at": c.published_at, "quote": c.quote,
                    "passage_id": c.passage_id, "start": c.start, "end": c.end,
                    "score": round(c.score, 4), "also_reported_by": c.also_reported_by,
                    "spans": [list(span) for span in c.spans], "quotes": c.quotes,
                }
                for c in self.citations
            ],
            "retrieved": [_retrieved(h) for h in self.retrieved],
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
            "language": self.language,
            "declined_because": self.declined_because,
            "confidence": None if self.confidence is None else round(self.confidence, 4),
            "hedged": self.hedged,
        }
        if self.reader is not None:
            shape["reader"] = self.reader
        if self.corrections:
            shape["corrections"] = self.corrections
        return shape


def _retrieved(hit: Hit) -> dict[str, object]:
    """A retrieved passage in `Answer.to_dict`; "rerank" (the cross-encoder's score) only
    when a reranker scored it."""
    shape: dict[str, object] = {
        "passage_id": hit.passage.id, "article_id": hit.article.id,
        "origin": hit.article.origin, "title": hit.article.title,
        "score": round(hit.score, 5), "dense": round(hit.dense, 4),
        "lexical": round(hit.lexical, 4), "text": hit.passage.text,
    }
    if hit.rerank is not None:
        shape["rerank"] = round(hit.rerank, 4)
    return shape
