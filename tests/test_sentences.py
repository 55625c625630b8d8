"""What the answer stages read of an article once (`index.reading.Reading`, kept at ingest
in the embedding cache) and keep across questions (`index.qa.sentences`): the same words as
reading the whole text, the same after a round trip through the cache, and used by the
question path."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from index.library import Library
from index.qa.sentences import SentenceVectorCache
from index.reading import READINGS, Reading, reading_key
from index.settings import Settings
from index.sources.ingest import read_text_file
from index.storage import StoredArticle
from index.storage.embedding_cache import article_matrices
from index.text import phrase_tokens, stem, stemmed_words
from index.vectors.embedding_inputs import sentence_inputs, sentence_model, text_key

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "articles"


def stored(title: str, body: str) -> StoredArticle:
    return StoredArticle(id=1, origin="x", url=None, title=title, outlet=None, author=None,
                         published_at=None, body=body, story_id=1, ingested_at="",
                         updated_at="")


def read(title: str, body: str) -> Reading:
    return Reading.of(title, body)


def sample_articles() -> list[StoredArticle]:
    paths = sorted(p for p in SAMPLES.iterdir() if p.suffix in {".txt", ".md"})
    articles = [read_text_file(path.read_text(encoding="utf-8"), str(path),
                               markdown=path.suffix == ".md") for path in paths]
    return [stored(article.title, article.body) for article in articles]


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
        assert got.spans == [(s, e) for s, e, _text in sentence_inputs(article.title,
                                                                       article.body)]
        assert got.phrase == phrase_tokens(f"{article.title}\n{article.body}")


def test_a_reading_is_the_same_after_a_round_trip() -> None:
    for article in sample_articles():
        got = read(article.title, article.body)
        assert Reading.decode(got.encode()) == got
        assert got.encode() == Reading.decode(got.encode()).encode()  # words sorted
    assert Reading.decode(read("Only a headline", "").encode()).spans == []


def test_a_readings_key_changes_with_the_headline_and_the_body() -> None:
    keys = {reading_key("A", "body"), reading_key("B", "body"), reading_key("A", "other"),
            reading_key("A\x00", "body"), reading_key("", "A\x00body")}
    assert len(keys) == 5 and reading_key("A", "body") == reading_key("A", "body")


def test_ingest_keeps_a_reading_of_every_article_and_questions_use_it(
        samples: Path, data_dir: Path) -> None:
    library = Library(Settings(data_dir=data_dir))
    report = library.ingest([samples])
    articles = list(library.store.all_articles())
    assert report.readings == len({reading_key(a.title, a.body) for a in articles}) > 5
    for article in articles:  # what ingest kept is what the article reads as
        blob = library.cache.get_blob(READINGS, reading_key(article.title, article.body))
        assert blob is not None
        assert Reading.decode(blob) == read(article.title, article.body)
    # A question reads the kept reading, not the text: a reading kept with other words
    # (as a stale cache would hold) shows through.
    article = articles[0]
    kept = read(article.title, article.body)
    marked = Reading(kept.spans, [frozenset({"marker"})] * len(kept.spans), kept.title_words,
                     kept.article_words | {"marker"}, kept.phrase)
    library.cache.save_blobs(READINGS, [(reading_key(article.title, article.body),
                                         marked.encode())])
    cache = SentenceVectorCache(library.cache, sentence_model(library.settings.model), 8)
    got = cache.of(article, 384)
    assert got.words == marked.words and "marker" in got.article_words
    assert got.vectors.shape == (len(kept.spans), 384) and np.abs(got.vectors).sum() > 0
    # Readings are no vectors: the count of cached vectors leaves them out.
    assert library.cache.count() == library.cache.db.execute(
        "SELECT COUNT(*) FROM embeddings WHERE model != 'reading' AND model NOT LIKE '%|article'"
    ).fetchone()[0]
    assert library.cache.keys(READINGS)
    # An article without a kept reading is read afresh.
    fresh = stored("A headline", "A body that no ingest has seen. It has two sentences.")
    assert cache.of(fresh, 384).words == read(fresh.title, fresh.body).words
    library.close()


def _sentence_keys(article: StoredArticle) -> list[str]:
    return [text_key(text) for _start, _end, text in sentence_inputs(article.title, article.body)]


def test_ingest_keeps_each_articles_sentence_vectors_as_one_matrix(
        samples: Path, data_dir: Path) -> None:
    """A question reads an article's sentence vectors in one look-up: the matrix ingest
    kept is its sentences' vectors, row for row, and what the question path reads; a matrix
    of the wrong size is passed over for the sentences' own vectors."""
    library = Library(Settings(data_dir=data_dir))
    library.ingest([samples])
    sentences = sentence_model(library.settings.model)
    matrices = article_matrices(sentences)
    articles = list(library.store.all_articles())
    assert library.cache.keys(matrices) == {reading_key(a.title, a.body) for a in articles}
    for article in articles:
        keys = _sentence_keys(article)
        blob = library.cache.get_blob(matrices, reading_key(article.title, article.body))
        assert blob is not None
        kept = np.frombuffer(blob, dtype=np.float32).reshape(len(keys), 384)
        assert np.array_equal(kept, library.cache.fill(sentences, keys, 384))
    assert library.cache.count() == len(library.cache.keys(library.settings.model)) + len(
        library.cache.keys(sentences))  # the matrices are copies, not vectors of their own

    article = articles[0]
    key, keys = reading_key(article.title, article.body), _sentence_keys(article)
    expected = library.cache.fill(sentences, keys, 384)
    library.cache.save_blobs(matrices, [(key, b"\0" * 8)])  # a matrix of the wrong size
    got = SentenceVectorCache(library.cache, sentences, 8).of(article, 384).vectors
    assert np.array_equal(got, expected)
    library.cache.save_blobs(matrices, [(key, expected.tobytes())])
    library.cache.db.execute(f"DELETE FROM embeddings WHERE model=? AND key IN "
                             f"({','.join('?' * len(keys))})", [sentences, *keys])
    assert not library.cache.get(sentences, keys)  # only the matrix is left to read
    got = SentenceVectorCache(library.cache, sentences, 8).of(article, 384).vectors
    assert np.array_equal(got, expected)
    library.close()


def test_an_article_with_a_sentence_not_embedded_gets_no_matrix(
        samples: Path, data_dir: Path) -> None:
    library = Library(Settings(data_dir=data_dir))
    library.ingest([samples])
    sentences = sentence_model(library.settings.model)
    matrices = article_matrices(sentences)
    article = next(iter(library.store.all_articles()))
    key = reading_key(article.title, article.body)
    for namespace, gone in ((matrices, key), (sentences, _sentence_keys(article)[0])):
        library.cache.db.execute("DELETE FROM embeddings WHERE model=? AND key=?",
                                 [namespace, gone])
    assert library.reindex().changed == 0  # makes the matrices the cache lacks, if it can
    assert library.cache.get_blob(matrices, key) is None
    assert len(library.cache.keys(matrices)) == len(
        {reading_key(a.title, a.body) for a in library.store.all_articles()}) - 1
    library.close()


def test_reindex_drops_the_readings_of_removed_articles(samples: Path, data_dir: Path) -> None:
    library = Library(Settings(data_dir=data_dir))
    library.ingest([samples])
    gone = sorted(p for p in samples.iterdir() if p.suffix == ".txt")[0]
    title_body = next((a.title, a.body) for a in library.store.all_articles()
                      if a.origin == str(gone))
    gone.unlink()
    library.reindex()
    matrices = article_matrices(sentence_model(library.settings.model))
    for namespace in (READINGS, matrices):
        assert library.cache.get_blob(namespace, reading_key(*title_body)) is None
        assert all(library.cache.get_blob(namespace, reading_key(a.title, a.body))
                   for a in library.store.all_articles())
    library.close()


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


def test_a_reindex_that_changes_nothing_makes_the_readings_the_cache_lacks(
        samples: Path, data_dir: Path) -> None:
    """As after an upgrade of the code that reads (its readings have other keys): a reindex
    with no changed file reads the articles again, once, and drops the old readings."""
    library = Library(Settings(data_dir=data_dir))
    library.ingest([samples])
    held = library.cache.keys(READINGS)
    library.cache.save_blobs(READINGS, [("made-by-older-code", b"{}")])
    library.cache.db.execute("DELETE FROM embeddings WHERE model=? AND key=?",
                             [READINGS, sorted(held)[0]])
    report = library.reindex()
    assert report.changed == 0 and report.readings == 1
    assert library.cache.keys(READINGS) == held  # the old one pruned
    assert library.reindex().readings == 0
    library.close()
