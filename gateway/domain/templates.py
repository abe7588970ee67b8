"""SMS template approval lifecycle and template payload validation. Pure.

SMS templates move ``draft → pending → approved | rejected`` (submit, approve, reject); editing
the text of an approved one makes a new version that needs approval while the approved one keeps
serving (:mod:`gateway.domain.template_versions`). Email templates need no approval: they are
``approved`` from creation. ``module`` is fixed at creation.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from gateway.domain.errors import ApiError, BadRequest

TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "submit": (frozenset({"draft", "rejected"}), "pending"),
    "approve": (frozenset({"pending"}), "approved"),
    "reject": (frozenset({"pending"}), "rejected"),
}
_TEXT_FIELDS = ("body", "subject")
MAX_BODY = 20_000


class Conflict(ApiError):
    status = 409
    code = "invalid_transition"


def transition(template: dict[str, Any], action: str) -> str:
    """The status after ``action``, or :class:`Conflict` naming what is allowed."""
    if template["channel"] != "sms":
        raise Conflict("only SMS templates go through approval")
    allowed_from, target = TRANSITIONS[action]
    if template["status"] not in allowed_from:
        raise Conflict(
            f"cannot {action} a {template['status']} template (allowed from: {', '.join(sorted(allowed_from))})"
        )
    return target


def _text(body: dict[str, Any], key: str, limit: int) -> str:
    value = body[key]
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise BadRequest(f"'{key}' must be a non-empty string of at most {limit} characters", code="invalid_field")
    return value


def new_template(tid: str, body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise BadRequest("body must be a JSON object", code="invalid_body")
    unknown = sorted(set(body) - {"id", "channel", "name", "module", "body", "subject"})
    if unknown:
        raise BadRequest(f"unknown template field(s): {', '.join(unknown)}", code="unknown_field")
    channel = body.get("channel")
    if channel not in ("sms", "email"):
        raise BadRequest("'channel' must be sms or email", code="invalid_field")
    for key in ("name", "module", "body"):
        if key not in body:
            raise BadRequest(f"'{key}' is required", code="invalid_field")
    rec: dict[str, Any] = {
        "id": tid,
        "channel": channel,
        "name": _text(body, "name", 200),
        "module": _text(body, "module", 64),
        "body": _text(body, "body", MAX_BODY),
        "status": "draft" if channel == "sms" else "approved",
        "version": 1,
    }
    if channel == "email":
        if "subject" not in body:
            raise BadRequest("'subject' is required for email templates", code="invalid_field")
        rec["subject"] = _text(body, "subject", 500)
    elif "subject" in body:
        raise BadRequest("SMS templates have no subject", code="invalid_field")
    return rec


class Edit(NamedTuple):
    """A checked ``PUT .../templates/{id}`` body: the texts given, a new name, submit at once."""

    texts: dict[str, str]
    name: str | None
    submit: bool


def parse_edit(stored: dict[str, Any], body: Any) -> Edit:
    """Check an edit (what it does: :func:`gateway.domain.template_versions.edit`)."""
    if not isinstance(body, dict):
        raise BadRequest("body must be a JSON object", code="invalid_body")
    unknown = sorted(set(body) - {"name", "module", "body", "subject", "channel", "submit"})
    if unknown:
        raise BadRequest(f"unknown template field(s): {', '.join(unknown)}", code="unknown_field")
    if "module" in body and body["module"] != stored["module"]:
        raise BadRequest("'module' cannot change after creation", code="module_immutable")
    if "channel" in body and body["channel"] != stored["channel"]:
        raise BadRequest("'channel' cannot change after creation", code="invalid_field")
    submit = body.get("submit", False)
    if not isinstance(submit, bool):
        raise BadRequest("'submit' must be true or false", code="invalid_field")
    texts: dict[str, str] = {}
    for key in _TEXT_FIELDS:
        if key in body:
            if key == "subject" and stored["channel"] != "email":
                raise BadRequest("SMS templates have no subject", code="invalid_field")
            texts[key] = _text(body, key, MAX_BODY if key == "body" else 500)
    return Edit(texts, _text(body, "name", 200) if "name" in body else None, submit)


def dlt_template_id(value: Any) -> str:
    """India's DLT template id: digits only (19 in practice)."""
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{10,30}", value):
        raise BadRequest("'dlt_template_id' must be the digits of the DLT template id", code="invalid_field")
    return value
