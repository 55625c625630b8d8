"""Spelling against the collection's vocabulary (index/vocabulary.py, index/qa/spelling.py),
through the real store, index and model on the bundled sample articles: a misspelled name is
read as the collection writes it before anything is searched — also when its story is not
among those retrieved for the question as written —, a word the collection uses is never
changed, and the vocabulary follows ingest, reindex and removal."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from index.library import Library
from index.qa.question import Question
from index.qa.retrieve import retrieve
from index.qa.tuning import AnswerTuning
from index.settings import Settings
from index.vocabulary import closest, length_band
from tests.conftest import SAMPLES


@pytest.fixture
def library(samples: Path, data_dir: Path) -> Iterator[Library]:
    opened = Library(Settings(data_dir=data_dir))
    opened.ingest([samples])
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def narrow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Library]:
    """The sample articles in a library that retrieves few passages (4, one per story)."""
    folder = tmp_path_factory.mktemp("narrow")
    tuning = AnswerTuning(passages=4, passages_per_story=1, retriever_top=1)
    opened = Library(Settings(data_dir=folder / "store", tuning=tuning))
    opened.ingest([SAMPLES])
    yield opened
    opened.close()


def _cited(answer: object) -> list[str]:
    return [Path(c.origin).name for c in answer.citations]  # type: ignore[attr-defined]


def test_a_misspelled_name_is_searched_as_the_collection_writes_it(
        library: Library, monkeypatch: pytest.MonkeyPatch) -> None:
    question = "Which athletes join Kim Colins in Birmingam?"
    # Neither misspelling is a word of any passage: BM25 finds nothing for them.
    assert library.store.lexical_search(["colins", "birmingam"], 5) == []
    answer = library.ask(question)
    assert answer.corrections == {"colins": "collins", "birmingam": "birmingham"}
    assert _cited(answer)[0] == "bbc-collins-birmingham.txt"
    assert "Jason Gardener" in answer.answer and answer.question == question
    assert answer.to_dict()["corrections"] == answer.corrections
    # Without the vocabulary, what retrieval finds for the question as written is declined.
    monkeypatch.setattr(library.store, "similar_words", lambda word, limit: [])
    unread = library.ask(question)
    assert unread.abstained and unread.corrections == {}


@pytest.mark.parametrize(("question", "corrections", "article", "fact"), [
    ("Who is Jason Gardner?", {"gardner": "gardener"}, "bbc-collins-birmingham.txt",
     "Gardener"),
    ("Where does ELECTORLUX make cookers in County Durham?", {"electorlux": "electrolux"},
     "bbc-electrolux-jobs.txt", "Spennymoor"),
    ("which play did ugnada ban", {"ugnada": "uganda"}, "bbc-uganda-vagina-monologues.txt",
     "Uganda"),
])
def test_misspelled_names_are_answered_from_their_article(
        library: Library, question: str, corrections: dict[str, str], article: str,
        fact: str) -> None:
    answer = library.ask(question)
    assert answer.corrections == corrections
    assert not answer.abstained and _cited(answer)[0] == article
    assert fact in answer.answer


@pytest.mark.parametrize(("question", "corrections", "article", "fact"), [
    ("What did Gilmor say?", {"gilmor": "gillmor"}, "bbc-google-toolbar-concern.txt",
     "Dan Gillmor"),
    ("What is Spenymor?", {"spenymor": "spennymoor"}, "bbc-electrolux-jobs.txt", "Spennymoor"),
    ("What did Zanusi do?", {"zanusi": "zanussi"}, "bbc-electrolux-jobs.txt", "Zanussi"),
])
def test_a_name_is_corrected_when_its_story_is_not_among_those_retrieved(
        narrow: Library, question: str, corrections: dict[str, str], article: str,
        fact: str) -> None:
    """With few passages retrieved, the story of the misspelled name is not among those
    found for the question as written — the words spelling was matched against before —
    and the collection's vocabulary still gives its word, which then finds the story."""
    tuning = narrow.settings.tuning
    with narrow.store.snapshot():
        hits = retrieve(narrow.store, narrow.live_index(), Question.of(question),
                        narrow.answerer._encoder().embed_query(question), tuning)
    assert article not in {Path(hit.article.origin).name for hit in hits}
    answer = narrow.ask(question)
    assert answer.corrections == corrections
    assert _cited(answer)[0] == article and fact in answer.answer


def test_the_vocabulary_is_looked_into_only_for_a_word_no_article_uses(
        library: Library, monkeypatch: pytest.MonkeyPatch) -> None:
    looked_up: list[str] = []
    similar_words = library.store.similar_words

    def spy(word: str, limit: int) -> list[tuple[str, int]]:
        looked_up.append(word)
        return similar_words(word, limit)

    monkeypatch.setattr(library.store, "similar_words", spy)
    answer = library.ask("How many internet cafes did China shut down?")
    assert looked_up == [] and answer.corrections == {} and "12,575" in answer.answer
    library.ask("How many internet cafes did Chian shut down?")
    assert looked_up == ["chian"]


def test_the_vocabulary_follows_ingest_reindex_and_removal(library: Library,
                                                           samples: Path) -> None:
    store = library.store
    assert store.similar_words("spennymoor", 1) == [("spennymoor", 1)]
    assert store.similar_words("electrolux", 1) == [("electrolux", 1)]
    target = samples / "bbc-electrolux-jobs.txt"
    target.write_text(target.read_text(encoding="utf-8").replace("Spennymoor", "Sedgefield"),
                      encoding="utf-8")
    library.reindex()
    assert store.similar_words("spennymoor", 1) == []
    assert store.similar_words("sedgefeild", 1) == [("sedgefield", 1)]
    assert library.remove(str(target.resolve()))
    assert store.similar_words("electrolux", 1) == []
    assert store.similar_words("sedgefield", 1) == []
    library.reindex()  # the file is read again: its article, and its words, are back
    assert store.similar_words("electrolux", 1) == [("electrolux", 1)]


def test_closeness_keeps_the_first_letter_and_counts_a_swap_as_one_edit() -> None:
    words = [("china", 3), ("chinese", 2), ("lantern", 1), ("learn", 4), ("kestrel", 9)]
    assert closest("chian", words, 3) == [("china", 3)]  # 1 − 1/5: right at the cutoff
    assert closest("laern", words, 3) == [("learn", 4)]  # not "lantern"
    assert closest("cestrel", words, 3) == []  # "kestrel" starts with another letter
    assert closest("CHINA", words, 3) == [("china", 3)]
    assert closest("chines", words, 3) == [("chinese", 2)]


def test_the_length_band_holds_every_word_that_can_be_close() -> None:
    for length in range(1, 30):
        shortest, longest = length_band(length)
        for other in range(1, 45):
            can_be_close = 1 - abs(length - other) / max(length, other) >= 0.8 - 1e-9
            assert can_be_close == (shortest <= other <= longest), (length, other)
