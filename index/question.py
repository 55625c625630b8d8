"""What a question asks for, and whether a sentence offers it.

A question is read once into `QuestionFacts`: its content words, the kind of fact it asks
for (a year, a score, a date, a count, a sum of money, another figure, a cause, a place, a
person, another name), the words it already states, the noun a "how many" question counts,
the role of the person a "who" question asks for, and the preposition it opens with. For a
sentence, this module tells where it holds a new fact of the asked-for kind
(`new_fact_spans`), whether it puts a figure right before the counted noun (`counts_noun`),
whether a new fact stands next to one of the question's rare words (`fact_near`), whether a
new name stands beside the role a "who" question names (`names_role`), and whether a new
fact stands right after the preposition the question opens with (`fills_slot`).
`unknown_terms` and `years_named` find the names, figures and years a question mentions, for
the abstention rules. Pure text rules: no model, no store.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from index.search import past_first_word, query_terms, stem

_WORD = re.compile(r"[\w'’-]+")  # a word, with its apostrophes and hyphens

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
# A sum of money: "$42m", "£22m", "€1.5bn", "US$3", "250,000 dollars", "90p".
_MONEY = re.compile(r"(?:\b(?:US|A|C|HK|NZ))?[£$€¥]\s?\d[\d,.]*(?:\s?(?:m|bn|k|million|billion|"
                    r"trillion)\b)?|\b\d[\d,.]*\s?(?:m|bn|million|billion|trillion)?\s?"
                    r"(?:dollars|pounds|euros|yen|yuan|roubles|rupees|francs|pence|cents|p)\b",
                    re.I)
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
_PERSON_ROLES = (
    r"executive|attorney|lawyer|singer|player|actor|actress|director|"
    r"manager|boss|coach|chief|minister|official|spokesman|spokeswoman|analyst|economist|star|"
    r"striker|winger|midfielder|defender|goalkeeper|captain|forward|back-rower|flanker|"
    r"musician|artist|writer|author|journalist|presenter|designer|founder|owner|chairman|"
    r"president|leader|politician|MP|judge|person|man|woman|driver|rider|champion|referee|"
    r"comedian|guitarist|drummer|rapper|producer|composer|conductor|member|candidate|"
    r"lecturer|envoy|ambassador|co-founder|head|editor|researcher|scientist|"
    r"professor|spokesperson|commissioner|secretary|governor|mayor|chancellor")
# The role a "who" question names: "which defence lawyer", "who co-founded", "who directed".
_ROLE_OF_PERSON = re.compile(
    rf"\b{_WHICH}({_PERSON_ROLES})s?\b|\bwho (?:is|was|will be|became) (?:[\w'’-]+ ){{0,3}}?"
    rf"({_PERSON_ROLES})s?\b|^\s*(?:who|whom)\s+(?!(?:is|was|were|will|would|has|"
    r"have|had|did|does|do|can|could|should|are|then|now)\b)([\w-]{4,})", re.I)
_PERSON_QUESTION = re.compile(
    r"^\s*(who|whom|whose)\b|\b(who|whom) (is|was|were|will|has|had|did|does)\b|"
    rf"\b{_WHICH}({_PERSON_ROLES})s?\b", re.I)
_NAME_QUESTION = re.compile(r"\bwhich\b|\bname\b|\bcalled\b|^\s*what [a-z-]+( [a-z-]+)? "
                            r"(did|does|do|is|was|were|has|have|will|had)\b", re.I)
_YEAR_DIGITS = r"1[89]\d\d|20\d\d"
_CALENDAR = (r"january|february|march|april|may|june|july|august|september|october|november|"
             r"december|monday|tuesday|wednesday|thursday|friday|saturday|sunday")
_NUMBER = re.compile(r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
                     r"fifteen|twenty|thirty|forty|fifty|sixty|hundred|thousand|million|billion|"
                     rf"half|dozen|{_CALENDAR})\b", re.I)
# A figure standing alone ("37", "$2.95bn", "19-13"), not a digit inside a name ("G7").
_NUMBER_TOKEN = re.compile(r"(?<![\w£$€])[£$€]?\d[\d,.:/-]*\w*|"
                           + _NUMBER.pattern.removeprefix(r"\d|"),
                           re.I)
_YEAR = re.compile(rf"\b(?:{_YEAR_DIGITS})\b")
_DATE_TOKEN = re.compile(rf"\b(?:{_YEAR_DIGITS}|\d{{1,2}}(?:st|nd|rd|th)?|{_CALENDAR}|yesterday|"
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
    words = set(_WORD.findall(question.casefold()))
    words |= {w.removesuffix("'s").removesuffix("’s") for w in words}
    return frozenset(words | {stem(w) for w in words})


def _is_new(word: str, asked: frozenset[str]) -> bool:
    """Whether a word of a sentence is not in the question (in any inflection: "Oscar" is
    the question's "Oscars") and is no title or sentence glue."""
    folded = word.casefold().removesuffix("'s").removesuffix("’s")
    return folded not in _NOT_NAMES and folded not in asked and stem(folded) not in asked


def new_fact_spans(kind: str | None, sentence: str, question: str | frozenset[str]
                   ) -> list[tuple[int, int]]:
    """Where the sentence holds a fact of the asked-for kind that the question itself does
    not already state (a restated question is not an answer): a figure (for a count, one
    that counts things: `_counts_something`), a cause, a place
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
        skip = len(sentence) - len(past_first_word(sentence))
        if kind == "person":
            return [m.span() for m in _NAME_RUN.finditer(sentence, skip)
                    if any(_is_new(word, asked) for word in m.group(0).split()
                           if word[0].isupper())]
        return [m.span() for m in _CAPITALISED.finditer(sentence, skip)
                if _is_new(m.group(0), asked)]
    if kind == "count":
        return [m.span() for m in _NUMBER_TOKEN.finditer(sentence)
                if _is_new(m.group(0), asked) and _counts_something(sentence, m)]
    pattern = {"year": _YEAR, "date": _DATE_TOKEN, "number": _NUMBER_TOKEN, "score": _SCORE,
               "money": _MONEY}[kind]
    return [m.span() for m in pattern.finditer(sentence) if _is_new(m.group(0), asked)]


_PLURAL_IRREGULAR = frozenset("people men women children staff police cattle".split())
_NOT_COUNTED = re.compile(rf"(?:{_YEAR_DIGITS}|{_CALENDAR})$", re.I)


def _counts_something(sentence: str, figure: re.Match[str]) -> bool:
    """Whether a figure counts things: a word or three later in its clause stands a plural
    noun ("seven versions", "110 times"), and it is no year or date."""
    if _NOT_COUNTED.match(figure.group(0)):
        return False
    clause = re.split(r"[,;:.!?()\"“”]", sentence[figure.end():figure.end() + 60])[0]
    following = _WORD.findall(clause)
    if following and following[0].casefold() == "of":
        return True  # "28 of the world's largest firms"
    return any(_is_plural(word) for word in following[:4])


def _is_plural(word: str) -> bool:
    """Whether an English word looks plural ("versions", "people"; not "bus", "analysis")."""
    folded = word.casefold()
    return folded in _PLURAL_IRREGULAR or (
        len(folded) > 3 and folded.endswith("s")
        and not folded.endswith(("ss", "us", "is", "'s", "’s")))


def offers_new_fact(kind: str | None, sentence: str, question: str | frozenset[str]) -> bool:
    """Whether the sentence holds a new fact of the asked-for kind (`new_fact_spans`)."""
    return bool(new_fact_spans(kind, sentence, question))


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
    roles: frozenset[str]  # the role of the person a "who" question asks for
    preposition: str | None  # "against" in "against which club …"

    @classmethod
    def of(cls, question: str) -> QuestionFacts:
        return cls(question, query_terms(question), expected_answer_kind(question),
                   asked_words(question), counted_noun(question), person_role(question),
                   leading_preposition(question))


NEAR_CHARS = 40  # "near" in `fact_near`: within this many characters


def _beside(spans: list[tuple[int, int]], sentence: str, chars: int,
            wanted: Callable[[str], bool]) -> bool:
    """Whether a word of the sentence that `wanted` accepts stands within `chars` characters
    of one of the new facts (`spans`), outside it."""
    return any(
        start - chars <= word.end() and word.start() <= end + chars
        for word in _WORD.finditer(sentence) if wanted(word.group(0))
        for start, end in spans if not start <= word.start() < end)


def fact_near(spans: list[tuple[int, int]], sentence: str, details: set[str]) -> bool:
    """Whether a new fact (`spans`) sits close to one of the question's rare words
    (`details`, stemmed): "directed by Anton Corbijn" answers "who will direct", while a
    name elsewhere in the sentence may answer nothing asked."""
    if not spans or not details:
        return False
    return _beside(spans, sentence, NEAR_CHARS, lambda word: stem(word.casefold()) in details)


def person_role(question: str) -> frozenset[str]:
    """The role of the person asked for, case-folded: "lawyer" in "which defence lawyer
    cross-examined him", "co-founded" in "who co-founded the start-up"."""
    return frozenset(word.casefold() for found in _ROLE_OF_PERSON.finditer(question)
                     for word in found.groups() if word)


ROLE_CHARS = 30  # "beside" in `names_role`: within this many characters


def _same_root(word: str, role: str) -> bool:
    """Whether a word and a role share a root: "co-founder" and "co-founded", "director"
    and "directed" (their first five letters, or all of the shorter one's, at least four)."""
    letters = min(len(word), len(role), 5)
    return letters >= 4 and word[:letters] == role[:letters]


def names_role(spans: list[tuple[int, int]], sentence: str, roles: frozenset[str]) -> bool:
    """Whether a new name (`spans`) stands right beside the role asked about: "defence
    lawyer Reid Weingarten", "Suranga Chandratillake, co-founder of Blinkx"."""
    if not spans or not roles:
        return False
    return _beside(spans, sentence, ROLE_CHARS,
                   lambda word: any(_same_root(word.casefold(), role) for role in roles))


_LEADING_PREPOSITION = re.compile(r"^\s*(against|for|from|in|at|to|with|by|on|into|under|"
                                  r"behind|over|near|inside|outside)\s+(?:which|what|whose)\b",
                                  re.I)


def leading_preposition(question: str) -> str | None:
    """The preposition an "against which club …" question opens with, case-folded: the
    answer is likely the name right after the same preposition ("against Blackburn")."""
    found = _LEADING_PREPOSITION.match(question)
    return found.group(1).casefold() if found else None


def fills_slot(spans: list[tuple[int, int]], sentence: str, preposition: str | None) -> bool:
    """Whether a new fact (`spans`) stands right after the question's leading preposition,
    an article allowed between: "against Blackburn", "at the Sage Centre"."""
    if not spans or preposition is None:
        return False
    starts = {start for start, _end in spans}
    return any(found.end() in starts for found in re.finditer(
        rf"\b{preposition}\s+(?:(?:the|a|an)\s+)?", sentence, re.I))


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


# "Who succeeded X", "who took over from X", "who did they pick after X withdrew": the
# question asks for a successor, which only a story that tells of a succession can name.
_SUCCESSOR_QUESTION = re.compile(
    r"^\s*(?:who|whom)\b[^?]*\b(?:succeed(?:ed|s)?|replac(?:e|ed|es)|(?:take|took|takes|taken) "
    r"over from|after\b[^?]*\b(?:stood down|steps? down|stepped down|quit|left|resigned|"
    r"withdrew|retired|was sacked|departed))\b", re.I)
_SUCCESSION = re.compile(
    r"\b(?:succe(?:ed|eded|eds|eding|ssor|ssors|ssion)|replac(?:e|ed|es|ing|ement)|"
    r"(?:take|took|takes|taken|taking) (?:over|charge)|in place of|steps? into|stepped into|"
    r"the reins|(?:named|appointed|chosen|picked|selected|elected|installed|confirmed) "
    r"(?:as|to)|new (?:leader|chief|boss|chairman|chairwoman|presenter|host|manager|coach|"
    r"head|captain|editor|president|director|executive|candidate))\b", re.I)


def asks_for_successor(question: str) -> bool:
    """Whether the question asks who took someone's place ("who succeeded", "who took over
    from", "who did they pick after he withdrew")."""
    return bool(_SUCCESSOR_QUESTION.search(question))


def tells_of_succession(text: str) -> bool:
    """Whether a text tells of someone taking another's place: "succeeded", "replace",
    "took over", "named as", "the new chairman" ("chosen by a panel" does not)."""
    return bool(_SUCCESSION.search(text))


def years_named(question: str) -> list[str]:
    """The years (1800–2099) a question names."""
    return _YEAR.findall(question)
