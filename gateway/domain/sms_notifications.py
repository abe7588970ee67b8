"""SMS notification definitions (the CRM's "SMS notification" that workflow rules fire) and their
triggers: the request shapes, which phone of a contact one goes to, and the per-contact send. Pure.

A definition names a module (fixed after creation), the phone field of the record it texts, and an
approved SMS template of that module. A trigger sends it to contacts (or a segment's members): one
ordinary notification per contact with a phone in that field, idempotent by
``<idempotency_key>:<contact>``.
"""

from __future__ import annotations

from typing import Any

from gateway.domain.errors import ApiError, BadRequest
from gateway.domain.events import MAX_JSON_DEPTH, json_depth
from gateway.domain.tenancy import RECORD_ID, check_id, contact_phone

PHONE_FIELDS = ("mobile", "work", "home", "other", "any")
MAX_CONTACTS = 1000
MAX_KEY = 100  # namespaced with ':<contact id>' it still fits a notification's 200-character key
MAX_NAME = 200
_DEFINITION_KEYS = {"name", "module", "phone_field", "template"}
_TRIGGER_KEYS = {"contacts", "segment", "data", "idempotency_key"}


class Conflict(ApiError):
    status = 409
    code = "conflict"


def _text(body: dict[str, Any], key: str, max_len: int) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value.strip() or len(value) > max_len:
        raise BadRequest(f"'{key}' must be a non-empty string of at most {max_len} characters", code="invalid_field")
    return value


def parse_definition(nid: str, body: Any, stored: dict[str, Any] | None) -> dict[str, Any]:
    """The definition to store: every field on creation; on an update, the fields given (``module``
    may be repeated but not changed: 409 ``module_fixed``)."""
    check_id("sms notification", nid)
    if not isinstance(body, dict):
        raise BadRequest("body must be a JSON object", code="invalid_body")
    unknown = sorted(set(body) - _DEFINITION_KEYS)
    if unknown:
        raise BadRequest(f"unknown field(s): {', '.join(unknown)}", code="unknown_field")
    rec: dict[str, Any] = dict(stored or {"id": nid})
    for key in ("name", "module", "phone_field", "template") if stored is None else tuple(body):
        if key == "name":
            rec["name"] = _text(body, "name", MAX_NAME)
        elif key == "module":
            module = _text(body, "module", 64)
            if stored is not None and module != stored["module"]:
                raise Conflict(f"the module is fixed after creation ({stored['module']!r})", code="module_fixed")
            rec["module"] = module
        elif key == "phone_field":
            if body.get("phone_field") not in PHONE_FIELDS:
                raise BadRequest(f"'phone_field' must be one of {', '.join(PHONE_FIELDS)}", code="invalid_field")
            rec["phone_field"] = body["phone_field"]
        else:
            template = body.get("template")
            if not isinstance(template, str) or not RECORD_ID.fullmatch(template):
                raise BadRequest("'template' must be a template id", code="invalid_field")
            rec["template"] = template
    return rec


def template_problem(template: dict[str, Any] | None, module: str) -> str | None:
    """Why ``template`` cannot serve a definition of ``module`` (None: it can)."""
    if template is None or template.get("channel") != "sms" or template.get("status") != "approved":
        return "is not an approved SMS template"
    if template.get("module") != module:
        return f"belongs to module {template.get('module')!r}, not {module!r}"
    return None


def pick_phone(phones: list[Any], phone_field: str) -> str | None:
    """The number a definition texts: the first phone of that type; ``any``: the first mobile,
    else the first phone. Bare strings (stored before phones were typed) are typed by their
    numbering plan."""
    typed: list[dict[str, Any]] = []
    for p in phones:
        item = p if isinstance(p, dict) else _typed(p)
        if item is not None:
            typed.append(item)
    if phone_field == "any":
        ordered = [p for p in typed if p.get("type") == "mobile"] + typed
    else:
        ordered = [p for p in typed if p.get("type") == phone_field]
    return str(ordered[0]["number"]) if ordered else None


def _typed(raw: Any) -> dict[str, str] | None:
    try:
        return contact_phone(raw, "phones", None)
    except BadRequest:
        return None


def parse_trigger(body: Any) -> tuple[list[str] | None, str | None, dict[str, Any], str | None]:
    """(contact ids in order, each once | None, segment id | None, data, idempotency key | None)."""
    if not isinstance(body, dict):
        raise BadRequest("body must be a JSON object", code="invalid_body")
    unknown = sorted(set(body) - _TRIGGER_KEYS)
    if unknown:
        raise BadRequest(f"unknown field(s): {', '.join(unknown)}", code="unknown_field")
    if ("contacts" in body) == ("segment" in body):
        raise BadRequest("give either 'contacts' (a list of ids) or 'segment' (an id)", code="invalid_body")
    contacts: list[str] | None = None
    segment: str | None = None
    if "contacts" in body:
        raw = body["contacts"]
        if not isinstance(raw, list) or not raw or len(raw) > MAX_CONTACTS:
            raise BadRequest(f"'contacts' must be a list of 1-{MAX_CONTACTS} contact ids", code="invalid_field")
        contacts = list(dict.fromkeys(check_id("contact", c) for c in raw))
    else:
        segment = check_id("segment", body["segment"])
    data = body.get("data", {})
    if not isinstance(data, dict) or json_depth(data) > MAX_JSON_DEPTH:
        raise BadRequest("'data' must be an object of merge fields", code="invalid_field")
    key = body.get("idempotency_key")
    if key is not None and (not isinstance(key, str) or not 0 < len(key) <= MAX_KEY):
        raise BadRequest(f"'idempotency_key' must be a string of 1-{MAX_KEY} characters", code="invalid_field")
    return contacts, segment, data, key


def contact_send(
    definition: dict[str, Any], contact: dict[str, Any], number: str, data: dict[str, Any], key: str
) -> dict[str, Any]:
    """The notification body for one contact: the definition's template to ``number``, merge fields
    ``data`` plus ``contact`` (id, name, company, custom ``fields``) unless ``data`` has its own,
    idempotency key ``<key>:<contact id>``."""
    merge = dict(data)
    merge.setdefault(
        "contact",
        {"id": contact["id"], "name": contact.get("name"), "company": contact.get("company"),
         "fields": contact.get("fields") or {}},
    )  # fmt: skip
    return {
        "channel": "sms",
        "template": definition["template"],
        "to": {"phone": number},
        "data": merge,
        "kind": "auto",
        "idempotency_key": f"{key}:{contact['id']}",
    }


def member_send(
    definition: dict[str, Any], contact: dict[str, Any], data: dict[str, Any], key: str
) -> tuple[dict[str, Any] | None, str | None]:
    """(the notification body for ``contact``, None) or (None, why none: ``no_phone_in_field``)."""
    number = pick_phone(contact.get("phones") or [], definition["phone_field"])
    if number is None:
        return None, "no_phone_in_field"
    return contact_send(definition, contact, number, data, key), None
