"""The email report: per-day counters summed into day/week/month rows with rates. Pure.

Counters are kept per org and local day: ``sent``, ``bounced``, ``opened``, ``clicked``,
``received``, ``replied``, per template ``t:<template id>:<field>`` and per template version
``v:<template id>:<version>:<field>`` (counted for notifications that recorded their version). Rates are percentages of
``sent`` (one decimal; 0 when nothing was sent).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from gateway.domain.quota import report_bucket

FIELDS = ("sent", "bounced", "opened", "clicked", "received", "replied")


def with_rates(counts: dict[str, int]) -> dict[str, Any]:
    """Counts plus rates as percentages of ``sent`` (one decimal; 0 when nothing was sent)."""
    sent = counts["sent"]
    out: dict[str, Any] = dict(counts)
    for name in ("bounced", "opened", "clicked", "replied"):
        out[f"{name}_rate"] = round(100 * counts[name] / sent, 2) if sent else 0.0
    return out


def summarise(per_day: dict[date, dict[str, str]], group: str) -> dict[str, Any]:
    """``rows`` per ``group`` bucket (day, week, month), ``total`` and per-``templates`` totals."""
    buckets: dict[str, dict[str, int]] = {}
    templates: dict[str, dict[str, int]] = {}
    versions: dict[tuple[str, int], dict[str, int]] = {}
    for d, counters in per_day.items():
        noon = datetime(d.year, d.month, d.day, 12, tzinfo=UTC)
        bucket = buckets.setdefault(report_bucket(noon, "UTC", group), dict.fromkeys(FIELDS, 0))
        for name, value in counters.items():
            if name.startswith("t:"):
                tid, fname = name[2:].rsplit(":", 1)
                if fname in FIELDS:
                    row = templates.setdefault(tid, dict.fromkeys(FIELDS, 0))
                    row[fname] += int(value)
            elif name.startswith("v:"):
                parts = name[2:].rsplit(":", 2)
                if len(parts) == 3 and parts[2] in FIELDS and parts[1].isdigit():
                    vrow = versions.setdefault((parts[0], int(parts[1])), dict.fromkeys(FIELDS, 0))
                    vrow[parts[2]] += int(value)
            elif name in FIELDS:
                bucket[name] += int(value)
    total = {f: sum(b[f] for b in buckets.values()) for f in FIELDS}
    return {
        "rows": [{"period": k, **with_rates(v)} for k, v in sorted(buckets.items())],
        "total": with_rates(total),
        "templates": [{"template": k, **with_rates(v)} for k, v in sorted(templates.items())],
        "versions": [{"template": t, "version": n, **with_rates(v)} for (t, n), v in sorted(versions.items())],
    }
