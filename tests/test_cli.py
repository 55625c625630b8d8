"""The pipeline through the real CLI: files → SQLite → FAISS → cited answers."""

from __future__ import annotations

import itertools
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from index.qa.answer import HEDGE_NOTE
from index.qa.model import AnswerModel
from index.qa.tuning import AnswerTuning
from index.settings import Settings, SettingsError
from index.storage.sqlite_store import SQLiteStore
from index.vectors.embed import resolve_model_path

SEED_NAME = "presse-citron-huawei-ai-chips.txt"


def _json(result: Result) -> dict:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _stored_body(data_dir: Path, article_id: int) -> str:
    store = SQLiteStore(data_dir)
    try:
        article = store.article(article_id)
        assert article is not None
        return article.body
    finally:
        store.close()


def test_ingest_then_ask_cites_the_right_article_verbatim(
    cli: Callable[..., Result], samples: Path, data_dir: Path
) -> None:
    report = _json(cli("ingest", str(samples), "--json"))
    assert report["added"] == 11 and report["skipped"] == []
    assert report["vectors"] >= 11

    answer = _json(cli("ask", "Which processors has Huawei decided to focus on?", "--json"))
    assert set(answer) == {"question", "answer", "abstained", "citations", "retrieved",
                           "timings_ms", "language", "declined_because", "confidence",
                           "hedged"}
    assert answer["confidence"] > AnswerModel.load().hedge_below and not answer["hedged"]
    assert answer["language"] == "en" and answer["declined_because"] is None
    assert not answer["abstained"]
    assert "[1]" in answer["answer"]
    first = answer["citations"][0]
    assert first["origin"].endswith(SEED_NAME)
    assert first["title"] == "Huawei, soon to be the Chinese emperor of AI chips ?"
    assert first["outlet"] == "Presse-citron"
    assert "processors dedicated to inference" in answer["answer"]
    markers = re.findall(r"\[(\d+)\]", answer["answer"])
    assert all(a != b for a, b in itertools.pairwise(markers)), \
        f"one marker per run of one source's sentences: {answer['answer']}"
    assert answer["answer"].rstrip().endswith("]")
    for citation in answer["citations"]:
        body = _stored_body(data_dir, citation["article_id"])
        assert body[citation["start"] : citation["end"]] == citation["quote"]
        assert citation["quote"] in answer["answer"].replace("\n", " ")
    assert set(answer["timings_ms"]) == {"embed", "search", "answer", "total"}
    assert answer["retrieved"] and {"article_id", "origin", "score", "text"} <= set(
        answer["retrieved"][0]
    )


def test_answers_cite_bbc_samples_and_print_sources(
    cli: Callable[..., Result], samples: Path
) -> None:
    cli("ingest", str(samples))
    result = cli("ask", "What annual sales figure in Asia is BMW aiming for by 2008?")
    assert result.exit_code == 0
    assert "150,000" in result.stdout
    assert "Sources:" in result.stdout and "BMW drives record sales in Asia" in result.stdout
    assert "BMW drives record sales in Asia · BBC News" in result.stdout
    assert str(samples) not in result.stdout and ".txt" not in result.stdout, \
        "an article read from a file has no link line, never a local path"


def test_unrelated_question_abstains(cli: Callable[..., Result], samples: Path) -> None:
    cli("ingest", str(samples))
    answer = _json(cli("ask", "Who won the 2014 FIFA World Cup final in Brazil?", "--json"))
    assert answer["abstained"] is True
    assert answer["citations"] == []


def test_a_follow_up_is_answered_about_the_earlier_question(
    cli: Callable[..., Result], samples: Path
) -> None:
    cli("ingest", str(samples))
    earlier = "how many internet cafes did china shut down"
    answer = _json(cli("ask", "why?", "--follow-up-of", earlier, "--json"))
    assert answer["question"] == f"{earlier} why?"
    assert answer["citations"][0]["title"] == "China net cafe culture crackdown"
    assert "because they were operating illegally" in answer["citations"][0]["quote"]
    empty = cli("ask", "why?", "--follow-up-of", " ")
    assert empty.exit_code == 2 and "--follow-up-of needs" in empty.output
    # A misspelled word in the follow-up is read as the collection spells it, and the
    # follow-up still asks for its own kind of fact (a reason, not the earlier count).
    misspelled = _json(cli("ask", "why did they clse them?", "--follow-up-of", earlier,
                           "--json"))
    assert "because they were operating illegally" in misspelled["citations"][0]["quote"]


def test_an_answer_the_model_doubts_is_hedged(cli: Callable[..., Result], samples: Path
                                              ) -> None:
    cli("ingest", str(samples))
    question = "what is the name of google's ceo"  # the toolbar story names no chief
    answer = _json(cli("ask", question, "--json"))
    assert not answer["abstained"] and answer["hedged"]
    assert answer["confidence"] < AnswerModel.load().hedge_below
    shown = cli("ask", question)
    assert shown.stdout.startswith(f"({HEDGE_NOTE})\n") and "Sources:" in shown.stdout


def test_reingest_is_a_no_op(cli: Callable[..., Result], samples: Path) -> None:
    cli("ingest", str(samples))
    again = _json(cli("ingest", str(samples), "--json"))
    assert (again["added"], again["updated"], again["unchanged"]) == (0, 0, 11)
    assert again["embedded"] == 0


def test_changing_one_article_reembeds_only_its_passages(
    cli: Callable[..., Result], samples: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Passages embedded from their own text (the default, sentence-mean, embeds none: see
    # tests/test_passage_vectors.py).
    monkeypatch.setenv("CITEBOT_PASSAGE_VECTORS", "embedded")
    cli("ingest", str(samples))
    target = samples / "bbc-bmw-asia-sales.txt"
    target.write_text(
        target.read_text(encoding="utf-8") + "\nBMW also said it would open a plant in Chennai.\n",
        encoding="utf-8",
    )
    report = _json(cli("reindex", "--json"))
    assert (report["added"], report["updated"], report["removed"]) == (0, 1, 0)
    store = SQLiteStore(data_dir)
    try:
        passages = store.db.execute(
            "SELECT COUNT(*) FROM passages p JOIN articles a ON a.id = p.article_id "
            "WHERE a.origin = ?", [str(target)]
        ).fetchone()[0]
        assert store.counts()["passages"] == report["vectors"]
    finally:
        store.close()
    assert 0 < report["embedded"] <= passages
    answer = _json(cli("ask", "Where will BMW open a plant?", "--json"))
    assert "Chennai" in answer["answer"]


def test_deleted_file_is_removed_on_reindex(
    cli: Callable[..., Result], samples: Path
) -> None:
    cli("ingest", str(samples))
    (samples / "bbc-super-casinos.txt").unlink()
    report = _json(cli("reindex", "--json"))
    assert report["removed"] == 1 and report["embedded"] == 0
    stats = _json(cli("stats", "--json"))
    assert stats["articles"] == 10


def test_bad_input_is_reported_and_the_rest_ingested(
    cli: Callable[..., Result], tmp_path: Path
) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    shutil.copy(Path(__file__).parents[1] / "data" / "articles" / SEED_NAME, folder)
    (folder / "empty.txt").write_bytes(b"")
    (folder / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 20)
    (folder / "latin1.txt").write_bytes(
        "Café prices rise\n\nThe price of a café crème rose to 3 € in Paris, "
        "said the café owners' association on Monday.".encode("cp1252")
    )
    (folder / "feed.jsonl").write_text(
        '{"title": "Dam opens", "body": "The new dam opened on Friday after ten years.",'
        ' "source": "Wire", "published_at": "2005-03-01T10:00:00+01:00"}\n'
        "{not json\n"
        '{"title": "No body here"}\n',
        encoding="utf-8",
    )
    for name in ("scan.pdf", "photo.png", "notes.pdf", "README.md", "Makefile", ".hidden"):
        (folder / name).write_bytes(b"not an article")
    result = cli("ingest", str(folder), str(tmp_path / "missing.txt"), "--json")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["not_articles"] == {".pdf": 2, ".png": 1, "documentation": 1,
                                      "(no extension)": 1}
    plain = cli("ingest", str(folder), "--no-index")
    assert "not articles: 2 .pdf, 1 (no extension), 1 .png, 1 documentation" in plain.stdout
    assert report["added"] == 3  # seed, latin1, one JSONL record
    reasons = {(Path(s["path"]).name, s["reason"]) for s in report["skipped"]}
    assert ("empty.txt", "empty file") in reasons
    assert any(n == "binary.txt" and "binary" in r for n, r in reasons)
    assert any(n == "feed.jsonl" and r.startswith("line 2: malformed JSON") for n, r in reasons)
    assert any(n == "feed.jsonl" and r.startswith("line 3: no body") for n, r in reasons)
    assert any(n == "missing.txt" and "no such file" in r for n, r in reasons)
    answer = _json(cli("ask", "How much does a café crème cost in Paris?", "--json"))
    assert answer["citations"][0]["title"] == "Café prices rise"
    wire = _json(cli("ask", "When did the new dam open?", "--json"))
    assert wire["citations"][0]["outlet"] == "Wire"
    assert wire["citations"][0]["published_at"] == "2005-03-01T09:00:00+00:00"


def test_nothing_ingestible_exits_non_zero(cli: Callable[..., Result], tmp_path: Path) -> None:
    (tmp_path / "empty.md").write_text("   \n", encoding="utf-8")
    result = cli("ingest", str(tmp_path / "empty.md"))
    assert result.exit_code == 1
    assert "empty" in result.stderr


def test_every_answer_knob_is_set_by_its_environment_variable() -> None:
    env = {"CITEBOT_ABSTAIN_BELOW": "0.5", "CITEBOT_MAX_SENTENCES": "2",
           "CITEBOT_WHOLE_NAMES": "false", "CITEBOT_RESTATED_OVERLAP": " 0 "}
    tuning = Settings.from_env(environ=env).tuning
    assert (tuning.abstain_below, tuning.max_sentences, tuning.whole_names,
            tuning.restated_overlap) == (0.5, 2, False, 0.0)
    assert tuning.rrf_k == AnswerTuning().rrf_k
    assert Settings.from_env(environ={}).tuning == AnswerTuning()
    for name, raw in (("CITEBOT_ABSTAIN_BELOW", "abc"), ("CITEBOT_MAX_SENTENCES", "2.5"),
                      ("CITEBOT_WHOLE_NAMES", "maybe"), ("CITEBOT_ABSTAIN_BELOW", "-1"),
                      ("CITEBOT_ABSTAIN_BELOW", "nan")):
        with pytest.raises(SettingsError, match=name):
            Settings.from_env(environ={name: raw})


def test_a_bad_setting_is_one_clear_line(cli: Callable[..., Result],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CITEBOT_ABSTAIN_BELOW", "high")
    result = cli("ask", "anything?")
    assert result.exit_code == 2
    assert result.stderr == "error: CITEBOT_ABSTAIN_BELOW must be a number, not 'high'\n"


def test_asking_before_ingesting_gives_a_hint(cli: Callable[..., Result]) -> None:
    result = cli("ask", "anything?")
    assert result.exit_code == 2
    assert "citebot ingest" in result.stderr


def test_stdin_questions_give_one_json_line_each(
    cli: Callable[..., Result], samples: Path
) -> None:
    cli("ingest", str(samples))
    result = cli("ask", input="Who is Uganda banning?\n\nWhat did Google's toolbar do?\n")
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["question"] for line in lines] == [
        "Who is Uganda banning?", "What did Google's toolbar do?"
    ]


def test_stats_reports_the_collection(cli: Callable[..., Result], samples: Path) -> None:
    cli("ingest", str(samples))
    stats = _json(cli("stats", "--json"))
    assert stats["articles"] == 11
    assert stats["passages"] == stats["vectors"] > 11
    assert stats["model"] == Settings().model
    assert stats["index_bytes"] > 0 and stats["last_reindex"]
    text = cli("stats").stdout
    assert "articles: 11" in text


def test_another_model_forces_a_full_rebuild(
    cli: Callable[..., Result], samples: Path, tmp_path: Path
) -> None:
    first = _json(cli("ingest", str(samples), "--json"))
    other = tmp_path / "my-model"
    shutil.copytree(resolve_model_path(Settings().model), other)
    refused = cli("--model", str(other), "ask", "BMW sales?")
    assert refused.exit_code == 2 and "reindex" in refused.stderr
    report = _json(cli("--model", str(other), "reindex", "--json"))
    # Every sentence again (passage vectors are their means), none from the old cache.
    assert report["embedded_sentences"] == first["embedded_sentences"] > 11
    assert report["vectors"] == first["vectors"] > 11
    stats = _json(cli("--model", str(other), "stats", "--json"))
    assert stats["model"] == str(other)


def test_console_script_runs(samples: Path, data_dir: Path) -> None:
    citebot = Path(sys.executable).with_name("citebot")
    if not citebot.exists():
        pytest.skip("citebot console script not installed")
    run = subprocess.run(
        [str(citebot), "--data-dir", str(data_dir), "ingest", str(samples)],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("added 11")
