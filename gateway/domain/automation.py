"""Automation rules: when a signal of a type is created (or stays unread for a while), send one
message about it. Pure: validation, the router's index, who a message goes to, the idempotency
key that makes a rule fire once per signal, and the timer reference of an ``unread_for`` rule.

A rule is ``{"on": "<signal type>", "unread_for": seconds (optional), "action": {"channel":
"sms"|"email", "template": id, "to": "contact" | "owner" | {"user": id}}, "enabled": bool}``.
Without ``unread_for`` it fires when a signal of that type is *created* (a new signal, never a
grouped repeat); with it, it fires only if the signal is still unread ``unread_for`` seconds
after it was created (unread anywhere: an archived or snoozed signal that was never read still
counts as unread).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from gateway.domain import streamid
from gateway.domain.errors import BadRequest
from gateway.domain.signals import SIGNAL_TYPE_SET
from gateway.domain.tenancy import check_id

# ``unread_for`` bounds (seconds): at least 1 s (short escalations are testable and harmless: the
# timer is a Redis sorted-set entry the waker polls every half second), at most 7 days (a feed keeps
# signals at least 7 days, so an older one may be gone when its timer fires).
UNREAD_FOR_MIN = 1
UNREAD_FOR_MAX = 7 * 86400
MAX_RULES = 100  # per org: the router reads them all with the org on every cache refill
TARGETS = ("contact", "owner")
CHANNELS = ("sms", "email")
_FIELDS = {"on", "unread_for", "action", "enabled", "name"}
_ACTION_FIELDS = {"channel", "template", "to"}
TIMER_KIND = "rule"  # the due-set kind of an ``unread_for`` timer
MAX_TITLE = 200  # characters of a signal's title carried into the merge data


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    on: str
    channel: str
    template: str
    to: str | dict[str, str]
    enabled: bool = True
    unread_for: int | None = None
    created_ms: int = 0

    @classmethod
    def of(cls, rec: dict[str, Any]) -> Rule:
        action = rec["action"]
        return cls(
            id=str(rec["id"]),
            on=str(rec["on"]),
            channel=str(action["channel"]),
            template=str(action["template"]),
            to=action["to"],
            enabled=bool(rec.get("enabled", True)),
            unread_for=rec.get("unread_for"),
            created_ms=int(rec.get("created_ms", 0)),
        )


def _target(value: Any) -> str | dict[str, str]:
    if isinstance(value, str) and value in TARGETS:
        return value
    if isinstance(value, dict) and set(value) == {"user"}:
        return {"user": check_id("user", value["user"])}
    raise BadRequest('\'action.to\' must be "contact", "owner" or {"user": id}', code="invalid_field")


def parse_rule(rule_id: str, body: Any) -> dict[str, Any]:
    """A ``PUT .../rules/{id}`` body validated into the stored record (without times)."""
    check_id("rule", rule_id)
    if not isinstance(body, dict):
        raise BadRequest("body must be a JSON object", code="invalid_body")
    unknown = sorted(set(body) - _FIELDS)
    if unknown:
        raise BadRequest(f"unknown rule field(s): {', '.join(unknown)}", code="unknown_field")
    on = body.get("on")
    if not isinstance(on, str) or on not in SIGNAL_TYPE_SET:
        raise BadRequest("'on' must be a signal type", code="invalid_field")
    rec: dict[str, Any] = {"id": rule_id, "on": on}
    if "name" in body:
        name = body["name"]
        if not isinstance(name, str) or len(name) > 200:
            raise BadRequest("'name' must be a string of at most 200 characters", code="invalid_field")
        rec["name"] = name
    unread_for = body.get("unread_for")
    if unread_for is not None:
        if isinstance(unread_for, bool) or not isinstance(unread_for, int):
            raise BadRequest("'unread_for' must be a whole number of seconds", code="invalid_field")
        if not UNREAD_FOR_MIN <= unread_for <= UNREAD_FOR_MAX:
            raise BadRequest(
                f"'unread_for' must be between {UNREAD_FOR_MIN} and {UNREAD_FOR_MAX} seconds", code="invalid_field"
            )
        rec["unread_for"] = unread_for
    action = body.get("action")
    if not isinstance(action, dict):
        raise BadRequest("'action' must be an object {channel, template, to}", code="invalid_field")
    unknown = sorted(set(action) - _ACTION_FIELDS)
    if unknown:
        raise BadRequest(f"unknown action field(s): {', '.join(unknown)}", code="unknown_field")
    if action.get("channel") not in CHANNELS:
        raise BadRequest("'action.channel' must be sms or email", code="invalid_field")
    rec["action"] = {
        "channel": action["channel"],
        "template": check_id("template", action.get("template")),
        "to": _target(action.get("to")),
    }
    enabled = body.get("enabled", True)
    if not isinstance(enabled, bool):
        raise BadRequest("'enabled' must be true or false", code="invalid_field")
    rec["enabled"] = enabled
    return rec


def index_rules(raw: dict[str, str]) -> dict[str, tuple[Rule, ...]]:
    """The org's enabled rules by signal type (what the router looks up per new signal); records
    that do not parse are skipped (a rule is validated when it is written)."""
    out: dict[str, list[Rule]] = {}
    for value in raw.values():
        try:
            rule = Rule.of(orjson.loads(value))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            continue
        if rule.enabled:
            out.setdefault(rule.on, []).append(rule)
    return {on: tuple(sorted(rules, key=lambda r: r.id)) for on, rules in out.items()}


def recipient(to: str | dict[str, str], contact: str | None, owner: str | None, user: str) -> dict[str, str] | None:
    """The send's ``to`` for a signal: ``contact`` → the signal's contact (None without one: no
    message); ``owner`` → the contact's owner, else the user whose feed the signal is in;
    ``{"user": id}`` → that user."""
    if isinstance(to, dict):
        return {"user": to["user"]}
    if to == "contact":
        return {"contact": contact} if contact else None
    return {"user": owner or user}


def idempotency_key(rule: str, user: str, signal_id: str) -> str:
    """One send per rule and signal (signal ids are per user feed, so the user is part of it)."""
    return f"rule:{rule}:{user}:{signal_id}"


@dataclass(frozen=True, slots=True)
class Fired:
    """What a rule firing needs to know of its signal (kept in an ``unread_for`` timer's ref)."""

    rule: str
    signal_id: str
    signal_type: str
    contact: str | None
    owner: str | None
    title: str
    contact_name: str

    def ref(self) -> str:
        return orjson.dumps(
            [self.rule, self.signal_id, self.signal_type, self.contact, self.owner, self.title, self.contact_name]
        ).decode()

    @classmethod
    def from_ref(cls, ref: str) -> Fired | None:
        try:
            raw = orjson.loads(ref)
            rule, sid, stype, contact, owner, title, name = raw
        except (orjson.JSONDecodeError, TypeError, ValueError):
            return None
        if not all(isinstance(x, str) for x in (rule, sid, stype, title, name)):
            return None
        if not all(x is None or isinstance(x, str) for x in (contact, owner)):
            return None
        return cls(rule, sid, stype, contact, owner, title, name)

    def merge_data(self, user: str) -> dict[str, str]:
        """The merge fields a rule's template may use."""
        return {
            "signal_type": self.signal_type,
            "title": self.title,
            "contact_name": self.contact_name,
            "contact_id": self.contact or "",
            "user": user,
        }


def fired(rule: Rule, signal_id: str, signal_type: str, contact: dict[str, Any] | None, title: str) -> Fired:
    return Fired(
        rule=rule.id,
        signal_id=signal_id,
        signal_type=signal_type,
        contact=str(contact["id"]) if contact else None,
        owner=str(contact["owner"]) if contact and contact.get("owner") else None,
        title=title[:MAX_TITLE],
        contact_name=str(contact.get("name", ""))[:MAX_TITLE] if contact else "",
    )


def due_at_ms(signal_id: str, unread_for: int) -> int:
    """When an ``unread_for`` timer fires: from the signal's creation (its id's time), so a
    replayed event computes the same entry."""
    return streamid.parse(signal_id)[0] + unread_for * 1000


def fires_on_replay(rule: Rule, signal_id: str) -> bool:
    """A replayed event (the feed write said ``duplicate``) fires its rules again — harmless, the
    send is idempotent — so a router that died between the feed write and the send loses nothing;
    but only rules that existed when the signal was created."""
    return streamid.parse(signal_id)[0] >= rule.created_ms


def send_body(rule: Rule, fired_: Fired, user: str, to: dict[str, str]) -> dict[str, Any]:
    """The send request (the body of ``POST .../notifications``)."""
    return {
        "channel": rule.channel,
        "template": rule.template,
        "to": to,
        "data": fired_.merge_data(user),
        "kind": "auto",
        "idempotency_key": idempotency_key(rule.id, user, fired_.signal_id),
    }


def still_applies(rule: Rule | None, fired_: Fired) -> bool:
    """At an ``unread_for`` timer: the rule still exists, is on, still watches this type and still
    escalates (deleting or disabling a rule cancels its pending timers)."""
    return rule is not None and rule.enabled and rule.on == fired_.signal_type and rule.unread_for is not None
