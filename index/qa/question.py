"""A question, read once: what it asks for and the words, names and years it gives.

`Question.of` reads a question's text into everything the answer stages need to know of it:
its content words (`terms`), its names of several words, the years it names, the kind of fact
it asks for (a year, a score, a date, a count, a sum of money, another figure, a cause, a
place, a person, another name), the words it already states, the noun a "how many" question
counts, the role of the person a "who" question asks for, the preposition it opens with,
whether it asks for the latest news or for someone's successor, and the names and figures
it mentions (for the abstention rules). Pure text rules: no model, no store.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from index.text import (
    names_in,
    query_terms,
    stem,
    without_possessive,
    words,
    words_and_marks,
    written_words,
    years_in,
)

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
# What makes a figure question ask for a sum of money ("how much did the firm pay").
_MONEY_QUESTION = re.compile(
    r"\b(pay|pays|paid|cost|costs|costing|spend|spends|spent|raise|raised|earn|earns|earned|"
    r"fine|fined|fines|fee|fees|price|priced|worth|cash|money|funding|fetch|fetched|penalty|"
    r"penalties|compensation|salary|wages|bid|invest|invested|investment|budget|profit|profits|"
    r"revenue|revenues|turnover|loss|losses|debt|debts|valuation|valued|damages|bonus|prize|"
    r"payout|payoff|tax|takeover)\b", re.I)
# A time, a rate or a change asks for another figure, which may or may not be money.
_NOT_MONEY_QUESTION = re.compile(
    r"\b(?:what|which) time\b|\bat what\b|\bby how much\b|\b(?:rate|percentage|proportion|"
    r"share|odds)\b|\bhow (?:long|old|far|fast|often|frequently|soon|tall|high|heavy|quickly)\b",
    re.I)
_YEAR_QUESTION = re.compile(r"\b(what|which) year\b", re.I)
_SCORE_QUESTION = re.compile(r"\b(what|which) (was |is )?the (final |full-time |half-time )?"
                             r"(score|scoreline|result|margin)\b|\bby (what|which|how big a) "
                             r"(score|scoreline|margin)\b", re.I)
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
_PERSON_ROLES = (
    r"executive|attorney|lawyer|singer|player|actor|actress|director|"
    r"manager|boss|coach|chief|minister|official|spokesman|spokeswoman|analyst|economist|star|"
    r"striker|winger|midfielder|defender|goalkeeper|captain|forward|back-rower|flanker|"
    r"musician|artist|writer|author|journalist|presenter|designer|founder|owner|chairman|"
    r"president|leader|politician|MP|judge|person|man|woman|driver|rider|champion|referee|"
    r"comedian|guitarist|drummer|rapper|producer|composer|conductor|member|candidate|"
    r"lecturer|envoy|ambassador|co-founder|head|editor|researcher|scientist|"
    r"professor|spokesperson|commissioner|secretary|governor|mayor|chancellor")
_PERSON_QUESTION = re.compile(
    r"^\s*(who|whom|whose)\b|\b(who|whom) (is|was|were|will|has|had|did|does)\b|"
    rf"\b{_WHICH}({_PERSON_ROLES})s?\b", re.I)
_NAME_QUESTION = re.compile(r"\bwhich\b|\bname\b|\bcalled\b|^\s*what [a-z-]+( [a-z-]+)? "
                            r"(did|does|do|is|was|were|has|have|will|had)\b", re.I)
_HOW_MANY = re.compile(r"\bhow many\b", re.I)
# Words that end the noun phrase after "how many": a verb of the question, a preposition.
_PHRASE_END = frozenset("""did does do is are was were has have had will would can could
    should of in at on for to from by with as that which who since during a an per each""".split())


def expected_answer_kind(question: str) -> str | None:
    """What sort of fact the question asks for: a "count" ("how many"), a "year", a "score"
    ("19-13"), a "date", a sum of "money" ("how much did the club pay"), another "number",
    a "reason", a "place", a "person", another "name", or None."""
    if _HOW_MANY.search(question):
        return "count"
    for kind, pattern in (("year", _YEAR_QUESTION), ("score", _SCORE_QUESTION),
                          ("date", _DATE_QUESTION),
                          ("number", _NUMBER_QUESTION), ("reason", _REASON_QUESTION),
                          ("place", _PLACE_QUESTION), ("person", _PERSON_QUESTION),
                          ("name", _NAME_QUESTION)):
        if pattern.search(question):
            if kind == "number" and _MONEY_QUESTION.search(question) and not (
                    _NOT_MONEY_QUESTION.search(question)):
                return "money"
            return kind
    return None


def asked_words(question: str) -> frozenset[str]:
    """The question's own words, case-folded, with and without a possessive "'s", and
    their stems."""
    found = set(words(question.casefold()))
    found |= {without_possessive(word) for word in found}
    return frozenset(found | {stem(word) for word in found})


def counted_noun(question: str) -> str | None:
    """The stem of the noun a "how many …" question counts ("how many new construction
    jobs were added" → "job"), or None."""
    found = _HOW_MANY.search(question)
    if not found:
        return None
    phrase: list[str] = []
    for word in words_and_marks(question[found.end():]):
        if not word[0].isalnum() or word.casefold() in _PHRASE_END:
            break
        phrase.append(word.casefold())
    return stem(phrase[-1]) if phrase else None


_LEADING_PREPOSITION = re.compile(r"^\s*(against|for|from|in|at|to|with|by|on|into|under|"
                                  r"behind|over|near|inside|outside)\s+(?:which|what|whose)\b",
                                  re.I)


def leading_preposition(question: str) -> str | None:
    """The preposition an "against which club …" question opens with, case-folded: the
    answer is likely the name right after the same preposition ("against Blackburn")."""
    found = _LEADING_PREPOSITION.match(question)
    return found.group(1).casefold() if found else None


# Words that ask for the newest news; "new" alone is left out ("the new bridge").
_RECENT = re.compile(
    r"\b(latest|most recent|recent|recently|newest|lately|this week|today|today's)\b", re.I
)


def asks_for_recent(question: str) -> bool:
    """Whether the question asks for the latest news ("latest", "most recent", "today"…)."""
    return _RECENT.search(question) is not None


def specific_terms(question: str, terms: list[str]) -> list[str]:
    """The terms (`query_terms`) that are names or figures of the question: capitalised
    words past the first of each sentence ("When will it open? Give me…": "Give" is no
    name), words with digits. An entity or figure no article mentions is a strong sign the
    articles cannot answer; ordinary words are not counted — a question may well use a word
    no article happens to use."""
    names: set[str] = set()
    for sentence in re.split(r"(?<=[?!])\s+|(?<=\.)\s+(?=[A-Z])", question):
        names |= {without_possessive(word.rstrip(".").lower())
                  for i, word in enumerate(written_words(sentence))
                  if (i > 0 and word[0].isupper()) or re.search(r"\d", word)}
    return [term for term in terms if term in names and re.fullmatch(r"[\w.]+", term)]


@dataclass(frozen=True, slots=True)
class Question:
    """What the answer stages need to know of a question, worked out once (`of`)."""

    text: str
    terms: list[str]  # content words, lower-cased, in order (`query_terms`)
    names: list[str]  # names of several words, as `index.text.names_in` gives them
    years: list[str]  # the years it names
    kind: str | None  # the kind of fact it asks for (`expected_answer_kind`)
    asked: frozenset[str]  # its own words, folded, with and without possessives, stemmed
    counted: str | None  # the noun a "how many" question counts (stemmed)
    preposition: str | None  # "against" in "against which club …"
    wants_recent: bool  # asks for the latest news
    specific: list[str]  # its names and figures, as terms (`specific_terms`)

    @classmethod
    def of(cls, text: str, *, english: bool = True) -> Question:
        """The question read once. Not `english` (a multilingual model reading another
        language): the English wording rules — the kind of fact asked for, the counted noun,
        the leading preposition, "latest" — step aside, and the
        question is answered on its words, names, years and the model's similarity."""
        terms = query_terms(text)
        if not english:
            return cls(
                text=text, terms=terms, names=names_in(text), years=years_in(text),
                kind=None, asked=asked_words(text), counted=None,
                preposition=None, wants_recent=False, specific=specific_terms(text, terms))
        return cls(
            text=text, terms=terms, names=names_in(text), years=years_in(text),
            kind=expected_answer_kind(text), asked=asked_words(text),
            counted=counted_noun(text), preposition=leading_preposition(text),
            wants_recent=asks_for_recent(text), specific=specific_terms(text, terms),
        )

    @classmethod
    def follow_up(cls, earlier: str, text: str, *, english: bool = True) -> Question:
        """A follow-up ("when was that?", "and in Asia?") read with the question it
        follows: the words, names and years of both; the kind of fact asked for (with its
        counted noun, leading preposition and "latest") of the follow-up when it asks for
        one, else of the earlier question."""
        both = cls.of(f"{earlier.strip()} {text.strip()}", english=english)
        own = cls.of(text.strip(), english=english)
        if own.kind is None:
            return both
        return replace(both, kind=own.kind, counted=own.counted, preposition=own.preposition,
                       wants_recent=own.wants_recent)
