"""Telephony payloads: users' telephony settings, groups, numbers and call destinations. Pure.

Every refusal is a :class:`~gateway.domain.errors.BadRequest` whose detail names the field's path
(``telephony.caller_id``, ``members[2]``), as the API promises.
"""

from __future__ import annotations

from typing import Any

import phonenumbers

from gateway.domain.errors import BadRequest
from gateway.domain.tenancy import RECORD_ID

TELEPHONY_DEFAULTS: dict[str, Any] = {"enabled": False, "outbound": False, "record_outbound": False, "caller_id": None}
# A group is rung at once by a call flow: more members than a <Dial> can hold makes no sense.
MAX_GROUP_MEMBERS = 100
MAX_NAME = 200
# Countries outbound calls may not reach (country calling codes): China (+86), per the source page.
BLOCKED_COUNTRY_CODES = frozenset({86})
NUMBER_TYPES = {"local": "Local", "mobile": "Mobile", "toll_free": "TollFree"}
# A number's ``status`` as the API lists it: the org's, or parked while Twilio releases it (a
# release Twilio did not answer stays parked until another DELETE finishes it).
NUMBER_STATUSES = ("active", "releasing")


def merge_telephony(value: Any, stored: dict[str, Any] | None, org_numbers: set[str]) -> dict[str, Any]:
    """A user's ``telephony`` object merged into the stored one; ``caller_id`` must be one of the
    org's numbers (E.164) or null."""
    if not isinstance(value, dict):
        raise BadRequest("'telephony' must be an object", code="invalid_field")
    unknown = sorted(set(value) - set(TELEPHONY_DEFAULTS))
    if unknown:
        raise BadRequest(f"unknown telephony field(s): {', '.join(unknown)}", code="unknown_field")
    out = {**TELEPHONY_DEFAULTS, **(stored or {})}
    for flag in ("enabled", "outbound", "record_outbound"):
        if flag in value:
            if not isinstance(value[flag], bool):
                raise BadRequest(f"'telephony.{flag}' must be true or false", code="invalid_field")
            out[flag] = value[flag]
    if "caller_id" in value:
        caller_id = value["caller_id"]
        if caller_id is not None and (not isinstance(caller_id, str) or caller_id not in org_numbers):
            raise BadRequest(
                f"'telephony.caller_id' must be one of the org's numbers, got {caller_id!r}", code="invalid_field"
            )
        out["caller_id"] = caller_id
    return out


def merge_group(group_id: str, body: Any, stored: dict[str, Any] | None, users: set[str]) -> dict[str, Any]:
    """A ``PUT .../groups/{group}`` body as the stored group; members must be users of the org."""
    if not isinstance(body, dict):
        raise BadRequest("body must be a JSON object", code="invalid_body")
    unknown = sorted(set(body) - {"name", "members"})
    if unknown:
        raise BadRequest(f"unknown group field(s): {', '.join(unknown)}", code="unknown_field")
    rec: dict[str, Any] = {"id": group_id, "name": group_id, "members": [], **(stored or {})}
    if "name" in body:
        name = body["name"]
        if not isinstance(name, str) or not 1 <= len(name) <= MAX_NAME:
            raise BadRequest(f"'name' must be a string of 1 to {MAX_NAME} characters", code="invalid_field")
        rec["name"] = name
    if "members" in body:
        rec["members"] = _members(body["members"], users)
    return rec


def _members(value: Any, users: set[str]) -> list[str]:
    if not isinstance(value, list) or len(value) > MAX_GROUP_MEMBERS:
        raise BadRequest(f"'members' must be a list of at most {MAX_GROUP_MEMBERS} user ids", code="invalid_field")
    members: list[str] = []
    for i, member in enumerate(value):
        if not isinstance(member, str) or not RECORD_ID.fullmatch(member):
            raise BadRequest(f"'members[{i}]' must be a user id, got {member!r}", code="invalid_field")
        if member not in users:
            raise BadRequest(f"'members[{i}]': {member!r} is not a user of this org", code="unknown_user")
        if member not in members:
            members.append(member)
    return members


def destination(raw: Any, key: str = "to") -> str:
    """A number to call: E.164 exactly (``+`` and digits, valid), and not in a blocked country."""
    if not isinstance(raw, str) or not raw.startswith("+"):
        raise BadRequest(f"'{key}' must be an E.164 phone number like +81312345678", code="invalid_phone")
    try:
        number = phonenumbers.parse(raw, None)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise BadRequest(f"'{key}' {raw!r} is not a valid phone number", code="invalid_phone")
    if number.country_code in BLOCKED_COUNTRY_CODES:
        raise BadRequest(f"calls to +{number.country_code} numbers are not allowed", code="destination_not_allowed")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def e164_param(raw: str) -> str:
    """A number named in a path (``DELETE .../numbers/{e164}``): E.164, else 400 ``invalid_phone``."""
    try:
        number = phonenumbers.parse(raw, None)
    except phonenumbers.NumberParseException:
        raise BadRequest(f"{raw!r} is not an E.164 phone number", code="invalid_phone") from None
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if e164 != raw:
        raise BadRequest(f"{raw!r} is not an E.164 phone number (did you mean {e164}?)", code="invalid_phone")
    return e164


def number_record(resource: dict[str, Any], bought_at: str) -> dict[str, Any]:
    """What we keep of a Twilio IncomingPhoneNumber resource."""
    caps = resource.get("capabilities") or {}
    return {
        "sid": resource["sid"],
        "phone_number": resource["phone_number"],
        "friendly_name": resource.get("friendly_name") or resource["phone_number"],
        "capabilities": _capabilities(caps),
        "bought_at": bought_at,
    }


def numbers_with_status(active: list[dict[str, Any]], releasing: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The org's numbers and the parked ones, each with its ``status``, ordered by E.164. A number
    in both (bought again while an earlier release was cut short) is listed once, as active."""
    merged = {n["phone_number"]: {**n, "status": "releasing"} for n in releasing}
    merged.update({n["phone_number"]: {**n, "status": "active"} for n in active})
    return [merged[k] for k in sorted(merged)]


def available_record(resource: dict[str, Any]) -> dict[str, Any]:
    """A Twilio AvailablePhoneNumber as listed by ``GET .../numbers/available``."""
    caps = resource.get("capabilities") or {}
    return {
        "phone_number": resource.get("phone_number"),
        "friendly_name": resource.get("friendly_name"),
        "locality": resource.get("locality"),
        "region": resource.get("region"),
        "iso_country": resource.get("iso_country"),
        "capabilities": _capabilities(caps),
    }


def _capabilities(caps: Any) -> dict[str, bool]:
    """Twilio spells them ``voice``/``SMS``/``MMS`` on available numbers, lower case on owned ones."""
    return {str(k).lower(): bool(v) for k, v in caps.items()} if isinstance(caps, dict) else {}
