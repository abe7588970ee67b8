"""The OpenAPI 3.1 description served at ``/openapi.json`` (kept beside the routes it names)."""

from __future__ import annotations

from functools import cache
from typing import Any

from gateway.api.activity import OPENAPI_PATHS as ACTIVITY_PATHS
from gateway.domain.signals import SIGNAL_TYPES


def _op(summary: str, security: str | None, responses: dict[str, str], **extra: Any) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": summary,
        "responses": {
            code: {"description": text, **({"content": _error_content} if code[0] in "45" else {})}
            for code, text in responses.items()
        },
    }
    if security:
        op["security"] = [{security: []}]
    op.update(extra)
    return op


_error_content = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
_json_body = {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}
_form_body = {
    "required": True,
    "content": {"application/x-www-form-urlencoded": {"schema": {"type": "object"}}},
}
_admin = "admin"
_user = "user"


@cache
def openapi_document() -> dict[str, Any]:
    org = {"name": "org", "in": "path", "required": True, "schema": {"type": "string", "pattern": "^[a-z0-9-]{1,40}$"}}
    paths: dict[str, Any] = {
        "/healthz": {"get": _op("Liveness: 200 when Redis answers", None, {"200": "ok", "503": "Redis unavailable"})},
        "/metrics": {"get": _op("Prometheus metrics", None, {"200": "text format"})},
        "/api/v1/orgs/{org}": {
            "parameters": [org],
            "put": _op(
                "Create or update an org (idempotent upsert; secrets never echoed)",
                _admin,
                {
                    "200": "updated",
                    "201": "created",
                    "400": "invalid field",
                    "401": "no/wrong token",
                    "403": "user token",
                },
                requestBody=_json_body,
            ),
            "get": _op("Read an org", _admin, {"200": "the org", "404": "unknown org"}),
            "delete": _op("Delete an org and all its data", _admin, {"204": "deleted", "404": "unknown org"}),
        },
        "/api/v1/orgs/{org}/users/{user}": {
            "put": _op(
                "Create or update a user",
                _admin,
                {"200": "updated", "201": "created", "400": "invalid"},
                requestBody=_json_body,
            ),
            "get": _op("Read a user", _admin, {"200": "the user", "404": "unknown"}),
            "delete": _op("Delete a user (revokes their tokens)", _admin, {"204": "deleted", "404": "unknown"}),
        },
        "/api/v1/orgs/{org}/users/{user}/tokens": {
            "post": _op("Issue a user token for /api/v1/me and /ws", _admin, {"201": "{token}", "404": "unknown user"})
        },
        "/api/v1/orgs/{org}/contacts/{contact}": {
            "put": _op(
                "Create or update a contact (emails, E.164 phones, owner)",
                _admin,
                {"200": "updated", "201": "created", "400": "invalid (e.g. invalid_phone)"},
                requestBody=_json_body,
            ),
            "get": _op("Read a contact", _admin, {"200": "the contact", "404": "unknown"}),
            "delete": _op("Delete a contact", _admin, {"204": "deleted", "404": "unknown"}),
        },
        "/api/v1/orgs/{org}/calls": {
            "get": _op("The call log (format=json|csv)", _admin, {"200": "calls", "404": "unknown org"})
        },
        "/api/v1/orgs/{org}/notifications": {
            "post": _op(
                "Send an SMS or email (202 + id; the same idempotency_key returns the same notification)",
                _admin,
                {"202": "queued (or the existing notification)", "400": "invalid request", "404": "unknown org"},
                requestBody=_json_body,
            )
        },
        "/api/v1/orgs/{org}/notifications/{notification}": {
            "get": _op(
                "Status, reason and history of a notification", _admin, {"200": "notification", "404": "unknown"}
            )
        },
        "/api/v1/orgs/{org}/templates": {
            "post": _op(
                "Create a template (sms: draft; email: approved)",
                _admin,
                {"201": "created", "400": "invalid", "409": "exists"},
                requestBody=_json_body,
            ),
            "get": _op("List templates", _admin, {"200": "templates"}),
        },
        "/api/v1/orgs/{org}/templates/{template}": {
            "get": _op("Read a template", _admin, {"200": "template", "404": "unknown"}),
            "put": _op(
                "Edit (an approved SMS template goes back to draft; module is fixed)",
                _admin,
                {"200": "edited", "400": "invalid or module change"},
                requestBody=_json_body,
            ),
            "delete": _op("Delete a template", _admin, {"204": "deleted"}),
        },
        "/api/v1/orgs/{org}/templates/{template}/submit": {
            "post": _op("draft|rejected → pending", _admin, {"200": "pending", "409": "invalid transition"})
        },
        "/api/v1/orgs/{org}/templates/{template}/approve": {
            "post": _op("pending → approved (IN orgs: dlt_template_id)", _admin, {"200": "approved", "409": "invalid"})
        },
        "/api/v1/orgs/{org}/templates/{template}/reject": {
            "post": _op("pending → rejected (reason)", _admin, {"200": "rejected", "409": "invalid transition"})
        },
        "/api/v1/orgs/{org}/credits": {"get": _op("SMS credit balance and auto-recharge", _admin, {"200": "credits"})},
        "/api/v1/orgs/{org}/credits/purchase": {
            "post": _op("Add credits", _admin, {"201": "credits", "400": "invalid amount"}, requestBody=_json_body)
        },
        "/api/v1/orgs/{org}/credits/auto-recharge": {
            "put": _op("Configure auto-recharge", _admin, {"200": "credits"}, requestBody=_json_body)
        },
        "/api/v1/orgs/{org}/credits/ledger": {"get": _op("Credit movements, newest first", _admin, {"200": "entries"})},
        "/api/v1/orgs/{org}/usage": {
            "get": _op("Today's email counts against each cap, and credits", _admin, {"200": "usage"})
        },
        "/api/v1/orgs/{org}/reminders": {
            "post": _op(
                "SMS reminder to a user at remind_at",
                _admin,
                {"202": "scheduled", "400": "invalid"},
                requestBody=_json_body,
            )
        },
        "/api/v1/orgs/{org}/reminders/{reminder}": {"get": _op("Reminder status", _admin, {"200": "reminder"})},
        "/api/v1/orgs/{org}/reports/email": {
            "get": _op(
                "Email report rows (from, to, group=day|week|month), totals and per template",
                _admin,
                {"200": "report", "400": "bad parameter"},
            )
        },
        "/api/v1/me": {"get": _op("The signed-in user", _user, {"200": "{org,user,name,role}", "401": "bad token"})},
        "/api/v1/me/signals": {
            "get": _op(
                "Feed history: ascending by id; without `after` the newest `limit` (default 50, max 500)",
                _user,
                {"200": "{signals, unread}", "400": "bad parameter", "401": "bad token"},
            )
        },
        "/api/v1/me/signals/read": {
            "post": _op(
                "Mark read by ids or up_to", _user, {"200": "{unread}", "400": "invalid body"}, requestBody=_json_body
            )
        },
        "/api/v1/me/settings": {
            "get": _op("Per-type on/off settings", _user, {"200": "{types}"}),
            "put": _op(
                "Change some types (partial)", _user, {"200": "{types}", "400": "unknown type"}, requestBody=_json_body
            ),
        },
        "/webhooks/twilio/{org}/sms": {
            "post": _op(
                "Incoming SMS (X-Twilio-Signature) → sms.received; answers empty TwiML",
                None,
                {"200": "TwiML", "403": "bad signature", "404": "unknown org"},
                requestBody=_form_body,
            )
        },
        "/webhooks/twilio/{org}/sms-status": {
            "post": _op(
                "SMS status callback; never regresses a status",
                None,
                {"204": "accepted", "403": "bad signature"},
                requestBody=_form_body,
            )
        },
        "/webhooks/twilio/{org}/voice": {
            "post": _op(
                "Incoming call: TwiML of the published call flow, else <Reject/>",
                None,
                {"200": "TwiML", "403": "bad signature"},
                requestBody=_form_body,
            )
        },
        "/webhooks/twilio/{org}/voice-status": {
            "post": _op(
                "Call status: call log; missed inbound call from a contact → call.missed",
                None,
                {"204": "accepted", "403": "bad signature"},
                requestBody=_form_body,
            )
        },
        "/webhooks/events/{org}": {
            "post": _op(
                "Signed event (Standard Webhooks) from another tool",
                None,
                {
                    "202": "accepted (duplicate: true for a replayed webhook-id)",
                    "400": "invalid event",
                    "403": "bad signature or stale timestamp",
                    "413": "body too large",
                },
                requestBody=_json_body,
            )
        },
        "/t/o/{token}": {"get": _op("Open pixel: always a 1×1 GIF, no-store", None, {"200": "image/gif"})},
        "/t/c/{token}": {
            "get": _op(
                "Click: 302 to the signed URL; forged token 404",
                None,
                {"302": "redirect", "404": "forged or altered token"},
            )
        },
    }
    paths.update(ACTIVITY_PATHS)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "signalgate",
            "version": "0.1.0",
            "description": (
                "Self-hosted real-time notification gateway. Live signals over WebSocket at /ws: send "
                '{"type":"hello","token":...,"after":<cursor>} within 10 s; frames welcome, signal (with cursor), '
                "live, gap, unread, pong. Close codes: 1001 going away, 1008 malformed frame, 1013 slow consumer / "
                "resume, 4401 bad token, 4408 no hello. Errors are JSON {error, detail}."
            ),
        },
        "paths": paths,
        "components": {
            "securitySchemes": {
                _admin: {"type": "http", "scheme": "bearer", "description": "[gateway] admin_token"},
                _user: {"type": "http", "scheme": "bearer", "description": "user token sgu.<org>.<secret>"},
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error", "detail"],
                    "properties": {"error": {"type": "string"}, "detail": {"type": "string"}},
                },
                "Signal": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string"},
                        "type": {"type": "string", "enum": list(SIGNAL_TYPES)},
                        "org": {"type": "string"},
                        "user": {"type": "string"},
                        "contact": {"type": ["object", "null"]},
                        "title": {"type": "string"},
                        "body": {"type": "string"},
                        "occurred_at": {"type": "string", "format": "date-time"},
                        "count": {"type": "integer"},
                        "data": {"type": "object"},
                    },
                },
            },
        },
    }
