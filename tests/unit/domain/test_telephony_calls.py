"""The call log's query, rows and CSV."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from gateway.domain.errors import BadRequest
from gateway.domain.telephony_calls import CALL_COLUMNS, Cursor, call_row, calls_csv, csv_filename, parse_query

YAMADA = {"id": "c-yamada", "name": "山田 太郎", "owner": "u1"}


@pytest.mark.parametrize(
    ("params", "since", "until"),
    [
        ({}, None, None),
        # Dates are days in the org's zone (Asia/Tokyo, UTC+9); a date 'to' includes its day.
        ({"from": "2026-11-30"}, 1795964400000, None),
        ({"to": "2026-11-30"}, None, 1796050800000),
        ({"from": "2026-11-30T09:00:00+09:00", "to": "2026-11-30T10:00:00Z"}, 1795996800000, 1796032800000),
        ({"from": "2026-11-30T09:00:00"}, 1795996800000, None),  # naive: the org's zone
    ],
)
def test_time_bounds(params: dict[str, str], since: int | None, until: int | None) -> None:
    q = parse_query(params, "Asia/Tokyo")
    assert (q.since_ms, q.until_ms) == (since, until)


@pytest.mark.parametrize(
    "params",
    [
        {"direction": "outbound-api"},
        {"status": "missed"},
        {"user": "a b"},
        {"from": "30/11/2026"},
        {"to": "9999-12-31"},
        {"from": "2026-11-30", "to": "2026-11-29"},
        {"cursor": "abc"},
        {"cursor": "123.bad sid"},
        {"limit": "0"},
        {"limit": "1001"},
        {"limit": "²"},
    ],
)
def test_bad_parameters_are_400(params: dict[str, str]) -> None:
    with pytest.raises(BadRequest) as exc:
        parse_query(params, "UTC")
    assert exc.value.code == "invalid_parameter"


def test_cursor_orders_like_the_log() -> None:
    c = parse_query({"cursor": Cursor(1000, "CAb").encode()}, "UTC").cursor
    assert c == Cursor(1000, "CAb")
    assert c.before(999, "CAz") and c.before(1000, "CAa")
    assert not c.before(1000, "CAb") and not c.before(1000, "CAc") and not c.before(1001, "CAa")


def _rec(**fields: str) -> dict[str, str]:
    return {"from": "+819012345678", "to": "+815012345678", "direction": "inbound", "status": "no-answer", **fields}


@pytest.mark.parametrize(
    ("rec", "contact", "expected"),
    [
        # A missed inbound call from a contact: the contact's owner is the call's user.
        (_rec(), YAMADA, {"direction": "inbound", "missed": True, "user": "u1", "contact": "c-yamada"}),
        (_rec(status="completed", duration="42"), None, {"missed": False, "user": None, "duration": 42}),
        (_rec(direction="outbound-api", status="busy"), None, {"direction": "outbound", "missed": False}),
        # Click-to-call: the log shows the caller ID → the callee, and the user who called.
        (
            _rec(direction="outbound-api", user="u2", out_from="+815012345678", out_to="+81312345678",
                 status="completed"),
            YAMADA,
            {"direction": "outbound", "from": "+815012345678", "to": "+81312345678", "user": "u2", "missed": False},
        ),
        (_rec(flow="main", recording_url="https://api.twilio.com/r/RE1"), None,
         {"flow": "main", "recording_url": "https://api.twilio.com/r/RE1"}),
        (_rec(recording_url="https://api.twilio.com/r/RE2", recording_duration="63"), None,
         {"recording_url": "https://api.twilio.com/r/RE2", "recording_duration": 63}),
        (_rec(), None, {"recording_url": None, "recording_duration": None}),
        # A call a flow answered (completed) that nobody took: missed (gateway.domain.flow_missed).
        (_rec(status="completed", flow="main", missed="1"), YAMADA, {"missed": True, "user": "u1", "flow": "main"}),
        (_rec(status="completed", flow="main", missed="0"), YAMADA, {"missed": False}),
    ],
)  # fmt: skip
def test_rows(rec: dict[str, str], contact: dict[str, Any] | None, expected: dict[str, Any]) -> None:
    row = call_row("CA1", 1795996800000, rec, contact)
    assert list(row) == list(CALL_COLUMNS)
    assert row["started_at"] == "2026-11-30T00:00:00.000Z"
    assert {k: row[k] for k in expected} == expected


def test_csv_has_bom_header_crlf_and_japanese() -> None:
    row = call_row("CA1", 1795996800000, _rec(), YAMADA)
    text = calls_csv([row])
    assert text.startswith("\ufeffsid,direction,") and text.endswith("\r\n")
    [parsed] = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline="")))
    assert parsed["contact_name"] == "山田 太郎" and parsed["missed"] == "true" and parsed["duration"] == ""
    assert csv_filename("acme", {"from": "2026-11-01", "to": "2026-11-30T12:00:00+09:00"}) == (
        "calls-acme_2026-11-01_2026-11-30T1200000900.csv"
    )
    assert csv_filename("acme", {"to": 'x"; evil'}) == "calls-acme_all_xevil.csv"
