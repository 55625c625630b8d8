"""Languages: which language a question or an article is written in, and what to tell a user
whose question the configured model can't read.

The bundled model and the answer rules read English. Detection uses py3langid (an offline
naive-Bayes identifier over byte n-grams, 97 languages, its model inside the wheel), loaded on
first use. A question with English function words in it ("what", "the", "did" …) is taken as
English without loading the identifier, so an ordinary English question costs nothing; the
identifier decides the rest, and a guess it is not sure of counts as "unknown" (answered as
usual rather than refused) unless the question holds small words of the guessed language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from py3langid.langid import LanguageIdentifier

# Words frequent in English questions and rare as words of other languages (not "a", "is",
# "was", "will", "in", "on", "for": French, Dutch or German use them too).
ENGLISH_FUNCTION_WORDS = frozenset("""
    the of to and are were what which who whom whose when where why how did does has have
    would could should with from that this these those there their they he she it its his
    her him we our you your been said says about after before between into many much than
    then not but any some tell told new first last
""".split())
# A question is taken as English without the identifier when it holds this many of them
# (one is enough in a question of `SHORT_QUESTION_WORDS` words or fewer).
ENGLISH_WORDS_NEEDED = 2
SHORT_QUESTION_WORDS = 4
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
# The identifier's guess counts only at this probability or above: below it, short texts
# are often guessed wrong (a headline of names and numbers looks like anything).
QUESTION_CONFIDENCE = 0.7
# Between the two, a guess still counts when the question holds this many function words of
# the guessed language and none of English's: a short question ("qui est le patron de
# Huawei ?", p = 0.62) is told by its small words, as English ones are, while names with
# such words in them ("Real Madrid La Liga", p = 0.09) stay below the floor.
FUNCTION_WORDS_CONFIDENCE = 0.4
FUNCTION_WORDS_NEEDED = 2
FUNCTION_WORDS = {code: frozenset(words.split()) for code, words in {
    "fr": "le la les un une des du de en est sont qui que quoi quel quelle quels quelles où "
          "comment pourquoi combien quand avec pour dans sur par pas ont été était",
    "de": "der die das den dem des ein eine ist sind war wer wie warum wann welche welcher "
          "welches wieviel wieviele hat haben nicht mit von für auf",
    "es": "el la los las una unos de en es son qué quién quiénes cuál cuáles cómo dónde cuándo "
          "cuánto cuántos cuántas por para con del fue han ha",
    "it": "il lo gli una della delle dei chi che cosa quale quali come dove quando "
          "quanto quanti perché è sono con per ha hanno",
    "pt": "os uma umas de do da dos das é são quem que qual quais como onde quando quanto "
          "quantos porque com para foi tem",
    "nl": "het een de van is zijn wie wat welke hoe waar waarom wanneer hoeveel met voor "
          "niet heeft hebben",
}.items()}
ARTICLE_CONFIDENCE = 0.9
# An article's language is read from its beginning: enough text to be sure, little work.
ARTICLE_SAMPLE_CHARS = 2000
ANY_LANGUAGE = "*"


@dataclass(frozen=True, slots=True)
class LanguageGuess:
    """An ISO 639-1 code ("en", "fr") and the identifier's probability for it."""

    code: str
    probability: float


@cache
def _identifier() -> LanguageIdentifier:
    """py3langid's identifier with normalised probabilities, loaded once per process."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def identify(text: str) -> LanguageGuess:
    """The identifier's best guess for `text`, whatever its probability."""
    code, probability = _identifier().classify(text)
    return LanguageGuess(str(code), float(probability))


def _words(text: str) -> list[str]:
    """The words of `text`, lower-case, without a possessive or contracted "'s"."""
    return [word.lower().removesuffix("'s") for word in _WORD.findall(text)]


def looks_english(text: str) -> bool:
    """Whether the text holds enough words such as "what", "the" or "did" to be English."""
    words = _words(text)
    found = sum(word in ENGLISH_FUNCTION_WORDS for word in words)
    return found >= ENGLISH_WORDS_NEEDED or (found >= 1 and len(words) <= SHORT_QUESTION_WORDS)


def question_language(question: str) -> str | None:
    """The question's language code, or None when it can't be told (a few names, a number)."""
    if looks_english(question):
        return "en"
    if len(_words(question)) < 2:
        return None
    guess = identify(question)
    if guess.probability >= QUESTION_CONFIDENCE:
        return guess.code
    own_words = FUNCTION_WORDS.get(guess.code, frozenset())
    if (guess.probability >= FUNCTION_WORDS_CONFIDENCE
            and sum(word in own_words for word in _words(question)) >= FUNCTION_WORDS_NEEDED):
        return guess.code
    return None


def article_language(title: str, body: str) -> str | None:
    """The article's language code from its headline and first paragraphs, or None when the
    identifier is not sure."""
    guess = identify(f"{title}\n{body[:ARTICLE_SAMPLE_CHARS]}")
    return guess.code if guess.probability >= ARTICLE_CONFIDENCE else None


def serves(languages: tuple[str, ...], code: str | None) -> bool:
    """Whether a model serving `languages` ("*" for any) can read text in `code` (an
    unknown language is given the benefit of the doubt)."""
    return code is None or ANY_LANGUAGE in languages or code in languages


# What to tell a user whose question is in a language the model doesn't read, in that
# language where we have the words ({languages}: those it reads, as codes).
_UNSUPPORTED = {
    "en": "I can only read questions in {languages} with the model I have, so I can't answer "
          "this one well. Please ask in {languages}.",
    "fr": "Je ne sais lire que les questions en {languages} avec le modèle dont je dispose : "
          "je ne peux pas bien répondre à celle-ci. Posez-la en {languages}, s'il vous plaît.",
    "de": "Mit meinem Modell kann ich nur Fragen auf {languages} lesen, diese kann ich nicht "
          "gut beantworten. Bitte fragen Sie auf {languages}.",
    "es": "Con el modelo que tengo solo puedo leer preguntas en {languages}, así que no puedo "
          "responder bien a esta. Por favor, pregunte en {languages}.",
    "it": "Con il modello che ho posso leggere solo domande in {languages}, quindi non posso "
          "rispondere bene a questa. Per favore, chieda in {languages}.",
    "pt": "Com o modelo que tenho só consigo ler perguntas em {languages}, por isso não posso "
          "responder bem a esta. Por favor, pergunte em {languages}.",
    "nl": "Met het model dat ik heb kan ik alleen vragen in het {languages} lezen, dus deze "
          "kan ik niet goed beantwoorden. Stel uw vraag alstublieft in het {languages}.",
}
# The names of the languages a model may serve, in the words of each message language.
_LANGUAGE_NAMES = {
    "en": {"en": "English", "fr": "French", "de": "German", "es": "Spanish",
           "it": "Italian", "pt": "Portuguese", "nl": "Dutch"},
    "fr": {"en": "anglais", "fr": "français", "de": "allemand", "es": "espagnol",
           "it": "italien", "pt": "portugais", "nl": "néerlandais"},
    "de": {"en": "Englisch", "fr": "Französisch", "de": "Deutsch", "es": "Spanisch",
           "it": "Italienisch", "pt": "Portugiesisch", "nl": "Niederländisch"},
    "es": {"en": "inglés", "fr": "francés", "de": "alemán", "es": "español",
           "it": "italiano", "pt": "portugués", "nl": "neerlandés"},
    "it": {"en": "inglese", "fr": "francese", "de": "tedesco", "es": "spagnolo",
           "it": "italiano", "pt": "portoghese", "nl": "olandese"},
    "pt": {"en": "inglês", "fr": "francês", "de": "alemão", "es": "espanhol",
           "it": "italiano", "pt": "português", "nl": "holandês"},
    "nl": {"en": "Engels", "fr": "Frans", "de": "Duits", "es": "Spaans",
           "it": "Italiaans", "pt": "Portugees", "nl": "Nederlands"},
}


def unsupported_language_message(code: str, languages: tuple[str, ...]) -> str:
    """Why a question in `code` isn't answered, in that language when we have the words
    (else English), naming the languages the model reads."""
    speaking = code if code in _UNSUPPORTED else "en"
    names = _LANGUAGE_NAMES[speaking]
    readable = " / ".join(names.get(served, served) for served in languages)
    return _UNSUPPORTED[speaking].format(languages=readable)
