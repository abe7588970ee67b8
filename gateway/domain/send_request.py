"""Validation of a send request (REST body or arq job kwargs) into a notification record. Pure.

Rules that depend on state (template approved, credits, daily caps, sender registration) are
checked at send time by the worker, atomically; this only checks shape.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from gateway.domain.addresses import InvalidAddress, email_address
from gateway.domain.errors import BadRequest
from gateway.domain.events import MAX_JSON_DEPTH, json_depth
from gateway.domain.notifications import notification_id
from gateway.domain.tenancy import RECORD_ID, check_id

KINDS = ("individual", "mass", "auto", "scheduled", "macro")
TARGETS = ("contact", "user", "phone", "email")
# The target a channel cannot reach: an email has no phone number to go to, an SMS no address.
UNREACHABLE = {
    "email": ("phone", "an email", "{email}, {contact} or {user}"),
    "sms": ("email", "an SMS", "{phone}, {contact} or {user}"),
}
ALLOWED = {"channel", "template", "to", "data", "kind", "idempotency_key", "send_at", "sender"}
MAX_KEY = 200
# Times a send or reminder may be scheduled at: a past time means "now"; beyond 2100 is a mistake.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def parse_send_at(value: Any, name: str = "send_at") -> datetime | None:
    """An ISO 8601 date-time with an offset, in UTC, between :data:`EARLIEST` and :data:`LATEST`."""
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 64:
        raise BadRequest(f"'{name}' must be an ISO 8601 date-time", code="invalid_field")
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"'{name}' is not an ISO 8601 date-time: {value!r}", code="invalid_field") from None
    if at.tzinfo is None:
        raise BadRequest(f"'{name}' needs a time zone offset (e.g. 2026-12-01T09:00:00+09:00)", code="invalid_field")
    try:
        # Year 1 or 9999 with an offset can fall outside what a datetime holds once in UTC, and
        # a time that far out cannot be scheduled (arq keeps milliseconds since 1970) anyway.
        utc = at.astimezone(UTC)
    except OverflowError:
        utc = None
    if utc is None or not EARLIEST <= utc <= LATEST:
        raise BadRequest(f"'{name}' must be between {EARLIEST.year} and {LATEST.year}: {value!r}", code="invalid_field")
    return utc


def _target(value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or len(value) != 1 or next(iter(value)) not in TARGETS:
        raise BadRequest("'to' must be one of {contact}, {user}, {phone}, {email}", code="invalid_field")
    kind, target = next(iter(value.items()))
    if not isinstance(target, str) or not target or len(target) > 254:
        raise BadRequest(f"'to.{kind}' must be a non-empty string", code="invalid_field")
    if kind in ("contact", "user"):
        check_id(kind, target)
    elif kind == "email":
        try:
            target = email_address(target.strip())
        except InvalidAddress as exc:
            raise BadRequest(f"'to.email' is not one email address: {exc}", code="invalid_field") from None
    elif any(c in target for c in "\r\n\x00"):
        raise BadRequest(f"'to.{kind}' cannot contain line breaks", code="invalid_field")
    return {kind: target}


def send_record(org: str, channel: Any, body: dict[str, Any], fallback_key: str | None = None) -> dict[str, Any]:
    """Check a send request; returns the notification record to create (status set later)."""
    unknown = sorted(set(body) - ALLOWED)
    if unknown:
        raise BadRequest(f"unknown field(s): {', '.join(unknown)}", code="unknown_field")
    if channel not in ("sms", "email"):
        raise BadRequest("'channel' must be sms or email", code="invalid_field")
    template = body.get("template")
    if not isinstance(template, str) or not RECORD_ID.fullmatch(template):
        raise BadRequest("'template' must be a template id", code="invalid_field")
    data = body.get("data", {})
    if not isinstance(data, dict):
        raise BadRequest("'data' must be an object of merge fields", code="invalid_field")
    if json_depth(data) > MAX_JSON_DEPTH:
        raise BadRequest(f"'data' nests deeper than {MAX_JSON_DEPTH} levels", code="invalid_field")
    kind = body.get("kind", "individual")
    if kind not in KINDS:
        raise BadRequest(f"'kind' must be one of {', '.join(KINDS)}", code="invalid_field")
    key = body.get("idempotency_key")
    if key is not None and (not isinstance(key, str) or not key or len(key) > MAX_KEY):
        raise BadRequest(f"'idempotency_key' must be a string of 1-{MAX_KEY} characters", code="invalid_field")
    sender = body.get("sender")
    if sender is not None:
        check_id("sender", sender)
    send_at = parse_send_at(body.get("send_at"))
    to = _target(body.get("to"))
    unreachable, what, use = UNREACHABLE[channel]
    if unreachable in to:
        raise BadRequest(f"'to.{unreachable}' cannot receive {what}: use {use}", code="invalid_field")
    key = key or fallback_key
    return {
        "id": notification_id(org, key),
        "org": org,
        "channel": channel,
        "template": template,
        "to": to,
        "data": data,
        "kind": kind,
        "idempotency_key": key,
        "sender": sender,
        "send_at": send_at.isoformat() if send_at else None,
    }
