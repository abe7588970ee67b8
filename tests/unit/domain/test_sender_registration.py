"""Unit tests for gateway.domain.sender_registration: the IN sender and profile on the org."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.domain.errors import BadRequest
from gateway.domain.sender_registration import missing, profile, registered, sender
from gateway.domain.tenancy import merge_org, public_org

SENDER = {
    "sender_id": "SGATE",
    "entity_id": "1201160000000000001",
    "entity_name": "Signal Gate Pvt Ltd",
    "sender_unique_id": "1305161234567890",
    "operator": "Jio",
}
PROFILE = {
    "legal_name": "Signal Gate Private Limited",
    "brand_name": "SignalGate",
    "city": "Bengaluru",
    "state": "Karnataka",
    "postal_code": "560001",
}


def test_a_complete_registration_is_kept_as_given() -> None:
    """Five sender fields and five profile fields validate and round-trip."""
    assert sender(SENDER) == SENDER
    assert profile(PROFILE, None, "IN") == PROFILE
    assert registered({"country": "IN", "sender": SENDER, "profile": PROFILE})


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({**SENDER, "entity_id": "120116000000000001"}, "19 digits"),
        ({**SENDER, "entity_id": "12011600000000000012"}, "19 digits"),
        ({**SENDER, "entity_id": "１２０１１６００００００００００００１"}, "19 digits"),  # full-width digits
        ({**SENDER, "entity_id": 1201160000000000001}, "19 digits"),
        ({**SENDER, "sender_id": "sgate"}, "capital letters"),
        ({**SENDER, "sender_id": "TOOLONGHEADER"}, "capital letters"),
        ({**SENDER, "operator": "  "}, "operator"),
        ({**SENDER, "sender_unique_id": "has space"}, "sender_unique_id"),
        ({**SENDER, "entity_name": ""}, "entity_name"),
        ({k: v for k, v in SENDER.items() if k != "operator"}, "required"),
        ({**SENDER, "pin": "x"}, "unknown"),
        ("SGATE", "object"),
    ],
)
def test_bad_sender_fields_are_refused(body: Any, message: str) -> None:
    """Each rule of the DLT registration answers 400 naming the field."""
    with pytest.raises(BadRequest, match=message):
        sender(body)


@pytest.mark.parametrize(
    ("body", "country", "message"),
    [
        ({"postal_code": "56001"}, "IN", "PIN"),
        ({"postal_code": "060001"}, "IN", "PIN"),
        ({"postal_code": "!"}, "JP", "postal_code"),
        ({"city": ""}, "IN", "city"),
        ({"legal_name": "x" * 201}, "IN", "legal_name"),
        ({"address": "x"}, "IN", "unknown"),
    ],
)
def test_bad_profile_fields_are_refused(body: dict[str, Any], country: str, message: str) -> None:
    """Profile fields are bounded non-empty strings; an IN postal code is a 6-digit PIN."""
    with pytest.raises(BadRequest, match=message):
        profile(body, None, country)


def test_profile_merges_and_null_removes() -> None:
    """A partial profile keeps the stored fields; null removes one."""
    merged = profile({"city": "Pune", "postal_code": None}, PROFILE, "IN")
    assert merged == {**{k: v for k, v in PROFILE.items() if k != "postal_code"}, "city": "Pune"}
    assert profile({"postal_code": "100-0001"}, None, "JP") == {"postal_code": "100-0001"}


def test_missing_lists_what_an_indian_org_lacks() -> None:
    """Only IN orgs need it; the three fields SPEC names are enough to send, the rest stays listed."""
    assert missing({"country": "JP"}) == [] and registered({"country": "JP"})
    partial = {"country": "IN", "sender": {k: SENDER[k] for k in ("sender_id", "entity_id", "operator")}}
    assert missing(partial) == [
        "sender.entity_name",
        "sender.sender_unique_id",
        *(f"profile.{k}" for k in PROFILE),
    ]
    assert registered(partial)
    assert not registered({"country": "IN", "sender": {"sender_id": "SGATE", "operator": "Jio"}})


def test_org_put_validates_and_echoes_registration() -> None:
    """PUT org takes sender and profile; the public org shows what is still missing (IN only)."""
    rec = merge_org("in-org", {"country": "IN", "sender": SENDER}, None)
    assert public_org(rec)["sender_registration"] == {"missing": [f"profile.{k}" for k in PROFILE]}
    rec = merge_org("in-org", {"profile": PROFILE}, rec)
    shown = public_org(rec)
    assert shown["sender"] == SENDER and shown["profile"] == PROFILE
    assert shown["sender_registration"] == {"missing": []}
    assert "sender_registration" not in public_org(merge_org("jp-org", {"country": "JP"}, None))
    with pytest.raises(BadRequest, match="PIN"):
        merge_org("in-org", {"profile": {"postal_code": "1234"}}, rec)
