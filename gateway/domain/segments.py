"""Contact segments: the definition a ``PUT .../segments/{id}`` body makes, and who is in one. Pure.

``match`` is an object of equalities that must all hold: ``kind``, ``owner``, ``company``,
``marketing`` or ``fields.<name>`` (a custom field). An empty ``match`` is every contact.
A value compares equal to the contact's by JSON equality (``"1"`` is not ``1``; ``true`` is not ``1``).
"""

from __future__ import annotations

import hashlib
from typing import Any

from gateway.domain.errors import ApiError, BadRequest
from gateway.domain.notifications import RANK
from gateway.domain.tenancy import FIELD_NAME, RECORD_ID, check_id

MATCH_KEYS = ("kind", "owner", "company", "marketing")
MAX_CONDITIONS = 20
MAX_VALUE = 1000


def _value(key: str, value: Any) -> Any:
    if key == "marketing" and not isinstance(value, bool):
        raise BadRequest("'match.marketing' must be true or false", code="invalid_field")
    if key == "kind" and value not in ("lead", "contact"):
        raise BadRequest("'match.kind' must be lead or contact", code="invalid_field")
    if key == "owner" and value is not None:
        check_id("owner", value)
    if isinstance(value, str) and len(value) > MAX_VALUE:
        raise BadRequest(f"'match.{key}' is longer than {MAX_VALUE} characters", code="invalid_field")
    if value is not None and not isinstance(value, str | bool | int | float):
        raise BadRequest(f"'match.{key}' must be a string, a number, a bool or null", code="invalid_field")
    return value


def parse_match(match: Any) -> dict[str, Any]:
    if not isinstance(match, dict):
        raise BadRequest("'match' must be an object", code="invalid_field")
    if len(match) > MAX_CONDITIONS:
        raise BadRequest(f"'match' has at most {MAX_CONDITIONS} conditions", code="invalid_field")
    out = {}
    for key, value in match.items():
        name = key[len("fields.") :] if key.startswith("fields.") else None
        if key not in MATCH_KEYS and (name is None or not FIELD_NAME.fullmatch(name)):
            raise BadRequest(
                f"unknown match key {key!r}: use {', '.join(MATCH_KEYS)} or fields.<name>", code="unknown_field"
            )
        out[key] = _value(key, value)
    return out


def parse_segment(segment_id: str, body: Any) -> dict[str, Any]:
    """A ``PUT .../segments/{id}`` body into the stored segment (the whole definition is replaced)."""
    check_id("segment", segment_id, RECORD_ID)
    if not isinstance(body, dict):
        raise BadRequest("body must be a JSON object", code="invalid_body")
    unknown = sorted(set(body) - {"name", "match"})
    if unknown:
        raise BadRequest(f"unknown segment field(s): {', '.join(unknown)}", code="unknown_field")
    name = body.get("name", segment_id)
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        raise BadRequest("'name' must be a non-empty string of at most 200 characters", code="invalid_field")
    if "match" not in body:
        raise BadRequest("'match' is required", code="invalid_field")
    return {"id": segment_id, "name": name, "match": parse_match(body["match"])}


def _same(a: Any, b: Any) -> bool:
    # bool is an int in Python: keep true and 1 apart, as JSON does.
    return type(a) is type(b) and a == b if isinstance(a, bool) or isinstance(b, bool) else a == b


def matches(match: dict[str, Any], contact: dict[str, Any]) -> bool:
    """Whether ``contact`` (a stored record) is in the segment ``match`` describes."""
    fields = contact.get("fields") or {}
    for key, want in match.items():
        have = fields.get(key[len("fields.") :]) if key.startswith("fields.") else contact.get(key)
        if not _same(have, want):
            return False
    return True


# -- segment sends ----------------------------------------------------------------------------------
# A segment send ("fan-out") makes one notification per member; the member notifications carry the
# send's key and the rank from which they count as done (``sent`` and every outcome: delivered,
# read, undelivered, failed, bounced, rejected, cancelled), and the step that first gives one such
# a status also counts it in the send's ``done`` (see gateway/store/lua/fanout_done.lua).
DONE_RANK = RANK["sent"]
DONE_STATUSES = frozenset(s for s, rank in RANK.items() if rank >= DONE_RANK)
# What a send gives each member: the email body of ``to: {segment}``, or an SMS notification.
EMAIL = "email"
SMS_NOTIFICATION = "sms_notification"
# A member's key is ``<key>:<contact id>`` (contact ids are at most 64 characters) and must fit a
# notification's 200-character idempotency key.
MAX_SEGMENT_KEY = 135


def is_segment_send(body: dict[str, Any]) -> bool:
    to = body.get("to")
    return isinstance(to, dict) and "segment" in to


def member_key(key: str, contact: str) -> str:
    return f"{key}:{contact}"


def fanout_id(org: str, key: str) -> str:
    """The segment send's id: fixed by the idempotency key, so a repeated request finds it."""
    return "fo_" + hashlib.sha256(f"{org}\x00{key}".encode()).hexdigest()[:24]


def segment_send(body: dict[str, Any], fallback_key: str) -> tuple[str, str, dict[str, Any]]:
    """(segment id, idempotency key, the body of each member's send without ``to``) of a
    ``to: {segment}`` request; only email of kind ``mass`` may go to a segment (else 400)."""
    to = body["to"]
    if len(to) != 1:
        raise BadRequest("'to' must name exactly one target", code="invalid_field")
    segment = check_id("segment", to["segment"])
    if body.get("channel") != "email" or body.get("kind") != "mass":
        raise BadRequest(
            "a segment can only be sent email of kind mass ('channel': 'email', 'kind': 'mass')", code="invalid_field"
        )
    key = body.get("idempotency_key", fallback_key)
    if not isinstance(key, str) or not 0 < len(key) <= MAX_SEGMENT_KEY:
        raise BadRequest(
            f"'idempotency_key' of a segment send must be a string of 1-{MAX_SEGMENT_KEY} characters",
            code="invalid_field",
        )
    member = {k: v for k, v in body.items() if k != "to"} | {"idempotency_key": key}
    return segment, key, member


def new_fanout(segment: str, key: str, created_at: str, **what: Any) -> dict[str, Any]:
    """The fields of a new segment send of ``segment``: ``body`` (an email member's send without
    ``to``) or ``sms_notification`` (the definition, as it is now) with ``data``."""
    kind = SMS_NOTIFICATION if "sms_notification" in what else EMAIL
    return {"kind": kind, "segment": segment, "key": key, **what, "cursor": None, "step": 0, "total": 0,
            "enqueued": 0, "skipped": 0, "done": 0, "status": "queued", "created_at": created_at}  # fmt: skip


def _what(rec: dict[str, Any]) -> tuple[Any, ...]:
    definition = rec.get("sms_notification")
    return rec.get("kind", EMAIL), rec.get("segment"), definition["id"] if isinstance(definition, dict) else None


def reuse_problem(stored: dict[str, Any], wanted: dict[str, Any]) -> None:
    """409 ``idempotency_key_reused`` when the send found by the key sends something else (another
    segment, channel or SMS notification): the key names one send, not a new one."""
    if _what(stored) != _what(wanted):
        raise ApiError(
            "this idempotency_key names another segment send (other segment, channel or SMS notification)",
            code="idempotency_key_reused",
            status=409,
        )


def public_fanout(rec: dict[str, Any]) -> dict[str, Any]:
    """A segment send as the API shows it (``GET .../fanouts/{id}``)."""
    out: dict[str, Any] = {
        k: rec[k] for k in ("id", "segment", "status", "total", "enqueued", "created_at") if k in rec
    }
    out["kind"] = rec.get("kind", EMAIL)
    definition = rec.get("sms_notification")
    if isinstance(definition, dict):
        out["sms_notification"] = definition["id"]
    out["skipped"] = int(rec.get("skipped") or 0)
    out["done"] = int(rec.get("done") or 0)
    out["idempotency_key"] = rec.get("key")
    if rec.get("reason"):
        out["reason"] = rec["reason"]
    return out
