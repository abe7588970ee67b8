"""Unit tests for gateway.domain.credits_low: an owed credits.low warning and its events."""

from __future__ import annotations

import orjson
import pytest

from gateway.domain.credits_low import OwedLow, admin_events, dedupe_id, parse_owed


def test_parse_owed_reads_the_facts_the_lua_step_records() -> None:
    """The JSON written by credits_reserve.lua (numbers as Lua encodes them) gives the warning."""
    raw = b'{"balance":1,"threshold":2,"reason":"auto_recharge_cap","notification":"n_7","at":1764565668000}'
    assert parse_owed("3-n_7", raw) == OwedLow("3-n_7", 1, 2, "auto_recharge_cap", "n_7")


@pytest.mark.parametrize(
    "raw",
    [b"not json", b"[1, 2]", b'{"balance": "x", "reason": "weird"}', b"{}"],
)
def test_parse_owed_of_a_damaged_record_still_gives_a_warning(raw: bytes) -> None:
    """A record that does not parse is still delivered (defaults), never dropped or raised on."""
    owed = parse_owed("1-n", raw)
    assert owed == OwedLow("1-n", 0, 0, "auto_recharge_off", "")


def test_admin_events_one_per_admin_with_dedupe_ids_of_the_crossing() -> None:
    """Each admin gets the crossing's facts; the dedupe id depends only on crossing and admin, so a
    second delivery of the same record (another worker, a rerun) carries the very same ids."""
    owed = parse_owed("5-n_9", orjson.dumps({"balance": 4, "threshold": 10, "reason": "auto_recharge_off",
                                             "notification": "n_9"}))  # fmt: skip
    events = admin_events(owed, ["u1", "u3"])
    assert [dedupe for _, dedupe in events] == ["credits-low:5-n_9:u1", "credits-low:5-n_9:u3"]
    assert events[0][0] == {"user": "u1", "balance": 4, "threshold": 10, "reason": "auto_recharge_off",
                            "notification": "n_9"}  # fmt: skip
    assert admin_events(owed, ["u1", "u3"]) == events  # deterministic: repeat deliveries dedupe
    assert admin_events(owed, []) == []


def test_dedupe_ids_differ_per_crossing_and_admin() -> None:
    ids = {dedupe_id(c, a) for c in ("1-n_1", "2-n_1", "1-n_2") for a in ("u1", "u2")}
    assert len(ids) == 6
