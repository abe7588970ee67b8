"""Automation rules, the pure parts: validation, the router's index, recipients, keys, timers."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from gateway.domain.automation import (
    UNREAD_FOR_MAX,
    Fired,
    Rule,
    due_at_ms,
    fired,
    fires_on_replay,
    idempotency_key,
    index_rules,
    parse_rule,
    recipient,
    send_body,
    still_applies,
)
from gateway.domain.errors import BadRequest
from gateway.domain.send_request import send_record

ACTION = {"channel": "sms", "template": "t1", "to": "contact"}


def _rule(**extra: Any) -> dict[str, Any]:
    return {"on": "call.missed", "action": dict(ACTION), **extra}


def test_parse_rule_keeps_what_is_given_and_defaults_enabled() -> None:
    rec = parse_rule("r1", _rule(unread_for=600, name="不在着信"))
    assert rec == {"id": "r1", "on": "call.missed", "name": "不在着信", "unread_for": 600, "action": ACTION,
                   "enabled": True}  # fmt: skip
    assert parse_rule("r1", _rule(enabled=False))["enabled"] is False
    assert parse_rule("r1", {**_rule(), "action": {**ACTION, "to": {"user": "u2"}}})["action"]["to"] == {"user": "u2"}


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        _rule(on="call.nope"),
        _rule(on=None),
        _rule(unread_for=0),
        _rule(unread_for=UNREAD_FOR_MAX + 1),
        _rule(unread_for=True),
        _rule(unread_for=1.5),
        _rule(enabled="yes"),
        _rule(extra=1),
        {"on": "call.missed"},
        {"on": "call.missed", "action": {**ACTION, "channel": "fax"}},
        {"on": "call.missed", "action": {**ACTION, "template": "bad id!"}},
        {"on": "call.missed", "action": {**ACTION, "to": "everyone"}},
        {"on": "call.missed", "action": {**ACTION, "to": {"user": "u1", "x": 1}}},
        {"on": "call.missed", "action": {**ACTION, "to": {"user": "../u"}}},
        {"on": "call.missed", "action": {**ACTION, "cc": "u1"}},
    ],
)
def test_parse_rule_refuses_bad_bodies(body: Any) -> None:
    with pytest.raises(BadRequest):
        parse_rule("r1", body)


def test_parse_rule_refuses_a_bad_id() -> None:
    with pytest.raises(BadRequest):
        parse_rule("a b", _rule())


def test_index_rules_groups_enabled_rules_by_type_and_skips_junk() -> None:
    def stored(rid: str, **extra: Any) -> bytes:
        return orjson.dumps(parse_rule(rid, _rule(**extra)) | {"created_ms": 5})

    raw = {
        "b": stored("b").decode(),
        "a": stored("a", unread_for=60).decode(),
        "off": stored("off", enabled=False).decode(),
        "s": orjson.dumps(parse_rule("s", {**_rule(), "on": "sms.received"})).decode(),
        "junk": "not json",
        "partial": "{}",
    }
    index = index_rules(raw)
    assert set(index) == {"call.missed", "sms.received"}
    assert [r.id for r in index["call.missed"]] == ["a", "b"]
    assert index["call.missed"][0].unread_for == 60 and index["call.missed"][0].created_ms == 5
    assert index_rules({}) == {}


def test_recipient_resolution() -> None:
    assert recipient("contact", "c1", "u9", "u1") == {"contact": "c1"}
    assert recipient("contact", None, None, "u1") is None  # a signal without a contact: nobody to text
    assert recipient("owner", "c1", "u9", "u1") == {"user": "u9"}
    assert recipient("owner", None, None, "u1") == {"user": "u1"}  # no contact: the signal's user
    assert recipient({"user": "u5"}, "c1", "u9", "u1") == {"user": "u5"}


def test_idempotency_key_is_per_rule_user_and_signal() -> None:
    keys = {idempotency_key(r, u, s) for r in ("r1", "r2") for u in ("u1", "u2") for s in ("1-0", "2-0")}
    assert len(keys) == 8
    assert idempotency_key("r1", "u1", "1-0") == idempotency_key("r1", "u1", "1-0")


def test_fired_round_trips_through_a_timer_ref_and_makes_a_valid_send() -> None:
    rule = Rule.of(parse_rule("r1", _rule(unread_for=60)) | {"created_ms": 0})
    contact = {"id": "c1", "name": "山田 太郎", "owner": "u1", "phones": []}
    what = fired(rule, "1700000000000-0", "call.missed", contact, "不在着信" * 100)
    assert len(what.title) == 200
    assert Fired.from_ref(what.ref()) == what
    assert Fired.from_ref("junk") is None and Fired.from_ref('["a"]') is None
    assert Fired.from_ref('["r", "1-0", "t", 5, null, "", ""]') is None
    body = send_body(rule, what, "u1", {"contact": "c1"})
    rec = send_record("acme", "sms", body)  # what the worker accepts
    assert rec["kind"] == "auto" and rec["idempotency_key"] == "rule:r1:u1:1700000000000-0"
    assert body["data"]["contact_name"] == "山田 太郎"
    assert fired(rule, "1-0", "call.missed", None, "").contact is None


def test_timers_are_deterministic_and_cancelled_by_rule_changes() -> None:
    assert due_at_ms("1700000000000-3", 60) == 1700000060000
    rule = Rule.of(parse_rule("r1", _rule(unread_for=60)) | {"created_ms": 1700000000000})
    what = fired(rule, "1700000000001-0", "call.missed", None, "")
    assert still_applies(rule, what)
    assert not still_applies(None, what)  # deleted
    assert not still_applies(Rule.of(parse_rule("r1", _rule(unread_for=60, enabled=False))), what)
    assert not still_applies(Rule.of(parse_rule("r1", _rule())), what)  # no longer escalates
    assert not still_applies(Rule.of(parse_rule("r1", {**_rule(unread_for=60), "on": "sms.received"})), what)
    assert fires_on_replay(rule, "1700000000001-0")
    assert not fires_on_replay(rule, "1699999999999-0")  # the signal predates the rule
