"""`citebot eval`: metrics over a question file, through the real CLI and index."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from click.testing import Result

QUESTIONS = [
    {"id": "q1", "article": "bbc-bmw-asia-sales.txt", "style": "lexical",
     "question": "What annual sales figure in Asia is BMW aiming to reach by 2008?",
     "answer": "150,000"},
    {"id": "q2", "article": "presse-citron-huawei-ai-chips.txt", "style": "lexical",
     "question": "Which processors has Huawei decided to focus on?",
     "answer": "processors dedicated to inference"},
    {"id": "q3", "article": "bbc-uganda-vagina-monologues.txt", "style": "paraphrase",
     "question": "Which play have the authorities in Uganda banned?",
     "answer": "Vagina Monologues"},
    {"id": "u1", "article": None, "style": "unanswerable", "answer": None,
     "question": "Who won the 2014 FIFA World Cup final in Brazil?"},
]


def test_eval_reports_every_metric(cli: Callable[..., Result], samples: Path,
                                   tmp_path: Path) -> None:
    cli("ingest", str(samples))
    qa = tmp_path / "qa.jsonl"
    qa.write_text("\n".join(json.dumps(q) for q in QUESTIONS), encoding="utf-8")
    misses = tmp_path / "misses.md"
    result = cli("eval", str(qa), "--json", "--report", str(misses))
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    overall = report["overall"]
    assert overall["questions"] == 4 and overall["answerable"] == 3
    assert overall["hit_at_1"] == overall["hit_at_5"] == overall["mrr_at_10"] == 1.0
    assert overall["span_recall"] == 1.0
    assert overall["citation_precision"] == 1.0
    assert overall["abstention"] == 1.0 and overall["false_abstention"] == 0.0
    assert overall["quotes_not_verbatim"] == 0
    assert 0 < overall["answer_chars_max"] <= 500
    assert overall["latency_p95_ms"] >= overall["latency_p50_ms"] > 0
    assert set(report["by_style"]) == {"lexical", "paraphrase", "unanswerable"}
    assert report["misses"] == []
    assert misses.read_text(encoding="utf-8").startswith("# Misses")


def test_eval_names_a_gold_article_that_is_not_ingested(
    cli: Callable[..., Result], samples: Path, tmp_path: Path
) -> None:
    cli("ingest", str(samples))
    qa = tmp_path / "qa.jsonl"
    qa.write_text(json.dumps({**QUESTIONS[0], "article": "nowhere.txt"}), encoding="utf-8")
    result = cli("eval", str(qa))
    assert result.exit_code == 1
    assert "nowhere.txt" in result.stderr


def test_eval_asks_for_the_corpus_when_several_folders_are_ingested(
    cli: Callable[..., Result], samples: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "note.txt").write_text("A headline\n\nA body long enough to be an article of its "
                                    "own, written for this test.\n", encoding="utf-8")
    cli("ingest", str(samples), str(other))
    qa = tmp_path / "qa.jsonl"
    qa.write_text(json.dumps(QUESTIONS[0]), encoding="utf-8")
    result = cli("eval", str(qa))
    assert result.exit_code == 2
    assert "--corpus" in result.stderr
    assert cli("eval", str(qa), "--corpus", str(samples)).exit_code == 0
