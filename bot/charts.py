"""The admins' weekly chart (`/stats chart`): one PNG with questions per day (answered vs
declined), 👍 / 👎 per day, and articles added per day by outlet.

matplotlib is imported here only, and only when a chart is drawn (the Agg backend: no
display needed), so the bot and the CLI start without it.
"""

from __future__ import annotations

import io
from collections import defaultdict

from bot.feedback import Day

TOP_OUTLETS = 6  # outlets drawn by name; the rest are summed as "other"


def weekly_chart(days: list[Day], added: dict[tuple[str, str], int]) -> bytes:
    """PNG bytes: three stacked bar panels over `days` (oldest first)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    labels = [d.day[5:] for d in days]  # MM-DD
    x = range(len(days))
    figure, (asked, votes, articles) = plt.subplots(3, 1, figsize=(8, 9), sharex=True)
    try:
        answered = [d.answered for d in days]
        asked.bar(x, answered, label="answered", color="#2b8a3e")
        asked.bar(x, [d.declined for d in days], bottom=answered, label="declined",
                  color="#adb5bd")
        asked.set_title("Questions per day")
        asked.legend(loc="upper left")

        ups = [d.up for d in days]
        votes.bar(x, ups, label="helpful (thumbs up)", color="#1971c2")
        votes.bar(x, [d.down for d in days], bottom=ups, label="not helpful (thumbs down)",
                  color="#e03131")
        votes.set_title("Feedback per day")
        votes.legend(loc="upper left")

        bottom = [0] * len(days)
        for outlet, counts in _by_outlet(days, added).items():
            articles.bar(x, counts, bottom=bottom, label=outlet)
            bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
        articles.set_title("Articles added per day, by outlet")
        if any(bottom):
            articles.legend(loc="upper left", fontsize="small")
        articles.set_xticks(list(x), labels)
        for axis in (asked, votes, articles):
            axis.yaxis.get_major_locator().set_params(integer=True)
        figure.tight_layout()
        out = io.BytesIO()
        figure.savefig(out, format="png", dpi=100)
        return out.getvalue()
    finally:
        plt.close(figure)


def _by_outlet(days: list[Day], added: dict[tuple[str, str], int]) -> dict[str, list[int]]:
    """Per outlet (the busiest by name, the rest as "other"), the articles added each day."""
    index = {d.day: i for i, d in enumerate(days)}
    totals: dict[str, int] = defaultdict(int)
    for (day, outlet), count in added.items():
        if day in index:
            totals[outlet or "unknown outlet"] += count
    named = sorted(totals, key=lambda o: (-totals[o], o))[:TOP_OUTLETS]
    series: dict[str, list[int]] = {}
    for (day, outlet), count in added.items():
        if day not in index:
            continue
        name = outlet or "unknown outlet"
        name = name if name in named else "other"
        series.setdefault(name, [0] * len(days))[index[day]] += count
    return series
