"""gateway.domain.reports: day counters summed into day/week/month rows, totals and templates."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from gateway.domain.reports import FIELDS, summarise, with_rates


def _counts(**given: int) -> dict[str, int]:
    return dict.fromkeys(FIELDS, 0) | given


@pytest.mark.parametrize(
    ("counts", "rates"),
    [
        (_counts(), {"bounced_rate": 0.0, "opened_rate": 0.0, "clicked_rate": 0.0, "replied_rate": 0.0}),
        (
            _counts(sent=3, bounced=1, opened=2, clicked=1, replied=0, received=9),
            {"bounced_rate": 33.33, "opened_rate": 66.67, "clicked_rate": 33.33, "replied_rate": 0.0},
        ),
        (_counts(opened=4), {"bounced_rate": 0.0, "opened_rate": 0.0, "clicked_rate": 0.0, "replied_rate": 0.0}),
    ],
    ids=["nothing", "thirds", "opens-without-sends"],
)
def test_rates_are_percent_of_sent(counts: dict[str, int], rates: dict[str, float]) -> None:
    """Rates are percentages of sent, rounded to two places; 0 when nothing was sent."""
    assert with_rates(counts) == counts | rates


PER_DAY: dict[date, dict[str, str]] = {
    date(2026, 11, 29): {"sent": "2", "opened": "1", "t:t_a:sent": "2", "t:t_a:opened": "1"},  # Sunday, ISO W48
    date(2026, 11, 30): {"sent": "1", "bounced": "1", "t:t_b:sent": "1", "t:t_b:bounced": "1", "junk": "5"},
    date(2026, 12, 1): {"received": "3", "replied": "1", "t:t:with:colons:sent": "4", "t:t_a:unknown": "7"},
}


@pytest.mark.parametrize(
    ("group", "periods", "sent"),
    [
        ("day", ["2026-11-29", "2026-11-30", "2026-12-01"], [2, 1, 0]),
        ("week", ["2026-W48", "2026-W49"], [2, 1]),
        ("month", ["2026-11", "2026-12"], [3, 0]),
    ],
)
def test_rows_per_group(group: str, periods: list[str], sent: list[int]) -> None:
    """Days fall into ISO weeks and months by their own date; unknown counters are ignored."""
    report = summarise(PER_DAY, group)
    assert [r["period"] for r in report["rows"]] == periods
    assert [r["sent"] for r in report["rows"]] == sent
    assert report["total"] == with_rates(_counts(sent=3, opened=1, bounced=1, received=3, replied=1))


def test_templates_are_summed_over_the_range() -> None:
    """Per-template counters add up across days; a template id may itself contain colons."""
    by_id: dict[str, dict[str, Any]] = {t["template"]: t for t in summarise(PER_DAY, "day")["templates"]}
    assert sorted(by_id) == ["t:with:colons", "t_a", "t_b"]
    assert by_id["t_a"] == {"template": "t_a", **with_rates(_counts(sent=2, opened=1))}
    assert by_id["t_b"]["bounced_rate"] == 100.0
    assert by_id["t:with:colons"]["sent"] == 4


def test_versions_are_rows_per_template_and_version() -> None:
    """``v:<template>:<version>:<field>`` counters become one row per template and version."""
    per_day = {
        date(2026, 11, 29): {"v:t_a:1:sent": "2", "v:t_a:1:opened": "1", "v:t_a:2:sent": "1", "v:t_a:x:sent": "9"},
        date(2026, 11, 30): {"v:t_a:2:sent": "3", "v:t_b:1:clicked": "1", "v:t_a:2:unknown": "4", "v:bad": "1"},
    }
    rows = {(r["template"], r["version"]): r for r in summarise(per_day, "day")["versions"]}
    assert list(rows) == [("t_a", 1), ("t_a", 2), ("t_b", 1)]
    assert rows["t_a", 1]["sent"] == 2 and rows["t_a", 1]["opened_rate"] == 50.0
    assert rows["t_a", 2]["sent"] == 4 and rows["t_b", 1]["clicked"] == 1
    assert summarise({}, "day")["versions"] == []
