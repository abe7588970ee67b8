"""OpenAPI of the telephony endpoints (numbers, groups, the call log, click-to-call, the outbound
leg's TwiML and its recording callback) and their schemas;
merged into the document by ``operations.py`` and ``schemas.py``."""

from __future__ import annotations

from gateway.api.numbers import NUMBERS_PAGE
from gateway.api.openapi.build import (
    NO_CONTENT,
    ORG_ADMIN,
    USER,
    Schema,
    header,
    id_schema,
    json_body,
    limit,
    obj,
    ok,
    operation,
    query,
    ref,
)
from gateway.domain import telephony, telephony_calls
from gateway.domain.status import CALL_RANK

ORG = "/api/v1/orgs/{org}"
_E164: Schema = {"type": "string", "pattern": r"^\+[1-9][0-9]{6,14}$", "description": "E.164, e.g. +815012345678"}
_BOOL: Schema = {"type": "boolean"}
_NULLABLE_STR: Schema = {"type": ["string", "null"]}
_TWIML: Schema = {"description": "TwiML", "content": {"application/xml": {"schema": {"type": "string"}}}}
_TWILIO = {
    "409": "the org has no Twilio credentials (`twilio_not_configured`)",
    "502": "Twilio refused the org's credentials or could not be reached (`twilio_auth_failed`, `twilio_unavailable`)",
}


CAPABILITIES = obj({k: _BOOL for k in ("voice", "sms", "mms", "fax")})
NUMBER = obj(
    {
        "sid": {"type": "string", "description": "Twilio's IncomingPhoneNumber sid (PN…)"},
        "phone_number": _E164,
        "friendly_name": {"type": "string"},
        "capabilities": CAPABILITIES,
        "bought_at": {"type": "string", "format": "date-time"},
        "status": {
            "type": "string",
            "enum": list(telephony.NUMBER_STATUSES),
            "description": "`active`: the org's; `releasing`: taken out while Twilio releases it (a release"
            " Twilio did not answer stays so until another DELETE of it finishes it)",
        },
    },
    ("sid", "phone_number", "friendly_name", "capabilities", "bought_at", "status"),
)
NUMBER_PAGE = obj(
    {
        "numbers": {"type": "array", "items": ref("PhoneNumber")},
        "cursor": {**_NULLABLE_STR, "description": "pass as `cursor` for the next page; null on the last"},
    },
    ("numbers", "cursor"),
)
AVAILABLE = obj(
    {
        "numbers": {
            "type": "array",
            "items": obj(
                {
                    "phone_number": _E164,
                    "friendly_name": _NULLABLE_STR,
                    "locality": _NULLABLE_STR,
                    "region": _NULLABLE_STR,
                    "iso_country": _NULLABLE_STR,
                    "capabilities": CAPABILITIES,
                }
            ),
        }
    },
    ("numbers",),
)
NUMBER_INPUT: Schema = {
    "oneOf": [
        obj({"phone_number": _E164}, ("phone_number",), closed=True),
        obj({"sid": {"type": "string", "pattern": "^PN[0-9a-fA-F]{32}$"}}, ("sid",), closed=True),
    ],
    "description": "`phone_number` buys the number; `sid` adopts one the Twilio account already owns",
}
TELEPHONY_INPUT = obj(
    {"enabled": _BOOL, "outbound": _BOOL, "record_outbound": _BOOL, "caller_id": {"type": ["string", "null"]}},
    closed=True,
)
TELEPHONY = obj(
    {"enabled": _BOOL, "outbound": _BOOL, "record_outbound": _BOOL, "caller_id": {"type": ["string", "null"]}},
    tuple(telephony.TELEPHONY_DEFAULTS),
)
GROUP_INPUT = obj(
    {
        "name": {"type": "string", "minLength": 1, "maxLength": telephony.MAX_NAME},
        "members": {"type": "array", "items": id_schema("user"), "maxItems": telephony.MAX_GROUP_MEMBERS},
    },
    closed=True,
)
GROUP = obj(
    {"id": id_schema("group"), "name": {"type": "string"}, "members": {"type": "array", "items": {"type": "string"}}},
    ("id", "name", "members"),
)
GROUP_LIST = obj({"groups": {"type": "array", "items": ref("Group")}}, ("groups",))
CALL = obj(
    {
        "sid": {"type": "string"},
        "direction": {"type": "string", "enum": list(telephony_calls.DIRECTIONS)},
        "from": {"type": "string"},
        "to": {"type": "string"},
        "status": {"type": "string"},
        "duration": {"type": ["integer", "null"]},
        "started_at": {"type": "string", "format": "date-time"},
        "user": _NULLABLE_STR,
        "contact": _NULLABLE_STR,
        "contact_name": _NULLABLE_STR,
        "missed": _BOOL
        | {
            "description": "an inbound call that ended no-answer, busy, canceled or failed; or one a call flow"
            " answered (completed) that no rep took: no ring step's Dial was answered, no queue member"
            " accepted, no voicemail was left (a voicemail makes call.voicemail, not call.missed)"
        },
        "flow": _NULLABLE_STR,
        "recording_url": _NULLABLE_STR,
        "recording_duration": {"type": ["integer", "null"], "description": "seconds of the recording"},
    },
    telephony_calls.CALL_COLUMNS,
)
CALL_INPUT = obj(
    {"to": {"oneOf": [_E164, obj({"contact": id_schema("contact")}, ("contact",), closed=True)]}},
    ("to",),
    closed=True,
)
PLACED_CALL = obj({"sid": {"type": "string"}, "status": {"type": "string"}}, ("sid", "status"))

SCHEMAS: dict[str, Schema] = {
    "PhoneNumber": NUMBER,
    "PhoneNumberPage": NUMBER_PAGE,
    "AvailableNumbers": AVAILABLE,
    "PhoneNumberInput": NUMBER_INPUT,
    "TelephonyInput": TELEPHONY_INPUT,
    "Telephony": TELEPHONY,
    "GroupInput": GROUP_INPUT,
    "Group": GROUP,
    "GroupList": GROUP_LIST,
    "Call": CALL,
    "CallInput": CALL_INPUT,
    "PlacedCall": PLACED_CALL,
}

_NUMBER_PARAM: Schema = {
    "name": "number",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "minLength": 1, "maxLength": 20},
    "description": "the number, E.164 (`+815012345678`; the `+` may be left out)",
}


def _numbers() -> dict[tuple[str, str], Schema]:
    numbers = f"{ORG}/numbers"
    return {
        (numbers, "GET"): operation(
            "The org's numbers, ordered by number",
            ok("200", "one page of numbers", "PhoneNumberPage"),
            security=ORG_ADMIN,
            params=(
                limit(NUMBERS_PAGE, 1000),
                query("cursor", {"type": "string"}, "the `cursor` of the previous page"),
            ),
        ),
        (numbers, "POST"): operation(
            "Buy a number (or adopt one the Twilio account owns); its voice URL and status callback point here",
            {**ok("201", "the org's new number", "PhoneNumber"), **ok("200", "adopted again", "PhoneNumber")},
            security=ORG_ADMIN,
            body=json_body(ref("PhoneNumberInput")),
            extra_errors={**_TWILIO, "409": "already the org's number (`number_exists`) or no Twilio credentials"},
        ),
        (f"{numbers}/available", "GET"): operation(
            "Numbers Twilio offers (AvailablePhoneNumbers)",
            ok("200", "the numbers on offer", "AvailableNumbers"),
            security=ORG_ADMIN,
            params=(
                query("country", {"type": "string", "pattern": "^[A-Z]{2}$"}, "ISO 3166 alpha-2 (default the org's)"),
                query("type", {"type": "string", "enum": list(telephony.NUMBER_TYPES), "default": "local"}, "kind"),
                query("contains", {"type": "string", "pattern": "^[0-9A-Za-z*]{1,16}$"}, "digits, letters, `*`"),
            ),
            extra_errors=_TWILIO,
        ),
        (f"{numbers}/{{number}}", "GET"): operation(
            "One of the org's numbers",
            ok("200", "the number", "PhoneNumber"),
            security=ORG_ADMIN,
            params=(_NUMBER_PARAM,),
        ),
        (f"{numbers}/{{number}}", "DELETE"): operation(
            "Release a number back to Twilio",
            NO_CONTENT,
            security=ORG_ADMIN,
            params=(_NUMBER_PARAM,),
            extra_errors={
                **_TWILIO,
                "400": "not an E.164 number (`invalid_phone`)",
                "409": "a published, enabled call flow answers on it (`number_in_use`), or no Twilio credentials",
                "404": "not one of the org's numbers (`number_not_found`)",
                "502": "Twilio refused the credentials or was unreachable (`twilio_unavailable`: when Twilio did not"
                " answer, the number stays listed with `status: releasing` and a repeated DELETE finishes it)",
            },
        ),
    }


def _groups() -> dict[tuple[str, str], Schema]:
    group = f"{ORG}/groups/{{group}}"
    return {
        (f"{ORG}/groups", "GET"): operation(
            "The org's groups", ok("200", "the groups", "GroupList"), security=ORG_ADMIN
        ),
        (group, "PUT"): operation(
            "Create or update a group (members must be users of the org: 400 naming `members[i]`)",
            {**ok("200", "updated", "Group"), **ok("201", "created", "Group")},
            security=ORG_ADMIN,
            body=json_body(ref("GroupInput")),
        ),
        (group, "GET"): operation("Read a group", ok("200", "the group", "Group"), security=ORG_ADMIN),
        (group, "DELETE"): operation("Delete a group", NO_CONTENT, security=ORG_ADMIN),
    }


def _calls() -> dict[tuple[str, str], Schema]:
    date = {"type": "string", "description": "ISO date (the org's zone) or date-time"}
    return {
        (f"{ORG}/calls", "GET"): operation(
            "The call log, newest first: filtered, paged (JSON) or all matching rows (CSV)",
            {
                "200": {
                    "description": "one page of calls (JSON), or every matching call as CSV (BOM, header, CRLF)",
                    "content": {
                        "application/json": {
                            "schema": obj(
                                {"calls": {"type": "array", "items": ref("Call")}, "cursor": _NULLABLE_STR},
                                ("calls", "cursor"),
                            )
                        },
                        "text/csv": {"schema": {"type": "string"}},
                    },
                }
            },
            security=ORG_ADMIN,
            params=(
                query("format", {"type": "string", "enum": ["json", "csv"], "default": "json"}, "json or csv"),
                query("from", date, "calls first seen at or after (a date: its start)"),
                query("to", date, "calls first seen before (a date: its end, inclusive)"),
                query("direction", {"type": "string", "enum": list(telephony_calls.DIRECTIONS)}, "direction"),
                query("user", id_schema("user"), "the user of the call"),
                query("status", {"type": "string", "enum": list(CALL_RANK)}, "Twilio's call status"),
                query("cursor", {"type": "string"}, "the `cursor` of the previous page"),
                limit(telephony_calls.DEFAULT_LIMIT, telephony_calls.MAX_LIMIT),
            ),
        ),
        ("/api/v1/me/calls", "POST"): operation(
            "Click-to-call: Twilio rings your phone, then the callee with your caller ID",
            ok("202", "the call Twilio placed to your phone", "PlacedCall"),
            security=USER,
            body=json_body(ref("CallInput")),
            extra_errors={
                **_TWILIO,
                "400": "not an E.164 number (`invalid_phone`) or a blocked country (`destination_not_allowed`)",
                "403": "telephony with outbound calls is not enabled for you (`outbound_not_allowed`)",
                "404": "unknown contact",
                "409": "the contact has no phone (`no_phone`), you have no caller ID (`no_caller_id`) or phone",
            },
        ),
        ("/webhooks/twilio/{org}/outbound", "POST"): operation(
            "The TwiML of a click-to-call once the user answers: dial the callee with the caller ID",
            {"200": _TWIML},
            security=None,
            params=(
                header("X-Twilio-Signature", "Twilio's HMAC-SHA1 of the public URL (with the query) and the form"),
                {
                    **query("leg", {"type": "string"}, "the signed leg token click-to-call put in the URL"),
                    "required": True,
                },
            ),
            body={"required": True, "content": {"application/x-www-form-urlencoded": {"schema": ref("TwilioVoice")}}},
            extra_errors={
                "403": "bad Twilio signature or leg token (`bad_signature`, `bad_leg`)",
                "404": "unknown org",
            },
        ),
        ("/webhooks/twilio/{org}/outbound-recording", "POST"): operation(
            "A recorded click-to-call's recording status callback: the recording's URL and duration go on"
            " the call's log row (no signal)",
            NO_CONTENT,
            security=None,
            params=(
                header("X-Twilio-Signature", "Twilio's HMAC-SHA1 of the public URL (with the query) and the form"),
                {
                    **query(
                        "t",
                        {"type": "string", "minLength": 1},
                        "the signed call token the outbound leg put in its recordingStatusCallback",
                    ),
                    "required": True,
                },
            ),
            body={
                "required": True,
                "content": {"application/x-www-form-urlencoded": {"schema": ref("TwilioRecording")}},
            },
            extra_errors={
                "400": "a required Twilio parameter is missing (`invalid_callback`) or the form is malformed",
                "403": "bad Twilio signature or a token not this org's or this call's (`bad_signature`,"
                " `bad_recording_token`)",
                "404": "unknown org",
            },
        ),
    }


def operations() -> dict[tuple[str, str], Schema]:
    return {**_numbers(), **_groups(), **_calls()}
