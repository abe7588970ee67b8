"""India (DLT) sender registration on the org: the ``sender`` and ``profile`` objects of
``PUT /api/v1/orgs/{org}``, and whether an org's registration is complete. Pure.

The regulator's ledger (DLT) knows a sender by its header (``sender_id``: capital letters or
digits), the principal entity's 19-digit registration number (``entity_id``, the PEID), the
entity's name, the sender's unique ID on the ledger and the telecom operator it registered with;
the entity itself by its legal name, brand (trade) name and address (``profile``). SMS from an
org in IN goes out once the registration SPEC names is on record — header, entity id and operator
(:func:`registered`); without it a send is refused with ``sender_not_registered``. The rest of the
regulator's list is collected and validated too, and ``GET /api/v1/orgs/{org}`` lists what is still
missing of it (:func:`missing`) so the admin can complete it; it does not block sending.

``sender`` is one registration: a PUT replaces it whole (header, entity id and operator are
required; name and unique ID may follow). ``profile`` merges field by field, like the org itself.
"""

from __future__ import annotations

import re
from typing import Any

from gateway.domain.errors import BadRequest

SENDER_ID = re.compile(r"[A-Z0-9]{1,11}")
ENTITY_ID = re.compile(r"[0-9]{19}")
# The ledger's "Sender Unique ID" / header registration id: letters, digits and - _ . /, bounded.
SENDER_UNIQUE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_./-]{0,63}")
# Postal codes vary by country (an Indian PIN is 6 digits, first one not 0; see IN_POSTAL_CODE).
POSTAL_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 -]{1,11}")
IN_POSTAL_CODE = re.compile(r"[1-9][0-9]{5}")

SENDER_FIELDS = ("sender_id", "entity_id", "entity_name", "sender_unique_id", "operator")
SENDER_REQUIRED = ("sender_id", "entity_id", "operator")
PROFILE_FIELDS = ("legal_name", "brand_name", "city", "state", "postal_code")
# Text fields and their longest accepted value.
TEXT_LENGTHS = {"entity_name": 200, "operator": 80, "legal_name": 200, "brand_name": 200, "city": 100, "state": 100}


def _text(obj: dict[str, Any], what: str, key: str) -> str:
    value = obj[key]
    limit = TEXT_LENGTHS[key]
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise BadRequest(
            f"'{what}.{key}' must be a non-empty string of at most {limit} characters", code="invalid_field"
        )
    return value.strip()


def _object(value: Any, what: str, allowed: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadRequest(f"'{what}' must be an object", code="invalid_field")
    unknown = sorted(set(value) - set(allowed))
    if unknown:
        raise BadRequest(f"unknown {what} field(s): {', '.join(unknown)}", code="unknown_field")
    return value


def _matching(obj: dict[str, Any], what: str, key: str, pattern: re.Pattern[str], rule: str) -> str:
    value = obj[key]
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise BadRequest(f"'{what}.{key}' must be {rule}", code="invalid_field")
    return value


def sender(value: Any) -> dict[str, Any]:
    """A validated ``sender`` object (replaces the stored one)."""
    body = _object(value, "sender", SENDER_FIELDS)
    for key in SENDER_REQUIRED:
        if key not in body:
            raise BadRequest(f"'sender.{key}' is required", code="invalid_field")
    out = {
        "sender_id": _matching(body, "sender", "sender_id", SENDER_ID, "1 to 11 capital letters or digits"),
        "entity_id": _matching(body, "sender", "entity_id", ENTITY_ID, "19 digits (the DLT entity ID, PEID)"),
        "operator": _text(body, "sender", "operator"),
    }
    if "entity_name" in body:
        out["entity_name"] = _text(body, "sender", "entity_name")
    if "sender_unique_id" in body:
        rule = "letters, digits and - _ . / (at most 64, starting with a letter or digit)"
        out["sender_unique_id"] = _matching(body, "sender", "sender_unique_id", SENDER_UNIQUE_ID, rule)
    return {k: out[k] for k in SENDER_FIELDS if k in out}


def profile(value: Any, stored: dict[str, Any] | None, country: str) -> dict[str, Any]:
    """``profile`` merged into the stored one; ``null`` for a field removes it. A postal code is
    checked as an Indian PIN when the org is in IN."""
    body = _object(value, "profile", PROFILE_FIELDS)
    out = dict(stored or {})
    for key in PROFILE_FIELDS:
        if key not in body:
            continue
        if body[key] is None:
            out.pop(key, None)
        elif key == "postal_code":
            pattern, rule = (
                (IN_POSTAL_CODE, "6 digits (a PIN code)")
                if country == "IN"
                else (POSTAL_CODE, "2 to 12 letters, digits, spaces or hyphens")
            )
            out[key] = _matching(body, "profile", key, pattern, rule)
        else:
            out[key] = _text(body, "profile", key)
    return {k: out[k] for k in PROFILE_FIELDS if k in out}


def missing(org: dict[str, Any]) -> list[str]:
    """What an org in IN still lacks to send SMS (``sender.<field>``, ``profile.<field>``), in
    the order of the source's list; empty when complete (and for every org outside IN)."""
    if org.get("country") != "IN":
        return []
    have_sender, have_profile = org.get("sender") or {}, org.get("profile") or {}
    return [f"sender.{k}" for k in SENDER_FIELDS if not have_sender.get(k)] + [
        f"profile.{k}" for k in PROFILE_FIELDS if not have_profile.get(k)
    ]


def registered(org: dict[str, Any]) -> bool:
    """Whether an org may send SMS as far as registration goes: outside IN always; in IN once its
    ``sender`` has SPEC's header, entity id and operator."""
    if org.get("country") != "IN":
        return True
    have = org.get("sender") or {}
    return all(have.get(k) for k in SENDER_REQUIRED)
