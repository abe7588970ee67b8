"""JSON Schemas of the bodies the API takes and answers (``components.schemas``).

Limits, enums and patterns are read from the validation code they describe (``gateway.domain``,
the stores' page sizes), so the two cannot drift apart silently.
"""

from __future__ import annotations

from typing import Any

from gateway.api.account import MAX_PURCHASE
from gateway.api.openapi import automation, telephony
from gateway.api.openapi.build import Schema, anchored, id_schema, ref
from gateway.api.openapi.build import obj as _obj
from gateway.api.openapi.call_flows import SCHEMAS as CALL_FLOW_SCHEMAS
from gateway.domain import (
    actions,
    hosts,
    identity,
    links,
    mailbox,
    quota,
    reminders,
    send_request,
    sender_registration,
    signals,
    sms_notifications,
    templates,
    tenancy,
)
from gateway.domain.notifications import RANK
from gateway.domain.reminders import ACTIVITIES
from gateway.domain.signals import SIGNAL_TYPES
from gateway.store.credits import MAX_PER_DAY

STREAM_ID = r"^[0-9]{1,15}-[0-9]{1,10}$"  # gateway.domain.streamid._ID
NON_BLANK = r"\S"  # a string that is not only white space


def _str(max_len: int = 200, **extra: Any) -> Schema:
    return {"type": "string", "maxLength": max_len, **extra}


def _text(max_len: int) -> Schema:
    return {"type": "string", "minLength": 1, "maxLength": max_len, "pattern": NON_BLANK}


def _int(lo: int, hi: int) -> Schema:
    return {"type": "integer", "minimum": lo, "maximum": hi}


_BOOL: Schema = {"type": "boolean"}
_EMAIL: Schema = {"type": "string", "format": "email", "maxLength": 254}
_PHONE: Schema = {
    "type": "string",
    "description": "a phone number; stored as E.164 (the org's country for local numbers)",
}
_NULLABLE_STR: Schema = {"type": ["string", "null"]}
_DATE_TIME: Schema = {"type": "string", "format": "date-time"}

_REGISTRATION_TEXT = {k: _text(n) for k, n in sender_registration.TEXT_LENGTHS.items()}
SENDER_REGISTRATION = _obj(
    {
        "sender_id": {"type": "string", "pattern": anchored(sender_registration.SENDER_ID)},
        "entity_id": {
            "type": "string",
            "pattern": anchored(sender_registration.ENTITY_ID),
            "description": "the DLT entity ID (PEID), 19 digits",
        },
        "entity_name": _REGISTRATION_TEXT["entity_name"],
        "sender_unique_id": {"type": "string", "pattern": anchored(sender_registration.SENDER_UNIQUE_ID)},
        "operator": _REGISTRATION_TEXT["operator"],
    },
    sender_registration.SENDER_REQUIRED,
    closed=True,
)
_NULLABLE_TEXT = {k: {**v, "type": ["string", "null"]} for k, v in _REGISTRATION_TEXT.items()}
ORG_PROFILE_INPUT = {
    **_obj(
        {
            "legal_name": _NULLABLE_TEXT["legal_name"],
            "brand_name": _NULLABLE_TEXT["brand_name"],
            "city": _NULLABLE_TEXT["city"],
            "state": _NULLABLE_TEXT["state"],
            "postal_code": {
                "type": ["string", "null"],
                "pattern": anchored(sender_registration.POSTAL_CODE),
                "description": "for an org in IN a 6-digit PIN code",
            },
        },
        closed=True,
    ),
    "description": "merged field by field; null removes a field",
}
_EXTRA_SENDERS: Schema = {
    "type": "array",
    "items": _EMAIL,
    "maxItems": tenancy.MAX_EXTRA_SENDERS,
    "description": "addresses besides the user's own that the BCC dropbox accepts mail from (stored lower-case)",
}

ORG_INPUT = _obj(
    {
        "name": _str(),
        "plan": {"type": "string", "enum": list(tenancy.PLANS)},
        "timezone": _str(64, description="IANA time zone, e.g. Asia/Tokyo", examples=["Asia/Tokyo"]),
        "country": {"type": "string", "pattern": "^[A-Z]{2}$", "description": "ISO 3166 alpha-2"},
        "active_users": _int(0, 1_000_000),
        "mass_email_addon": _int(0, quota.MAX_MASS_ADDON),
        "tracking": _BOOL,
        "reminders": _BOOL,
        "allow_lead_creation": _BOOL,
        "record_url_template": {
            "type": ["string", "null"],
            "maxLength": links.MAX_TEMPLATE,
            "description": "http(s) URL of a contact's CRM record; placeholders {org}, {kind}, {contact_id}",
            "examples": ["https://crm.example.jp/{kind}s/{contact_id}"],
        },
        "twilio": _obj(
            {
                "account_sid": {"type": "string", "pattern": "^AC[0-9a-fA-F]{32}$"},
                "auth_token": _str(128, writeOnly=True),
                "from_number": _PHONE,
                "messaging_service_sid": _str(64),
            },
            closed=True,
        ),
        "webhook_secret": {
            "type": "string",
            "pattern": "^whsec_[A-Za-z0-9+/]{22,}={0,2}$",
            "description": "whsec_ + base64 of at least 16 bytes (Standard Webhooks)",
            "writeOnly": True,
        },
        "smtp": {
            "type": ["object", "null"],
            "description": "the org's own SMTP server for its mail (null removes it); the password is never shown",
            "properties": {
                "host": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": hosts.MAX_HOST,
                    "pattern": r"^[A-Za-z0-9.:-]+$",
                },
                "port": _int(1, 65535),
                "username": _str(254),
                "password": _str(256, writeOnly=True),
                "starttls": _BOOL,
            },
            "additionalProperties": False,
        },
        "senders": {
            "type": "array",
            "maxItems": identity.MAX_SENDERS,
            "items": {"type": "string", "pattern": anchored(identity.PLAIN_ADDRESS), "maxLength": 254},
            "description": "addresses the org may send from; the first is its default From",
        },
        "user_from": {
            "type": "boolean",
            "description": "with its own smtp: mail goes out From the user's address when it is on a senders domain",
        },
        "sender": ref("SenderRegistration"),
        "profile": ref("OrgProfileInput"),
        "dropbox_create": {
            "type": "string",
            "enum": list(tenancy.DROPBOX_CREATE),
            "description": "what the BCC dropbox makes of an unknown recipient when allow_lead_creation is on",
        },
    },
    closed=True,
)

ORG = _obj(
    {
        "id": id_schema("org"),
        "name": {"type": "string"},
        "plan": {"type": "string", "enum": list(tenancy.PLANS)},
        "timezone": {"type": "string"},
        "country": {"type": "string"},
        "active_users": {"type": "integer"},
        "mass_email_addon": {"type": "integer"},
        "tracking": _BOOL,
        "reminders": _BOOL,
        "allow_lead_creation": _BOOL,
        "twilio": _obj(
            {
                "account_sid": {"type": "string"},
                "from_number": {"type": "string"},
                "messaging_service_sid": {"type": "string"},
                "auth_token_set": _BOOL,
            },
            ("auth_token_set",),
        ),
        "webhook_secret_set": _BOOL,
        "smtp": _obj(
            {
                "host": {"type": "string"},
                "port": {"type": "integer"},
                "username": {"type": "string"},
                "starttls": _BOOL,
                "password_set": _BOOL,
            },
            ("host", "port", "password_set"),
        ),
        "senders": {"type": "array", "items": {"type": "string"}},
        "user_from": _BOOL,
        "sender": ref("SenderRegistration"),
        "profile": _obj({k: {"type": "string"} for k in sender_registration.PROFILE_FIELDS}),
        "sender_registration": _obj(
            {
                "missing": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": "what SMS still waits for (`sender.<field>`, `profile.<field>`); empty = registered",
                }
            },
            ("missing",),
        ),
        "dropbox_create": {"type": "string", "enum": list(tenancy.DROPBOX_CREATE)},
        "record_url_template": {"type": ["string", "null"]},
    },
    ("id", "name", "plan", "timezone", "country", "twilio", "webhook_secret_set"),
)

USER_INPUT = _obj(
    {
        "name": _str(),
        "email": _EMAIL,
        "phone": _PHONE,
        "role": {"type": "string", "enum": ["admin", "member"]},
        "reminders": _BOOL,
        "telephony": ref("TelephonyInput"),
        "extra_senders": _EXTRA_SENDERS,
    },
    closed=True,
)
USER = _obj(
    {
        "id": id_schema("user"),
        "name": {"type": "string"},
        "email": {"type": "string"},
        "phone": {"type": "string"},
        "role": {"type": "string", "enum": ["admin", "member"]},
        "reminders": _BOOL,
        "telephony": ref("Telephony"),
        "extra_senders": {"type": "array", "items": {"type": "string"}},
    },
    ("id", "name", "role"),
)
USER_PAGE = _obj(
    {
        "users": {"type": "array", "items": ref("User")},
        "next": {**_NULLABLE_STR, "description": "pass as `after` for the next page; null on the last"},
    },
    ("users",),
)
TOKEN = _obj(
    {
        "id": {"type": "string", "description": "names the token for revocation; not a secret"},
        "token": {"type": "string", "description": "the bearer token; shown only here, once"},
        "org": {"type": "string"},
        "user": {"type": "string"},
        "created_at": {"type": "string", "format": "date-time"},
    },
    ("id", "token", "org", "user", "created_at"),
)
TOKEN_LIST = _obj(
    {
        "tokens": {
            "type": "array",
            "items": _obj(
                {
                    "id": {"type": "string"},
                    "created_at": {**_NULLABLE_STR, "description": "null for tokens issued before ids existed"},
                    "last_used_at": {**_NULLABLE_STR, "description": "last REST call or WebSocket hello"},
                },
                ("id", "created_at", "last_used_at"),
            ),
        }
    },
    ("tokens",),
)

_PHONE_TYPE: Schema = {"type": "string", "enum": ["mobile", "work", "home", "other"]}
_CONTACT_PHONE_IN: Schema = {
    "oneOf": [
        _PHONE,
        _obj({"number": _PHONE, "type": _PHONE_TYPE}, ("number",), closed=True),
    ]
}
_FIELD_VALUE: Schema = {"type": ["string", "number", "boolean"]}
_FIELD_NAME = {"pattern": anchored(tenancy.FIELD_NAME)}
CONTACT_INPUT = _obj(
    {
        "kind": {"type": "string", "enum": ["lead", "contact"]},
        "name": _str(),
        "company": {"type": ["string", "null"], "maxLength": 200},
        "emails": {"type": "array", "maxItems": 50, "items": _EMAIL},
        "phones": {
            "type": "array",
            "maxItems": 50,
            "items": _CONTACT_PHONE_IN,
            "description": "E.164 strings (typed mobile or other from the numbering plan) or {number, type}",
        },
        "owner": {"type": ["string", "null"], "pattern": anchored(tenancy.RECORD_ID), "description": "a user id"},
        "marketing": _BOOL,
        "fields": {
            "type": "object",
            "maxProperties": tenancy.MAX_FIELDS,
            "propertyNames": _FIELD_NAME,
            "additionalProperties": {"type": ["string", "number", "boolean", "null"]},
            "description": "custom fields merged into the stored ones; null removes one",
        },
    },
    closed=True,
)
CONTACT = _obj(
    {
        "id": id_schema("contact"),
        "kind": {"type": "string", "enum": ["lead", "contact"]},
        "name": {"type": "string"},
        "company": _NULLABLE_STR,
        "emails": {"type": "array", "items": {"type": "string"}},
        "phones": {"type": "array", "items": _obj({"number": {"type": "string"}, "type": _PHONE_TYPE}, ("number",))},
        "owner": _NULLABLE_STR,
        "marketing": _BOOL,
        "fields": {"type": "object", "additionalProperties": _FIELD_VALUE},
    },
    ("id", "kind", "name", "emails", "phones", "owner", "marketing"),
)
_CURSOR: Schema = {"type": ["string", "null"], "description": "the next page's cursor; null on the last page"}
CONTACT_PAGE = _obj({"contacts": {"type": "array", "items": ref("Contact")}, "cursor": _CURSOR}, ("contacts", "cursor"))
CONTACT_IMPORT = _obj(
    {
        "contacts": {
            "type": "array",
            "maxItems": 10000,
            "items": {"type": "object", "description": "id plus the fields of ContactInput"},
        }
    },
    ("contacts",),
    closed=True,
)
IMPORT_RESULT = _obj(
    {
        "results": {
            "type": "array",
            "items": _obj(
                {
                    "row": {"type": "integer"},
                    "id": _NULLABLE_STR,
                    "status": {"type": "string", "enum": ["created", "updated", "error"]},
                    "reason": {"type": "string"},
                    "detail": {"type": "string"},
                },
                ("row", "id", "status"),
            ),
        },
        "created": {"type": "integer"},
        "updated": {"type": "integer"},
        "errors": {"type": "integer"},
    },
    ("results", "created", "updated", "errors"),
)
SUPPRESSION_PAGE = _obj(
    {
        "suppressions": {
            "type": "array",
            "items": _obj(
                {"address": {"type": "string"}, "reason": {"type": "string"}, "at": _DATE_TIME},
                ("address", "reason", "at"),
            ),
        },
        "cursor": _CURSOR,
    },
    ("suppressions", "cursor"),
)
SEGMENT_INPUT = _obj(
    {
        "name": _str(),
        "match": {
            "type": "object",
            "maxProperties": 20,
            "description": "equalities that must all hold: kind, owner, company, marketing, fields.<name>",
        },
    },
    ("match",),
    closed=True,
)
SEGMENT = _obj(
    {"id": id_schema("segment"), "name": {"type": "string"}, "match": {"type": "object"}}, ("id", "name", "match")
)
SEGMENT_LIST = _obj({"segments": {"type": "array", "items": ref("Segment")}}, ("segments",))
FANOUT = _obj(
    {
        "id": {"type": "string", "description": "the segment send's id (GET .../fanouts/{id})"},
        "kind": {"type": "string", "enum": ["email", "sms_notification"], "description": "what each member gets"},
        "sms_notification": {"type": "string", "description": "kind sms_notification: the definition's id"},
        "segment": {"type": "string"},
        "status": {"type": "string", "enum": ["queued", "running", "done"]},
        "total": {"type": "integer", "description": "members found so far (final once done)"},
        "enqueued": {"type": "integer", "description": "member notifications made"},
        "skipped": {"type": "integer", "description": "members given none (e.g. no_phone_in_field), see results"},
        "done": {
            "type": "integer",
            "description": "member notifications with an outcome (sent, delivered, failed, rejected, ...); "
            "reaches enqueued",
        },
        "idempotency_key": {"type": "string"},
        "created_at": _DATE_TIME,
        "reason": {"type": "string"},
    },
    ("id", "kind", "segment", "status", "total", "enqueued", "skipped", "done"),
)
_CONTACT_NAME = {"type": ["string", "null"], "description": "the contact's name (null: deleted, or none)"}
_MEMBER_RESULT = _obj(
    {
        "contact": {"type": "string"},
        "name": _CONTACT_NAME,
        "notification": {"type": "string"},
        "error": {"type": "string", "description": "why none, e.g. no_phone_in_field, unknown_contact"},
    },
    ("contact", "name"),
)
FANOUT_RESULTS = _obj(
    {
        "results": {"type": "array", "items": _MEMBER_RESULT},
        "cursor": {"type": ["string", "null"], "description": "the next page's cursor (null: the last page)"},
    },
    ("results", "cursor"),
)
CALL = _obj(
    {
        "sid": {"type": "string"},
        "direction": {"type": "string"},
        "from": {"type": "string"},
        "to": {"type": "string"},
        "status": {"type": "string"},
        "duration": {"type": ["integer", "null"]},
        "started_at": _DATE_TIME,
        "updated_at": {"type": ["string", "null"], "format": "date-time"},
    },
    ("sid", "direction", "from", "to", "status", "duration", "started_at", "updated_at"),
)


def _target(kind: str) -> Schema:
    value = (
        id_schema(kind)
        if kind in ("contact", "user", "segment")
        else {"type": "string", "minLength": 1, "maxLength": 254}
    )
    return _obj({kind: value}, (kind,), closed=True)


NOTIFICATION_INPUT = _obj(
    {
        "channel": {"type": "string", "enum": ["sms", "email"]},
        "template": {"type": "string", "pattern": anchored(tenancy.RECORD_ID), "description": "a template id"},
        "to": {
            "oneOf": [*(_target(kind) for kind in send_request.TARGETS), _target("segment")],
            "description": "{segment}: email of kind mass to every member (answers a Fanout)",
        },
        "data": {"type": "object", "description": "merge fields"},
        "kind": {"type": "string", "enum": list(send_request.KINDS), "default": "individual"},
        "idempotency_key": {"type": "string", "minLength": 1, "maxLength": send_request.MAX_KEY},
        "send_at": {**_DATE_TIME, "description": "with a time zone offset; later sends are scheduled"},
        "sender": {"type": "string", "pattern": anchored(tenancy.RECORD_ID)},
    },
    ("channel", "template", "to"),
    closed=True,
)
# Every status a notification can have (SPEC "Sending"), in the order a send moves through them.
NOTIFICATION_STATUSES = tuple(sorted(RANK, key=lambda s: (RANK[s], s)))
NOTIFICATION = _obj(
    {
        "id": {"type": "string"},
        "channel": {"type": "string", "enum": ["sms", "email"]},
        "template": {"type": "string"},
        "to": {"type": "object"},
        "kind": {"type": "string", "enum": list(send_request.KINDS)},
        "status": {"type": "string", "enum": list(NOTIFICATION_STATUSES)},
        "reason": {"type": ["string", "null"], "description": "why it was rejected, failed or bounced"},
        "idempotency_key": {"type": "string"},
        "template_version": {"type": "integer", "description": "the template version it was rendered from"},
        "created_at": _DATE_TIME,
        "updated_at": _DATE_TIME,
        "history": {
            "type": "array",
            "items": _obj(
                {"status": {"type": "string", "enum": list(NOTIFICATION_STATUSES)}, "at": _DATE_TIME, "reason": {}},
                ("status", "at"),
            ),
        },
    },
    ("id", "channel", "template", "to", "status", "created_at", "updated_at", "history"),
)
REMINDER_INPUT = _obj(
    {
        "user": id_schema("user"),
        "activity": {"type": "string", "enum": list(ACTIVITIES)},
        "title": _text(200),
        "remind_at": {**_DATE_TIME, "description": "with a time zone offset"},
        "id": id_schema("reminder"),
    },
    ("user", "activity", "title", "remind_at"),
    closed=True,
)
REMINDER_UPDATE = _obj(
    {
        "title": _text(200),
        "remind_at": {**_DATE_TIME, "description": "with a time zone offset"},
        "user": id_schema("user"),
        "activity": {"type": "string", "enum": list(ACTIVITIES)},
    },
    closed=True,
    min_properties=1,
)
REMINDER = _obj(
    {
        "id": {"type": "string"},
        "user": {"type": "string"},
        "activity": {"type": "string", "enum": list(ACTIVITIES)},
        "title": {"type": "string"},
        "remind_at": {"type": "string"},
        "status": {"type": "string", "enum": list(reminders.STATUSES)},
        "version": {"type": "integer", "description": "grows with each reschedule or cancel"},
        "reason": {"type": "string", "description": "why it was skipped or failed"},
        "notification": {"type": "string", "description": "the SMS notification that carried it"},
    },
    ("id", "user", "activity", "title", "remind_at", "status"),
)
REMINDER_PAGE = _obj(
    {"reminders": {"type": "array", "items": ref("Reminder")}, "cursor": _NULLABLE_STR}, ("reminders", "cursor")
)

_TEMPLATE_COMMON: dict[str, Schema] = {
    "id": id_schema("template"),
    "name": _text(200),
    "module": _text(64),
    "body": {**_text(templates.MAX_BODY), "description": "a Jinja template (sandboxed)"},
}
TEMPLATE_INPUT: Schema = {
    "oneOf": [
        _obj({**_TEMPLATE_COMMON, "channel": {"const": "sms"}}, ("channel", "name", "module", "body"), closed=True),
        _obj(
            {**_TEMPLATE_COMMON, "channel": {"const": "email"}, "subject": _text(500)},
            ("channel", "name", "module", "body", "subject"),
            closed=True,
        ),
    ]
}
TEMPLATE_EDIT = _obj(
    {
        "name": _text(200),
        "module": {"type": "string", "description": "must equal the stored module"},
        "channel": {"type": "string", "description": "must equal the stored channel"},
        "body": _TEMPLATE_COMMON["body"],
        "subject": {**_text(500), "description": "email templates only"},
        "submit": {"type": "boolean", "description": "submit the edited version for approval at once (SMS)"},
    },
    closed=True,
)
_CANDIDATE = _obj(
    {
        "version": {"type": "integer"},
        "body": {"type": "string"},
        "status": {"type": "string", "enum": ["draft", "pending", "rejected"]},
        "reject_reason": {"type": "string"},
    },
    ("version", "body", "status"),
)
TEMPLATE = _obj(
    {
        "id": {"type": "string"},
        "channel": {"type": "string", "enum": ["sms", "email"]},
        "name": {"type": "string"},
        "module": {"type": "string"},
        "body": {"type": "string"},
        "subject": {"type": "string"},
        "status": {"type": "string", "enum": ["draft", "pending", "approved", "rejected"]},
        "version": {"type": "integer"},
        "dlt_template_id": {"type": "string"},
        "reject_reason": {"type": "string"},
        "created_ms": {"type": "integer"},
        "updated_ms": {"type": "integer"},
        "draft": {**_CANDIDATE, "description": "a new version not yet submitted (or rejected); the live one serves"},
        "pending": {**_CANDIDATE, "description": "a new version awaiting approval; the live one serves"},
    },
    ("id", "channel", "name", "module", "body", "status", "version"),
)
APPROVE_INPUT = _obj(
    {"dlt_template_id": {"type": "string", "pattern": "^[0-9]{10,30}$", "description": "required for orgs in IN"}}
)
REJECT_INPUT = _obj({"reason": {"type": "string", "description": "kept up to 500 characters"}})

CREDITS = _obj(
    {
        "balance": {"type": "integer"},
        "auto_recharge": _obj(
            {
                "enabled": _BOOL,
                "threshold": {"type": "integer"},
                "amount": {"type": "integer"},
                "max_per_day": {"type": "integer", "description": "top-ups allowed per org-local day"},
                "today": {"type": "integer", "description": "top-ups made on the org's current local day"},
            },
            ("enabled", "threshold", "amount", "max_per_day"),
        ),
    },
    ("balance", "auto_recharge"),
)
PURCHASE_INPUT = _obj(
    {"amount": _int(1, MAX_PURCHASE), "reference": {"type": "string", "maxLength": 100}},
    ("amount",),
)
AUTO_RECHARGE_INPUT: Schema = {
    **_obj(
        {
            "enabled": _BOOL,
            "threshold": _int(0, MAX_PURCHASE),
            "amount": _int(1, MAX_PURCHASE),
            "max_per_day": {**_int(1, MAX_PER_DAY), "description": "top-ups per org-local day (default 10)"},
        },
        ("enabled",),
        closed=True,
    ),
    "if": {"properties": {"enabled": {"const": True}}},
    "then": {"required": ["threshold", "amount"]},
}
SMS_PREVIEW_INPUT: Schema = {
    "oneOf": [
        _obj({"body": {"type": "string", "maxLength": 10_000}}, ("body",), closed=True),
        _obj({"template": id_schema("template"), "data": {"type": "object"}}, ("template",), closed=True),
    ]
}
SMS_PREVIEW = _obj(
    {
        "text": {"type": "string"},
        "encoding": {"type": "string", "enum": ["GSM-7", "UCS-2"]},
        "segments": {"type": "integer", "minimum": 1},
        "credits": {"type": "integer", "minimum": 1},
    },
    ("text", "encoding", "segments", "credits"),
)
SMS_NOTIFICATION_INPUT = _obj(
    {
        "name": _text(sms_notifications.MAX_NAME),
        "module": {**_text(64), "description": "fixed after creation"},
        "phone_field": {"type": "string", "enum": list(sms_notifications.PHONE_FIELDS)},
        "template": id_schema("template"),
    },
    closed=True,
)
SMS_NOTIFICATION = _obj(
    {
        "id": {"type": "string"},
        "name": {"type": "string"},
        "module": {"type": "string"},
        "phone_field": {"type": "string", "enum": list(sms_notifications.PHONE_FIELDS)},
        "template": {"type": "string"},
    },
    ("id", "name", "module", "phone_field", "template"),
)
SMS_NOTIFICATION_LIST = _obj(
    {"sms_notifications": {"type": "array", "items": ref("SmsNotification")}}, ("sms_notifications",)
)
_TRIGGER_COMMON: dict[str, Schema] = {
    "data": {"type": "object", "description": "merge fields (each contact also gets `contact`)"},
    "idempotency_key": {"type": "string", "minLength": 1, "maxLength": sms_notifications.MAX_KEY},
}
SMS_TRIGGER_INPUT: Schema = {
    "oneOf": [
        _obj(
            {
                "contacts": {
                    "type": "array",
                    "items": id_schema("contact"),
                    "minItems": 1,
                    "maxItems": sms_notifications.MAX_CONTACTS,
                },
                **_TRIGGER_COMMON,
            },
            ("contacts",),
            closed=True,
        ),
        _obj({"segment": id_schema("segment"), **_TRIGGER_COMMON}, ("segment",), closed=True),
    ]
}
SMS_TRIGGER = _obj(
    {
        "sms_notification": {"type": "string"},
        "results": {
            "type": "array",
            "items": _obj(
                {
                    "contact": {"type": "string"},
                    "name": _CONTACT_NAME,
                    "notification": {"type": "string"},
                    "error": {"type": "string", "enum": ["no_phone_in_field", "unknown_contact"]},
                },
                ("contact", "name"),
            ),
        },
    },
    ("sms_notification", "results"),
)
SMS_TRIGGER_FANOUT = _obj(
    {"sms_notification": {"type": "string"}, "fanout": ref("Fanout")},
    ("sms_notification", "fanout"),
)
# The credit ledger's entry types (credits_credit.lua, credits_reserve.lua, credits_configure.lua).
LEDGER_TYPES = ("purchase", "charge", "refund", "auto_recharge")
LEDGER = _obj(
    {
        "entries": {
            "type": "array",
            "items": _obj(
                {
                    "id": {"type": "string"},
                    "type": {"type": "string", "enum": list(LEDGER_TYPES)},
                    "amount": {"type": "integer"},
                    "balance": {"type": "integer"},
                    "at_ms": {"type": "integer"},
                    "notification": {"type": "string"},
                    "note": {"type": "string"},
                },
                ("id", "type", "amount", "balance", "at_ms"),
            ),
        }
    },
    ("entries",),
)
_USED = _obj({"used": {"type": "integer"}, "limit": {"type": "integer"}}, ("used", "limit"))
USAGE = _obj(
    {
        "email": _obj(
            {
                "day": {"type": "string", "format": "date"},
                "timezone": {"type": "string"},
                "resets_in_seconds": {"type": "integer"},
                "individual": _USED,
                "mass": _USED,
            },
            ("day", "timezone", "resets_in_seconds", "individual", "mass"),
        ),
        "sms": ref("Credits"),
    },
    ("email", "sms"),
)
_REPORT_ROW = _obj(
    {name: {"type": "integer"} for name in ("sent", "bounced", "opened", "clicked", "received", "replied")}
    | {f"{name}_rate": {"type": "number"} for name in ("bounced", "opened", "clicked", "replied")},
    ("sent", "bounced", "opened", "clicked", "received", "replied"),
)
EMAIL_REPORT = _obj(
    {
        "from": {"type": "string", "format": "date"},
        "to": {"type": "string", "format": "date"},
        "group": {"type": "string", "enum": ["day", "week", "month"]},
        "timezone": {"type": "string"},
        "rows": {"type": "array", "items": {"allOf": [_REPORT_ROW, _obj({"period": {"type": "string"}}, ("period",))]}},
        "total": _REPORT_ROW,
        "templates": {
            "type": "array",
            "items": {"allOf": [_REPORT_ROW, _obj({"template": {"type": "string"}}, ("template",))]},
        },
        "versions": {
            "type": "array",
            "description": "per template and version (sent from, opened and clicked of mail rendered from it)",
            "items": {
                "allOf": [
                    _REPORT_ROW,
                    _obj({"template": {"type": "string"}, "version": {"type": "integer"}}, ("template", "version")),
                ]
            },
        },
    },
    ("from", "to", "group", "timezone", "rows", "total", "templates"),
)
ACTIVITY = _obj(
    {
        "contact": {"type": "string"},
        "activity": {"type": "array", "items": {"type": "object", "description": "id, type, direction, at, ..."}},
        "total": {"type": "integer"},
    },
    ("contact", "activity", "total"),
)

ME = _obj(
    {
        "org": {"type": "string"},
        "user": {"type": "string"},
        "name": {"type": "string"},
        "role": {"type": "string", "enum": ["admin", "member"]},
        "org_name": {"type": "string"},
        "timezone": {"type": "string", "description": "the org's IANA time zone"},
        "country": {"type": "string", "description": "the org's ISO 3166 alpha-2 country"},
    },
    ("org", "user", "name", "role", "org_name", "timezone", "country"),
)
SIGNAL = _obj(
    {
        "id": {"type": "string", "pattern": STREAM_ID},
        "type": {"type": "string", "enum": list(SIGNAL_TYPES)},
        "org": {"type": "string"},
        "user": {"type": "string"},
        "contact": {
            "type": ["object", "null"],
            "description": "the matched contact (null when none): id, name, kind, and company when it has one",
            "properties": {
                "id": {"type": "string"},
                "name": {"type": "string"},
                "kind": {"type": "string", "enum": ["lead", "contact"]},
                "company": {"type": "string"},
            },
        },
        "title": {"type": "string"},
        "body": {"type": "string"},
        "occurred_at": _DATE_TIME,
        "count": {"type": "integer"},
        "read": _BOOL,
        "archived": _BOOL,
        "snoozed_until": {
            "type": ["string", "null"],
            "format": "date-time",
            "description": "when a snoozed signal comes back to the inbox (UTC); null when not snoozed",
        },
        "acted": {
            "type": "object",
            "description": 'what was done with the signal, e.g. {"action": "sms", "notification": "...", "at": "..."}',
        },
        "data": {"type": "object"},
        "links": _obj({"record": {"type": "string", "format": "uri"}}),
    },
    ("id", "type", "count"),
)
ACTION_INPUT = _obj(
    {
        "signal": {"type": "string", "pattern": STREAM_ID, "description": "the signal acted on"},
        "action": {"type": "string", "enum": list(actions.ACTIONS)},
        "template": id_schema("template"),
        "data": {"type": "object", "description": "merge fields of the template"},
        "idempotency_key": {"type": "string", "minLength": 1, "maxLength": actions.MAX_KEY},
    },
    ("signal", "action", "template"),
    closed=True,
)
ACTION_RESULT = _obj(
    {
        "notification": _obj(
            {"id": {"type": "string"}, "status": {"type": "string"}},
            ("id", "status"),
        ),
        "unread": {"type": "integer"},
    },
    ("notification", "unread"),
)
ME_TEMPLATES = _obj(
    {
        "templates": {
            "type": "array",
            "items": _obj(
                {
                    "id": {"type": "string"},
                    "name": {"type": "string"},
                    "body": {"type": "string"},
                    "fields": {"type": "array", "items": {"type": "string"}},
                },
                ("id", "name", "body", "fields"),
            ),
        }
    },
    ("templates",),
)
SIGNAL_PAGE = _obj(
    {
        "signals": {"type": "array", "items": ref("Signal")},
        "unread": {"type": "integer"},
        "cursor": {"type": "string", "pattern": STREAM_ID, "description": "a safe `after` for /ws"},
    },
    ("signals", "unread", "cursor"),
)
READ_INPUT: Schema = {
    "oneOf": [
        _obj(
            {
                "ids": {
                    "type": "array",
                    "maxItems": signals.MAX_READ_IDS,
                    "items": {"type": "string", "pattern": STREAM_ID},
                }
            },
            ("ids",),
            closed=True,
        ),
        _obj({"up_to": {"type": "string", "pattern": STREAM_ID}}, ("up_to",), closed=True),
    ]
}
UNREAD = _obj({"unread": {"type": "integer"}}, ("unread",))
STATE_CHANGED = _obj(
    {
        "unread": {"type": "integer", "description": "unread signals in the inbox, after the change"},
        "unknown": {
            "type": "array",
            "items": {"type": "string"},
            "description": "named ids that are not (or no longer) signals of the feed; nothing was done to them",
        },
    },
    ("unread", "unknown"),
)
_UNTIL: Schema = {
    "type": ["string", "null"],
    "format": "date-time",
    "description": "ISO 8601 with an offset, in the future, at most 90 days away; null un-snoozes (back to the inbox)",
}
SNOOZE_INPUT: Schema = {
    "oneOf": [
        _obj(
            {
                "ids": {
                    "type": "array",
                    "maxItems": signals.MAX_READ_IDS,
                    "items": {"type": "string", "pattern": STREAM_ID},
                },
                "until": _UNTIL,
            },
            ("ids", "until"),
            closed=True,
        ),
        _obj({"up_to": {"type": "string", "pattern": STREAM_ID}, "until": _UNTIL}, ("up_to", "until"), closed=True),
    ]
}
SIGNAL_COUNTS = _obj(
    {
        "unread": {"type": "integer", "description": "unread signals in the inbox"},
        "by_type": {
            **_obj({t: {"type": "integer"} for t in SIGNAL_TYPES}, closed=True),
            "required": list(SIGNAL_TYPES),
        },
    },
    ("unread", "by_type"),
)
SIGNAL_EVENTS = _obj(
    {
        "events": {
            "type": "array",
            "items": _obj(
                {
                    "occurred_at": _DATE_TIME,
                    "title": {"type": ["string", "null"]},
                    "body": {"type": ["string", "null"]},
                    "count": {"type": "integer", "description": "the signal's count once this event was grouped in"},
                },
                ("occurred_at", "title", "body", "count"),
            ),
        },
        "count": {"type": "integer", "description": "the signal's count now"},
    },
    ("events", "count"),
)
_TYPES = _obj({t: _BOOL for t in SIGNAL_TYPES}, closed=True)
SETTINGS_INPUT = _obj(
    {"types": _TYPES, "reminders": {**_BOOL, "description": "false: no SMS reminders for me"}},
    closed=True,
    min_properties=1,
)
SETTINGS = _obj({"types": {**_TYPES, "required": list(SIGNAL_TYPES)}, "reminders": _BOOL}, ("types", "reminders"))

EVENT_INPUT = _obj(
    {
        "type": {"type": "string", "enum": list(SIGNAL_TYPES)},
        "contact": {
            "oneOf": [_obj({k: {"type": "string"}}, (k,), closed=True) for k in ("email", "phone", "id")],
            "description": "who the event is about",
        },
        "title": {"type": "string"},
        "body": {"type": "string"},
        "data": {"type": "object"},
    },
    ("type", "contact"),
)
EVENT_ACCEPTED = _obj(
    {"accepted": {"const": True}, "duplicate": _BOOL, "event": {"type": "string"}},
    ("accepted", "duplicate", "event"),
)


def _form(required: tuple[str, ...], *optional: str) -> Schema:
    """A Twilio callback: its named parameters, plus the many others Twilio sends."""
    props = {name: {"type": "string"} for name in (*required, *optional)}
    return {**_obj(props, required), "additionalProperties": {"type": "string"}}


TWILIO_SMS = _form(("MessageSid", "From"), "To", "Body", "AccountSid", "NumMedia")
TWILIO_SMS_STATUS = _form(("MessageSid", "MessageStatus"), "To", "From", "ErrorCode", "AccountSid")
TWILIO_VOICE = _form((), "CallSid", "From", "To", "CallStatus", "Direction", "AccountSid")
TWILIO_VOICE_STATUS = _form(("CallSid", "CallStatus"), "From", "To", "Direction", "CallDuration", "AccountSid")

ERROR = _obj(
    {
        "error": {"type": "string", "description": "a machine code, e.g. invalid_id, org_not_found"},
        "detail": {"type": "string", "description": "a sentence for people"},
    },
    ("error", "detail"),
)
HEALTH = _obj({"status": {"type": "string"}}, ("status",))
_NULL_STR: Schema = {"type": ["string", "null"]}
_NULL_INT: Schema = {"type": ["integer", "null"]}
MAILBOX = _obj(
    {
        "id": {"type": "string"},
        "user": {"type": "string"},
        "host": {"type": "string"},
        "port": {"type": "integer"},
        "tls": {"type": "string", "enum": ["implicit", "starttls", "none"]},
        "username": {"type": "string"},
        "folder": {"type": "string"},
        "mode": {"type": "string", "enum": list(mailbox.MODES)},
        "source": {"type": "string", "enum": ["config", "api"]},
        "password_set": {"type": "boolean", "description": "a password is stored (it is never shown)"},
        "state": {"type": "string", "enum": ["idle", "connecting", "auth_failed", "tls_failed", "backoff"]},
        "state_since": {"type": ["string", "null"], "format": "date-time"},
        "last_error": _NULL_STR,
        "last_error_at": {"type": ["string", "null"], "format": "date-time"},
        "last_uid": _NULL_INT,
        "uidvalidity": _NULL_INT,
    },
    ("id", "user", "host", "port", "tls", "username", "folder", "mode", "state", "last_error", "last_uid"),
)
MAILBOX_INPUT = _obj(
    {
        "user": {**id_schema("user"), "description": "the mailbox owner (a user of the org)"},
        "host": {
            "type": "string",
            "minLength": 1,
            "maxLength": hosts.MAX_HOST,
            "pattern": r"^[A-Za-z0-9.:-]+$",
            "description": "IMAP server: a host name or an IP address",
        },
        "port": {"type": "integer", "minimum": 1, "maximum": 65535, "description": "default 993 (implicit), else 143"},
        "tls": {"type": "string", "enum": list(mailbox.TLS_MODES), "default": "implicit"},
        "username": {"type": "string", "minLength": 1, "maxLength": 254, "pattern": r"^[^\x00-\x1f\x7f]+$"},
        "password": {
            "type": "string",
            "minLength": 1,
            "maxLength": 256,
            "pattern": r"^[^\x00-\x1f\x7f]+$",
            "writeOnly": True,
        },
        "folder": {"type": "string", "pattern": r"^[\x20-\x21\x23-\x5b\x5d-\x7e]{1,200}$", "default": "INBOX"},
        "mode": {
            "type": "string",
            "enum": list(mailbox.MODES),
            "default": "inbox",
            "description": "inbox: signals; sent: the owner's sent mail into contact activity; dropbox: BCC copies",
        },
    },
    ("user", "host", "username", "password"),
    closed=True,
)
# PATCH: any of the POST fields; the result is checked as a POST of the whole mailbox would be.
MAILBOX_PATCH = _obj(
    {key: {k: v for k, v in prop.items() if k != "default"} for key, prop in MAILBOX_INPUT["properties"].items()},
    closed=True,
)
MAILBOX_LIST = _obj({"mailboxes": {"type": "array", "items": ref("Mailbox")}}, ("mailboxes",))
DLT_COPY = _obj(
    {
        "text": {"type": "string", "description": "the body with each {{ … }} as {#var#}"},
        "variables": {"type": "integer", "minimum": 0},
        "dlt_template_id": {"type": "string", "description": "once approved with one"},
        "version": {"type": "integer", "minimum": 1, "description": "the version copied"},
        "status": {
            "type": "string",
            "description": "that version's status (draft, pending, approved, rejected, retired, withdrawn)",
        },
    },
    ("text", "variables", "version", "status"),
)

COMPONENTS: dict[str, Schema] = {
    **CALL_FLOW_SCHEMAS,
    "Error": ERROR,
    "Health": HEALTH,
    "OrgInput": ORG_INPUT,
    "Org": ORG,
    "SenderRegistration": SENDER_REGISTRATION,
    "OrgProfileInput": ORG_PROFILE_INPUT,
    "DltCopy": DLT_COPY,
    "UserInput": USER_INPUT,
    "User": USER,
    "UserPage": USER_PAGE,
    "Token": TOKEN,
    "TokenList": TOKEN_LIST,
    "ContactInput": CONTACT_INPUT,
    "Contact": CONTACT,
    "ContactPage": CONTACT_PAGE,
    "ContactImport": CONTACT_IMPORT,
    "ImportResult": IMPORT_RESULT,
    "SuppressionPage": SUPPRESSION_PAGE,
    "SegmentInput": SEGMENT_INPUT,
    "Segment": SEGMENT,
    "SegmentList": SEGMENT_LIST,
    "Fanout": FANOUT,
    "FanoutResults": FANOUT_RESULTS,
    "Call": CALL,
    "Mailbox": MAILBOX,
    "MailboxList": MAILBOX_LIST,
    "MailboxInput": MAILBOX_INPUT,
    "MailboxPatch": MAILBOX_PATCH,
    "NotificationInput": NOTIFICATION_INPUT,
    "Notification": NOTIFICATION,
    "ReminderInput": REMINDER_INPUT,
    "Reminder": REMINDER,
    "ReminderUpdate": REMINDER_UPDATE,
    "ReminderPage": REMINDER_PAGE,
    "SmsPreviewInput": SMS_PREVIEW_INPUT,
    "SmsPreview": SMS_PREVIEW,
    "SmsNotificationInput": SMS_NOTIFICATION_INPUT,
    "SmsNotification": SMS_NOTIFICATION,
    "SmsNotificationList": SMS_NOTIFICATION_LIST,
    "SmsTriggerInput": SMS_TRIGGER_INPUT,
    "SmsTrigger": SMS_TRIGGER,
    "SmsTriggerFanout": SMS_TRIGGER_FANOUT,
    "TemplateInput": TEMPLATE_INPUT,
    "TemplateEdit": TEMPLATE_EDIT,
    "Template": TEMPLATE,
    "ApproveInput": APPROVE_INPUT,
    "RejectInput": REJECT_INPUT,
    "Credits": CREDITS,
    "PurchaseInput": PURCHASE_INPUT,
    "AutoRechargeInput": AUTO_RECHARGE_INPUT,
    "Ledger": LEDGER,
    "Usage": USAGE,
    "EmailReport": EMAIL_REPORT,
    "Activity": ACTIVITY,
    "Me": ME,
    "ActionInput": ACTION_INPUT,
    "ActionResult": ACTION_RESULT,
    "MeTemplates": ME_TEMPLATES,
    "Signal": SIGNAL,
    "SignalPage": SIGNAL_PAGE,
    "ReadInput": READ_INPUT,
    "Unread": UNREAD,
    "StateChanged": STATE_CHANGED,
    "SnoozeInput": SNOOZE_INPUT,
    "SignalCounts": SIGNAL_COUNTS,
    "SignalEvents": SIGNAL_EVENTS,
    "SettingsInput": SETTINGS_INPUT,
    "Settings": SETTINGS,
    "EventInput": EVENT_INPUT,
    "EventAccepted": EVENT_ACCEPTED,
    "TwilioSms": TWILIO_SMS,
    "TwilioSmsStatus": TWILIO_SMS_STATUS,
    "TwilioVoice": TWILIO_VOICE,
    "TwilioVoiceStatus": TWILIO_VOICE_STATUS,
    **telephony.SCHEMAS,
    **automation.SCHEMAS,
}
