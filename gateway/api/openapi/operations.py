"""Every HTTP operation of the gateway, keyed by (OpenAPI path, method).

Path parameters are added from the path itself when the document is built (see
:mod:`gateway.api.openapi`), so an operation lists only its query, header and special path
parameters here. ``tests/unit/api/test_openapi.py`` checks this table against the app's routes.
"""

from __future__ import annotations

from gateway.api.activity import DEFAULT_LIMIT as ACTIVITY_LIMIT
from gateway.api.openapi import automation, telephony
from gateway.api.openapi.build import (
    ADMIN,
    ORG_ADMIN,
    USER,
    Schema,
    error,
    header,
    json_body,
    json_response,
    limit,
    operation,
    query,
    ref,
)
from gateway.api.openapi.build import NO_CONTENT as _NO_CONTENT
from gateway.api.openapi.build import ok as _ok
from gateway.api.openapi.call_flows import operations as call_flow_operations
from gateway.api.openapi.schemas import STREAM_ID
from gateway.api.orgs import USERS_MAX, USERS_PAGE
from gateway.api.segments import PAGE, PAGE_MAX
from gateway.domain.feed_view import VIEWS
from gateway.domain.mailbox import MAX_API_MAILBOXES
from gateway.domain.reminders import STATUSES as REMINDER_STATUSES
from gateway.domain.signals import SIGNAL_TYPES
from gateway.store.activity import MAX_ENTRIES as ACTIVITY_MAX
from gateway.store.feed import MAX_EVENTS, MAX_PAGE
from gateway.store.reports import MAX_DAYS

Key = tuple[str, str]

ORG = "/api/v1/orgs/{org}"


_HTML: Schema = {"schema": {"type": "string"}}
_TWIML: Schema = {"description": "TwiML", "content": {"application/xml": {"schema": {"type": "string"}}}}
_TWILIO_HEADERS = (
    header("X-Twilio-Signature", "Twilio's HMAC-SHA1 of the public URL and the form parameters"),
    header("I-Twilio-Idempotency-Token", "the same for every retry of one callback", required=False),
)
_TWILIO_ERRORS = {
    "400": "a required Twilio parameter is missing (`invalid_callback`) or the form is malformed",
    "403": "missing or wrong X-Twilio-Signature, or no Twilio auth token set for the org (`bad_signature`)",
    "404": "unknown org",
}


def _form(schema_name: str) -> Schema:
    return {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": ref(schema_name)}}}


def _twilio(summary: str, ok: dict[str, Schema], form: str, *params: Schema) -> Schema:
    op = operation(
        summary,
        ok,
        security=None,
        params=(*_TWILIO_HEADERS, *params),
        body=_form(form),
        extra_errors=_TWILIO_ERRORS,
    )
    return op


def _cursor() -> Schema:
    return query("cursor", {"type": "string", "minLength": 1, "maxLength": 200}, "the cursor of the previous page")


def _management() -> dict[Key, Schema]:
    user = f"{ORG}/users/{{user}}"
    contact = f"{ORG}/contacts/{{contact}}"
    return {
        (ORG, "PUT"): operation(
            "Create or update an org (an idempotent upsert: absent keys keep their value; secrets are never echoed)",
            {**_ok("200", "updated", "Org"), **_ok("201", "created", "Org")},
            security=ADMIN,
            body=json_body(ref("OrgInput")),
        ),
        (ORG, "GET"): operation("Read an org", _ok("200", "the org", "Org"), security=ORG_ADMIN),
        (ORG, "DELETE"): operation("Delete an org and all its data", _NO_CONTENT, security=ADMIN),
        (f"{ORG}/users", "GET"): operation(
            "List the org's users, ordered by id (no tokens or secrets)",
            _ok("200", "one page of users", "UserPage"),
            security=ORG_ADMIN,
            params=(
                limit(USERS_PAGE, USERS_MAX),
                query("after", {"type": "string"}, "return users whose id sorts after this one (the `next` of a page)"),
            ),
        ),
        (user, "PUT"): operation(
            "Create or update a user",
            {**_ok("200", "updated", "User"), **_ok("201", "created", "User")},
            security=ORG_ADMIN,
            body=json_body(ref("UserInput")),
        ),
        (user, "GET"): operation("Read a user", _ok("200", "the user", "User"), security=ORG_ADMIN),
        (user, "DELETE"): operation("Delete a user and revoke all their tokens", _NO_CONTENT, security=ORG_ADMIN),
        (f"{user}/tokens", "POST"): operation(
            "Issue a user token for /api/v1/me and /ws (the token is shown once)",
            _ok("201", "the new token and its id", "Token"),
            security=ORG_ADMIN,
        ),
        (f"{user}/tokens", "GET"): operation(
            "List a user's tokens (ids and times, never the tokens)",
            _ok("200", "the tokens", "TokenList"),
            security=ORG_ADMIN,
        ),
        (f"{user}/tokens", "DELETE"): operation(
            "Revoke all of a user's tokens; their open WebSockets close with 4401", _NO_CONTENT, security=ORG_ADMIN
        ),
        (f"{user}/tokens/{{token}}", "DELETE"): operation(
            "Revoke one token; its open WebSockets close with 4401",
            _NO_CONTENT,
            security=ORG_ADMIN,
            extra_errors={"404": "unknown org, user or token"},
        ),
        (contact, "PUT"): operation(
            "Create or update a contact (emails, phones stored as E.164, owner)",
            {**_ok("200", "updated", "Contact"), **_ok("201", "created", "Contact")},
            security=ORG_ADMIN,
            body=json_body(ref("ContactInput")),
        ),
        (contact, "GET"): operation("Read a contact", _ok("200", "the contact", "Contact"), security=ORG_ADMIN),
        (contact, "DELETE"): operation("Delete a contact", _NO_CONTENT, security=ORG_ADMIN),
        (f"{ORG}/contacts", "GET"): operation(
            "Contacts ordered by id, paged; q: case-insensitive substring of name, company, an email or a phone",
            _ok("200", "one page and the next cursor", "ContactPage"),
            security=ORG_ADMIN,
            params=(limit(PAGE, PAGE_MAX), _cursor(), query("q", {"type": "string", "maxLength": 100}, "search")),
        ),
        (f"{ORG}/contacts:import", "POST"): operation(
            "Import up to 10,000 contacts (JSON or CSV with or without BOM): per-row results, all or nothing per row",
            _ok("200", "one result per row", "ImportResult"),
            security=ORG_ADMIN,
            body={
                "required": True,
                "content": {
                    "application/json": {"schema": ref("ContactImport")},
                    "text/csv": {
                        "schema": {
                            "type": "string",
                            "description": "UTF-8; header of id, kind, name, company, email, phone, owner, marketing",
                        }
                    },
                },
            },
            extra_errors={"413": "the body is larger than [gateway] import_max_bytes"},
        ),
        (f"{ORG}/suppressions", "GET"): operation(
            "Suppressed addresses (hard bounces, unsubscribes without a contact), paged by address",
            _ok("200", "one page and the next cursor", "SuppressionPage"),
            security=ORG_ADMIN,
            params=(limit(PAGE, PAGE_MAX), _cursor()),
        ),
        (f"{ORG}/suppressions/{{address}}", "DELETE"): operation(
            "Remove an address from the suppression list: mail to it goes again",
            _NO_CONTENT,
            security=ORG_ADMIN,
            params=(
                {
                    "name": "address",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "minLength": 1, "maxLength": 254},
                    "description": "the email address (URL-encoded)",
                },
            ),
            extra_errors={"400": "not an email address (`invalid_email`)", "404": "the address is not suppressed"},
        ),
        (f"{ORG}/segments", "GET"): operation(
            "Every segment of the org", _ok("200", "the segments", "SegmentList"), security=ORG_ADMIN
        ),
        (f"{ORG}/segments/{{segment}}", "PUT"): operation(
            "Create or replace a segment: equalities on kind, owner, company, marketing, fields.<name>",
            {**_ok("200", "replaced", "Segment"), **_ok("201", "created", "Segment")},
            security=ORG_ADMIN,
            body=json_body(ref("SegmentInput")),
            extra_errors={"400": "invalid segment; an unknown match key (`unknown_field`) is named"},
        ),
        (f"{ORG}/segments/{{segment}}", "GET"): operation(
            "Read a segment", _ok("200", "the segment", "Segment"), security=ORG_ADMIN
        ),
        (f"{ORG}/segments/{{segment}}", "DELETE"): operation("Delete a segment", _NO_CONTENT, security=ORG_ADMIN),
        (f"{ORG}/segments/{{segment}}/contacts", "GET"): operation(
            "The segment's members (evaluated now), ordered by id, paged",
            _ok("200", "one page and the next cursor", "ContactPage"),
            security=ORG_ADMIN,
            params=(limit(PAGE, PAGE_MAX), _cursor()),
        ),
        (f"{contact}/activity", "GET"): operation(
            "A contact's activity, newest first: mail from its inbox or BCC'd to a dropbox",
            _ok("200", "the newest entries and the total", "Activity"),
            security=ORG_ADMIN,
            params=(limit(ACTIVITY_LIMIT, ACTIVITY_MAX),),
        ),
        (f"{ORG}/mailboxes", "GET"): operation(
            "The org's IMAP mailboxes ([[imap]] in config and those added through the API) with each"
            " listener's state, last error and last UID (passwords are never shown)",
            _ok("200", "the mailboxes", "MailboxList"),
            security=ORG_ADMIN,
        ),
        (f"{ORG}/mailboxes", "POST"): operation(
            "Add a mailbox: a listener starts within seconds, without a restart (nothing is connected to"
            " while the request is answered: an unreachable host shows as `backoff`). Only public hosts"
            " unless the operator sets `[mailboxes] allow_private_hosts`: a name that resolves to a"
            " non-public address is never connected to (state `backoff` with that error)",
            _ok("201", "the new mailbox (its password is never shown)", "Mailbox"),
            security=ORG_ADMIN,
            body=json_body(ref("MailboxInput")),
            extra_errors={
                "400": "an invalid or unknown field, a user not in the org (`unknown_user`), or a `host` that"
                " is a non-public IP address (loopback, private, link-local, shared, reserved; `invalid_field`)",
                "409": f"the org already has {MAX_API_MAILBOXES} mailboxes (`mailbox_limit`)",
            },
        ),
        (f"{ORG}/mailboxes/{{mailbox}}", "GET"): operation(
            "One mailbox with its listener's state",
            _ok("200", "the mailbox", "Mailbox"),
            security=ORG_ADMIN,
            extra_errors={"404": "unknown org or mailbox (`mailbox_not_found`)"},
        ),
        (f"{ORG}/mailboxes/{{mailbox}}", "PATCH"): operation(
            "Change a mailbox added through the API in place (e.g. a new password): its id stays, its"
            " listener restarts with the new settings within seconds, and it resumes from its"
            " checkpoint — unless `host`, `port`, `username` or `folder` changed: another UID space,"
            " so it starts afresh as a new mailbox would (mail already there makes no signals)."
            " A `password` replaces the stored one (sealed; never shown); fields left out keep their"
            " value (also `port` when `tls` changes)",
            _ok("200", "the mailbox as GET shows it", "Mailbox"),
            security=ORG_ADMIN,
            body=json_body(ref("MailboxPatch")),
            extra_errors={
                "400": "an invalid or unknown field (`invalid_field`, `unknown_field`), a user not in the org"
                " (`unknown_user`), or a `host` that is a non-public IP address (`invalid_field`)",
                "404": "unknown org or mailbox (`mailbox_not_found`)",
                "409": "a mailbox of the config is changed in the config, not through the API (`config_mailbox`)",
            },
        ),
        (f"{ORG}/mailboxes/{{mailbox}}", "DELETE"): operation(
            "Remove a mailbox added through the API: its listener stops within seconds",
            _NO_CONTENT,
            security=ORG_ADMIN,
            extra_errors={
                "404": "unknown org or mailbox (`mailbox_not_found`)",
                "409": "a mailbox of the config cannot be deleted through the API (`config_mailbox`)",
            },
        ),
    }


def _sending() -> dict[Key, Schema]:
    return {
        (f"{ORG}/notifications", "POST"): operation(
            "Send an SMS or email: 202 and the notification; the same idempotency_key answers the same one",
            {
                "202": json_response(
                    "queued (or the existing notification); to a segment: the segment send (Fanout)",
                    {"oneOf": [ref("Notification"), ref("Fanout")]},
                )
            },
            security=ORG_ADMIN,
            body=json_body(ref("NotificationInput")),
            extra_errors={
                "400": "invalid body; to a segment: not email/mass (`invalid_field`), `unknown_segment`",
                "409": "to a segment: the idempotency_key names a segment send of something else "
                "(`idempotency_key_reused`)",
            },
        ),
        (f"{ORG}/fanouts/{{fanout}}", "GET"): operation(
            "Progress of a segment send (email or SMS notification): members found, notifications "
            "enqueued, members skipped, notifications done",
            _ok("200", "the segment send", "Fanout"),
            security=ORG_ADMIN,
            extra_errors={"404": "unknown org or segment send (`fanout_not_found`)"},
        ),
        (f"{ORG}/fanouts/{{fanout}}/results", "GET"): operation(
            "What a segment send did for each member so far (its notification, or why none), by contact id, paged",
            _ok("200", "one page and the next cursor", "FanoutResults"),
            security=ORG_ADMIN,
            params=(limit(PAGE, PAGE_MAX), _cursor()),
            extra_errors={
                "400": "a bad `limit` or `cursor` (`invalid_parameter`)",
                "404": "unknown org or segment send (`fanout_not_found`)",
            },
        ),
        (f"{ORG}/notifications/{{notification}}", "GET"): operation(
            "Status, reason and history of a notification",
            _ok("200", "the notification", "Notification"),
            security=ORG_ADMIN,
        ),
        (f"{ORG}/notifications/{{notification}}", "DELETE"): operation(
            "Cancel a queued or scheduled send: status cancelled, nothing charged, never sent",
            _ok("200", "the cancelled notification", "Notification"),
            security=ORG_ADMIN,
            extra_errors={"409": "it is sending or done (`not_cancellable`)"},
        ),
        (f"{ORG}/reminders", "POST"): operation(
            "An SMS reminder to a user at remind_at (at once when past); an existing id is rescheduled",
            _ok("202", "scheduled", "Reminder"),
            security=ORG_ADMIN,
            body=json_body(ref("ReminderInput")),
            extra_errors={"400": "invalid body, or the user does not exist (`unknown_user`)"},
        ),
        (f"{ORG}/reminders", "GET"): operation(
            "The org's reminders in id order, paged, optionally of one user and/or in one status",
            _ok("200", "one page and the next cursor", "ReminderPage"),
            security=ORG_ADMIN,
            params=(
                query("user", {"type": "string"}, "only this user's reminders"),
                query("status", {"type": "string", "enum": list(REMINDER_STATUSES)}, "only in this status"),
                limit(50, 500),
                _cursor(),
            ),
        ),
        (f"{ORG}/reminders/{{reminder}}", "GET"): operation(
            "A reminder and its status", _ok("200", "the reminder", "Reminder"), security=ORG_ADMIN
        ),
        (f"{ORG}/reminders/{{reminder}}", "PUT"): operation(
            "Reschedule (a new time and/or title): sent at the new time only",
            _ok("200", "rescheduled", "Reminder"),
            security=ORG_ADMIN,
            body=json_body(ref("ReminderUpdate")),
            extra_errors={"409": "the reminder was cancelled (`reminder_cancelled`)"},
        ),
        (f"{ORG}/reminders/{{reminder}}", "DELETE"): operation(
            "Cancel a reminder: status cancelled, never sent",
            _ok("200", "cancelled", "Reminder"),
            security=ORG_ADMIN,
            extra_errors={"409": "already sent, skipped or failed (`not_cancellable`)"},
        ),
        (f"{ORG}/sms/preview", "POST"): operation(
            "What an SMS would cost: its text, encoding, segments and credits; nothing is sent",
            _ok("200", "the preview", "SmsPreview"),
            security=ORG_ADMIN,
            body=json_body(ref("SmsPreviewInput")),
            extra_errors={
                "400": "invalid body, or the template does not render (`template_error`)",
                "404": "unknown org, or not an SMS template (`template_not_found`)",
            },
        ),
        (f"{ORG}/sms-notifications", "GET"): operation(
            "Every SMS notification definition of the org",
            _ok("200", "the definitions", "SmsNotificationList"),
            security=ORG_ADMIN,
        ),
        (f"{ORG}/sms-notifications/{{sms_notification}}", "PUT"): operation(
            "Create or update an SMS notification (name, module fixed after creation, phone field, template)",
            {**_ok("200", "updated", "SmsNotification"), **_ok("201", "created", "SmsNotification")},
            security=ORG_ADMIN,
            body=json_body(ref("SmsNotificationInput")),
            extra_errors={
                "409": "the module changed (`module_fixed`), or the template is not an approved SMS template "
                "of that module (`template_not_approved`)"
            },
        ),
        (f"{ORG}/sms-notifications/{{sms_notification}}", "GET"): operation(
            "Read an SMS notification definition", _ok("200", "the definition", "SmsNotification"), security=ORG_ADMIN
        ),
        (f"{ORG}/sms-notifications/{{sms_notification}}", "DELETE"): operation(
            "Delete an SMS notification definition", _NO_CONTENT, security=ORG_ADMIN
        ),
        (f"{ORG}/sms-notifications/{{sms_notification}}/trigger", "POST"): operation(
            "Send it to contacts (at most 1,000) or a segment's members: one notification per contact",
            {
                "202": json_response(
                    "contacts, or a segment of at most 1,000 members: one result per contact (its "
                    "notification, or why none); a larger segment: the segment send that makes them "
                    "(GET .../fanouts/{id}, .../fanouts/{id}/results)",
                    {"oneOf": [ref("SmsTrigger"), ref("SmsTriggerFanout")]},
                )
            },
            security=ORG_ADMIN,
            body=json_body(ref("SmsTriggerInput")),
            extra_errors={
                "400": "invalid body, or an unknown segment (`unknown_segment`)",
                "404": "unknown org or SMS notification (`sms_notification_not_found`)",
                "409": "the idempotency_key names a segment send of something else (`idempotency_key_reused`)",
            },
        ),
    }


def _templates() -> dict[Key, Schema]:
    one = f"{ORG}/templates/{{template}}"
    conflict = {"409": "the template is not in a state this action applies to (`invalid_transition`)"}
    return {
        (f"{ORG}/templates", "POST"): operation(
            "Create a template (SMS: draft; email: approved)",
            _ok("201", "created", "Template"),
            security=ORG_ADMIN,
            body=json_body(ref("TemplateInput")),
            extra_errors={"409": "a template with this id exists (`template_exists`)"},
        ),
        (f"{ORG}/templates", "GET"): operation(
            "List templates",
            {
                "200": json_response(
                    "the templates",
                    {
                        "type": "object",
                        "properties": {"templates": {"type": "array", "items": ref("Template")}},
                        "required": ["templates"],
                    },
                )
            },
            security=ORG_ADMIN,
        ),
        (one, "GET"): operation("Read a template", _ok("200", "the template", "Template"), security=ORG_ADMIN),
        (one, "PUT"): operation(
            "Edit a template (the text of an approved SMS template becomes a new draft version, `submit` submits it;"
            " the approved version keeps serving until the new one is approved; module and channel are fixed)",
            _ok("200", "edited", "Template"),
            security=ORG_ADMIN,
            body=json_body(ref("TemplateEdit")),
            extra_errors={
                "400": "invalid body, or a changed module (`module_immutable`) or channel (`invalid_field`)",
                "409": "`submit` with nothing to submit: an approved SMS template with no new version, or an"
                " email template (`invalid_transition`)",
            },
        ),
        (one, "DELETE"): operation("Delete a template", _NO_CONTENT, security=ORG_ADMIN),
        (f"{one}/submit", "POST"): operation(
            "SMS template: draft or rejected → pending",
            _ok("200", "pending", "Template"),
            security=ORG_ADMIN,
            extra_errors=conflict,
        ),
        (f"{one}/approve", "POST"): operation(
            "SMS template: pending → approved (orgs in India give dlt_template_id)",
            _ok("200", "approved", "Template"),
            security=ORG_ADMIN,
            body=json_body(ref("ApproveInput"), required=False),
            extra_errors=conflict,
        ),
        (f"{one}/reject", "POST"): operation(
            "SMS template: pending → rejected, with an optional reason",
            _ok("200", "rejected", "Template"),
            security=ORG_ADMIN,
            body=json_body(ref("RejectInput"), required=False),
            extra_errors=conflict,
        ),
    }


def _template_dlt() -> dict[Key, Schema]:
    return {
        (f"{ORG}/templates/{{template}}/dlt", "GET"): operation(
            "The DLT copy of an SMS template for the regulator's portal in India: the body with each"
            " {{ … }} (a field, filters, any expression) as {#var#}, and the DLT template id once approved;"
            " of the newest version (a new draft or pending one before it is approved) unless `version` is given",
            _ok("200", "the DLT copy", "DltCopy"),
            security=ORG_ADMIN,
            params=(
                query(
                    "version",
                    {"type": "integer", "minimum": 1, "maximum": 10**9},
                    "a version of the template (see .../versions); default the newest",
                ),
            ),
            extra_errors={
                "400": "`version` is not a positive integer (`invalid_parameter`)",
                "404": "unknown org or template (`template_not_found`), or a version the template does not have"
                " (`version_not_found`)",
                "409": "an email template, or a body with control blocks ({% if %}, {% for %} …) that a DLT"
                " template cannot express (`not_dlt_compatible`, the detail names the block)",
            },
        ),
    }


def _account() -> dict[Key, Schema]:
    date = {"type": "string", "format": "date"}
    return {
        (f"{ORG}/credits", "GET"): operation(
            "SMS credit balance and auto-recharge", _ok("200", "credits", "Credits"), security=ORG_ADMIN
        ),
        (f"{ORG}/credits/purchase", "POST"): operation(
            "Add credits (operator only)",
            _ok("201", "the new balance", "Credits"),
            security=ADMIN,
            body=json_body(ref("PurchaseInput")),
        ),
        (f"{ORG}/credits/auto-recharge", "PUT"): operation(
            "Configure auto-recharge (threshold and amount are required when enabled, kept as they were "
            "when switched off without them); enabled below the threshold it tops up at once",
            _ok("200", "credits", "Credits"),
            security=ORG_ADMIN,
            body=json_body(ref("AutoRechargeInput")),
        ),
        (f"{ORG}/credits/ledger", "GET"): operation(
            "Credit movements, newest first",
            _ok("200", "entries", "Ledger"),
            security=ORG_ADMIN,
            params=(limit(100, 1000),),
        ),
        (f"{ORG}/usage", "GET"): operation(
            "Today's email counts against each cap (the org's local day), and credits",
            _ok("200", "usage", "Usage"),
            security=ORG_ADMIN,
        ),
        (f"{ORG}/reports/email", "GET"): operation(
            f"Email report rows, totals and per template; from..to at most {MAX_DAYS} days",
            _ok("200", "the report", "EmailReport"),
            security=ORG_ADMIN,
            params=(
                query("from", date, "first local day (default: 29 days before `to`)"),
                query("to", date, "last local day (default: today in the org's time zone)"),
                query("group", {"type": "string", "enum": ["day", "week", "month"], "default": "day"}, "row size"),
            ),
        ),
    }


_UP_TO = "`up_to` applies to the inbox signals up to that id"
_STATE_OPS = (
    ("read", "Mark signals read, by ids or everything up to an id", _UP_TO + ".", "bad body (`invalid_body`)"),
    ("unread", "Mark signals unread", _UP_TO + ".", "bad body (`invalid_body`)"),
    (
        "archive",
        "Archive signals (they leave the inbox; a snoozed one stops being snoozed)",
        _UP_TO + ".",
        "bad body (`invalid_body`)",
    ),
    (
        "unarchive",
        "Bring archived signals back to the inbox",
        "`up_to` applies to the archived signals up to that id; a signal that is not archived is left as it is.",
        "bad body (`invalid_body`)",
    ),
    (
        "snooze",
        "Snooze signals until a time: they leave the inbox and come back then, unread, pushed once to /ws",
        _UP_TO + ". Snoozing an archived signal un-archives it; `until: null` un-snoozes (back to the inbox"
        " now, not pushed again).",
        "bad body (`invalid_body`), or `until` missing, not ISO 8601 with an offset, not in the future or more"
        " than 90 days away (`invalid_until`)",
    ),
)


def _me() -> dict[Key, Schema]:
    return {
        ("/api/v1/me", "GET"): operation(
            "The signed-in user", _ok("200", "who the token belongs to", "Me"), security=USER
        ),
        ("/api/v1/me/signals", "GET"): operation(
            f"Feed history: ascending by id; without `after` the newest `limit` (max {MAX_PAGE})",
            _ok("200", "signals (each with its state), the inbox's unread count and the feed's cursor", "SignalPage"),
            security=USER,
            description=(
                "Filters (`type`, `unread`, `contact`, `view`) narrow the feed first; `limit`, `before` and"
                " `after` page over what matches. `before` alone: the newest `limit` older than it (paging"
                " back through history). `after` and `before` together: a window, the oldest `limit` signals"
                " strictly between them. Always ascending by id."
            ),
            params=(
                query("after", {"type": "string", "pattern": STREAM_ID}, "a signal id; return signals after it"),
                query("before", {"type": "string", "pattern": STREAM_ID}, "a signal id; return signals older than it"),
                query(
                    "type",
                    {"type": "string"},
                    f"comma-separated signal types ({', '.join(SIGNAL_TYPES)}); an unknown type is 400 `unknown_type`",
                ),
                query("unread", {"type": "string", "enum": ["true", "false"]}, "only unread (true) or read (false)"),
                query(
                    "contact", {"type": "string", "minLength": 1, "maxLength": 200}, "only signals of this contact id"
                ),
                query(
                    "view",
                    {"type": "string", "enum": list(VIEWS), "default": "inbox"},
                    "inbox (neither archived nor snoozed), archived, snoozed (until their time) or all",
                ),
                limit(50, MAX_PAGE),
            ),
            extra_errors={
                "400": "bad `after`, `before`, `limit`, `unread`, `contact` or `view` (`invalid_parameter`),"
                " or an unknown `type` (`unknown_type`)"
            },
        ),
        ("/api/v1/me/signals/counts", "GET"): operation(
            "Unread signals in the inbox, in all and per type (every type, zeros included)",
            _ok("200", "the counts", "SignalCounts"),
            security=USER,
        ),
        ("/api/v1/me/signals/{id}/events", "GET"): operation(
            "A grouped signal's members (the original and each repeat), newest first",
            _ok("200", "the events (time, title, body, count at the time) and the signal's count", "SignalEvents"),
            security=USER,
            params=(limit(50, MAX_EVENTS),),
            extra_errors={
                "400": "bad `limit` (`invalid_parameter`)",
                "404": "no signal with this id in the feed (`signal_not_found`)",
            },
        ),
        **{
            ("/api/v1/me/signals/" + op, "POST"): operation(
                summary,
                _ok(
                    "200", "the inbox's unread count and the named ids that are not signals of the feed", "StateChanged"
                ),
                security=USER,
                description=description,
                body=json_body(ref("SnoozeInput" if op == "snooze" else "ReadInput")),
                extra_errors={"400": error_400},
            )
            for op, summary, description, error_400 in _STATE_OPS
        },
        ("/api/v1/me/actions", "POST"): operation(
            "Act on a signal: reply to its contact with an approved SMS template (a send like any other)",
            _ok("202", "the notification queued (or the one this idempotency_key already made)", "ActionResult"),
            security=USER,
            body=json_body(ref("ActionInput")),
            description=(
                "Sent by the signed-in user to the contact's first mobile number (else first number), with the "
                "credits, rules and idempotency of POST /api/v1/orgs/{org}/notifications (the key is per user). "
                "The signal is marked read and records `acted`; every connection gets a `state` frame."
            ),
            extra_errors={
                "404": "no such signal in your feed (`signal_not_found`) or no such template (`template_not_found`)",
                "409": "no contact on the signal (`no_contact`), the contact has no phone (`no_phone`), or the "
                "template is not an approved SMS template (`template_not_approved`)",
            },
        ),
        ("/api/v1/me/templates", "GET"): operation(
            "Approved templates of the user's org a reply can use, with the merge fields each reads",
            _ok("200", "the templates", "MeTemplates"),
            security=USER,
            params=(query("channel", {"type": "string", "enum": ["sms"], "default": "sms"}, "the channel"),),
            extra_errors={"400": "unknown `channel` (`invalid_parameter`)"},
        ),
        ("/api/v1/me/settings", "GET"): operation(
            "Per-type on/off settings", _ok("200", "every type", "Settings"), security=USER
        ),
        ("/api/v1/me/settings", "PUT"): operation(
            "Switch some signal types on or off (the others keep their setting)",
            _ok("200", "every type", "Settings"),
            security=USER,
            body=json_body(ref("SettingsInput")),
        ),
    }


def _ingest() -> dict[Key, Schema]:
    twilio = "/webhooks/twilio/{org}"
    token = {
        "name": "token",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "minLength": 1},
        "description": "the signed tracking token from the mail",
    }
    no_store = {"Cache-Control": {"schema": {"type": "string"}, "description": "no-store"}}
    return {
        (f"{twilio}/sms", "POST"): _twilio(
            "Incoming SMS → sms.received; answers empty TwiML", {"200": _TWIML}, "TwilioSms"
        ),
        (f"{twilio}/sms-status", "POST"): _twilio(
            "SMS status callback; a status never regresses",
            {"204": {"description": "accepted"}},
            "TwilioSmsStatus",
            query("n", {"type": "string"}, "the notification id our StatusCallback URL carries"),
        ),
        (f"{twilio}/voice", "POST"): _twilio(
            "Incoming call: the published call flow's TwiML, else <Reject/>", {"200": _TWIML}, "TwilioVoice"
        ),
        (f"{twilio}/voice-status", "POST"): _twilio(
            "Call status: the call log; a missed inbound call from a contact (also one a call flow answered"
            " and no rep took) → call.missed",
            {"204": {"description": "accepted"}},
            "TwilioVoiceStatus",
        ),
        ("/webhooks/events/{org}", "POST"): operation(
            "A signed event from another tool (Standard Webhooks)",
            _ok("202", "accepted (duplicate: true for a replayed webhook-id)", "EventAccepted"),
            security=None,
            params=(
                header("webhook-id", "unique per event; a replay is accepted once"),
                header("webhook-timestamp", "Unix seconds; at most 5 minutes off"),
                header("webhook-signature", "v1,<base64 HMAC-SHA256> with the org's whsec_ secret"),
            ),
            body=json_body(ref("EventInput")),
            extra_errors={
                "400": "the signed body is not a valid event (`invalid_event`, `invalid_json`)",
                "403": "bad or missing signature, stale timestamp, or no webhook secret set (`bad_signature`)",
                "404": "unknown org",
            },
        ),
        ("/u/{token}", "GET"): {
            "summary": "Unsubscribe confirmation page (the org's language: ja for JP, else en); changes nothing",
            "parameters": [{**token, "description": "the signed token of the mail's List-Unsubscribe URL"}],
            "security": [],
            "responses": {
                "200": {"description": "the page, with a button that POSTs", "content": {"text/html": _HTML}},
                "404": error("a forged or altered link (`unknown_link`)"),
            },
        },
        ("/u/{token}", "POST"): {
            "summary": "RFC 8058 one-click unsubscribe: the contact's marketing becomes false (idempotent)",
            "parameters": [{**token, "description": "the signed token of the mail's List-Unsubscribe URL"}],
            "description": "The body (`List-Unsubscribe=One-Click`, any content type, or none) is not read.",
            "security": [],
            "responses": {
                "200": {"description": "a small confirmation page", "content": {"text/html": _HTML}},
                "404": error("a forged or altered link (`unknown_link`)"),
            },
        },
        ("/t/o/{token}", "GET"): {
            "summary": "Open pixel: always a 1×1 GIF, no-store (a valid token records an open)",
            "parameters": [token],
            "security": [],
            "responses": {
                "200": {
                    "description": "the GIF",
                    "headers": no_store,
                    "content": {"image/gif": {"schema": {"type": "string", "format": "binary"}}},
                },
                "503": error("Redis is unavailable; retry later"),
            },
        },
        ("/t/c/{token}", "GET"): {
            "summary": "Click: records it and redirects to the signed URL; a forged or altered token is 404",
            "parameters": [token],
            "security": [],
            "responses": {
                "302": {
                    "description": "to the link's URL",
                    "headers": {"Location": {"schema": {"type": "string", "format": "uri"}}, **no_store},
                },
                "404": error("forged or altered token (`unknown_link`)"),
                "503": error("Redis is unavailable; retry later"),
            },
        },
    }


def _process() -> dict[Key, Schema]:
    text = {"type": "string"}
    return {
        ("/", "GET"): {
            "summary": "The page (the signed-in user's live feed)",
            "security": [],
            "responses": {"200": {"description": "HTML", "content": {"text/html": {"schema": text}}}},
        },
        ("/healthz", "GET"): {
            "summary": "Health: 200 when every part this process runs is up, else 503",
            "security": [],
            "responses": {
                "200": json_response("ok", ref("Health")),
                "503": json_response("a part (or Redis) is down", ref("Health")),
            },
        },
        ("/metrics", "GET"): {
            "summary": "Prometheus metrics (text exposition format)",
            "security": [],
            "responses": {
                "200": {"description": "metrics", "content": {"text/plain": {"schema": text}}},
                "401": error("a metrics token is configured and the request does not carry it"),
            },
        },
        ("/openapi.json", "GET"): {
            "summary": "This document",
            "security": [],
            "responses": {"200": json_response("OpenAPI 3.1", {"type": "object"})},
        },
        ("/web/{path}", "GET"): {
            "summary": "The page's static files (ES modules, CSS, icons)",
            "parameters": [
                {"name": "path", "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
            ],
            "security": [],
            "responses": {
                "200": {
                    "description": "the file",
                    "content": {
                        "text/javascript": {"schema": text},
                        "text/css": {"schema": text},
                        "text/html": {"schema": text},
                        "image/svg+xml": {"schema": text},
                    },
                },
                "404": error("no such file"),
            },
        },
    }


def operations() -> dict[Key, Schema]:
    """Every documented operation; the document keeps those whose route the app has."""
    return {
        **_process(),
        **_ingest(),
        **_management(),
        **_sending(),
        **_templates(),
        **_template_dlt(),
        **_account(),
        **_me(),
        **telephony.operations(),
        **call_flow_operations(ORG),
        **automation.operations(),
    }
