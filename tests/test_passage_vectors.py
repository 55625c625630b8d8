"""Where a passage's vector comes from: the normalised mean of its sentences' vectors
(default), which embeds each text once, or embedded from its own text
(`CITEBOT_PASSAGE_VECTORS=embedded`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from click.testing import Result

from index.library import Library
from index.settings import Settings, SettingsError
from index.storage.sqlite_store import sentence_inputs, sentence_model, text_key


def _mean_of_sentences(library: Library, passage_id: int) -> np.ndarray:
    """The normalised mean of the cached vectors of the sentences in one passage."""
    passage_id, article_id, start, end = library.store.db.execute(
        "SELECT id, article_id, start, end FROM passages WHERE id=?", [passage_id]).fetchone()
    article = library.store.article(article_id)
    assert article is not None
    keys = [text_key(text) for s, e, text in sentence_inputs(article.title, article.body)
            if s >= start and e <= end]
    assert keys
    vectors = library.cache.fill(sentence_model(library.settings.model), keys, 384)
    assert np.abs(vectors).sum(axis=1).all()  # every sentence was embedded
    mean = vectors.mean(axis=0)
    return mean / np.linalg.norm(mean)


def test_sentence_mean_embeds_each_text_once_and_still_answers(samples: Path,
                                                               data_dir: Path) -> None:
    library = Library(Settings(data_dir=data_dir))
    assert library.settings.passage_vectors == "sentence-mean"  # the default
    report = library.ingest([samples])
    assert report.embedded == 0 and report.embedded_sentences > 0
    assert library.cache.keys(library.settings.model) == set()  # no passage was embedded
    index = library.live_index()
    ids, _keys = library.store.passage_keys()
    assert len(index) == len(ids) > 0
    for passage_id in ids:
        np.testing.assert_allclose(index.vector(int(passage_id)),
                                   _mean_of_sentences(library, int(passage_id)), atol=1e-5)
    assert library.stats()["passage_vectors"] == "sentence-mean"
    answer = library.ask("What annual sales figure in Asia is BMW aiming for?")
    assert not answer.abstained and "BMW" in answer.citations[0].title
    assert library.ask("Who won the 1987 Tour de France?").abstained


def test_changing_the_setting_takes_effect_at_the_next_reindex(samples: Path,
                                                                data_dir: Path) -> None:
    Library(Settings(data_dir=data_dir)).ingest([samples])
    embedded = Library(Settings(data_dir=data_dir, passage_vectors="embedded"))
    assert embedded.stats()["passage_vectors"] == "sentence-mean"  # as the index was built
    report = embedded.reindex()
    assert report.embedded > 0 and report.embedded_sentences == 0  # sentences were cached
    ids, keys = embedded.store.passage_keys()
    passage_vectors = embedded.cache.fill(embedded.settings.model, keys, 384)
    index = embedded.live_index()
    np.testing.assert_allclose(index.vector(int(ids[0])), passage_vectors[0], atol=1e-6)
    assert embedded.stats()["passage_vectors"] == "embedded"
    back = Library(Settings(data_dir=data_dir))
    assert back.reindex().embedded == 0
    np.testing.assert_allclose(back.live_index().vector(int(ids[0])),
                               _mean_of_sentences(back, int(ids[0])), atol=1e-5)


def test_one_changed_article_embeds_only_its_new_sentences(samples: Path,
                                                           data_dir: Path) -> None:
    library = Library(Settings(data_dir=data_dir))
    library.ingest([samples])
    article = samples / "bbc-bmw-asia-sales.txt"
    article.write_text(article.read_text(encoding="utf-8")
                       + "\nA spokesman said the plan would be reviewed next spring.\n",
                       encoding="utf-8")
    report = library.reindex()
    assert (report.updated, report.embedded, report.embedded_sentences) == (1, 0, 1)
    answer = library.ask("When will BMW review its Asia plan?")
    assert not answer.abstained and "BMW" in answer.citations[0].title


def test_the_setting_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch,
                                                cli: Callable[..., Result]) -> None:
    monkeypatch.setenv("CITEBOT_PASSAGE_VECTORS", " Embedded ")
    assert Settings.from_env().passage_vectors == "embedded"
    monkeypatch.delenv("CITEBOT_PASSAGE_VECTORS")
    assert Settings.from_env().passage_vectors == "sentence-mean"
    monkeypatch.setenv("CITEBOT_PASSAGE_VECTORS", "average")
    with pytest.raises(SettingsError, match="CITEBOT_PASSAGE_VECTORS"):
        Settings.from_env()
    result = cli("stats")
    assert result.exit_code == 2
    assert result.stderr == ("error: CITEBOT_PASSAGE_VECTORS must be one of sentence-mean, "
                             "embedded, not 'average'\n")
