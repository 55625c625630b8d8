"""What the answer stages read of an article once and keep across questions
(`index.qa.sentences.ArticleSentences`): the same words as reading the whole text."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from index.embedding_inputs import sentence_inputs
from index.ingest import read_text_file
from index.qa.sentences import ArticleSentences
from index.storage import StoredArticle
from index.text import stem, stemmed_words

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "articles"


def stored(title: str, body: str) -> StoredArticle:
    return StoredArticle(id=1, origin="x", url=None, title=title, outlet=None, author=None,
                         published_at=None, body=body, story_id=1, ingested_at="",
                         updated_at="")


def read(title: str, body: str) -> ArticleSentences:
    spans = [(start, end) for start, end, _text in sentence_inputs(title, body)]
    return ArticleSentences.read(stored(title, body), spans, np.zeros((len(spans), 2)))


def test_the_words_read_once_are_those_of_the_whole_text() -> None:
    paths = sorted(p for p in SAMPLES.iterdir() if p.suffix in {".txt", ".md"})
    assert len(paths) >= 5
    for path in paths:
        article = read_text_file(path.read_text(encoding="utf-8"), str(path),
                                 markdown=path.suffix == ".md")
        got = read(article.title, article.body)
        assert got.article_words == stemmed_words(f"{article.title}\n{article.body}"), path
        assert got.title_words == stemmed_words(article.title)
        assert got.words == [stemmed_words(article.body[s:e]) for s, e in got.spans]


def test_text_between_sentences_counts_and_an_empty_body_reads() -> None:
    body = "Intro line without a stop\n\n• a bullet about Nvidia chips\n\nA full sentence here."
    got = read("Huawei chips", body)
    assert {"nvidia", "huawei", "intro"} <= got.article_words
    assert got.article_words == stemmed_words(f"Huawei chips\n{body}")
    empty = read("Only a headline", "")
    assert empty.words == [] and empty.article_words == stemmed_words("Only a headline")


def test_stemmed_words_reads_terms_stems_and_hyphenated_parts() -> None:
    got = stemmed_words("The anti-racketeering rulings of IBM's lawyers, the U.S. sales, a co-op")
    assert {"anti-racketeer", "anti", "racketeer", "ruling", "ibm", "lawyer", "u.s", "sale",
            "co-op"} == got  # "co", "op": parts of three letters or fewer are not words
    assert not {"the", "of", "and"} & got  # stopwords
    assert stemmed_words("") == frozenset() and stemmed_words("the of and") == frozenset()
    assert stemmed_words("Sales SALES sales") == frozenset({"sale"})


def test_a_word_ending_in_s_that_is_no_plural_keeps_its_s() -> None:
    """"focusing" meets "focus" (the answer to "what is Huawei focusing on" says "decided to
    focus on"); plurals still lose their ending."""
    assert stem("focus") == stem("focusing") == stem("focused") == stem("focuses") == "focus"
    assert stem("business") == stem("businesses") == "business"
    assert stem("analysis") == "analysis" and stem("bonuses") == "bonus"
    assert stem("chips") == "chip" and stem("sales") == "sale"
