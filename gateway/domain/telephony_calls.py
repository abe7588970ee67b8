"""The call log: its query (filters, cursor), its rows and its CSV. Pure.

A call's hash holds what Twilio's status callbacks said (``from``, ``to``, ``direction``,
``status``, ``duration``), what click-to-call recorded when it placed the call (``user``,
``contact``, ``out_from`` = the caller ID, ``out_to`` = the callee: the status callbacks of
that call describe its first leg, from the caller ID to the *user's* phone) and what call flows
add (``flow``, ``recording_url``, ``recording_duration``, ``user``); a recorded click-to-call's
recording callback adds ``recording_url`` and ``recording_duration`` too. A row's contact is the
stored one, else the contact whose phone is the other party's number (the caller of an inbound
call, the callee of an outbound one); an inbound call's user is the stored one, else that contact's owner.
An inbound call is ``missed`` when it ended no-answer/busy/canceled/failed, or when a call flow
answered it and nobody took it (``missed`` = 1 on its hash: :mod:`gateway.domain.flow_missed`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from gateway.domain.errors import BadRequest
from gateway.domain.phones import lookup_key
from gateway.domain.signals import iso_utc
from gateway.domain.status import CALL_RANK, MISSED_CALL
from gateway.domain.tenancy import RECORD_ID

CALL_COLUMNS = (
    "sid", "direction", "from", "to", "status", "duration", "started_at", "user", "contact", "contact_name",
    "missed", "flow", "recording_url", "recording_duration",
)  # fmt: skip
DIRECTIONS = ("inbound", "outbound")
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
# A CSV download holds at most this many rows (the newest matching ones); say so in the header.
CSV_MAX_ROWS = 50_000


@dataclass(frozen=True)
class Cursor:
    """Where a page ended: the last row's first-seen time and sid (the log runs newest first)."""

    started_ms: int
    sid: str

    def encode(self) -> str:
        return f"{self.started_ms}.{self.sid}"

    def before(self, started_ms: int, sid: str) -> bool:
        """Whether the entry comes after this cursor in the log's order (score desc, sid desc)."""
        return started_ms < self.started_ms or (started_ms == self.started_ms and sid < self.sid)


@dataclass(frozen=True)
class CallQuery:
    since_ms: int | None = None  # inclusive
    until_ms: int | None = None  # exclusive
    direction: str | None = None
    user: str | None = None
    status: str | None = None
    limit: int = DEFAULT_LIMIT
    cursor: Cursor | None = None

    def matches(self, row: Mapping[str, Any]) -> bool:
        return (
            (self.direction is None or row["direction"] == self.direction)
            and (self.user is None or row["user"] == self.user)
            and (self.status is None or row["status"] == self.status)
        )


def _bad(name: str, why: str) -> BadRequest:
    return BadRequest(f"'{name}' {why}", code="invalid_parameter")


def _instant(name: str, raw: str, tz: ZoneInfo, *, end: bool) -> int:
    """ms of an ISO date (midnight in the org's zone; the day after for an ``end`` bound, so
    ``to=2026-11-30`` includes that day) or datetime (naive ones in the org's zone)."""
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            at = datetime.combine(day + timedelta(days=1) if end else day, time(), tz)
        else:
            at = datetime.fromisoformat(raw)
            at = at if at.tzinfo is not None else at.replace(tzinfo=tz)
        return int(at.timestamp() * 1000)
    except (ValueError, OverflowError):  # OverflowError: the day after 9999-12-31
        raise _bad(name, "must be an ISO date (2026-11-30) or date-time (2026-11-30T09:00:00+09:00)") from None


def _cursor(raw: str) -> Cursor:
    ms, _, sid = raw.partition(".")
    if not (ms.isascii() and ms.isdigit() and len(ms) <= 15) or not RECORD_ID.fullmatch(sid):
        raise _bad("cursor", "is not a cursor this API gave out")
    return Cursor(int(ms), sid)


def _limit(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_LIMIT
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 6) or not 1 <= int(raw) <= MAX_LIMIT:
        raise _bad("limit", f"must be an integer from 1 to {MAX_LIMIT}")
    return int(raw)


def parse_query(params: Mapping[str, str], timezone: str) -> CallQuery:
    """``?from=&to=&direction=&user=&status=&cursor=&limit=`` (dates in the org's ``timezone``)."""
    tz = ZoneInfo(timezone)
    direction, user, status = params.get("direction"), params.get("user"), params.get("status")
    if direction is not None and direction not in DIRECTIONS:
        raise _bad("direction", "must be inbound or outbound")
    if user is not None and not RECORD_ID.fullmatch(user):
        raise _bad("user", "is not a user id")
    if status is not None and status not in CALL_RANK:
        raise _bad("status", f"must be one of {', '.join(CALL_RANK)}")
    since = _instant("from", params["from"], tz, end=False) if params.get("from") else None
    until = _instant("to", params["to"], tz, end=True) if params.get("to") else None
    if since is not None and until is not None and until <= since:
        raise _bad("to", "must be after 'from'")
    cursor = _cursor(params["cursor"]) if params.get("cursor") else None
    return CallQuery(since, until, direction, user, status, _limit(params.get("limit")), cursor)


def log_direction(rec: Mapping[str, str]) -> str:
    """inbound or outbound: Twilio says ``inbound``, ``outbound-api`` or ``outbound-dial``."""
    if rec.get("out_to"):
        return "outbound"
    return "outbound" if rec.get("direction", "inbound").startswith("outbound") else "inbound"


def other_party(rec: Mapping[str, str]) -> str:
    """The number that is not ours: the caller of an inbound call, the callee of an outbound one."""
    if rec.get("out_to"):
        return rec["out_to"]
    return lookup_key(rec.get("from" if log_direction(rec) == "inbound" else "to", ""))


def call_row(sid: str, started_ms: int, rec: Mapping[str, str], contact: Mapping[str, Any] | None) -> dict[str, Any]:
    """One row of the log (:data:`CALL_COLUMNS`); ``contact`` is the call's contact record, if any."""
    direction = log_direction(rec)
    status = rec.get("status", "")
    user = rec.get("user") or None
    if user is None and direction == "inbound" and contact is not None:
        user = contact.get("owner") or None
    duration = rec.get("duration", "")
    recording_duration = rec.get("recording_duration", "")
    return {
        "sid": sid,
        "direction": direction,
        "from": rec.get("out_from") or rec.get("from", ""),
        "to": rec.get("out_to") or rec.get("to", ""),
        "status": status,
        "duration": int(duration) if duration.isdigit() else None,
        "started_at": iso_utc(started_ms),
        "user": user,
        "contact": contact["id"] if contact is not None else (rec.get("contact") or None),
        "contact_name": contact.get("name") if contact is not None else None,
        # A flow answers its calls (completed): missed when nobody took it (gateway.domain.flow_missed).
        "missed": direction == "inbound" and (status in MISSED_CALL or rec.get("missed") == "1"),
        "flow": rec.get("flow") or None,
        "recording_url": rec.get("recording_url") or None,
        "recording_duration": int(recording_duration) if recording_duration.isdigit() else None,
    }


def calls_csv(rows: list[dict[str, Any]]) -> str:
    """The rows as CSV for spreadsheets: a BOM (Excel then reads UTF-8, so Japanese stays
    intact), a header row, CRLF line ends; empty cells for nulls, booleans as true/false."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CALL_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(row[k]) for k in CALL_COLUMNS})
    return "\ufeff" + buf.getvalue()


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def csv_filename(org: str, params: Mapping[str, str]) -> str:
    """``calls-<org>-<from>-<to>.csv`` (``all`` for an open end); only safe characters."""
    parts = [org]
    for name in ("from", "to"):
        raw = params.get(name) or "all"
        parts.append("".join(c if c.isalnum() or c in "-" else "" for c in raw.replace(":", ""))[:25] or "all")
    return "calls-" + "_".join(parts) + ".csv"
