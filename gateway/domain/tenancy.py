"""Validation of management-API payloads into stored records. Pure: dicts in, dicts out.

PUT is an idempotent upsert that merges into the stored record: keys absent from the body keep
their stored value, so a CRM can replay a sync without re-sending secrets.
"""

from __future__ import annotations

import base64
import re
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from gateway.domain.errors import BadRequest
from gateway.domain.hosts import is_host
from gateway.domain.identity import MAX_SENDERS, PLAIN_ADDRESS
from gateway.domain.links import check_record_url_template
from gateway.domain.phones import InvalidPhone, to_e164
from gateway.domain.quota import MASS_BY_PLAN, MAX_MASS_ADDON

# Patterns are applied with fullmatch (`$` alone would accept a trailing newline) and ASCII only.
ORG_ID = re.compile(r"[a-z0-9-]{1,40}")
# Users and contacts come from the CRM; keep ids safe inside Redis keys and URLs.
RECORD_ID = re.compile(r"[A-Za-z0-9_.@-]{1,64}")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
PLANS = tuple(MASS_BY_PLAN)


def check_id(kind: str, value: Any, pattern: re.Pattern[str] = RECORD_ID) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise BadRequest(f"{kind} id {value!r} must match {pattern.pattern}", code="invalid_id")
    return str(value)


def _str(body: dict[str, Any], key: str, *, max_len: int = 200) -> str:
    value = body[key]
    if not isinstance(value, str) or len(value) > max_len:
        raise BadRequest(f"'{key}' must be a string of at most {max_len} characters", code="invalid_field")
    return value


def _bool(body: dict[str, Any], key: str) -> bool:
    value = body[key]
    if not isinstance(value, bool):
        raise BadRequest(f"'{key}' must be true or false", code="invalid_field")
    return value


def _int(body: dict[str, Any], key: str, lo: int, hi: int) -> int:
    value = body[key]
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise BadRequest(f"'{key}' must be an integer from {lo} to {hi}", code="invalid_field")
    return value


def _email(value: Any, key: str) -> str:
    if not isinstance(value, str) or not EMAIL.fullmatch(value) or len(value) > 254:
        raise BadRequest(f"'{key}' has an invalid email address: {value!r}", code="invalid_email")
    return value.strip().lower()


def _phone(value: Any, key: str, region: str | None) -> str:
    if not isinstance(value, str):
        raise BadRequest(f"'{key}' must be a phone number string", code="invalid_phone")
    try:
        return to_e164(value, region)
    except InvalidPhone as exc:
        raise BadRequest(f"'{key}': {exc}", code="invalid_phone") from None


def _reject_unknown(body: dict[str, Any], allowed: set[str], what: str) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise BadRequest(f"unknown {what} field(s): {', '.join(unknown)}", code="unknown_field")


def _webhook_secret(value: Any) -> str:
    if not isinstance(value, str) or not value.startswith("whsec_"):
        raise BadRequest("'webhook_secret' must look like whsec_<base64>", code="invalid_field")
    try:
        key = base64.b64decode(value[len("whsec_") :], validate=True)
    except ValueError:
        raise BadRequest("'webhook_secret' must be whsec_ followed by base64", code="invalid_field") from None
    if len(key) < 16:
        raise BadRequest("'webhook_secret' key must be at least 16 bytes", code="invalid_field")
    return value


def _twilio(value: Any, stored: dict[str, Any], region: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadRequest("'twilio' must be an object", code="invalid_field")
    _reject_unknown(value, {"account_sid", "auth_token", "from_number", "messaging_service_sid"}, "twilio")
    out = dict(stored)
    if "account_sid" in value:
        sid = _str(value, "account_sid", max_len=64)
        if not re.fullmatch(r"AC[0-9a-fA-F]{32}", sid):
            raise BadRequest("'twilio.account_sid' must be AC followed by 32 hex digits", code="invalid_field")
        out["account_sid"] = sid
    if "auth_token" in value:
        out["auth_token"] = _str(value, "auth_token", max_len=128)
    if "from_number" in value:
        out["from_number"] = _phone(value["from_number"], "twilio.from_number", region)
    if "messaging_service_sid" in value:
        out["messaging_service_sid"] = _str(value, "messaging_service_sid", max_len=64)
    return out


def _sender(value: Any) -> dict[str, Any]:
    """India DLT sender registration: header, 19-digit entity (PEID) id, operator."""
    if not isinstance(value, dict):
        raise BadRequest("'sender' must be an object", code="invalid_field")
    _reject_unknown(value, {"sender_id", "entity_id", "entity_name", "operator"}, "sender")
    for key in ("sender_id", "entity_id", "operator"):
        if key not in value:
            raise BadRequest(f"'sender.{key}' is required", code="invalid_field")
    sender_id = _str(value, "sender_id", max_len=11)
    if not re.fullmatch(r"[A-Z0-9]{1,11}", sender_id):
        raise BadRequest("'sender.sender_id' must be capital letters or digits", code="invalid_field")
    entity_id = _str(value, "entity_id", max_len=19)
    if not re.fullmatch(r"[0-9]{19}", entity_id):
        raise BadRequest("'sender.entity_id' must be 19 digits", code="invalid_field")
    out = {"sender_id": sender_id, "entity_id": entity_id, "operator": _str(value, "operator", max_len=80)}
    if "entity_name" in value:
        out["entity_name"] = _str(value, "entity_name")
    return out


def _smtp(value: Any, stored: Any) -> dict[str, Any] | None:
    """The org's own SMTP server (sending identity); ``null`` removes it. The password is kept
    when absent (a sync need not re-send it) and never shown (:func:`public_org`)."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise BadRequest("'smtp' must be an object or null", code="invalid_field")
    _reject_unknown(value, {"host", "port", "username", "password", "starttls"}, "smtp")
    out: dict[str, Any] = {
        "port": 587,
        "username": "",
        "starttls": True,
        **(stored if isinstance(stored, dict) else {}),
    }
    if "host" in value:
        if not is_host(value["host"]):
            raise BadRequest("'smtp.host' must be a host name or an IP address", code="invalid_field")
        out["host"] = str(value["host"]).lower()
    if "host" not in out:
        raise BadRequest("'smtp.host' is required", code="invalid_field")
    named = {f"smtp.{k}": v for k, v in value.items()}  # errors name the key as "smtp.port"
    if "port" in value:
        out["port"] = _int(named, "smtp.port", 1, 65535)
    for key, limit in (("username", 254), ("password", 256)):
        if key in value:
            text = _str(named, f"smtp.{key}", max_len=limit)
            if any(ord(c) < 32 or ord(c) == 127 for c in text):
                raise BadRequest(f"'smtp.{key}' cannot contain control characters", code="invalid_field")
            out[key] = text
    if "starttls" in value:
        out["starttls"] = _bool(named, "smtp.starttls")
    return out


def _senders(value: Any) -> list[str]:
    """Addresses the org may send from (the first is its default ``From``); order kept, no repeats."""
    if not isinstance(value, list) or len(value) > MAX_SENDERS:
        raise BadRequest(f"'senders' must be a list of at most {MAX_SENDERS} addresses", code="invalid_field")
    out: list[str] = []
    for item in value:
        if not isinstance(item, str) or len(item) > 254 or not PLAIN_ADDRESS.fullmatch(item.strip()):
            raise BadRequest(f"'senders' has an invalid address: {item!r}", code="invalid_field")
        address = item.strip().lower()
        if address not in out:
            out.append(address)
    return out


ORG_DEFAULTS: dict[str, Any] = {
    "plan": "free",
    "timezone": "UTC",
    "country": "US",
    "active_users": 1,
    "mass_email_addon": 0,
    "tracking": True,
    "reminders": True,
    "allow_lead_creation": False,
}


def merge_org(org_id: str, body: Any, stored: dict[str, Any] | None) -> dict[str, Any]:
    """Validate a ``PUT /orgs/{org}`` body and merge it into the stored record."""
    check_id("org", org_id, ORG_ID)
    if not isinstance(body, dict):
        raise BadRequest("body must be a JSON object", code="invalid_body")
    allowed = {"name", "twilio", "webhook_secret", "sender", "record_url_template", *ORG_DEFAULTS}
    allowed |= {"smtp", "senders", "user_from"}
    _reject_unknown(body, allowed, "org")
    rec: dict[str, Any] = {"id": org_id, "name": org_id, **ORG_DEFAULTS, **(stored or {})}
    if "name" in body:
        rec["name"] = _str(body, "name")
    _merge_org_profile(body, rec)
    for flag in ("tracking", "reminders", "allow_lead_creation"):
        if flag in body:
            rec[flag] = _bool(body, flag)
    if "twilio" in body:
        rec["twilio"] = _twilio(body["twilio"], rec.get("twilio", {}), rec["country"])
    if "webhook_secret" in body:
        rec["webhook_secret"] = _webhook_secret(body["webhook_secret"])
    if "sender" in body:
        rec["sender"] = _sender(body["sender"])
    _merge_identity(body, rec)
    if "record_url_template" in body:
        template = check_record_url_template(body["record_url_template"])
        if template is None:
            rec.pop("record_url_template", None)
        else:
            rec["record_url_template"] = template
    return rec


def _merge_identity(body: dict[str, Any], rec: dict[str, Any]) -> None:
    """Sending identity: ``smtp`` (null removes), ``senders``, ``user_from`` (gateway.domain.identity)."""
    if "smtp" in body:
        smtp = _smtp(body["smtp"], rec.get("smtp"))
        if smtp is None:
            rec.pop("smtp", None)
        else:
            rec["smtp"] = smtp
    if "senders" in body:
        rec["senders"] = _senders(body["senders"])
    if "user_from" in body:
        rec["user_from"] = _bool(body, "user_from")


def _merge_org_profile(body: dict[str, Any], rec: dict[str, Any]) -> None:
    if "plan" in body:
        if body["plan"] not in PLANS:
            raise BadRequest(f"'plan' must be one of {', '.join(PLANS)}", code="invalid_field")
        rec["plan"] = body["plan"]
    if "timezone" in body:
        tz = _str(body, "timezone", max_len=64)
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise BadRequest(f"'timezone' {tz!r} is not an IANA time zone", code="invalid_field") from None
        rec["timezone"] = tz
    if "country" in body:
        country = _str(body, "country", max_len=2)
        if not re.fullmatch(r"[A-Z]{2}", country):
            raise BadRequest("'country' must be an ISO 3166 alpha-2 code like JP", code="invalid_field")
        rec["country"] = country
    if "active_users" in body:
        rec["active_users"] = _int(body, "active_users", 0, 1_000_000)
    if "mass_email_addon" in body:
        rec["mass_email_addon"] = _int(body, "mass_email_addon", 0, MAX_MASS_ADDON)


def public_org(rec: dict[str, Any]) -> dict[str, Any]:
    """The org as shown by the API: secrets replaced by ``*_set`` booleans."""
    out = {k: v for k, v in rec.items() if k not in ("twilio", "webhook_secret")}
    tw = rec.get("twilio", {})
    out["twilio"] = {k: v for k, v in tw.items() if k != "auth_token"} | {"auth_token_set": "auth_token" in tw}
    out["webhook_secret_set"] = "webhook_secret" in rec
    if isinstance(rec.get("smtp"), dict):
        smtp = rec["smtp"]
        out["smtp"] = {k: v for k, v in smtp.items() if k != "password"} | {"password_set": bool(smtp.get("password"))}
    return out


def merge_user(org: dict[str, Any], user_id: str, body: Any, stored: dict[str, Any] | None) -> dict[str, Any]:
    check_id("user", user_id)
    if not isinstance(body, dict):
        raise BadRequest("body must be a JSON object", code="invalid_body")
    _reject_unknown(body, {"name", "email", "phone", "role", "reminders"}, "user")
    rec: dict[str, Any] = {"id": user_id, "name": user_id, "role": "member", "reminders": True, **(stored or {})}
    if "name" in body:
        rec["name"] = _str(body, "name")
    if "email" in body:
        rec["email"] = _email(body["email"], "email")
    if "phone" in body:
        rec["phone"] = _phone(body["phone"], "phone", org.get("country"))
    if "role" in body:
        if body["role"] not in ("admin", "member"):
            raise BadRequest("'role' must be admin or member", code="invalid_field")
        rec["role"] = body["role"]
    if "reminders" in body:
        rec["reminders"] = _bool(body, "reminders")
    return rec


def _list(body: dict[str, Any], key: str) -> list[Any]:
    value = body[key]
    if not isinstance(value, list) or len(value) > 50:
        raise BadRequest(f"'{key}' must be a list of at most 50 items", code="invalid_field")
    return value


def merge_contact(org: dict[str, Any], contact_id: str, body: Any, stored: dict[str, Any] | None) -> dict[str, Any]:
    check_id("contact", contact_id)
    if not isinstance(body, dict):
        raise BadRequest("body must be a JSON object", code="invalid_body")
    _reject_unknown(body, {"kind", "name", "emails", "phones", "owner", "marketing"}, "contact")
    rec: dict[str, Any] = {
        "id": contact_id,
        "kind": "contact",
        "name": contact_id,
        "emails": [],
        "phones": [],
        "owner": None,
        "marketing": False,
        **(stored or {}),
    }
    if "kind" in body:
        if body["kind"] not in ("lead", "contact"):
            raise BadRequest("'kind' must be lead or contact", code="invalid_field")
        rec["kind"] = body["kind"]
    if "name" in body:
        rec["name"] = _str(body, "name")
    if "emails" in body:
        rec["emails"] = sorted({_email(e, "emails") for e in _list(body, "emails")})
    if "phones" in body:
        rec["phones"] = sorted({_phone(p, "phones", org.get("country")) for p in _list(body, "phones")})
    if "owner" in body:
        owner = body["owner"]
        if owner is not None:
            check_id("owner", owner)
        rec["owner"] = owner
    if "marketing" in body:
        rec["marketing"] = _bool(body, "marketing")
    return rec
