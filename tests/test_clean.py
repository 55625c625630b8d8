"""Cleaning: the scraped seed article comes out as the story alone, by general rules."""

from __future__ import annotations

import pytest

from index.sources.clean import clean_article_text, line_junk_reason

from .conftest import BBC, SEED_ARTICLE

FURNITURE = [
    "Spread the love",
    "Shutterstock",
    "Deposit Bonus",
    "follow us on Google News",
    "[ ]",
    "Teilor Stone",
    "reporter on the news desk",
    "teilor@nizhtimes.com",
    "Huawei aims to compete with Huawei",  # the garbled recap list at the end
]


def test_seed_article_is_titled_and_clean() -> None:
    cleaned = clean_article_text(SEED_ARTICLE.read_text(encoding="utf-8"))
    assert cleaned.title == "Huawei, soon to be the Chinese emperor of AI chips ?"
    assert "Ascend 910C" in cleaned.body
    assert "A crucial issue for Huawei" in cleaned.body
    for junk in FURNITURE:
        assert junk not in cleaned.body, junk


@pytest.mark.parametrize(
    "line",
    [
        "Share this article",
        "Follow us on Twitter and Facebook",
        "📢 Subscribe to our newsletter for daily updates",
        "© Jane Roe / Getty Images",
        "Photo: John Smith/AFP",
        "50 free spins and 100% casino bonus up to £500",
        "Contact the author at jane@example.com",
        "| | |",
    ],
)
def test_furniture_lines_of_other_sites_are_recognised(line: str) -> None:
    assert line_junk_reason(line) is not None


@pytest.mark.parametrize(
    "line",
    [
        "Takeover rumour lifts Exel shares",
        "Axa Sun Life cuts bonus payments",
        "BT is offering customers free internet telephone calls if they sign up to broadband.",
        "Honda wins China copyright ruling",
        "Casino Royale is next Bond movie",
        "Shares in Europe's leading reinsurers have fallen 5%.",
    ],
)
def test_news_sentences_about_shares_bonuses_and_casinos_are_kept(line: str) -> None:
    assert line_junk_reason(line) is None


def test_bbc_headlines_survive_cleaning() -> None:
    files = sorted(BBC.glob("*/*.txt"))[::25]
    assert files, "../shared/corpora/bbc is missing"
    for path in files:
        raw = path.read_bytes().decode("utf-8", errors="replace")
        cleaned = clean_article_text(raw)
        assert cleaned.title == " ".join(raw.splitlines()[0].split()), path
        assert len(cleaned.body) > 200, path


STORY = ("Harbour ferry fares frozen\n\n"
         "Ferry fares across the harbour stay the same this year, the council said. "
         "The night ferry will run until midnight from June, the operator added.\n\n")


def test_a_bullet_list_that_only_recaps_the_story_is_dropped_at_its_tail_or_head() -> None:
    recap = ("• Ferry fares across the harbour stay the same this year.\n"
             "• The night ferry runs until midnight from June.\n")
    for text in (STORY + recap, STORY.replace("\n\n", "\n\n" + recap + "\n", 1)):
        cleaned = clean_article_text(text)
        assert "•" not in cleaned.body, text
        assert [reason for _, reason in cleaned.dropped] == [
            "summary list repeating the story"] * 2
        assert "stay the same this year, the council said" in cleaned.body


def test_a_bullet_list_that_says_something_new_is_kept() -> None:
    facts = ("- Tickets cost 2 euros for pensioners and students.\n"
             "- Bicycles travel free on weekday mornings.\n")
    cleaned = clean_article_text(STORY + facts)
    assert "Bicycles travel free" in cleaned.body and not cleaned.dropped
    one_item = clean_article_text(STORY + "• Ferry fares stay the same this year.\n")
    assert "• Ferry fares" in one_item.body, "a single item is no list to judge"


def test_normalize_text_drops_control_format_and_surrogate_characters_only() -> None:
    from index.sources.clean import normalize_text

    raw = ("Caf\u0065\u0301 \x00bar\u200b\r\nline\u00a0two\u202e\ud800\t end  \x1b\n"
           "emoji \U0001f600 stays, \u00e9 stays")
    assert normalize_text(raw) == "Café bar\nline two end\nemoji \U0001f600 stays, é stays"
    assert normalize_text("plain text\nunchanged") == "plain text\nunchanged"
