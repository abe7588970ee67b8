"""Unit tests for gateway.domain.sms_notifications (definitions, phone pick, trigger shape) and the
small pure rules beside it: reminder requests, a notification's first status, the SMS preview."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.domain.errors import ApiError, BadRequest
from gateway.domain.notifications import initial_status
from gateway.domain.reminders import parse_reminder, reminder_job_id
from gateway.domain.sms_notifications import (
    contact_send,
    member_send,
    parse_definition,
    parse_trigger,
    pick_phone,
    template_problem,
)
from gateway.domain.sms_segments import preview

PHONES: list[Any] = [
    {"number": "+81312345678", "type": "work"},
    {"number": "+819011112222", "type": "mobile"},
    {"number": "+81612345678", "type": "home"},
]


@pytest.mark.parametrize(
    ("field", "expected"),
    [("mobile", "+819011112222"), ("work", "+81312345678"), ("home", "+81612345678"), ("other", None),
     ("any", "+819011112222")],
)  # fmt: skip
def test_pick_phone_by_field(field: str, expected: str | None) -> None:
    assert pick_phone(PHONES, field) == expected


def test_pick_phone_types_bare_strings_and_falls_back_for_any() -> None:
    assert pick_phone(["+81312345678", "+819011112222"], "mobile") == "+819011112222"
    assert pick_phone(["+81312345678"], "any") == "+81312345678"
    assert pick_phone([], "any") is None


def test_definition_module_is_fixed() -> None:
    body = {"name": "n", "module": "deals", "phone_field": "mobile", "template": "t1"}
    rec = parse_definition("d1", body, None)
    assert rec == {"id": "d1", **body}
    assert parse_definition("d1", {"module": "deals", "name": "m"}, rec)["name"] == "m"
    with pytest.raises(ApiError) as exc:
        parse_definition("d1", {"module": "leads"}, rec)
    assert (exc.value.status, exc.value.code) == (409, "module_fixed")
    with pytest.raises(BadRequest):
        parse_definition("d1", {"name": "n"}, None)  # a creation needs every field
    with pytest.raises(BadRequest):
        parse_definition("d1", dict(body, phone_field="fax"), None)


def test_template_problem() -> None:
    ok = {"channel": "sms", "status": "approved", "module": "deals"}
    assert template_problem(ok, "deals") is None
    assert template_problem(ok, "leads") is not None
    assert template_problem(dict(ok, status="draft"), "deals") is not None
    assert template_problem(None, "deals") is not None


def test_trigger_shape() -> None:
    assert parse_trigger({"contacts": ["a", "b", "a"], "idempotency_key": "k"}) == (["a", "b"], None, {}, "k")
    assert parse_trigger({"segment": "s", "data": {"x": 1}}) == (None, "s", {"x": 1}, None)
    bads: list[dict[str, Any]] = [{}, {"contacts": []}, {"contacts": ["a"] * 1001}, {"contacts": ["a"], "segment": "s"}]
    for bad in bads:
        with pytest.raises(BadRequest):
            parse_trigger(bad)


def test_contact_send_is_keyed_per_contact_and_merges_the_contact() -> None:
    definition = {"template": "t1"}
    contact = {"id": "c1", "name": "佐藤", "company": "関西商事", "fields": {"region": "関西"}}
    body = contact_send(definition, contact, "+819011112222", {"note": "x"}, "k")
    assert body["idempotency_key"] == "k:c1" and body["to"] == {"phone": "+819011112222"}
    assert body["data"]["contact"]["fields"] == {"region": "関西"} and body["data"]["note"] == "x"


def test_member_send_skips_a_contact_without_a_phone_in_the_field() -> None:
    definition = {"id": "follow", "template": "t1", "phone_field": "mobile"}
    landline = {"id": "c1", "phones": [{"number": "+81312345678", "type": "work"}]}
    assert member_send(definition, landline, {}, "k") == (None, "no_phone_in_field")
    assert member_send(definition, {"id": "c2"}, {}, "k") == (None, "no_phone_in_field")
    body, why = member_send(definition, {"id": "c3", "phones": ["+819011112222"]}, {"x": 1}, "k")
    assert why is None and body is not None
    assert (body["to"], body["idempotency_key"], body["data"]["x"]) == ({"phone": "+819011112222"}, "k:c3", 1)


def test_reminder_requests() -> None:
    full = {"user": "u1", "activity": "call", "title": "t", "remind_at": "2026-12-01T09:00:00+09:00"}
    assert parse_reminder(full, partial=False)["remind_at"] == "2026-12-01T00:00:00+00:00"
    assert parse_reminder({"title": "new"}, partial=True) == {"title": "new"}
    with pytest.raises(BadRequest):
        parse_reminder({}, partial=True)
    with pytest.raises(BadRequest):
        parse_reminder({"title": "t"}, partial=False)
    assert reminder_job_id("o", "r", 2) != reminder_job_id("o", "r", 3)


def test_initial_status() -> None:
    assert initial_status(None, 0) == "queued"
    assert initial_status("2100-01-01T00:00:00+00:00", 0) == "scheduled"
    assert initial_status("2000-01-01T00:00:00+00:00", 2_000_000_000_000) == "queued"


def test_preview() -> None:
    assert preview("ご予約ありがとうございます。" * 5 + "!") == {
        "text": "ご予約ありがとうございます。" * 5 + "!",
        "encoding": "UCS-2",
        "segments": 2,
        "credits": 2,
    }
    assert preview("hello")["encoding"] == "GSM-7"
