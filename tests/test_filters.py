"""The rules the CLI and the bot share, decided once in `index/`: the since/until date
grammar (`index.filters`) and what a target names (`index.targets`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.filters import (
    BackwardsRange,
    DateRange,
    UnreadableDate,
    check_date_range,
    date_filters_anywhere,
    date_range,
    leading_date_filters,
    parse_date,
)
from index.targets import is_web_address, removal_candidates

# --------------------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["2024", "2024-02", "2024-02-29", "2024-02-29,"])
def test_a_date_is_a_year_a_month_or_a_day(value: str) -> None:
    assert parse_date(value, "since") == value.rstrip(",")


@pytest.mark.parametrize("value", ["", "24", "2023-02-29", "2024-13", "2024-1-05",
                                   "yesterday", "2024-01-01T10:00", "2024/01/01"])
def test_anything_else_is_unreadable_and_says_what_was_given(value: str) -> None:
    with pytest.raises(UnreadableDate) as raised:
        parse_date(value, "until")
    assert (raised.value.bound, raised.value.value) == ("until", value)
    assert "YYYY-MM-DD, YYYY-MM or YYYY" in str(raised.value)


def test_a_range_is_compared_at_the_precision_of_its_end() -> None:
    check_date_range("2024-03-05", "2024-03")
    check_date_range("2024-03", None)
    with pytest.raises(BackwardsRange) as raised:
        check_date_range("2024-04", "2024-03")
    assert (raised.value.since, raised.value.until) == ("2024-04", "2024-03")


def test_date_range_checks_both_ends_then_their_order() -> None:
    assert date_range(None, None) == DateRange() and not DateRange()
    assert date_range("2023", "2024-06") == DateRange("2023", "2024-06")
    with pytest.raises(UnreadableDate):
        date_range("2023", "June")
    with pytest.raises(BackwardsRange):
        date_range("2025", "2024")


def test_leading_filters_come_off_the_start_of_a_question_in_any_order() -> None:
    assert leading_date_filters("until:2023-12 SINCE:2023-01-01 Who won?") == (
        "Who won?", DateRange("2023-01-01", "2023-12"))
    assert leading_date_filters("  Who won since:2024?") == (
        "Who won since:2024?", DateRange())
    assert leading_date_filters("since:2024") == ("", DateRange("2024", None))
    with pytest.raises(UnreadableDate) as raised:
        leading_date_filters("since: Who won?")
    assert raised.value.value == ""
    with pytest.raises(BackwardsRange):
        leading_date_filters("since:2024-02-01 until:2024-01-31 Who won?")


def test_filters_anywhere_leave_the_rest_of_the_arguments() -> None:
    assert date_filters_anywhere("5 until:2023-12-31") == ("5", DateRange(None, "2023-12-31"))
    assert date_filters_anywhere("since:2024 7") == ("7", DateRange("2024", None))
    assert date_filters_anywhere("") == ("", DateRange())
    with pytest.raises(UnreadableDate) as raised:
        date_filters_anywhere("since:2024-99")
    assert (raised.value.bound, raised.value.value) == ("since", "2024-99")


# --------------------------------------------------------------------------------------
# Targets
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("target", "web"), [
    ("https://example.com/story", True), ("HTTP://example.com", True),
    ("ftp://example.com/x", True), ("file:///etc/passwd", True), (" https://x.org", True),
    ("/srv/news/story.txt", False), ("news/story.txt", False), ("~/news", False),
    ("C:\\news\\story.txt", False), ("example.com/story", False), ("", False),
])
def test_a_target_is_a_web_address_when_it_has_a_scheme(target: str, web: bool) -> None:
    assert is_web_address(target) is web


def test_removing_a_url_also_tries_its_canonical_form() -> None:
    assert removal_candidates("http://WWW.Example.com/story/?utm_source=rss") == [
        "http://WWW.Example.com/story/?utm_source=rss", "https://www.example.com/story"]
    assert removal_candidates("https://www.example.com/story") == [
        "https://www.example.com/story"]
    assert removal_candidates("ftp://example.com/x") == ["ftp://example.com/x"]


def test_removing_a_path_also_tries_its_absolute_form(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert removal_candidates("news/story.txt") == [
        "news/story.txt", str(tmp_path.resolve() / "news" / "story.txt")]
    absolute = str(tmp_path.resolve() / "story.txt")
    assert removal_candidates(absolute) == [absolute]
    assert removal_candidates("bad\0name") == ["bad\0name"]
