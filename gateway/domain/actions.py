"""Actions a user takes on a signal (``POST /api/v1/me/actions``): the request, the number a reply
goes to, the send it makes and what the signal records. Pure.

The send itself is an ordinary notification (same rules, credits and idempotency as ``POST
/api/v1/orgs/{org}/notifications``); this module only shapes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import phonenumbers

from gateway.domain import streamid
from gateway.domain.errors import BadRequest
from gateway.domain.events import MAX_JSON_DEPTH, json_depth
from gateway.domain.signals import iso_utc
from gateway.domain.tenancy import RECORD_ID

ACTIONS = ("sms",)
MAX_KEY = 100  # the user's key; namespaced it must still fit a notification's 200-character key
_ALLOWED = {"signal", "action", "template", "data", "idempotency_key"}
_MOBILE = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)


@dataclass(frozen=True)
class ActionRequest:
    signal: str
    action: str
    template: str
    data: dict[str, Any] = field(default_factory=dict)
    idempotency_key: str | None = None


def _invalid(detail: str) -> BadRequest:
    return BadRequest(detail, code="invalid_field")


def parse_action(body: dict[str, Any]) -> ActionRequest:
    """The action a request body asks for, else 400 (``unknown_field`` / ``invalid_field``)."""
    unknown = sorted(set(body) - _ALLOWED)
    if unknown:
        raise BadRequest(f"unknown field(s): {', '.join(unknown)}", code="unknown_field")
    if not streamid.is_valid(body.get("signal")):
        raise _invalid("'signal' must be a signal id like 1732540000000-0")
    if body.get("action") not in ACTIONS:
        raise _invalid(f"'action' must be one of {', '.join(ACTIONS)}")
    template = body.get("template")
    if not isinstance(template, str) or not RECORD_ID.fullmatch(template):
        raise _invalid("'template' must be a template id")
    data = body.get("data", {})
    if not isinstance(data, dict) or json_depth(data) > MAX_JSON_DEPTH:
        raise _invalid(f"'data' must be an object of merge fields, nested at most {MAX_JSON_DEPTH} levels")
    key = body.get("idempotency_key")
    if key is not None and (not isinstance(key, str) or not 0 < len(key) <= MAX_KEY):
        raise _invalid(f"'idempotency_key' must be a string of 1-{MAX_KEY} characters")
    return ActionRequest(body["signal"], body["action"], template, data, key)


def _number(phone: Any) -> tuple[str, str | None]:
    """(number, declared type) of a contact phone: an E.164 string or ``{"number", "type"}``."""
    if isinstance(phone, dict):
        return str(phone.get("number") or ""), phone.get("type")
    return str(phone), None


def _is_mobile(number: str, declared: str | None) -> bool:
    if declared is not None:
        return declared == "mobile"
    try:
        return phonenumbers.number_type(phonenumbers.parse(number)) in _MOBILE
    except phonenumbers.NumberParseException:
        return False


def reply_phone(phones: list[Any]) -> str | None:
    """Where an SMS to a contact goes: its first mobile number, else its first number, else None."""
    numbers = [_number(p) for p in phones]
    numbers = [(n, t) for n, t in numbers if n]
    for number, declared in numbers:
        if _is_mobile(number, declared):
            return number
    return numbers[0][0] if numbers else None


def action_key(user: str, key: str | None) -> str | None:
    """The notification's idempotency key: the user's own, namespaced per user (two users' keys
    never meet), or None for a send that is not to be deduplicated."""
    return None if key is None else f"action:{user}:{key}"


def sms_send(req: ActionRequest, user: str, contact_id: str) -> dict[str, Any]:
    """The ``POST .../notifications`` body the action makes: an individual SMS sent by ``user``."""
    return {
        "channel": "sms",
        "template": req.template,
        "to": {"contact": contact_id},
        "data": req.data,
        "kind": "individual",
        "idempotency_key": action_key(user, req.idempotency_key),
        "sender": user,
    }


def acted(action: str, notification: str, at_ms: int) -> dict[str, str]:
    """What a signal records about the action taken on it (``signal["acted"]``)."""
    return {"action": action, "notification": notification, "at": iso_utc(at_ms)}
