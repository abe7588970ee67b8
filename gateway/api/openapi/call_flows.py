"""The OpenAPI description of call flows: the management API, the step schema, the voice webhooks.

Kept apart from the big tables (:mod:`gateway.api.openapi.schemas`, ``operations``), which take
:data:`SCHEMAS` and :func:`operations` whole. Limits come from :mod:`gateway.domain.call_flows`.
"""

from __future__ import annotations

from gateway.api.openapi.build import (
    ORG_ADMIN,
    Schema,
    header,
    id_schema,
    json_body,
    json_response,
    operation,
    query,
    ref,
)
from gateway.domain import call_flows as cf

_ID = id_schema("user")
_GROUP = id_schema("group")
_HHMM = {"type": "string", "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9]$", "description": "HH:MM, 00:00-23:59"}
_TEXT = {"type": "string", "minLength": 1, "maxLength": cf.MAX_TEXT, "pattern": r"\S"}
_LANGUAGE = {"type": "string", "enum": sorted(cf.LANGUAGES), "default": cf.DEFAULT_LANGUAGE}


def _obj(props: dict[str, Schema], required: tuple[str, ...] = ()) -> Schema:
    out: Schema = {"type": "object", "properties": props, "additionalProperties": False}
    if required:
        out["required"] = list(required)
    return out


_RING_OPTIONS: dict[str, Schema] = {
    "strategy": {"type": "string", "enum": list(cf.STRATEGIES), "default": "simultaneous"},
    "timeout": {
        "type": "integer",
        "minimum": cf.TIMEOUT_RANGE[0],
        "maximum": cf.TIMEOUT_RANGE[1],
        "default": cf.DEFAULT_TIMEOUT,
        "description": "seconds each ring waits (per member when sequential)",
    },
}
_WINDOW = _obj(
    {
        "days": {
            "type": "array",
            "minItems": 1,
            "items": {"type": "string", "enum": list(cf.DAYS)},
        },
        "from": _HHMM,
        "to": {**_HHMM, "description": "HH:MM, exclusive; after `from`"},
    },
    ("days", "from", "to"),
)
_STEPS: Schema = {"type": "array", "maxItems": cf.MAX_STEPS, "items": ref("CallFlowStep")}

SCHEMAS: dict[str, Schema] = {
    "CallFlowStep": {
        "description": "one step; exactly one of say, hours, ring, queue, voicemail, hangup",
        "oneOf": [
            _obj({"say": _TEXT, "language": _LANGUAGE}, ("say",)),
            _obj(
                {
                    "hours": _obj(
                        {
                            "open": {"type": "array", "minItems": 1, "maxItems": cf.MAX_WINDOWS, "items": _WINDOW},
                            "closed": {**_STEPS, "description": "run instead of the rest outside the open hours"},
                        },
                        ("open",),
                    )
                },
                ("hours",),
            ),
            _obj(
                {
                    "ring": {
                        "type": "object",
                        "description": "`users` or `group` (strategy/timeout may also be given here)",
                        "properties": {
                            "users": {
                                "type": "array",
                                "minItems": 1,
                                "maxItems": cf.MAX_MEMBERS,
                                "uniqueItems": True,
                                "items": _ID,
                            },
                            "group": _GROUP,
                            **_RING_OPTIONS,
                        },
                        "additionalProperties": False,
                    },
                    **_RING_OPTIONS,
                },
                ("ring",),
            ),
            _obj(
                {
                    "queue": _obj(
                        {
                            "group": _GROUP,
                            "hold_music": {
                                "type": "string",
                                "format": "uri",
                                "pattern": "^https://",
                                "maxLength": cf.MAX_URL,
                                "description": "what Twilio <Play>s while the caller waits (else `message`)",
                            },
                            "max_wait": {
                                "type": "integer",
                                "minimum": cf.MAX_WAIT_RANGE[0],
                                "maximum": cf.MAX_WAIT_RANGE[1],
                                "default": cf.DEFAULT_MAX_WAIT,
                                "description": "seconds the caller waits before the next step",
                            },
                            "timeout": {**_RING_OPTIONS["timeout"], "description": "seconds each member's phone rings"},
                            "message": {**_TEXT, "description": "said while waiting without hold music"},
                            "whisper": {
                                **_TEXT,
                                "maxLength": cf.MAX_WHISPER,
                                "description": "what a member who answers hears before pressing 1 (in `language`);"
                                " without it a fixed Japanese or English text",
                            },
                            "language": _LANGUAGE,
                        },
                        ("group",),
                    )
                },
                ("queue",),
            ),
            _obj(
                {
                    "voicemail": _obj(
                        {
                            "user": _ID,
                            "prompt": {"type": "string", "maxLength": cf.MAX_TEXT},
                            "max_length": {
                                "type": "integer",
                                "minimum": cf.MAX_LENGTH_RANGE[0],
                                "maximum": cf.MAX_LENGTH_RANGE[1],
                                "default": cf.DEFAULT_MAX_LENGTH,
                            },
                            "language": _LANGUAGE,
                        },
                        ("user",),
                    )
                },
                ("voicemail",),
            ),
            _obj({"hangup": {"const": True}}, ("hangup",)),
        ],
    },
    "CallFlowInput": _obj(
        {
            "name": {"type": "string", "minLength": 1, "maxLength": cf.MAX_NAME, "pattern": r"\S"},
            "description": {"type": "string", "maxLength": cf.MAX_DESCRIPTION},
            "number": {"type": "string", "description": "one of the org's numbers (E.164)"},
            "enabled": {"type": "boolean", "description": "the live switch: takes effect at once; absent = unchanged"},
            "steps": {**_STEPS, "minItems": 1},
        },
        ("name", "number", "steps"),
    ),
}
_DRAFT = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "description": {"type": "string"},
        "number": {"type": "string"},
        "steps": {"type": "array", "items": ref("CallFlowStep")},
    },
    "required": ["name", "description", "number", "steps"],
}
SCHEMAS["CallFlow"] = {
    "type": "object",
    "properties": {
        "id": id_schema("flow"),
        "name": {"type": "string"},
        "description": {"type": "string"},
        "number": {"type": "string", "description": "the draft's number (the live one is published.number)"},
        "enabled": {"type": "boolean"},
        "draft": _DRAFT,
        "published": {"oneOf": [_DRAFT, {"type": "null"}]},
        "version": {"type": "integer", "minimum": 0, "description": "publishes so far (0: never published)"},
        "draft_differs": {"type": "boolean"},
    },
    "required": ["id", "name", "description", "number", "enabled", "draft", "published", "version", "draft_differs"],
}
_TWILIO_FORM = {"type": "object", "additionalProperties": {"type": "string"}}
SCHEMAS["TwilioVoiceFlow"] = {
    **_TWILIO_FORM,
    "properties": {
        k: {"type": "string"} for k in ("CallSid", "From", "To", "DialCallStatus", "RecordingUrl", "QueueResult")
    },
    "required": ["CallSid"],
}
SCHEMAS["TwilioQueueAccept"] = {
    **_TWILIO_FORM,
    "properties": {k: {"type": "string"} for k in ("CallSid", "From", "To", "CallStatus", "Digits", "AccountSid")},
    "required": ["CallSid"],
}
SCHEMAS["TwilioQueueWait"] = {
    **_TWILIO_FORM,
    "properties": {
        k: {"type": "string"} for k in ("CallSid", "QueueSid", "QueueTime", "QueuePosition", "CurrentQueueSize")
    },
    "required": ["CallSid"],
}
SCHEMAS["TwilioRecording"] = {
    **_TWILIO_FORM,
    "properties": {
        k: {"type": "string"}
        for k in ("CallSid", "RecordingSid", "RecordingUrl", "RecordingDuration", "RecordingStatus", "AccountSid")
    },
    "required": ["CallSid", "RecordingSid", "RecordingUrl"],
}

_INVALID = {"400": "invalid id or body; a bad draft is `invalid_flow` with the step's path in `detail`"}
_TAKEN = (
    "another published, enabled flow answers on the number (`number_has_flow`; `detail` names that flow and the"
    " number: switching on by PUT goes live on the *published* number), or the number was released meanwhile"
    " (`number_released`)"
)
_TWIML: Schema = {"description": "TwiML", "content": {"application/xml": {"schema": {"type": "string"}}}}
_TOKEN = query("t", {"type": "string", "minLength": 1}, "the signed position in the flow (our callback URLs carry it)")
_TWILIO_HEADERS = (
    header("X-Twilio-Signature", "Twilio's HMAC-SHA1 of the public URL and the form parameters"),
    header("I-Twilio-Idempotency-Token", "the same for every retry of one callback", required=False),
)


def _twilio(summary: str, ok: dict[str, Schema], form: str) -> Schema:
    op = operation(
        summary,
        ok,
        security=None,
        params=(*_TWILIO_HEADERS, _TOKEN),
        body={"required": True, "content": {"application/x-www-form-urlencoded": {"schema": ref(form)}}},
        extra_errors={
            "400": "a required Twilio parameter is missing (`invalid_callback`) or the form is malformed",
            "403": "bad Twilio signature (`bad_signature`), or a token not ours, not this org's or not this call's"
            " (`bad_flow_token`)",
            "404": "unknown org",
        },
    )
    op["parameters"][-1]["required"] = True
    return op


def operations(org: str) -> dict[tuple[str, str], Schema]:
    flows = f"{org}/call-flows"
    one = f"{flows}/{{flow}}"
    flow = {"200": json_response("the flow", ref("CallFlow"))}
    twilio = "/webhooks/twilio/{org}"
    return {
        (flows, "GET"): operation(
            "List the org's call flows",
            {
                "200": json_response(
                    "the flows, by id",
                    {
                        "type": "object",
                        "properties": {"flows": {"type": "array", "items": ref("CallFlow")}},
                        "required": ["flows"],
                    },
                )
            },
            security=ORG_ADMIN,
        ),
        (one, "GET"): operation("Read a call flow: draft, published version, switch", flow, security=ORG_ADMIN),
        (one, "PUT"): operation(
            "Save the draft (and the live switch `enabled`, which takes effect at once)",
            {**flow, "201": json_response("created", ref("CallFlow"))},
            security=ORG_ADMIN,
            body=json_body(ref("CallFlowInput")),
            extra_errors={**_INVALID, "409": _TAKEN},
        ),
        (one, "DELETE"): operation(
            "Delete a call flow (calls in progress finish on their version)",
            {"204": {"description": "done; no body"}},
            security=ORG_ADMIN,
        ),
        (f"{one}/publish", "POST"): operation(
            "Make the draft the live version (version + 1)",
            flow,
            security=ORG_ADMIN,
            extra_errors={**_INVALID, "409": _TAKEN},
        ),
        (f"{twilio}/voice-flow", "POST"): _twilio(
            "A call flow's <Dial>/<Record> action callback: the next TwiML of the call's flow version",
            {"200": _TWIML},
            "TwilioVoiceFlow",
        ),
        (f"{twilio}/voice-queue-wait", "POST"): _twilio(
            "A queue step's waitUrl: hold music (or its message) while QueueTime < max_wait, then <Leave/>",
            {"200": _TWIML},
            "TwilioQueueWait",
        ),
        (f"{twilio}/voice-queue-agent", "POST"): _twilio(
            "The TwiML of the call placed to a queue group's member: a whisper (the step's `whisper`, else a"
            " fixed text) in a one-digit <Gather> whose"
            " action is voice-queue-accept, then <Hangup/>",
            {"200": _TWIML},
            "TwilioVoiceFlow",
        ),
        (f"{twilio}/voice-queue-accept", "POST"): _twilio(
            "A queue member's answer to the whisper (this member call's own token): Digits=1 → <Dial><Queue> of"
            " the waiting caller if first, the other member calls ended right after this answer;"
            " too late → <Say/><Hangup/>; else <Hangup/>",
            {"200": _TWIML},
            "TwilioQueueAccept",
        ),
        (f"{twilio}/voice-recording", "POST"): _twilio(
            "A voicemail's recording status callback → call.voicemail to the step's user (once per recording)",
            {"204": {"description": "accepted"}},
            "TwilioRecording",
        ),
    }
