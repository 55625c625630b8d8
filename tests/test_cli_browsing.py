"""`citebot search` and `citebot latest`, the CLI's side of the bot's /search and /latest,
through the real CLI on a real store: the bundled samples plus two dated stories (the
samples carry no publication date)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot.cli import main
from tests.conftest import SAMPLES

SAMPLE_ARTICLES = 11
DATED = [
    {"title": "Harbour ferry timetable extended", "outlet": "Lyon Daily",
     "url": "https://lyon.example.com/ferry", "published_at": "2023-06-01",
     "text": "The harbour ferry will run until midnight from June, the operator said."},
    {"title": "Harbour ferry fares frozen", "outlet": "Porto News",
     "url": "https://porto.example.com/ferry", "published_at": "2024-03-10",
     "text": "Ferry fares across the harbour stay the same this year, the council said."},
]
BMW_TITLE = "BMW drives record sales in Asia"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The samples and the dated stories, stored once for the module (not embedded: these
    commands read the store only)."""
    root = tmp_path_factory.mktemp("cli-browsing")
    articles = root / "articles"
    shutil.copytree(SAMPLES, articles)
    articles.joinpath("dated.jsonl").write_text(
        "".join(json.dumps(record) + "\n" for record in DATED), encoding="utf-8")
    result = citebot(root / "store", "ingest", "--no-index", "--json", str(articles))
    assert json.loads(result.stdout)["added"] == SAMPLE_ARTICLES + len(DATED)
    return root / "store"


def citebot(store: Path, *args: str, exit_code: int = 0) -> Result:
    result = CliRunner().invoke(main, ["--data-dir", str(store), *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == exit_code, result.output
    return result


def listed(store: Path, *args: str) -> list[dict[str, object]]:
    return json.loads(citebot(store, *args, "--json").stdout)


# --------------------------------------------------------------------------------------
# search
# --------------------------------------------------------------------------------------


def test_search_lists_matching_articles_best_first(store: Path) -> None:
    found = listed(store, "search", "BMW Asia sales")
    assert found[0]["title"] == BMW_TITLE
    assert set(found[0]) == {"id", "title", "outlet", "author", "published_at", "url",
                             "origin", "story_id", "ingested_at"}
    assert str(found[0]["origin"]).endswith("bbc-bmw-asia-sales.txt")
    assert len(listed(store, "search", "BMW Asia sales", "--limit", "1")) == 1

    shown = citebot(store, "search", "harbour ferry").stdout.splitlines()
    assert shown[0].startswith("1. Harbour ferry")
    assert " · 2024-03-10" in "\n".join(shown) and " · 2023-06-01" in "\n".join(shown)
    assert "    https://porto.example.com/ferry" in shown


def test_search_without_a_match_or_a_query(store: Path) -> None:
    assert listed(store, "search", "zeppelin") == []
    assert citebot(store, "search", "zeppelin").stdout == "no articles match 'zeppelin'\n"
    empty = citebot(store, "search", "  ", exit_code=2)
    assert "the query is empty" in empty.output
    assert "--limit" in citebot(store, "search", "BMW", "--limit", "0", exit_code=2).output


# --------------------------------------------------------------------------------------
# latest
# --------------------------------------------------------------------------------------


def test_latest_lists_the_newest_stories_first(store: Path) -> None:
    """Newest by publication date (the samples are dated 2004-2005 and 2025)."""
    assert len(listed(store, "latest")) == 10
    everything = listed(store, "latest", "20")
    assert len(everything) == SAMPLE_ARTICLES + len(DATED)
    assert [a["title"] for a in everything[1:3]] == [DATED[1]["title"], DATED[0]["title"]]
    assert everything[-1]["title"] == "Honour for UK games maker"
    assert listed(store, "latest", "1") == everything[:1]

    shown = citebot(store, "latest", "2", "--since", "2023", "--until", "2024").stdout.splitlines()
    assert shown == ["1. Harbour ferry fares frozen · Porto News · 2024-03-10",
                     "    https://porto.example.com/ferry",
                     "2. Harbour ferry timetable extended · Lyon Daily · 2023-06-01",
                     "    https://lyon.example.com/ferry"]
    newest = citebot(store, "latest", "1").stdout.splitlines()
    assert newest[0] == ("1. Huawei, soon to be the Chinese emperor of AI chips ? · "
                         "Presse-citron · 2025-02-25")
    assert "Invalid value for '[N]'" in citebot(store, "latest", "0", exit_code=2).output


def test_latest_since_and_until_follow_the_bots_date_rules(store: Path) -> None:
    def titles(*args: str) -> list[object]:
        return [a["title"] for a in listed(store, "latest", *args)]

    assert titles("--since", "2024-01-01", "--until", "2024") == [DATED[1]["title"]]
    assert titles("--since", "2023", "--until", "2023-12") == [DATED[0]["title"]]
    assert titles("--since", "2023", "--until", "2024-03") == [DATED[1]["title"],
                                                               DATED[0]["title"]]
    assert titles("--since", "2026") == []
    assert citebot(store, "latest", "--since", "2026").stdout == (
        "no articles in that date range\n")

    bad = citebot(store, "latest", "--since", "2024-13-01", exit_code=2).output
    assert "--since" in bad and "'2024-13-01' is not a date" in bad
    assert "YYYY-MM-DD, YYYY-MM or YYYY" in bad
    backwards = citebot(store, "latest", "--since", "2024-02-01", "--until", "2024-01-31",
                        exit_code=2).output
    assert "--since 2024-02-01 is after --until 2024-01-31" in backwards


def test_ask_checks_its_dates_by_the_same_rules(store: Path) -> None:
    """The dates are checked before the model or the index is touched."""
    bad = citebot(store, "ask", "--until", "yesterday", "Who froze the fares?", exit_code=2)
    assert "--until" in bad.output and "'yesterday' is not a date" in bad.output
    backwards = citebot(store, "ask", "--since", "2024-03", "--until", "2024-02",
                        "Who froze the fares?", exit_code=2)
    assert "--since 2024-03 is after --until 2024-02" in backwards.output
