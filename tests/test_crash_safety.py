"""Crash safety: real `citebot` processes killed with SIGKILL mid-way lose nothing.

Each run changes the sample collection (one article edited, one added, one deleted), then
kills `citebot reindex` (or `ingest`) at a named point — after the articles were written,
mid-embedding, after the new index file was written, after it was recorded, after the
commit — and checks: the store opens; every live passage has exactly one vector and no
vector lacks a passage; questions get the answers they got before (or, after the commit,
those of an uninterrupted run); and running again reaches the same state as a run that was
never interrupted. A damaged or missing index file is refused with a clear message and
rebuilt by `citebot reindex --full`. Questions asked during a real reindex are answered.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from click.testing import Result

from index.library import Library
from index.settings import Settings

QUESTIONS = [
    "What annual sales figure in Asia is BMW aiming for by 2008?",
    "Which processors has Huawei decided to focus on?",
    "Where will BMW open a plant?",
    "What did the Uganda authorities ban?",
]


def citebot(data_dir: Path, *args: str, crash_at: str | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run the real console script in its own process."""
    env = dict(os.environ, CITEBOT_EMBED_SLICE="64")
    env.pop("CITEBOT_CRASH_AT", None)
    if crash_at:
        env["CITEBOT_CRASH_AT"] = crash_at
    executable = Path(sys.executable).with_name("citebot")
    return subprocess.run([str(executable), "--data-dir", str(data_dir), *args],
                          capture_output=True, text=True, env=env, timeout=timeout, check=False)


def answers(data_dir: Path) -> list[dict]:
    """(answer, cited origins, quotes) of the fixed questions, through one `ask` process."""
    run = subprocess.run(
        [str(Path(sys.executable).with_name("citebot")), "--data-dir", str(data_dir), "ask"],
        input="\n".join(QUESTIONS), capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stderr
    return [{"answer": a["answer"], "abstained": a["abstained"],
             "cited": [(c["origin"], c["quote"]) for c in a["citations"]]}
            for a in map(json.loads, run.stdout.splitlines())]


def snapshot(data_dir: Path) -> dict:
    """The store's content and the index's ids, and the invariant between them."""
    library = Library(Settings.from_env(data_dir=data_dir))
    try:
        store = library.store
        articles = sorted(store.db.execute("SELECT origin, content_hash FROM articles"))
        passages = sorted(r[0] for r in store.db.execute("SELECT id FROM passages"))
        texts = sorted(store.db.execute(
            "SELECT a.origin, p.seq, p.text FROM passages p JOIN articles a "
            "ON a.id = p.article_id"))
        index = library.live_index()
        ids = sorted(index.ids().tolist())
        assert len(ids) == len(set(ids)) == len(index), "a passage has two vectors"
        assert ids == passages, "live passages and index vectors differ"
        return {"articles": articles, "texts": texts}
    finally:
        library.close()


def change_collection(folder: Path) -> None:
    edited = folder / "bbc-bmw-asia-sales.txt"
    edited.write_text(edited.read_text(encoding="utf-8")
                      + "\nBMW also said it would open a plant in Chennai.\n", encoding="utf-8")
    (folder / "bbc-super-casinos.txt").unlink()
    (folder / "extra-wire.txt").write_text(
        "Dam opens after ten years\n\nThe new Three Rivers dam opened on Friday after ten "
        "years of building, officials in the valley said. It will supply power to 40,000 "
        "homes and protect the town of Millbrook from floods.\n", encoding="utf-8")


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """An ingested collection, its answers, and the state an uninterrupted reindex of the
    changed collection reaches (the control)."""
    root = tmp_path_factory.mktemp("crash")
    articles = root / "articles"
    shutil.copytree(Path(__file__).resolve().parents[1] / "data" / "articles", articles)
    store = root / "store"
    assert citebot(store, "ingest", str(articles)).returncode == 0
    before = {"snapshot": snapshot(store), "answers": answers(store)}
    control = root / "control"
    shutil.copytree(store, control)
    control_articles = root / "control-articles"
    shutil.copytree(articles, control_articles)
    change_collection(control_articles)
    # The control's store remembers `articles` as its source: point a copy at its own.
    control_store = root / "control-store"
    assert citebot(control_store, "ingest", str(control_articles)).returncode == 0
    after = {"snapshot": snapshot(control_store), "answers": answers(control_store)}
    return {"root": root, "articles": articles, "store": store, "before": before,
            "after": after}


def _fresh_copy(baseline: dict, name: str) -> tuple[Path, Path]:
    """A private copy of the ingested store and of its article folder, changed; the
    store's remembered source path is rewritten to the copy's folder."""
    root: Path = baseline["root"] / name
    articles = root / "articles"
    shutil.copytree(baseline["articles"], articles)
    store = root / "store"
    shutil.copytree(baseline["store"], store)
    library = Library(Settings.from_env(data_dir=store))
    try:
        old = str(baseline["articles"].resolve())
        with library.store.transaction():
            library.store.db.execute("UPDATE sources SET path=?", [str(articles.resolve())])
            library.store.db.execute(
                "UPDATE articles SET origin = ? || substr(origin, ?)",
                [str(articles.resolve()), len(old) + 1])
    finally:
        library.close()
    change_collection(articles)
    return articles, store


def _normalise(state: dict, articles: Path) -> dict:
    """Origins relative to the article folder, so two copies compare equal."""
    prefix = str(articles.resolve())
    return {
        "articles": [(o.replace(prefix, ""), h) for o, h in state["articles"]],
        "texts": [(o.replace(prefix, ""), s, t) for o, s, t in state["texts"]],
    }


def _normalise_answers(found: list[dict], articles: Path) -> list[dict]:
    prefix = str(articles.resolve())
    return [{**a, "cited": [(o.replace(prefix, ""), q) for o, q in a["cited"]]} for a in found]


@pytest.mark.parametrize("point", ["stored", "embedding", "index-written", "index-recorded",
                                   "committed"])
def test_reindex_killed_at_any_point_loses_nothing(baseline: dict, point: str) -> None:
    articles, store = _fresh_copy(baseline, f"reindex-{point}")
    killed = citebot(store, "reindex", crash_at=point)
    assert killed.returncode == -signal.SIGKILL, killed.stderr

    state = _normalise(snapshot(store), articles)  # opens; one vector per live passage
    got = _normalise_answers(answers(store), articles)
    base_articles = baseline["articles"]
    if point == "committed":  # the new state was complete before the kill
        expected_state = _normalise(baseline["after"]["snapshot"], articles.parent.parent /
                                    "control-articles")
        assert state == expected_state
    else:  # nothing of the interrupted run is visible
        assert state == _normalise(baseline["before"]["snapshot"], base_articles)
        assert got == _normalise_answers(baseline["before"]["answers"], base_articles)

    again = citebot(store, "reindex", "--json")
    assert again.returncode == 0, again.stderr
    control_articles = baseline["root"] / "control-articles"
    assert _normalise(snapshot(store), articles) == _normalise(
        baseline["after"]["snapshot"], control_articles)
    assert _normalise_answers(answers(store), articles) == _normalise_answers(
        baseline["after"]["answers"], control_articles)
    leftovers = sorted(p.name for p in store.glob("vectors-*"))
    assert len(leftovers) == 1, leftovers


def test_embedding_work_survives_a_kill(baseline: dict) -> None:
    def embedded(run: subprocess.CompletedProcess[str]) -> int:
        report = json.loads(run.stdout)
        return int(report["embedded"] + report["embedded_sentences"])

    root, articles = baseline["root"] / "embedding-kept", str(baseline["articles"])
    uninterrupted = embedded(citebot(root / "control", "ingest", articles, "--json"))
    killed = citebot(root / "store", "ingest", articles, crash_at="embedding")
    assert killed.returncode == -signal.SIGKILL
    assert json.loads(citebot(root / "store", "stats", "--json").stdout)["articles"] == 0
    resumed = embedded(citebot(root / "store", "ingest", articles, "--json"))
    # The first slice (64 texts) reached the cache before the kill: it is not redone.
    assert resumed == uninterrupted - 64


def test_ingest_killed_before_commit_leaves_the_store_as_it_was(baseline: dict) -> None:
    _articles, store = _fresh_copy(baseline, "ingest-killed")
    before = snapshot(store)
    extra = baseline["root"] / "more"
    extra.mkdir()
    (extra / "note.txt").write_text("Rail strike called off\n\nUnions called off the rail "
                                    "strike planned for Monday after talks.\n",
                                    encoding="utf-8")
    for point in ("stored", "index-written"):
        killed = citebot(store, "ingest", str(extra), crash_at=point)
        assert killed.returncode == -signal.SIGKILL
        assert snapshot(store) == before
    done = citebot(store, "ingest", str(extra), "--json")
    assert json.loads(done.stdout)["added"] == 1
    assert len(snapshot(store)["articles"]) == len(before["articles"]) + 1


@pytest.mark.parametrize("damage", ["truncate", "flip", "delete"])
def test_a_damaged_index_is_refused_then_rebuilt(
    baseline: dict, damage: str, cli: Callable[..., Result]
) -> None:
    _articles, store = _fresh_copy(baseline, f"damaged-{damage}")
    index_file = next(store.glob("vectors-*.faiss"))
    data = index_file.read_bytes()
    if damage == "truncate":
        index_file.write_bytes(data[: len(data) // 2])
    elif damage == "flip":
        index_file.write_bytes(data[:-64] + bytes(b ^ 0xFF for b in data[-64:]))
    else:
        index_file.unlink()
    refused = citebot(store, "ask", QUESTIONS[0])
    assert refused.returncode == 2
    assert "citebot reindex --full" in refused.stderr
    assert refused.stdout == ""
    rebuilt = citebot(store, "reindex", "--full")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "150,000" in citebot(store, "ask", QUESTIONS[0]).stdout


def test_questions_are_answered_during_a_real_reindex(baseline: dict) -> None:
    articles, store = _fresh_copy(baseline, "concurrent")
    for n in range(40):  # enough new text for the reindex to take a while
        shutil.copy(articles / "bbc-google-toolbar-concern.txt", articles / f"copy-{n}.txt")
        with open(articles / f"copy-{n}.txt", "a", encoding="utf-8") as handle:
            handle.write(f"\nThis is copy number {n} with its own closing sentence.\n")
    writer = Library(Settings.from_env(data_dir=store))
    reader = Library(Settings.from_env(data_dir=store))
    errors: list[BaseException] = []
    answered: list[str] = []
    thread_started = False

    def reindex() -> None:
        try:
            writer.reindex()
        except BaseException as error:
            errors.append(error)

    thread = threading.Thread(target=reindex)
    try:
        thread.start()
        thread_started = True
        while thread.is_alive() or not answered:
            answer = reader.ask(QUESTIONS[0])
            assert "150,000" in answer.answer, (
                answer.abstained, [(h.article.title, h.dense) for h in answer.retrieved[:3]],
                reader.store.get_meta("index_generation"), thread.is_alive())
            for citation in answer.citations:
                article = reader.store.article(citation.article_id)
                assert article is not None
                assert article.body[citation.start : citation.end] == citation.quote
            answered.append(answer.answer)
        thread.join()
        assert not errors, errors
        assert len(answered) >= 2
        assert writer.stats()["articles"] == 11 + 40
        assert "Chennai" in reader.ask("Where will BMW open a plant?").answer
        ids = reader.live_index().ids()
        assert np.array_equal(np.sort(ids), np.array(
            sorted(r[0] for r in reader.store.db.execute("SELECT id FROM passages"))))
    finally:
        if thread_started:
            thread.join()
        writer.close()
        reader.close()


def test_the_bot_rebuilds_a_damaged_index_before_serving(baseline: dict) -> None:
    from bot.app import warn_if_not_indexed

    _articles, store = _fresh_copy(baseline, "bot-startup")
    next(store.glob("vectors-*.faiss")).write_bytes(b"not a faiss index")
    library = Library(Settings.from_env(data_dir=store))
    try:
        warn_if_not_indexed(library)  # what `citebot serve` runs before polling
        assert "150,000" in library.ask(QUESTIONS[0]).answer
    finally:
        library.close()


def test_a_snapshot_reads_one_state_of_the_store_while_another_thread_commits(
    tmp_path: Path,
) -> None:
    """A question reads the store inside `SQLiteStore.snapshot()`: what a writer commits
    meanwhile (another thread, its own connection) is seen only after it ends — with reads
    through a memory map of the file, as every connection does."""
    from index.sources.article import ArticleDraft
    from index.storage.connections import MMAP_BYTES
    from index.storage.sqlite_store import SQLiteStore

    store = SQLiteStore(tmp_path / "store")
    try:
        assert store.db.execute("PRAGMA mmap_size").fetchone()[0] == MMAP_BYTES
        store.upsert_article(ArticleDraft(origin="a", title="A", body="First article body."))

        def write() -> None:
            store.upsert_article(ArticleDraft(origin="b", title="B", body="Second body."))

        with store.snapshot():
            assert store.counts()["articles"] == 1
            writer = threading.Thread(target=write)
            writer.start()
            writer.join()
            assert store.counts()["articles"] == 1  # still the state the snapshot began with
        assert store.counts()["articles"] == 2
    finally:
        store.close()
