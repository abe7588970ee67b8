"""Unit tests for gateway.domain.segments: segment definitions, the matcher, segment sends."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.domain.errors import ApiError, BadRequest
from gateway.domain.segments import (
    DONE_STATUSES,
    fanout_id,
    matches,
    new_fanout,
    parse_segment,
    public_fanout,
    reuse_problem,
    segment_send,
)

KANSAI: dict[str, Any] = {
    "id": "c1",
    "kind": "lead",
    "owner": "u1",
    "company": "大阪商事",
    "marketing": True,
    "fields": {"region": "関西", "employees": 40, "vip": True},
}


@pytest.mark.parametrize(
    ("match", "expected"),
    [
        ({}, True),
        ({"kind": "lead"}, True),
        ({"kind": "contact"}, False),
        ({"owner": "u1", "marketing": True}, True),
        ({"owner": "u1", "marketing": False}, False),
        ({"company": "大阪商事"}, True),
        ({"fields.region": "関西"}, True),
        ({"fields.region": "関東"}, False),
        ({"fields.employees": 40}, True),
        ({"fields.employees": "40"}, False),
        ({"fields.vip": True}, True),
        ({"fields.vip": 1}, False),
        ({"fields.missing": "x"}, False),
        ({"fields.region": "関西", "kind": "contact"}, False),
    ],
)
def test_matcher_is_equality_on_every_key(match: dict[str, Any], expected: bool) -> None:
    assert matches(match, KANSAI) is expected


def test_missing_fields_and_company_do_not_match_values() -> None:
    bare = {"id": "c2", "kind": "contact", "owner": None, "marketing": False}
    assert not matches({"fields.region": "関西"}, bare)
    assert matches({"owner": None}, bare)


def test_parse_segment_keeps_name_and_match() -> None:
    rec = parse_segment("kansai", {"name": "関西のリード", "match": {"fields.region": "関西", "kind": "lead"}})
    assert rec == {"id": "kansai", "name": "関西のリード", "match": {"fields.region": "関西", "kind": "lead"}}


@pytest.mark.parametrize(
    ("body", "code", "names"),
    [
        ({"match": {"region": "関西"}}, "unknown_field", "'region'"),
        ({"match": {"fields.": "x"}}, "unknown_field", "'fields.'"),
        ({"match": {"marketing": "yes"}}, "invalid_field", "marketing"),
        ({"match": {"kind": "customer"}}, "invalid_field", "kind"),
        ({"match": {"company": ["a"]}}, "invalid_field", "company"),
        ({"match": []}, "invalid_field", "match"),
        ({"name": "x"}, "invalid_field", "match"),
        ({"match": {}, "extra": 1}, "unknown_field", "extra"),
    ],
)
def test_parse_segment_refuses(body: dict[str, Any], code: str, names: str) -> None:
    with pytest.raises(BadRequest) as info:
        parse_segment("s1", body)
    assert info.value.code == code and names in info.value.detail


def test_segment_send_needs_email_mass_and_a_short_key() -> None:
    body = {"channel": "email", "kind": "mass", "template": "t1", "to": {"segment": "s1"}, "idempotency_key": "k"}
    assert segment_send(body, "fallback") == ("s1", "k", {k: v for k, v in body.items() if k != "to"})
    for bad in ({"kind": "individual"}, {"channel": "sms"}, {"idempotency_key": "k" * 136}, {"to": {"segment": "a b"}}):
        with pytest.raises(BadRequest):
            segment_send(body | bad, "fallback")
    assert fanout_id("acme", "k") == fanout_id("acme", "k") != fanout_id("acme2", "k")


def test_a_member_is_done_from_sent_on() -> None:
    assert DONE_STATUSES == {"sent", "delivered", "read", "undelivered", "failed", "bounced", "rejected", "cancelled"}


def test_fanout_record_public_view_and_key_reuse() -> None:
    sms = new_fanout("s1", "k", "2030-01-01T00:00:00Z", sms_notification={"id": "follow"}, data={"a": 1})
    email = new_fanout("s1", "k", "2030-01-01T00:00:00Z", body={"channel": "email"})
    assert (sms["kind"], email["kind"]) == ("sms_notification", "email")
    shown = public_fanout({"id": "fo_1", **sms, "done": "3"})
    assert shown == {"id": "fo_1", "kind": "sms_notification", "sms_notification": "follow", "segment": "s1",
                     "status": "queued", "total": 0, "enqueued": 0, "skipped": 0, "done": 3,
                     "created_at": "2030-01-01T00:00:00Z", "idempotency_key": "k"}  # fmt: skip
    old = {k: v for k, v in email.items() if k not in ("kind", "skipped", "done")}  # made before either existed
    assert public_fanout(old)["kind"] == "email" and public_fanout(old)["done"] == 0
    reuse_problem(old, email)
    reuse_problem(sms, dict(sms, data={"b": 2}))  # the same send: the first request's data stands
    for other in (email, dict(sms, segment="s2"), dict(sms, sms_notification={"id": "other"})):
        with pytest.raises(ApiError) as info:
            reuse_problem(sms, other)
        assert (info.value.status, info.value.code) == (409, "idempotency_key_reused")
