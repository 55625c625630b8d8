"""Words: the one place that says what a word, a term, a stem, a possessive and a name are.

Every module that splits text into words uses this one. Several kinds of word are needed and
each has its own function, because each rule decides answers and they differ on purpose:

- `query_terms`: a text's content words, lower-cased, stopwords and possessives dropped —
  what is searched for, counted (IDF) and compared ("U.S.", "anti-racketeering", "today").
- `stem`, `stemmed_words`: a light suffix stripping, and a text's terms as stems.
- `words`, `WORD`: words as written, apostrophes and hyphens kept ("co-founder", "U2's").
- `words_and_marks`: the same words and each punctuation mark between them.
- `written_words`: words as written with their dots too, as a question names them ("U.S.").
- `plain_words`: runs of letters and digits only (full-text search, shingles).
- `is_possessive`, `without_possessive`, `drop_possessives`: the possessive rule ("IBM's" → "IBM").
- `names_in`, `names_missing`: names of several words ("Martyn Williams") and whether a text
  gives them whole; `CAPITALISED`, `capitalised_words`, `name_runs`: capitalised words and
  runs of them in a sentence.
- `years_in`, `YEAR`: the years 1800–2099 a text names.
- `past_first_word`, `one_line`: small helpers over running text.

Pure text rules: no model, no store.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

STOPWORDS = frozenset(
    """a an the and or but if then than so of to in on at by for with from into onto about
    as is are was were be been being am do does did done have has had having it its it's this
    that these those there here what which who whom whose when where why how i me my we our you
    your he him his she her they them their not no nor can could would should will shall may
    might must also just only very more most much many some any each every all both either
    neither other such own same too s t don doesn didn up down out over under again further
    once per via did does tell say said according""".split()
    # Words that ask for recency describe the request, not the story (see
    # `index.qa.stories.recency_boost`); and "news" would match "new" once stemmed.
    + "news latest newest recent recently lately".split()
)

# A term: letters or digits, with apostrophes, dots and hyphens inside ("u.s", "o'neill").
_TERM = re.compile(r"[\w][\w'’.-]*[\w]|\w", re.UNICODE)
# A word as written, its apostrophes and hyphens kept.
WORD = re.compile(r"[\w'’-]+")
_WORD_OR_MARK = re.compile(r"[\w'’-]+|[^\w\s]")
# A word as written with its dots too, which may end it ("U.S.").
_WRITTEN_WORD = re.compile(r"[\w][\w.'’-]*")
_PLAIN_WORD = re.compile(r"\w+")
_PHRASE_WORD = re.compile(r"[\w-]+")
_FIRST_WORD = re.compile(r"\W*\w+")
_POSSESSIVE = re.compile(r"['’]s\b")
_SPACE = re.compile(r"\s+")

# A capitalised word ("Corbijn", "U2's", "Dutch-born").
CAPITALISED = r"[A-Z][\w'’-]*"
_CAPITALISED_WORD = re.compile(rf"\b{CAPITALISED}")
# A name of several words in a question: capitalised words in a row.
_NAME_IN_QUESTION = re.compile(rf"\b{CAPITALISED}(?:\s+{CAPITALISED})+")
# A name of several words in a sentence, a particle allowed inside ("Ludwig van Beethoven");
# "Shearman and Sterling" is two names.
_NAME_RUN = re.compile(rf"\b{CAPITALISED}(?:\s+(?:(?:de|van|von|da|le|del|di|bin) )?"
                       rf"{CAPITALISED})+")

YEAR_DIGITS = r"1[89]\d\d|20\d\d"
YEAR = re.compile(rf"\b(?:{YEAR_DIGITS})\b")


def is_possessive(word: str) -> bool:
    """Whether a word ends in a possessive "'s" or "’s" ("IBM's")."""
    return word.endswith(("'s", "’s"))


def without_possessive(word: str) -> str:
    """A word without a final possessive "'s" or "’s" ("IBM's" → "IBM")."""
    return word.removesuffix("'s").removesuffix("’s")


def drop_possessives(text: str) -> str:
    """A text with every possessive "'s"/"’s" removed ("IBM's Blue Gene" → "IBM Blue Gene")."""
    return _POSSESSIVE.sub("", text)


def query_terms(text: str) -> list[str]:
    """Lower-cased content words of a text, in order, without duplicates."""
    seen: dict[str, None] = {}
    for word in _TERM.findall(text.lower()):
        term = _content_word(word)
        if term:
            seen.setdefault(term, None)
    return list(seen)


@lru_cache(maxsize=65536)
def _content_word(word: str) -> str:
    """A lower-cased word as a term ("today’s" → "today"), or "" for a stopword or a
    single letter. Cached: a collection's vocabulary is small next to its running text."""
    word = without_possessive(word.replace("’", "'").strip(".'"))
    if word in STOPWORDS or (len(word) == 1 and word.isalpha()):
        return ""
    return word


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light suffix-stripping stem ("ruling" → "rul", "sales" → "sale"); a final "s" after
    "s", "u" or "i" is no plural ending ("focus", "business", "analysis" stay whole, so
    that "focus" and "focusing" meet at "focus")."""
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                return word
            return word[: -len(suffix)]
    return word


@lru_cache(maxsize=16384)
def stemmed_words(text: str) -> frozenset[str]:
    """The content words of a text, stemmed, a hyphenated word with its longer parts too
    (an article's "anti-racketeering" has the question's "racketeering"). Cached: the
    sentences and articles of a popular story recur across questions (16,384 texts, a few
    tens of MB at most)."""
    found: set[str] = set()
    for word in _TERM.findall(text.lower()):
        found.update(_stems_of(word))
    return frozenset(found)


@lru_cache(maxsize=65536)
def _stems_of(word: str) -> tuple[str, ...]:
    """What one lower-cased word adds to `stemmed_words`: its stem as a term, and the stems
    of a hyphenated term's parts longer than three letters; nothing for a stopword.
    Cached per word: a text is read word by word, never term list by term list."""
    term = _content_word(word)
    if not term:
        return ()
    parts = [stem(part) for part in term.split("-") if len(part) > 3] if "-" in term else []
    return (stem(term), *parts)


def words(text: str) -> list[str]:
    """The words of a text as written, apostrophes and hyphens kept (`WORD`)."""
    return WORD.findall(text)


def words_and_marks(text: str) -> list[str]:
    """The words of a text as `words` finds them, and each punctuation mark between them."""
    return _WORD_OR_MARK.findall(text)


def written_words(text: str) -> list[str]:
    """The words of a text as written, with their dots, apostrophes and hyphens ("U.S.")."""
    return _WRITTEN_WORD.findall(text)


def plain_words(text: str) -> list[str]:
    """The runs of letters and digits of a text ("Gene/L" → "Gene", "L")."""
    return _PLAIN_WORD.findall(text)


def past_first_word(text: str) -> str:
    """The text without its first word, which is capitalised whatever it is."""
    first = _FIRST_WORD.match(text)
    return text[first.end():] if first else text


def one_line(text: str) -> str:
    """A text on one line: each run of white space as one space, none at the ends."""
    return _SPACE.sub(" ", text).strip()


def capitalised_words(text: str, start: int = 0) -> Iterator[re.Match[str]]:
    """The capitalised words of a text from `start` on."""
    return _CAPITALISED_WORD.finditer(text, start)


def name_runs(text: str, start: int = 0) -> Iterator[re.Match[str]]:
    """The names of several capitalised words of a text from `start` on."""
    return _NAME_RUN.finditer(text, start)


def phrase_tokens(text: str) -> str:
    """A text as its lower-cased, stemmed words, possessives dropped, one space apart and at
    the ends too: " ibm blue gene l ", " academy award " (an article's is kept in its
    reading, `index.reading`)."""
    phrase_words = _PHRASE_WORD.findall(drop_possessives(text.lower()))
    return f" {' '.join(stem(word) for word in phrase_words)} "


_name_tokens = lru_cache(maxsize=4096)(phrase_tokens)


def names_in(question: str) -> list[str]:
    """The names of several words a question gives ("Martyn Williams", "IBM's Blue Gene"),
    past its first word, as `phrase_tokens`."""
    return [_name_tokens(m.group(0))
            for m in _NAME_IN_QUESTION.finditer(past_first_word(question))]


def names_missing(names: list[str], tokens: str) -> frozenset[str]:
    """The stems of the words of each name that a text (its `phrase_tokens`) does not give
    whole: "Martyn Wood" and "Williams" are not "Martyn Williams"."""
    return frozenset(word for name in names if name not in tokens for word in name.split())


def years_in(text: str) -> list[str]:
    """The years (1800–2099) a text names."""
    return YEAR.findall(text)
