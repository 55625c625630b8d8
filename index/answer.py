"""Composing a short, cited answer from retrieved passages — or declining to answer.

The answer is extractive: the few sentences of the retrieved passages that best answer the
question, each followed by the `[n]` of its source. A citation's quote is always the exact
text `body[start:end]` of its article, so a reader can check it. When the evidence is too
weak the answer abstains: no text is made up and no unrelated article is cited.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from index.config import AnswerTuning
from index.search import Hit, StoryEvidence, query_terms
from index.store import StoredArticle

NO_ANSWER = "I couldn't find that in the articles I have."


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
    """The result of a question: answer text with `[n]` markers and its citations."""

    question: str
    answer: str
    abstained: bool
    citations: list[Citation]
    retrieved: list[Hit]
    timings_ms: dict[str, float]

    def to_dict(self) -> dict[str, object]:
        """The JSON shape of `citebot ask --json`."""
        return {
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
            "retrieved": [
                {
                    "passage_id": h.passage.id, "article_id": h.article.id,
                    "origin": h.article.origin, "title": h.article.title,
                    "score": round(h.score, 5), "dense": round(h.dense, 4),
                    "lexical": round(h.lexical, 4), "text": h.passage.text,
                }
                for h in self.retrieved
            ],
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
        }


@dataclass(slots=True)
class _Candidate:
    story: StoryEvidence
    story_rank: int
    start: int
    end: int
    text: str
    score: float = 0.0


_NUMBER_QUESTION = re.compile(
    r"\b(how (many|much|long|large|big|far|often|frequently|old|high|low|fast|tall|deep)|"
    r"by how|what (percentage|proportion|share|figure|number|price|value|amount|sum|cost|"
    r"margin|score|size|rate|fee|fine|salary|total|time|year|date|age)|at what (time|age|price|"
    r"rate)|when|in what year)\b", re.I)
_NAME_QUESTION = re.compile(r"^\s*(who|whom|whose|which|where|what is the name|name the)\b|"
                            r"\b(which|what) [a-z-]+( [a-z-]+)? (did|does|do|is|was|were|has|"
                            r"have|will|had)\b", re.I)
_WHY_QUESTION = re.compile(r"^\s*why\b", re.I)
_NUMBER = re.compile(r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
                     r"twenty|thirty|forty|fifty|hundred|thousand|million|billion|half|dozen|"
                     r"january|february|march|april|may|june|july|august|september|october|"
                     r"november|december|monday|tuesday|wednesday|thursday|friday|saturday|"
                     r"sunday)\b", re.I)
_CAUSE = re.compile(r"\b(because|after|due to|as a result|following|since|amid|blamed|"
                    r"owing to|thanks to|in order to|so that|reason)\b", re.I)
_CAPITALISED = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][\w'’-]+")


def expected_answer_kind(question: str) -> str | None:
    """What sort of fact the question asks for: "number", "name", "reason" or None."""
    if _NUMBER_QUESTION.search(question):
        return "number"
    if _WHY_QUESTION.search(question):
        return "reason"
    if _NAME_QUESTION.search(question):
        return "name"
    return None


def offers_new_fact(kind: str | None, sentence: str, question: str) -> bool:
    """Whether the sentence holds a fact of the asked-for kind that the question itself
    does not already state (a restated question is not an answer)."""
    if kind is None:
        return False
    asked = question.casefold()
    if kind == "number":
        return any(m.group(0).casefold() not in asked for m in _NUMBER.finditer(sentence))
    if kind == "reason":
        return bool(_CAUSE.search(sentence))
    return any(m.group(0).casefold() not in asked for m in _CAPITALISED.finditer(sentence))


def _is_heading(text: str) -> bool:
    """A subheading ("A crucial issue for Huawei… and for China") is not an answer."""
    return len(text.split()) < 10 and not re.search(r"[.!?][\"'”’)]*$", text)


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def lexical_overlap(terms: list[str], sentence: str) -> float:
    """Share of the question's content words (lightly stemmed) found in the sentence."""
    if not terms:
        return 0.0
    words = {_stem(w) for w in query_terms(sentence)}
    return sum(1 for t in terms if _stem(t) in words) / len(terms)


def sentence_score(question_terms: list[str], kind: str | None, question: str, text: str,
                   similarity: float, tuning: AnswerTuning) -> float:
    """How well one sentence answers the question: closeness (headline as context), shared
    words, and whether it holds the kind of fact asked for."""
    return (
        similarity
        + tuning.sentence_lexical_weight * lexical_overlap(question_terms, text)
        + tuning.answer_kind_bonus * offers_new_fact(kind, text, question)
    )


def rescore_stories(question: str, stories: list[StoryEvidence], tuning: AnswerTuning
                    ) -> list[StoryEvidence]:
    """Credit each story with how well its best sentence answers the question (not only
    how close it is), and re-sort: the story that can answer comes first."""
    terms, kind = query_terms(question), expected_answer_kind(question)
    for story in stories:
        body = story.article.body
        best_answer = max(
            (sentence_score(terms, kind, question, body[start:end], float(similarity), tuning)
             for (start, end), similarity in zip(story.spans, story.similarities, strict=True)),
            default=0.0,
        )
        story.score += tuning.story_answer_weight * (best_answer - story.best_similarity)
    return sorted(stories, key=lambda story: -story.score)


def candidate_sentences(
    question: str, stories: list[StoryEvidence], tuning: AnswerTuning
) -> list[_Candidate]:
    """Every sentence of the best stories, scored by closeness to the question (headline as
    context) and shared words; sentences of lower-ranked stories pay a small penalty."""
    terms = query_terms(question)
    kind = expected_answer_kind(question)
    candidates: list[_Candidate] = []
    for rank, story in enumerate(stories[: tuning.max_sources]):
        if rank and story.score < stories[0].score - tuning.source_margin:
            break
        body = story.article.body
        for (start, end), similarity in zip(story.spans, story.similarities, strict=True):
            text = body[start:end]
            if len(text) < 15 or _is_heading(text):
                continue
            score = (sentence_score(terms, kind, question, text, float(similarity), tuning)
                     - tuning.lower_source_penalty * rank)
            candidates.append(_Candidate(story, rank, start, end, text, score))
    return candidates


def select_sentences(candidates: list[_Candidate], tuning: AnswerTuning) -> list[_Candidate]:
    """The best sentence, plus close runners-up while the answer stays short."""
    ranked = sorted(candidates, key=lambda c: -c.score)
    chosen: list[_Candidate] = []
    length = 0
    for candidate in ranked:
        if len(chosen) >= tuning.max_sentences:
            break
        if chosen and candidate.score < tuning.runner_up_ratio * chosen[0].score:
            break
        if length + len(candidate.text) > tuning.max_answer_chars:
            if not chosen:
                chosen.append(candidate)  # the best sentence alone may not fit: clip below
                length += len(candidate.text)
            continue
        if any(_one_line(c.text) == _one_line(candidate.text) for c in chosen):
            continue  # the same sentence in a copy of the story
        chosen.append(candidate)
        length += len(candidate.text) + 5
    return chosen


def _passage_of(candidate: _Candidate) -> int:
    """The stored passage holding the quoted sentence."""
    for hit in candidate.story.hits:
        if hit.passage.start <= candidate.start and candidate.end <= hit.passage.end:
            return hit.passage.id
    return candidate.story.hits[0].passage.id


def _citation_for(n: int, candidate: _Candidate, twins: list[StoredArticle],
                  passage_id: int) -> Citation:
    article = candidate.story.article
    return Citation(
        n=n, article_id=article.id, passage_id=passage_id, title=article.title,
        origin=article.origin, url=article.url, outlet=article.outlet, author=article.author,
        published_at=article.published_at, quote=article.body[candidate.start : candidate.end],
        start=candidate.start, end=candidate.end, score=candidate.score,
        also_reported_by=[t.outlet or t.origin for t in twins if t.id != article.id],
        spans=[(candidate.start, candidate.end)],
        quotes=[article.body[candidate.start : candidate.end]],
    )


def compose(
    chosen: list[_Candidate],
    story_members: Callable[[int], list[StoredArticle]],
    passage_of: Callable[[StoredArticle, int, int], int | None],
) -> tuple[str, list[Citation]]:
    """Answer text with `[n]` markers, numbered by source in order of first use; each
    source's best sentence comes first, its others follow in the article's order, all
    sharing its number."""
    numbers: dict[int, int] = {}
    citations: list[Citation] = []
    best = {c.story_rank: c for c in sorted(chosen, key=lambda c: c.score)}  # top per source
    # The best sentence leads; the others of its source follow in the article's order.
    ordered = sorted(chosen, key=lambda c: (c.story_rank, best[c.story_rank] is not c, c.start))
    parts: list[str] = []
    for candidate in ordered:
        story = candidate.story.story_id
        n = numbers.setdefault(story, len(numbers) + 1)
        existing = next((c for c in citations if c.n == n), None)
        if existing is None:
            passage_id = passage_of(candidate.story.article, candidate.start, candidate.end)
            citations.append(_citation_for(n, candidate, story_members(story),
                                           passage_id or _passage_of(candidate)))
        else:
            existing.spans.append((candidate.start, candidate.end))
            existing.quotes.append(candidate.story.article.body[candidate.start:candidate.end])
        parts.append(f"{_one_line(candidate.text)} [{n}]")
    return " ".join(parts), citations


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")


def unknown_terms(question: str, in_collection: Callable[[str], bool]) -> list[str]:
    """Names and numbers of the question (capitalised words past the first, tokens with
    digits) that occur nowhere in the collection: an entity or figure the articles never
    mention is a strong sign they cannot answer it. Ordinary words are not counted — a
    question may well use a word no article happens to use."""
    words = re.findall(r"[\w][\w.'’-]*", question)
    names = {w.rstrip(".").lower().removesuffix("'s").removesuffix("’s")
             for i, w in enumerate(words) if (i > 0 and w[0].isupper()) or re.search(r"\d", w)}
    return [t for t in query_terms(question)
            if t in names and re.fullmatch(r"[\w.]+", t) and not in_collection(t)]


def absent_years(question: str, story: StoryEvidence) -> list[str]:
    """Years the question names that the best story never mentions."""
    text = f"{story.article.title} {story.article.body}"
    return [year for year in _YEAR.findall(question) if year not in text]


def should_abstain(question: str, stories: list[StoryEvidence], tuning: AnswerTuning,
                   in_collection: Callable[[str], bool]) -> bool:
    """Decline when the evidence is weak. Three calibrated rules (see README):
    the best sentence is far from the question; or the question names something the
    collection never mentions and the match is not strong; or it names a year the best
    story does not mention and the match is only middling."""
    if not stories:
        return True
    best = stories[0].best_similarity
    if best < tuning.abstain_below:
        return True
    if best < tuning.abstain_unknown_term_below and unknown_terms(question, in_collection):
        return True
    return best < tuning.abstain_absent_year_below and bool(absent_years(question, stories[0]))
