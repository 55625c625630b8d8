"""The optional cross-encoder reranker (`index.qa.rerank`, `CITEBOT_RERANKER`), with a real
sentence-transformers `CrossEncoder` the test builds itself: a tiny BERT whose weights are set
so that its score of a (question, passage) pair grows with the share of its tokens that are
"casino" or "casinos" (every other pair scores the same). Which passages it puts first is
therefore known: those of the super-casinos story. Run on the bundled samples with the real
encoder, SQLite store and FAISS index.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from index.library import Library
from index.qa.question import Question
from index.qa.rerank import (
    CrossEncoderReranker,
    RerankerError,
    passage_text,
    rerank,
    shared_reranker,
)
from index.qa.retrieve import retrieve
from index.qa.tuning import AnswerTuning
from index.settings import Settings, SettingValues
from tests.conftest import PROJECT, SAMPLES

QUESTION = "How many cars did BMW sell in Asia?"
FAVOURED = ("casino", "casinos")  # the words the tiny cross-encoder rewards
WORDS = ("the", "a", "of", "in", "to", "and", "how", "many", "did", "sell", "sold", "cars",
         "bmw", "asia", "super", "casino", "casinos", "glasgow", "scotland", "plant", "##s")
STAGES_WITH_RERANK = ["language", "index", "question", "spelling", "embed", "retrieve",
                      "rerank", "stories", "abstain", "compose"]


def build_cross_encoder(folder: Path, *, num_labels: int = 1) -> Path:
    """A BERT cross-encoder of hidden size 32, 2 layers, 2 heads, saved as a Hugging Face
    folder. Every weight is zero but: the favoured words' embeddings (one dimension), the
    values and attention outputs (identity: with zero queries and keys, attention is a
    plain mean over the pair's tokens), the pooler (identity) and the classifier (that
    dimension). A large LayerNorm epsilon keeps the mean's size, so the score rises with
    the share of favoured tokens in the pair and is sigmoid(0) = 0.5 without any."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]
    config = BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64, num_labels=num_labels,
                        max_position_embeddings=512, layer_norm_eps=1.0,
                        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    model = BertForSequenceClassification(config)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.zero_()
        for module in model.modules():
            if isinstance(module, torch.nn.LayerNorm):
                module.weight.fill_(1.0)
        for word in FAVOURED:
            model.bert.embeddings.word_embeddings.weight[vocab.index(word), 0] = 10.0
        for layer in model.bert.encoder.layer:
            layer.attention.self.value.weight.copy_(torch.eye(32))
            layer.attention.output.dense.weight.copy_(torch.eye(32))
        model.bert.pooler.dense.weight.copy_(torch.eye(32))
        model.classifier.weight[:, 0] = 5.0
    model.save_pretrained(folder)
    BertTokenizerFast(vocab={word: i for i, word in enumerate(vocab)},
                      do_lower_case=True).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def cross_encoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_cross_encoder(tmp_path_factory.mktemp("cross-encoder"))


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A data directory holding the bundled samples, indexed once for the module."""
    root = tmp_path_factory.mktemp("rerank-store")
    shutil.copytree(SAMPLES, root / "articles")
    library = Library(Settings(data_dir=root / "store"))
    library.ingest([root / "articles"])
    library.close()
    yield root / "store"


def open_library(store: Path, reranker: Path | None, **knobs: object) -> Library:
    return Library(Settings(data_dir=store, reranker=str(reranker) if reranker else None,
                            tuning=replace(AnswerTuning(), **knobs)))


@pytest.fixture
def reranked(store: Path, cross_encoder: Path) -> Iterator[Library]:
    library = open_library(store, cross_encoder)
    yield library
    library.close()


@pytest.fixture
def plain(store: Path) -> Iterator[Library]:
    library = open_library(store, None)
    yield library
    library.close()


def test_the_tiny_model_is_a_cross_encoder_that_favours_one_word(cross_encoder: Path) -> None:
    from sentence_transformers import CrossEncoder

    model = CrossEncoder(str(cross_encoder), device="cpu", local_files_only=True)
    scores = model.predict([(QUESTION, "Super-casinos in Glasgow"),
                            (QUESTION, "BMW sold many cars in Asia"),
                            (QUESTION, "A casino, a casino and a plant")],
                           show_progress_bar=False)
    assert scores[1] == pytest.approx(0.5)
    assert scores[2] > scores[0] > scores[1]


def test_the_passages_are_in_the_order_of_the_cross_encoders_scores(
        reranked: Library, cross_encoder: Path) -> None:
    """`rerank` sorts by `CrossEncoder.predict`'s own scores, ties in retrieval's order."""
    from sentence_transformers import CrossEncoder

    tuning = reranked.settings.tuning
    hits = retrieve(reranked.store, reranked.live_index(), Question.of(QUESTION),
                    reranked.embedder.embed_query(QUESTION), tuning)
    retrieval_order = [hit.passage.id for hit in hits]
    predicted = CrossEncoder(str(cross_encoder), device="cpu", local_files_only=True).predict(
        [(QUESTION, passage_text(hit)) for hit in hits], show_progress_bar=False)
    score_of = dict(zip(retrieval_order, (float(s) for s in predicted), strict=True))

    ordered = rerank(shared_reranker(str(cross_encoder)), QUESTION, hits)

    expected = sorted(retrieval_order, key=lambda passage_id: -score_of[passage_id])
    assert [hit.passage.id for hit in ordered] == expected
    assert [hit.rerank for hit in ordered] == pytest.approx([score_of[i] for i in expected])
    favoured = [hit for hit in ordered if hit.rerank is not None and hit.rerank > 0.5]
    assert favoured and all("casino" in passage_text(hit).lower() for hit in favoured)
    assert ordered[:len(favoured)] == favoured  # the casino passages first ...
    rest = [hit.passage.id for hit in ordered[len(favoured):]]
    assert rest == [i for i in retrieval_order if i in rest]  # ... the others as retrieved
    assert retrieval_order[0] not in {hit.passage.id for hit in favoured}  # it did reorder


def test_the_rerank_stage_runs_timed_and_its_order_reaches_the_answer_model(
        reranked: Library, plain: Library, cross_encoder: Path) -> None:
    answer = reranked.ask(QUESTION)
    assert list(answer.stage_ms) == STAGES_WITH_RERANK
    assert answer.stage_ms["rerank"] > 0
    assert answer.timings_ms["search"] == pytest.approx(
        answer.stage_ms["retrieve"] + answer.stage_ms["rerank"])
    retrieved = answer.to_dict()["retrieved"]
    assert retrieved and all("rerank" in hit for hit in retrieved)  # type: ignore[union-attr]

    # The story the cross-encoder puts first is first in the answer model's story ranking
    # feature (story_fused_rank = 1 / (1 + place)); without a reranker the fused order rules.
    casino = _story_of(reranked, "bbc-super-casinos.txt")
    assert _first_ranked_stories(reranked) == {casino}
    assert casino not in _first_ranked_stories(plain)


def test_the_cross_encoder_chooses_which_stories_the_answer_model_reads(
        store: Path, cross_encoder: Path) -> None:
    """With one story to read and no retriever's first passages kept, the answer model
    reads the cross-encoder's first story (casinos) instead of the fused ranking's (BMW)."""
    knobs = {"rerank_stories": 1, "retriever_top": 0}
    with_reranker = open_library(store, cross_encoder, **knobs)
    without = open_library(store, None, **knobs)
    try:
        casino = _story_of(with_reranker, "bbc-super-casinos.txt")
        bmw = _story_of(with_reranker, "bbc-bmw-asia-sales.txt")
        assert {s.story_id for s in with_reranker.answerer.candidates(QUESTION).stories} == {
            casino}
        assert {s.story_id for s in without.answerer.candidates(QUESTION).stories} == {bmw}
        # Only the casino story reaches the answer model (which then declines, or quotes
        # it); without the reranker the same knobs answer from BMW's.
        answer = with_reranker.ask(QUESTION)
        assert all(c.origin.endswith("bbc-super-casinos.txt") for c in answer.citations)
        assert [c.origin.rsplit("/", 1)[-1] for c in without.ask(QUESTION).citations] == [
            "bbc-bmw-asia-sales.txt"]
    finally:
        with_reranker.close()
        without.close()


@pytest.mark.parametrize("question", [QUESTION, "Where will a super-casino be built?",
                                      "How many jobs will Electrolux cut?"])
def test_citations_still_quote_the_stored_text_exactly(reranked: Library,
                                                       question: str) -> None:
    answer = reranked.ask(question)
    assert "rerank" in answer.stage_ms
    for citation in answer.citations:
        article = reranked.article(citation.article_id)
        assert article is not None
        assert article.body[citation.start:citation.end] == citation.quote
        for (start, end), quote in zip(citation.spans, citation.quotes, strict=True):
            assert article.body[start:end] == quote
    if question != QUESTION:
        assert not answer.abstained and answer.citations


def test_without_a_reranker_the_pipeline_has_no_rerank_stage(plain: Library) -> None:
    assert plain.settings.reranker is None
    answer = plain.ask(QUESTION)
    assert "rerank" not in answer.stage_ms
    assert list(answer.stage_ms) == [s for s in STAGES_WITH_RERANK if s != "rerank"]
    assert all("rerank" not in hit for hit in answer.to_dict()["retrieved"])  # type: ignore
    assert all(hit.rerank is None for hit in answer.retrieved)
    plain.check_reranker()  # nothing to load, nothing raised


def test_torch_is_not_loaded_unless_a_reranker_answers(store: Path,
                                                       cross_encoder: Path) -> None:
    """In a fresh interpreter, a question without a reranker loads neither torch nor
    sentence-transformers, and neither does building a library with one (the model loads
    on its first question: the tests above)."""
    code = f"""
import json, sys
from pathlib import Path
from index.library import Library
from index.settings import Settings
heavy = lambda: [m for m in ("torch", "sentence_transformers", "transformers")
                 if m in sys.modules]
seen = {{}}
plain = Library(Settings(data_dir=Path({str(store)!r})))
seen["stages"] = list(plain.ask({QUESTION!r}).stage_ms)
seen["asked without"] = heavy()
Library(Settings(data_dir=Path({str(store)!r}), reranker={str(cross_encoder)!r}))
seen["built with"] = heavy()
print(json.dumps(seen))
"""
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=PROJECT)
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert seen == {"stages": [s for s in STAGES_WITH_RERANK if s != "rerank"],
                    "asked without": [], "built with": []}


def test_a_model_that_cant_be_loaded_is_one_clear_line(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-model"
    with pytest.raises(RerankerError) as raised:
        CrossEncoderReranker(str(missing))
    message = str(raised.value)
    assert "\n" not in message and "CITEBOT_RERANKER" in message and str(missing) in message
    assert "not a folder, nor a model in the local Hugging Face cache" in message

    not_a_model = tmp_path / "notes"
    not_a_model.mkdir()
    (not_a_model / "README.txt").write_text("not a model", encoding="utf-8")
    with pytest.raises(RerankerError, match=r"^cannot load the reranker CITEBOT_RERANKER="
                       ) as raised:
        CrossEncoderReranker(str(not_a_model))
    assert "\n" not in str(raised.value)


def test_a_classifier_of_several_labels_is_not_a_reranker(tmp_path: Path) -> None:
    folder = build_cross_encoder(tmp_path / "two-labels", num_labels=2)
    with pytest.raises(RerankerError, match="not a reranking cross-encoder: it has 2 outputs"):
        CrossEncoderReranker(str(folder))


def test_the_cli_stops_with_one_line_on_a_bad_reranker(store: Path, tmp_path: Path,
                                                        cross_encoder: Path) -> None:
    runner = CliRunner()
    missing = str(tmp_path / "missing")
    result = runner.invoke(main, ["--data-dir", str(store), "--reranker", missing, "ask",
                                  QUESTION])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: cannot load the reranker CITEBOT_RERANKER=")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output

    shown = runner.invoke(main, ["--reranker", missing, "config", "--json", "--env-file",
                                 str(tmp_path / "absent.env")])
    assert json.loads(shown.stdout)["CITEBOT_RERANKER"] == {"value": missing,
                                                           "source": "flag"}

    result = runner.invoke(main, ["--data-dir", str(store), "--reranker", str(cross_encoder),
                                  "ask", "--json", QUESTION])
    assert result.exit_code == 0, result.output
    assert "rerank" in json.loads(result.stdout)["retrieved"][0]


def test_the_bot_does_not_start_with_a_reranker_it_cant_load(store: Path,
                                                              tmp_path: Path) -> None:
    """`citebot serve` loads the reranker before it talks to Telegram: one line, exit 2."""
    result = CliRunner().invoke(
        main, ["--data-dir", str(store), "--reranker", str(tmp_path / "missing"), "serve",
               "--env-file", str(tmp_path / "none.env")],
        env={"TELEGRAM_BOT_TOKEN": "123456789:" + "A" * 35, "CITEBOT_RERANKER": None,
             "CITEBOT_TELEGRAM_API_URL": "http://127.0.0.1:9/bot"})
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: cannot load the reranker CITEBOT_RERANKER=")
    assert result.stderr.count("\n") == 1


def test_the_setting_is_off_unless_set() -> None:
    def reranker(environ: dict[str, str]) -> str | None:
        return Settings.from_values(SettingValues.read(environ=environ)).reranker

    assert reranker({}) is None
    assert reranker({"CITEBOT_RERANKER": "  "}) is None
    assert reranker({"CITEBOT_RERANKER": "cross-encoder/ms-marco-MiniLM-L6-v2"}) == (
        "cross-encoder/ms-marco-MiniLM-L6-v2")


def _story_of(library: Library, file_name: str) -> int:
    return next(article.story_id for article in library.store.all_articles()
                if article.origin.endswith(file_name))


def _first_ranked_stories(library: Library) -> set[int]:
    """The stories whose rows say they are first of the ranking the answer model reads."""
    rows = library.answerer.candidates(QUESTION)
    column = rows.matrix[:, _feature("story_fused_rank")]
    return {rows.stories[int(owner)].story_id
            for owner, value in zip(rows.story_of_row, column, strict=True) if value == 1.0}


def _feature(name: str) -> int:
    from index.qa.features import FEATURES

    return FEATURES.index(name)
