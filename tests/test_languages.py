"""Languages: a question in a language the model doesn't read is declined with a hint in that
language (through the real CLI and the real bot); each article's language is recorded at
ingest; with a model configured to read the language, the question takes the normal path.
The mechanics are asserted, not the quality of a French answer from an English model."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import Result

from index.language import (
    article_language,
    looks_english,
    question_language,
    serves,
    unsupported_language_message,
)
from index.library import Library
from index.qa.question import Question
from index.settings import Settings, SettingsError
from tests.conftest import SAMPLES
from tests.telegram_standin import TelegramStandin, telegram_standin_fixture  # noqa: F401
from tests.test_bot import ALICE, ask, make_config, running_bot, text_of

FRENCH_QUESTION = "Sur quelles puces Huawei se concentre-t-il ?"
# Written for this test: a short French news item (the bundled samples are all English).
FRENCH_ARTICLE = """\
---
outlet: Le Quotidien du Test
published_at: 2025-03-04
---
Le port de Saint-Malo agrandit son terminal de ferries

Le conseil portuaire de Saint-Malo a voté mardi un budget de 42 millions d'euros pour agrandir
le terminal des ferries, qui accueille chaque année près d'un million de passagers vers
l'Angleterre et les îles anglo-normandes.

Les travaux commenceront à l'automne et dureront deux ans. Le président du conseil a expliqué
que la nouvelle gare maritime permettra d'embarquer deux navires en même temps, ce qui
réduira l'attente des voyageurs pendant l'été.

Les commerçants du quartier craignent toutefois la fermeture du parking pendant le chantier.
"""


@pytest.fixture
def collection(tmp_path: Path) -> Path:
    """The bundled samples and one French article."""
    folder = tmp_path / "articles"
    shutil.copytree(SAMPLES, folder)
    (folder / "saint-malo-ferries.md").write_text(FRENCH_ARTICLE, encoding="utf-8")
    return folder


@pytest.fixture
def library(collection: Path, tmp_path: Path) -> Iterator[Library]:
    opened = Library(Settings(data_dir=tmp_path / "store"))
    opened.ingest([collection])
    yield opened
    opened.close()


def test_questions_are_told_apart_by_language() -> None:
    assert question_language("What kind of chips is Huawei focusing on?") == "en"
    assert question_language("how much did 50 cent hand the boys choir") == "en"
    assert question_language(FRENCH_QUESTION) == "fr"
    assert question_language("Wer hat das Spiel gewonnen?") == "de"
    # Short questions the identifier is unsure of (p ≈ 0.6) are told by their small words.
    assert question_language("qui est le patron de Huawei ?") == "fr"
    assert question_language("¿Cuántos coches vendió BMW en Asia?") == "es"
    # ... but names with such words in them are no question in another language.
    assert question_language("Real Madrid La Liga de la Rosa") is None
    # Too little to tell: answered as usual rather than refused.
    assert question_language("BMW Asia sales 2008") is None
    assert question_language("nvidia?") is None
    assert looks_english("and nvidia?") and looks_english("Who first reported Huawei's plan?")
    assert not looks_english("Combien le conseil a-t-il voté ?")
    assert not looks_english("Was ist das Problem?")
    assert serves(("en",), None) and serves(("*",), "fr") and not serves(("en",), "fr")


def test_the_hint_is_in_the_question_language_where_possible() -> None:
    french = unsupported_language_message("fr", ("en",))
    assert "anglais" in french and "Posez-la" in french
    assert "German" not in unsupported_language_message("de", ("en", "fr"))
    assert "Englisch / Französisch" in unsupported_language_message("de", ("en", "fr"))
    # A language we have no words for gets English.
    assert unsupported_language_message("fi", ("en",)).startswith("I can only read")


def test_each_article_language_is_recorded_at_ingest(library: Library) -> None:
    assert article_language("Le port de Saint-Malo", FRENCH_ARTICLE) == "fr"
    counts = library.stats()["languages"]
    assert counts == {"en": 11, "fr": 1}
    assert library.stats()["model_languages"] == ["en"]


def test_a_question_the_model_cannot_read_is_declined_in_its_language(
        library: Library) -> None:
    answer = library.ask(FRENCH_QUESTION)
    assert answer.abstained and answer.declined_because == "language"
    assert answer.language == "fr" and "anglais" in answer.answer
    assert answer.citations == [] and answer.retrieved == []
    english = library.ask("Which processors has Huawei decided to focus on?")
    assert not english.abstained and english.language == "en" and english.citations


def test_a_model_that_reads_the_language_takes_the_question_the_normal_way(
        library: Library) -> None:
    reading = Library(replace(library.settings, model_languages=("en", "fr")))
    try:
        answer = reading.ask("Combien le conseil portuaire de Saint-Malo a-t-il voté ?")
        assert answer.language == "fr" and answer.declined_because is None
        assert answer.retrieved, "the question was searched"
        assert "language" in answer.stage_ms and "retrieve" in answer.stage_ms
    finally:
        reading.close()


def test_the_cli_declines_and_says_why(cli: Callable[..., Result], collection: Path) -> None:
    assert cli("ingest", str(collection)).exit_code == 0
    result = cli("ask", FRENCH_QUESTION, "--json")
    shown = json.loads(result.stdout)
    assert shown["abstained"] and shown["declined_because"] == "language"
    assert shown["language"] == "fr" and "anglais" in shown["answer"]
    plain = cli("ask", FRENCH_QUESTION)
    assert "anglais" in plain.stdout
    stats = cli("stats")
    assert "en 11, fr 1" in stats.stdout


def test_the_english_wording_rules_step_aside_for_another_language() -> None:
    text = "Who was named the latest head of the harbour council in 2025?"
    english = Question.of(text)
    assert english.kind is not None and english.wants_recent
    other = Question.of(text, english=False)
    assert (other.kind, other.wants_recent, other.counted, other.preposition) == (
        None, False, None, None)
    assert other.terms == english.terms and other.years == english.years == ["2025"]


def test_the_setting_is_checked(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CITEBOT_MODEL_LANGUAGES", "en, FR")
    assert Settings.from_env(tmp_path).model_languages == ("en", "fr")
    monkeypatch.setenv("CITEBOT_MODEL_LANGUAGES", "english")
    with pytest.raises(SettingsError, match="CITEBOT_MODEL_LANGUAGES: 'english'"):
        Settings.from_env(tmp_path)


def test_the_bot_answers_a_french_question_with_the_french_hint(
        telegram_standin: TelegramStandin, library: Library) -> None:
    with running_bot(make_config(telegram_standin), library):
        reply = ask(telegram_standin, ALICE, ALICE, FRENCH_QUESTION)
        assert "anglais" in text_of(reply) and "Posez-la en anglais" in text_of(reply)
        pressable = [b["callback_data"] for row in reply.get("reply_markup", {}).get(
            "inline_keyboard", []) for b in row]
        assert not any(data.startswith("c:") for data in pressable), "no citation buttons"
    assert telegram_standin.errors() == []
