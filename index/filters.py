"""The date grammar of `since`/`until`, shared by the CLI (`--since/--until`) and the bot
(`since:DATE` / `until:DATE` in a question or in /latest).

This module owns what a date filter may look like (YYYY-MM-DD, YYYY-MM or YYYY), when a
range is backwards, and where the `since:`/`until:` words may stand. Pure functions; the
errors carry what was wrong, and each front end words them its own way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from index.storage import StoredArticle

Bound = Literal["since", "until"]
BOUNDS: tuple[Bound, ...] = ("since", "until")
DATE_FORMATS = "YYYY-MM-DD, YYYY-MM or YYYY"
# `since:2024-01-01` / `until:2024-12`: a filter word and its value (maybe empty or wrong).
DATE_FILTER = re.compile(r"(?i)(since|until):(\S*)")
DATE_VALUE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")
TRAILING_PUNCTUATION = ",;"


class DateFilterError(ValueError):
    """A date filter that can't be used; the subclasses say why."""


class UnreadableDate(DateFilterError):
    """`value` given to `bound` is not a date of one of `DATE_FORMATS` (or is empty)."""

    def __init__(self, bound: Bound, value: str) -> None:
        self.bound, self.value = bound, value
        super().__init__(f"{bound}: {value!r} is not a date ({DATE_FORMATS})" if value
                         else f"{bound}: no date given ({DATE_FORMATS})")


class BackwardsRange(DateFilterError):
    """`since` is after `until`: no date is in the range."""

    def __init__(self, since: str, until: str) -> None:
        self.since, self.until = since, until
        super().__init__(f"since {since} is after until {until}")


@dataclass(frozen=True, slots=True)
class DateRange:
    """Both ends of a publication-date filter, each optional and as the user wrote it (ISO
    dates, both ends included); neither end set: any article, dated or not."""

    since: str | None = None
    until: str | None = None

    def __bool__(self) -> bool:
        return self.limited

    @property
    def limited(self) -> bool:
        return bool(self.since or self.until)

    def holds(self, article: StoredArticle) -> bool:
        """Whether the article's publication date is in the range (an undated article is
        in no limited range)."""
        published = article.published_at
        if self.since and (not published or published < self.since):
            return False
        return not (self.until and (not published or published[: len(self.until)] > self.until))


ANY_DATE = DateRange()


def parse_date(value: str, bound: Bound) -> str:
    """`value` (trailing `,` or `;` dropped) when it is a real date of one of
    `DATE_FORMATS`, as written; else `UnreadableDate`."""
    value = value.rstrip(TRAILING_PUNCTUATION)
    match = DATE_VALUE.fullmatch(value)
    if match is None:
        raise UnreadableDate(bound, value)
    year, month, day = match.groups()
    try:
        date(int(year), int(month or 1), int(day or 1))
    except ValueError:
        raise UnreadableDate(bound, value) from None
    return value


def check_date_range(since: str | None, until: str | None) -> None:
    """`BackwardsRange` when `since` is after `until` (compared at `until`'s precision, so
    since 2024-03-05 until 2024-03 is a range, but since 2024-04 until 2024-03 is not)."""
    if since and until and since[: len(until)] > until:
        raise BackwardsRange(since, until)


def date_range(since: str | None, until: str | None) -> DateRange:
    """The range of two optional values (as the CLI's --since/--until give them), each
    checked; raises `DateFilterError`."""
    checked = DateRange(since=parse_date(since, "since") if since is not None else None,
                        until=parse_date(until, "until") if until is not None else None)
    check_date_range(checked.since, checked.until)
    return checked


def leading_date_filters(text: str) -> tuple[str, DateRange]:
    """(the rest of `text`, the range) from `since:DATE` / `until:DATE` words at the start
    of `text` (either, both, in any order; a later one of a kind wins). Raises
    `DateFilterError`."""
    values: dict[str, str] = {}
    rest = text.strip()
    while match := DATE_FILTER.match(rest):
        bound: Bound = "since" if match.group(1).lower() == "since" else "until"
        values[bound] = parse_date(match.group(2), bound)
        rest = rest[match.end():].lstrip()
    found = DateRange(values.get("since"), values.get("until"))
    check_date_range(found.since, found.until)
    return rest, found


def date_filters_anywhere(text: str) -> tuple[str, DateRange]:
    """(the rest of `text`, the range) from `since:DATE` / `until:DATE` words anywhere in
    `text` (the last of a kind wins); the rest is stripped. Raises `DateFilterError`."""
    found = {name.lower(): value for name, value in DATE_FILTER.findall(text)}
    rest = DATE_FILTER.sub(" ", text).strip()
    since = parse_date(found["since"], "since") if "since" in found else None
    until = parse_date(found["until"], "until") if "until" in found else None
    check_date_range(since, until)
    return rest, DateRange(since, until)
