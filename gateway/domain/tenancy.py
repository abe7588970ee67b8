"""Validation of management-API payloads into stored records. Pure: dicts in, dicts out.

PUT is an idempotent upsert that merges into the stored record: keys absent from the body keep
their stored value, so a CRM can replay a sync without re-sending secrets.
"""

from __future__ import annotations

import base64
import math
import re
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers

from gateway.domain.errors import BadRequest
from gateway.domain.hosts import is_host
from gateway.domain.identity import MAX_SENDERS, PLAIN_ADDRESS
from gateway.domain.links import check_record_url_template
from gateway.domain.phones import InvalidPhone, to_e164
from gateway.domain.quota import MASS_BY_PLAN, MAX_MASS_ADDON
from gateway.domain.sender_registration import missing as registration_missing
from gateway.domain.sender_registration import profile as registration_profile
from gateway.domain.sender_registration import sender as registration_sender

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
    # What the BCC dropbox makes of an unknown recipient when allow_lead_creation is on.
    "dropbox_create": "lead",
}
DROPBOX_CREATE = ("lead", "contact")
# Addresses besides the user's own that the BCC dropbox accepts mail from (the source's limit).
MAX_EXTRA_SENDERS = 5


def merge_org(org_id: str, body: Any, stored: dict[str, Any] | None) -> dict[str, Any]:
    """Validate a ``PUT /orgs/{org}`` body and merge it into the stored record."""
    check_id("org", org_id, ORG_ID)
    if not isinstance(body, dict):
        raise BadRequest("body must be a JSON object", code="invalid_body")
    allowed = {"name", "twilio", "webhook_secret", "sender", "profile", "record_url_template", *ORG_DEFAULTS}
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
        rec["sender"] = registration_sender(body["sender"])
    if "profile" in body:
        rec["profile"] = registration_profile(body["profile"], rec.get("profile"), rec["country"])
    if "dropbox_create" in body:
        if body["dropbox_create"] not in DROPBOX_CREATE:
            raise BadRequest("'dropbox_create' must be lead or contact", code="invalid_field")
        rec["dropbox_create"] = body["dropbox_create"]
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
    if rec.get("country") == "IN":  # what SMS still waits for (sender_not_registered until empty)
        out["sender_registration"] = {"missing": registration_missing(rec)}
    return out


def merge_user(org: dict[str, Any], user_id: str, body: Any, stored: dict[str, Any] | None) -> dict[str, Any]:
    check_id("user", user_id)
    if not isinstance(body, dict):
        raise BadRequest("body must be a JSON object", code="invalid_body")
    _reject_unknown(body, {"name", "email", "phone", "role", "reminders", "extra_senders"}, "user")
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
    if "extra_senders" in body:
        rec["extra_senders"] = _extra_senders(body["extra_senders"])
    return rec


def _extra_senders(value: Any) -> list[str]:
    """The user's aliases the BCC dropbox accepts mail from: at most 5 addresses, lower-cased,
    without repeats, in the order given."""
    if not isinstance(value, list) or len(value) > MAX_EXTRA_SENDERS:
        raise BadRequest(
            f"'extra_senders' must be a list of at most {MAX_EXTRA_SENDERS} email addresses", code="invalid_field"
        )
    return list(dict.fromkeys(_email(e, "extra_senders") for e in value))


def _list(body: dict[str, Any], key: str) -> list[Any]:
    value = body[key]
    if not isinstance(value, list) or len(value) > 50:
        raise BadRequest(f"'{key}' must be a list of at most 50 items", code="invalid_field")
    return value


PHONE_TYPES = ("mobile", "work", "home", "other")
MAX_FIELDS = 50
MAX_FIELD_TEXT = 1000
FIELD_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
CONTACT_KEYS = {"kind", "name", "company", "emails", "phones", "owner", "marketing", "fields"}
_MOBILE_TYPES = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)


def _phone_type(number: str) -> str:
    """The type of a phone given as a bare string: ``mobile`` when the numbering plan says so."""
    try:
        kind = phonenumbers.number_type(phonenumbers.parse(number))
    except phonenumbers.NumberParseException:  # pragma: no cover - already valid E.164
        return "other"
    return "mobile" if kind in _MOBILE_TYPES else "other"


def contact_phone(value: Any, key: str, region: str | None) -> dict[str, str]:
    """One contact phone as stored: ``{"number": E.164, "type": mobile|work|home|other}``.

    A bare string is typed from its numbering plan (``mobile`` or ``other``)."""
    if isinstance(value, dict):
        _reject_unknown(value, {"number", "type"}, f"{key} item")
        kind = value.get("type", None)
        if kind is not None and kind not in PHONE_TYPES:
            raise BadRequest(f"'{key}' type must be one of {', '.join(PHONE_TYPES)}", code="invalid_field")
        number = _phone(value.get("number"), key, region)
        return {"number": number, "type": kind or _phone_type(number)}
    number = _phone(value, key, region)
    return {"number": number, "type": _phone_type(number)}


def phone_numbers(phones: list[Any]) -> list[str]:
    """The E.164 numbers of a stored contact's phones (objects, or strings stored before typing)."""
    return [str(p["number"]) if isinstance(p, dict) else str(p) for p in phones]


def _fields(value: Any, stored: dict[str, Any]) -> dict[str, Any]:
    """Custom fields, merged into the stored ones; ``null`` removes a field."""
    if not isinstance(value, dict):
        raise BadRequest("'fields' must be an object of name -> string|number|bool", code="invalid_field")
    out = dict(stored)
    for name, item in value.items():
        if not FIELD_NAME.fullmatch(name):
            raise BadRequest(f"field name {name!r} must match {FIELD_NAME.pattern}", code="invalid_field")
        if item is None:
            out.pop(name, None)
        elif isinstance(item, str):
            if len(item) > MAX_FIELD_TEXT:
                raise BadRequest(f"field {name!r} is longer than {MAX_FIELD_TEXT} characters", code="invalid_field")
            out[name] = item
        elif isinstance(item, bool) or (isinstance(item, int) and abs(item) < 2**53):
            out[name] = item
        elif isinstance(item, float) and math.isfinite(item):
            out[name] = item
        else:
            raise BadRequest(f"field {name!r} must be a string, a number or a bool", code="invalid_field")
    if len(out) > MAX_FIELDS:
        raise BadRequest(f"a contact has at most {MAX_FIELDS} custom fields", code="invalid_field")
    return out


def merge_contact(org: dict[str, Any], contact_id: str, body: Any, stored: dict[str, Any] | None) -> dict[str, Any]:
    check_id("contact", contact_id)
    if not isinstance(body, dict):
        raise BadRequest("body must be a JSON object", code="invalid_body")
    _reject_unknown(body, CONTACT_KEYS, "contact")
    rec: dict[str, Any] = {
        "id": contact_id,
        "kind": "contact",
        "name": contact_id,
        "company": None,
        "emails": [],
        "phones": [],
        "owner": None,
        "marketing": False,
        "fields": {},
        **(stored or {}),
    }
    region = org.get("country")
    # Records stored before phones were typed hold bare strings: typed on their next write.
    rec["phones"] = [contact_phone(p, "phones", None) if not isinstance(p, dict) else p for p in rec["phones"]]
    if "kind" in body:
        if body["kind"] not in ("lead", "contact"):
            raise BadRequest("'kind' must be lead or contact", code="invalid_field")
        rec["kind"] = body["kind"]
    if "name" in body:
        rec["name"] = _str(body, "name")
    if "company" in body:
        rec["company"] = None if body["company"] is None else _str(body, "company")
    if "emails" in body:
        rec["emails"] = sorted({_email(e, "emails") for e in _list(body, "emails")})
    if "phones" in body:
        typed: dict[str, dict[str, str]] = {}
        for p in _list(body, "phones"):
            phone = contact_phone(p, "phones", region)
            typed.setdefault(phone["number"], phone)  # one entry per number: the first spelling's type
        rec["phones"] = [typed[n] for n in sorted(typed)]
    if "owner" in body:
        owner = body["owner"]
        if owner is not None:
            check_id("owner", owner)
        rec["owner"] = owner
    if "marketing" in body:
        rec["marketing"] = _bool(body, "marketing")
    if "fields" in body:
        rec["fields"] = _fields(body["fields"], rec["fields"])
    return rec


def contact_matches(rec: dict[str, Any], q: str) -> bool:
    """``q`` (case-insensitive) is a substring of the contact's name, company, an email or a phone."""
    needle = q.casefold()
    hay = [
        rec.get("name") or "",
        rec.get("company") or "",
        *rec.get("emails", []),
        *phone_numbers(rec.get("phones", [])),
    ]
    return any(needle in str(h).casefold() for h in hay)
