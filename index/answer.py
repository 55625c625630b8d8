"""Composing a short, cited answer from retrieved passages — or declining to answer.

The answer is extractive: the few sentences of the retrieved passages that best answer the
question, each followed by the `[n]` of its source. A citation's quote is always the exact
text `body[start:end]` of its article, so a reader can check it. When the evidence is too
weak the answer abstains: no text is made up and no unrelated article is cited.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from index.config import AnswerTuning
from index.search import Hit, StoryEvidence, query_terms, stem, stemmed_words
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


# Nouns that make "what/which …" ask for a figure ("what price", "what was the margin").
_FIGURE_NOUNS = (
    r"percentage|proportion|share|figure|number|price|value|amount|sum|cost|margin|score|size|"
    r"rate|fee|fine|salary|total|time|year|date|age|speed|distance|height|length|weight|"
    r"temperature|capacity|valuation|worth|odds|budget|bill|fare|period|duration|deficit|"
    r"surplus|profit|loss|revenue|sales|turnover|debt|stake|majority|attendance|fortune|"
    r"tally|ratio|growth|increase|fall|rise|drop|jump|payout|compensation|prize|damages|bonus|pay"
)
_NUMBER_QUESTION = re.compile(
    r"\b(how (many|much|long|large|big|far|often|frequently|old|high|low|fast|tall|deep|soon|"
    r"quickly|heavy|wide|close)|by how|"
    rf"(what|which)( \w+)? ({_FIGURE_NOUNS})s?\b|"
    r"(what|which) (is|was|were|are|will be|would be|has been|had been) the( \w+)?( \w+)? "
    rf"({_FIGURE_NOUNS})s?\b|"
    # "what did the remake cost to make", "what will the painting fetch"
    r"what (did|does|do|will|would)\b[^?]*\b(cost|earn|fetch|weigh)|"
    # "where does the firm expect the base rate to stand": a level, not a place
    rf"^\s*where\b[^?]*\b({_FIGURE_NOUNS}|inflation|unemployment|index|level)s?\b[^?]*\b"
    r"(stand|settle|peak|bottom out|end up|finish|close)|"
    r"at what)\b", re.I)
_YEAR_QUESTION = re.compile(r"\b(what|which) year\b", re.I)
_SCORE_QUESTION = re.compile(r"\b(what|which) (was |is )?the (final |full-time |half-time )?"
                             r"(score|scoreline|result|margin)\b|\bby (what|which|how big a) "
                             r"(score|scoreline|margin)\b", re.I)
_SCORE = re.compile(r"(?<![\w.-])\d{1,3}-\d{1,3}(?![\w.-]|-\d)")
_DATE_QUESTION = re.compile(r"^\s*when\b|\b(what|which|on what) (date|day)\b|\bwhen (did|will|does|"
                            r"is|was|were|are|has|had)\b", re.I)
_REASON_QUESTION = re.compile(r"\bwhy\b|\bfor what reason\b", re.I)
# "which/what" and the words before the noun it asks about ("which County Durham town",
# "which uncapped Wrexham defender") — but not a verb: "what opened off the island" asks for
# a thing, not a place, and "what did the man say" for words, not a person.
_GAP = r"(?:(?!(?:did|does|do|is|was|were|are|has|have|had|will|would|can|could)\b)[\w'-]+ ){0,4}?"
_WHICH = rf"(?:which {_GAP}|what (?![\w'-]+ed\b){_GAP})"
_PLACE_QUESTION = re.compile(
    rf"^\s*where\b|\b(in|at|to|from) {_WHICH}(town|city|country|village|county|state|region|"
    r"venue|stadium|ground|building|street|place|area|capital|island|nation|location|court|"
    rf"hospital|university|school|prison|port|resort)\b|\b{_WHICH}(town|city|country|"
    r"village|county|venue|stadium|ground|region|capital|island|location)\b", re.I)
_PERSON_QUESTION = re.compile(
    r"^\s*(who|whom|whose)\b|\b(who|whom) (is|was|were|will|has|had|did|does)\b|"
    rf"\b{_WHICH}(executive|attorney|lawyer|singer|player|actor|actress|director|"
    r"manager|boss|coach|chief|minister|official|spokesman|spokeswoman|analyst|economist|star|"
    r"striker|winger|midfielder|defender|goalkeeper|captain|forward|back-rower|flanker|"
    r"musician|artist|writer|author|journalist|presenter|designer|founder|owner|chairman|"
    r"president|leader|politician|MP|judge|person|man|woman|driver|rider|champion|referee|"
    r"comedian|guitarist|drummer|rapper|producer|composer|conductor|member|candidate)s?\b", re.I)
_NAME_QUESTION = re.compile(r"\bwhich\b|\bname\b|\bcalled\b|^\s*what [a-z-]+( [a-z-]+)? "
                            r"(did|does|do|is|was|were|has|have|will|had)\b", re.I)
_NUMBER = re.compile(r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
                     r"fifteen|twenty|thirty|forty|fifty|sixty|hundred|thousand|million|billion|"
                     r"half|dozen|january|february|march|april|may|june|july|august|september|"
                     r"october|november|december|monday|tuesday|wednesday|thursday|friday|"
                     r"saturday|sunday)\b", re.I)
# A figure standing alone ("37", "$2.95bn", "19-13"), not a digit inside a name ("G7").
_NUMBER_TOKEN = re.compile(r"(?<![\w£$€])[£$€]?\d[\d,.:/-]*\w*|"
                           + _NUMBER.pattern.removeprefix(r"\d|"),
                           re.I)
_YEAR = re.compile(r"\b(?:1[89]\d\d|20\d\d)\b")
_DATE_TOKEN = re.compile(r"\b(?:1[89]\d\d|20\d\d|\d{1,2}(?:st|nd|rd|th)?|january|february|march|"
                         r"april|may|june|july|august|september|october|november|december|"
                         r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday|"
                         r"today|tomorrow|tonight|weekend|spring|summer|autumn|winter)\b", re.I)
_CAUSE = re.compile(r"\b(because|after|due to|as a result|following|since|amid|blamed|owing to|"
                    r"thanks to|in order to|so that|reason|triggered|prompted|sparked|caused|"
                    r"led to|fuelled|on the back of)\b", re.I)
_CAPITALISED = re.compile(r"\b[A-Z][\w'’-]*")
# A name of several words: "Anton Corbijn", "Shearman and Sterling" is two names.
_NAME_RUN = re.compile(r"\b[A-Z][\w'’-]*(?:\s+(?:(?:de|van|von|da|le|del|di|bin) )?[A-Z][\w'’-]*)+")
_PLACE_CUE = re.compile(r"\b(?:in|at|near|from|outside|based in)\s+((?:[A-Z][\w'’-]*\s*)+)")
# Capitalised words that are not a new name: titles and sentence glue.
_NOT_NAMES = frozenset("mr mrs ms dr sir the a an he she it they but and in on at i we".split())


def expected_answer_kind(question: str) -> str | None:
    """What sort of fact the question asks for: a "year", a "score" ("19-13"), a "date",
    another "number", a
    "reason", a "place", a "person", another "name", or None."""
    for kind, pattern in (("year", _YEAR_QUESTION), ("score", _SCORE_QUESTION),
                          ("date", _DATE_QUESTION),
                          ("number", _NUMBER_QUESTION), ("reason", _REASON_QUESTION),
                          ("place", _PLACE_QUESTION), ("person", _PERSON_QUESTION),
                          ("name", _NAME_QUESTION)):
        if pattern.search(question):
            return kind
    return None


def asked_words(question: str) -> frozenset[str]:
    """The question's own words, case-folded, with and without a possessive "'s"."""
    words = set(re.findall(r"[\w'’-]+", question.casefold()))
    return frozenset(words | {w.removesuffix("'s").removesuffix("’s") for w in words})


def _is_new(word: str, asked: frozenset[str]) -> bool:
    folded = word.casefold().removesuffix("'s").removesuffix("’s")
    return folded not in _NOT_NAMES and folded not in asked


def _past_first_word(sentence: str) -> str:
    """The sentence without its first word, which is capitalised whatever it is."""
    first = re.match(r"\W*\w+", sentence)
    return sentence[first.end():] if first else sentence


def new_fact_spans(kind: str | None, sentence: str, question: str | frozenset[str]
                   ) -> list[tuple[int, int]]:
    """Where the sentence holds a fact of the asked-for kind that the question itself does
    not already state (a restated question is not an answer): a figure, a cause, a place
    after "in/at/near…", a name of several words for a person, a name otherwise."""
    if kind is None:
        return []
    asked = question if isinstance(question, frozenset) else asked_words(question)
    if kind == "reason":
        return [m.span() for m in _CAUSE.finditer(sentence)]
    if kind == "place":
        return [m.span(1) for m in _PLACE_CUE.finditer(sentence)
                if any(_is_new(word, asked) for word in m.group(1).split())]
    if kind in ("person", "name"):
        skip = len(sentence) - len(_past_first_word(sentence))
        if kind == "person":
            return [m.span() for m in _NAME_RUN.finditer(sentence, skip)
                    if any(_is_new(word, asked) for word in m.group(0).split()
                           if word[0].isupper())]
        return [m.span() for m in _CAPITALISED.finditer(sentence, skip)
                if _is_new(m.group(0), asked)]
    pattern = {"year": _YEAR, "date": _DATE_TOKEN, "number": _NUMBER_TOKEN, "score": _SCORE}[kind]
    return [m.span() for m in pattern.finditer(sentence) if _is_new(m.group(0), asked)]


def offers_new_fact(kind: str | None, sentence: str, question: str | frozenset[str]) -> bool:
    """Whether the sentence holds a new fact of the asked-for kind (`new_fact_spans`)."""
    return bool(new_fact_spans(kind, sentence, question))


def _is_heading(text: str) -> bool:
    """A subheading ("A crucial issue for Huawei… and for China") is not an answer."""
    return len(text.split()) < 10 and not re.search(r"[.!?][\"'”’)]*$", text)


_HOW_MANY = re.compile(r"\bhow many\b", re.I)
# Words that end the noun phrase after "how many": a verb of the question, a preposition.
_PHRASE_END = frozenset("""did does do is are was were has have had will would can could
    should of in at on for to from by with as that which who since during a an per each""".split())


def counted_noun(question: str) -> str | None:
    """The stem of the noun a "how many …" question counts ("how many new construction
    jobs were added" → "job"), or None."""
    found = _HOW_MANY.search(question)
    if not found:
        return None
    phrase: list[str] = []
    for word in re.findall(r"[\w'’-]+|[^\w\s]", question[found.end():]):
        if not word[0].isalnum() or word.casefold() in _PHRASE_END:
            break
        phrase.append(word.casefold())
    return stem(phrase[-1]) if phrase else None


def counts_noun(noun: str | None, sentence: str, asked: frozenset[str]) -> bool:
    """Whether the sentence puts a figure the question lacks right before the counted
    noun, a word or three apart ("some 37 countries", "51 million Americans")."""
    if noun is None:
        return False
    for figure in _NUMBER_TOKEN.finditer(sentence):
        if not _is_new(figure.group(0), asked):
            continue
        clause = re.split(r"[,;:.!?()\"“”]", sentence[figure.end():figure.end() + 60])[0]
        following = _WORD.findall(clause)[:4]
        if any(stem(word.casefold()) == noun for word in following):
            return True
    return False


@dataclass(frozen=True, slots=True)
class QuestionFacts:
    """What the answer step needs to know of a question, worked out once."""

    text: str
    terms: list[str]
    kind: str | None
    asked: frozenset[str]
    counted: str | None  # the noun a "how many" question counts (stemmed)

    @classmethod
    def of(cls, question: str) -> QuestionFacts:
        return cls(question, query_terms(question), expected_answer_kind(question),
                   asked_words(question), counted_noun(question))


_WORD = re.compile(r"[\w'’-]+")
NEAR_CHARS = 40  # "near" in `fact_near`: within this many characters


def fact_near(spans: list[tuple[int, int]], sentence: str, details: set[str]) -> bool:
    """Whether a new fact (`spans`) sits close to one of the question's rare words
    (`details`, stemmed): "directed by Anton Corbijn" answers "who will direct", while a
    name elsewhere in the sentence may answer nothing asked."""
    if not spans or not details:
        return False
    return any(
        start - NEAR_CHARS <= word.end() and word.start() <= end + NEAR_CHARS
        for word in _WORD.finditer(sentence) if stem(word.group(0).casefold()) in details
        for start, end in spans if not start <= word.start() < end)


def distinctive_weights(terms: list[str], sentence_words: list[frozenset[str]]
                        ) -> dict[str, float]:
    """Weight of each question word (stemmed) by how rare it is among the story's
    sentences: the story's subject ("Joy Division") is in many of them and tells them
    apart little; the detail asked about ("directed") is in few."""
    count = len(sentence_words)
    weights: dict[str, float] = {}
    for term in dict.fromkeys(stem(t) for t in terms):
        holding = sum(1 for words in sentence_words if term in words)
        weights[term] = math.log((count + 1) / (holding + 0.5))
    return weights


def sentence_scores(facts: QuestionFacts, story: StoryEvidence, tuning: AnswerTuning,
                    distinctive_weight: float = 0.0, near_detail_weight: float = 0.0
                    ) -> list[float]:
    """How well each sentence of a story answers the question: its closeness (headline as
    context) plus some of the previous sentence's (an answer often follows the sentence
    that sets the scene), the share of the question's words it has (plainly, and weighted
    by their rarity within the story, which tells the sentences of one story apart but not
    stories), and whether it holds the kind of fact asked for."""
    body = story.article.body
    texts = [body[start:end] for start, end in story.spans]
    words = [stemmed_words(text) for text in texts]
    weights = distinctive_weights(facts.terms, words)
    total = sum(weights.values()) or 1.0
    stems = list(weights)
    # The question's rare words in this story: in at most a tenth of its sentences.
    rare = math.log((len(texts) + 1) / (max(1.0, 0.1 * len(texts)) + 0.5))
    details = {term for term, weight in weights.items() if weight >= rare}
    scores: list[float] = []
    previous = 0.0
    for text, sentence_words, similarity in zip(texts, words, story.similarities, strict=True):
        shared = [term for term in stems if term in sentence_words]
        facts_at = new_fact_spans(facts.kind, text, facts.asked)
        scores.append(
            float(similarity)
            + tuning.context_weight * previous
            + tuning.sentence_lexical_weight * (len(shared) / len(stems) if stems else 0.0)
            + distinctive_weight * sum(weights[t] for t in shared) / total
            + tuning.answer_kind_bonus * bool(facts_at)
            + tuning.counted_noun_bonus * counts_noun(facts.counted, text, facts.asked)
            + near_detail_weight * fact_near(
                facts_at, text, details.intersection(shared))
        )
        previous = float(similarity)
    return scores


def rescore_stories(question: str, stories: list[StoryEvidence], tuning: AnswerTuning
                    ) -> list[StoryEvidence]:
    """Credit each story with how well its best sentence answers the question (not only
    how close it is), and re-sort: the story that can answer comes first."""
    facts = QuestionFacts.of(question)
    for story in stories:
        best_answer = max(sentence_scores(facts, story, tuning), default=0.0)
        story.score += tuning.story_answer_weight * (best_answer - story.best_similarity)
    return sorted(stories, key=lambda story: -story.score)


def candidate_sentences(
    question: str, stories: list[StoryEvidence], tuning: AnswerTuning
) -> list[_Candidate]:
    """Every sentence of the best stories, scored by `sentence_scores`; sentences of
    lower-ranked stories pay a small penalty."""
    facts = QuestionFacts.of(question)
    candidates: list[_Candidate] = []
    for rank, story in enumerate(stories[: tuning.max_sources]):
        if rank and story.score < stories[0].score - tuning.source_margin:
            break
        body = story.article.body
        scores = sentence_scores(facts, story, tuning, tuning.sentence_distinctive_weight,
                                 tuning.fact_near_detail_bonus)
        for (start, end), score in zip(story.spans, scores, strict=True):
            text = body[start:end]
            if len(text) < 15 or _is_heading(text):
                continue
            candidates.append(_Candidate(story, rank, start, end, text,
                                         score - tuning.lower_source_penalty * rank))
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
        if any(_restates(c.text, candidate.text) for c in chosen):
            continue  # the same sentence in a copy of the story, or another outlet's wording
        chosen.append(candidate)
        length += len(candidate.text) + 5
    return chosen


def _passage_of(candidate: _Candidate) -> int:
    """The retrieved passage of the cited article holding the quoted sentence (else the
    article's first retrieved passage)."""
    article_id = candidate.story.article.id
    own = [hit for hit in candidate.story.hits if hit.article.id == article_id]
    for hit in own:
        if hit.passage.start <= candidate.start and candidate.end <= hit.passage.end:
            return hit.passage.id
    return (own or candidate.story.hits)[0].passage.id


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


def _restates(first: str, second: str, overlap: float = 0.8) -> bool:
    """Whether two sentences say the same thing: equal, or sharing at least `overlap` of
    their words ("IBM test results show…" and "DOE test results show…")."""
    if _one_line(first) == _one_line(second):
        return True
    a, b = set(_WORD.findall(first.casefold())), set(_WORD.findall(second.casefold()))
    return bool(a and b) and len(a & b) / len(a | b) >= overlap


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()




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
    """Decline when the evidence is weak. Calibrated rules (see README): the best story,
    the one an answer would quote, has no sentence even loosely close to the question; no
    sentence of the best `abstain_stories` stories is close; or the question names
    something — a name or figure the collection never mentions, or a year the best story
    never mentions — and the match is not strong."""
    if not stories or stories[0].story_similarity < tuning.abstain_cited_below:
        return True  # the story an answer would quote has nothing close to the question
    closest = max(story.story_similarity for story in stories[: tuning.abstain_stories])
    if closest < tuning.abstain_below:
        return True
    if closest >= tuning.abstain_missing_detail_below:
        return False
    return bool(unknown_terms(question, in_collection) or absent_years(question, stories[0]))
