"""Telephony payloads: telephony settings, groups, call destinations, numbers in paths, the outbound leg token."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.domain.errors import BadRequest
from gateway.domain.telephony import destination, e164_param, merge_group, merge_telephony, number_record
from gateway.domain.telephony_outbound import (
    BadLeg,
    BadRecordingToken,
    OutboundLeg,
    sign_leg,
    sign_recording,
    verify_leg,
    verify_recording,
)

NUMBERS = {"+815012345678"}


def test_telephony_settings_merge_and_default() -> None:
    """Absent keys keep their stored value; defaults fill the rest."""
    first = merge_telephony({"enabled": True, "caller_id": "+815012345678"}, None, NUMBERS)
    assert first == {"enabled": True, "outbound": False, "record_outbound": False, "caller_id": "+815012345678"}
    assert merge_telephony({"outbound": True}, first, NUMBERS) == dict(first, outbound=True)
    assert merge_telephony({"caller_id": None}, first, NUMBERS)["caller_id"] is None


@pytest.mark.parametrize(
    ("value", "code", "path"),
    [
        ({"caller_id": "+815099999999"}, "invalid_field", "telephony.caller_id"),
        ({"caller_id": 815012345678}, "invalid_field", "telephony.caller_id"),
        ({"enabled": "true"}, "invalid_field", "telephony.enabled"),
        ({"record_outbound": 1}, "invalid_field", "telephony.record_outbound"),
        ({"pin": "1234"}, "unknown_field", "pin"),
        ("on", "invalid_field", "telephony"),
    ],
)
def test_telephony_settings_refusals_name_the_field(value: Any, code: str, path: str) -> None:
    with pytest.raises(BadRequest) as exc:
        merge_telephony(value, None, NUMBERS)
    assert exc.value.code == code and path in exc.value.detail


def test_group_members_are_checked_in_order_and_deduplicated() -> None:
    users = {"u1", "u2"}
    assert merge_group("g", {"name": "営業", "members": ["u2", "u1", "u2"]}, None, users)["members"] == ["u2", "u1"]
    with pytest.raises(BadRequest) as exc:
        merge_group("g", {"members": ["u1", "u3"]}, None, users)
    assert exc.value.code == "unknown_user" and "members[1]" in exc.value.detail
    with pytest.raises(BadRequest) as exc:
        merge_group("g", {"members": ["u1", "bad id"]}, None, users)
    assert exc.value.code == "invalid_field" and "members[1]" in exc.value.detail
    with pytest.raises(BadRequest):
        merge_group("g", {"name": ""}, None, users)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+81312345678", "+81312345678"),
        ("+1 415 555 0134", "+14155550134"),
        ("+8613812345678", "destination_not_allowed"),
        ("+86 10 1234 5678", "destination_not_allowed"),
        ("03-1234-5678", "invalid_phone"),
        ("+8199", "invalid_phone"),
        (81312345678, "invalid_phone"),
    ],
)
def test_destinations(raw: Any, expected: str) -> None:
    if expected.startswith("+"):
        assert destination(raw) == expected
    else:
        with pytest.raises(BadRequest) as exc:
            destination(raw)
        assert exc.value.code == expected


def test_numbers_in_paths_must_be_exact_e164() -> None:
    assert e164_param("+815012345678") == "+815012345678"
    for raw in ("+81 50 1234 5678", "0501234567", "+81abc", ""):
        with pytest.raises(BadRequest):
            e164_param(raw)


def test_number_record_lowercases_capabilities() -> None:
    rec = number_record(
        {
            "sid": "PN1",
            "phone_number": "+815012345678",
            "friendly_name": None,
            "capabilities": {"voice": True, "SMS": 0},
        },
        "2026-11-30T00:00:00Z",
    )
    assert rec == {"sid": "PN1", "phone_number": "+815012345678", "friendly_name": "+815012345678",
                   "capabilities": {"voice": True, "sms": False}, "bought_at": "2026-11-30T00:00:00Z"}  # fmt: skip


def test_outbound_leg_round_trips_and_refuses_changes() -> None:
    """The token names whom to dial; a changed byte, another key or another org's URL is refused."""
    key = b"k" * 32
    leg = OutboundLeg("u1", "+819012345678", "+815012345678", True, "c-yamada")
    token = sign_leg(key, "acme", leg)
    assert verify_leg(key, "acme", token) == leg
    for bad_key, org, tok in (
        (b"x" * 32, "acme", token),
        (key, "other", token),
        (key, "acme", token[:-1] + ("A" if token[-1] != "A" else "B")),
        (key, "acme", "A" + token[1:] if token[0] != "A" else "B" + token[1:]),
        (key, "acme", "nodot"),
    ):
        with pytest.raises(BadLeg):
            verify_leg(bad_key, org, tok)


def test_outbound_recording_token_names_the_call_of_its_org_only() -> None:
    """A recorded click-to-call's callback token: the call sid, bound to the org; never a leg token."""
    key = b"k" * 32
    token = sign_recording(key, "acme", "CA1")
    assert verify_recording(key, "acme", token) == "CA1"
    leg = sign_leg(key, "acme", OutboundLeg("u1", "+819012345678", "+815012345678", True))
    for bad_key, org, tok in (
        (b"x" * 32, "acme", token),
        (key, "other", token),
        (key, "acme", token[:-1] + ("A" if token[-1] != "A" else "B")),
        (key, "acme", leg),
        (key, "acme", "nodot"),
    ):
        with pytest.raises(BadRecordingToken):
            verify_recording(bad_key, org, tok)
    with pytest.raises(BadLeg):
        verify_leg(key, "acme", token)
