"""Unit tests for gateway.routing.rules: contact lookup and signal drafts for each event source."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.domain.events import SOURCES, Event
from gateway.domain.signals import SIGNAL_TYPE_SET
from gateway.routing.rules import (
    ContactLookup,
    Draft,
    contact_ref,
    draft,
    missed_in_flow,
    signal_body,
    snippet,
    title_for,
)

CONTACT: dict[str, Any] = {"id": "c1", "name": "佐藤 花子", "kind": "contact"}


def _event(source: str, **data: Any) -> Event:
    return Event(id="1700000000000-0", partition=3, org="acme", source=source, at_ms=1700000000000, data=data)


def test_event_key_is_partition_and_id() -> None:
    """Event.key combines partition and stream id."""
    assert _event("webhook").key == "p3-1700000000000-0"


# --- contact_ref ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (_event("twilio.sms", From="+81 90-1234-5678", To="+815012345678"), ContactLookup("phone", "+819012345678")),
        (_event("twilio.sms", To="+815012345678"), ContactLookup("phone", "")),
        (
            _event("twilio.voice_status", From="+819012345678", To="+815012345678", Direction="inbound"),
            ContactLookup("phone", "+819012345678"),
        ),
        (
            _event("twilio.voice_status", From="+819012345678", To="+815012345678"),
            ContactLookup("phone", "+819012345678"),
        ),
        (
            _event("twilio.voice_status", From="+815012345678", To="+16502530000", Direction="outbound-api"),
            ContactLookup("phone", "+16502530000"),
        ),
        (
            _event("twilio.sms_status", From="+815012345678", To="+919812345678"),
            ContactLookup("phone", "+919812345678"),
        ),
        (_event("webhook", type="desk.ticket", contact={"id": "c1"}), ContactLookup("id", "c1")),
        (
            _event("webhook", type="desk.ticket", contact={"email": " Sato@Example.JP "}),
            ContactLookup("email", "sato@example.jp"),
        ),
        (
            _event("webhook", type="desk.ticket", contact={"phone": "+81 90 1234 5678"}),
            ContactLookup("phone", "+819012345678"),
        ),
        (_event("webhook", type="desk.ticket", contact={}), None),
        (_event("webhook", type="desk.ticket"), None),
        (_event("track.open", notification="n1", contact="c1"), ContactLookup("id", "c1")),
        (_event("track.click", notification="n1", contact="c1", url="https://e.jp"), ContactLookup("id", "c1")),
        (_event("track.open", notification="n1", contact=None), None),
        (_event("track.click", notification="n1", url="https://e.jp"), None),
        (_event("email.imap", From="a@b.jp"), None),
    ],
    ids=[
        "sms",
        "sms-no-from",
        "voice-inbound",
        "voice-default-inbound",
        "voice-outbound-uses-to",
        "sms-status-uses-to",
        "webhook-id",
        "webhook-email-normalised",
        "webhook-phone",
        "webhook-empty-contact",
        "webhook-no-contact",
        "open",
        "click",
        "open-no-contact",
        "click-no-contact",
        "unknown-source",
    ],
)
def test_contact_ref(event: Event, expected: ContactLookup | None) -> None:
    """contact_ref says how to find the contact an event is about."""
    assert contact_ref(event) == expected


# --- draft: SMS ----------------------------------------------------------------------------------


def test_incoming_sms_with_known_contact() -> None:
    """An incoming SMS: titled "SMS from <contact>", the text as body (once), the number as shown in data."""
    event = _event(
        "twilio.sms", From="+819012345678", To="+815012345678", MessageSid="SM1", Body="  こんにちは\n世界  "
    )
    d = draft(event, CONTACT, country="JP")
    assert d is not None
    assert (d.type, title_for(d, CONTACT), d.body) == ("sms.received", "SMS from 佐藤 花子", "こんにちは 世界")
    assert d.data == {
        "from": "+819012345678",
        "to": "+815012345678",
        "message_sid": "SM1",
        "text": "  こんにちは\n世界  ",
        "from_display": "090-1234-5678",
    }


def test_incoming_sms_from_unknown_number() -> None:
    """Without a contact the title names the number as the org's country reads it."""
    d = draft(_event("twilio.sms", From="+819012345678", To="+815012345678", Body="hi"), None, country="US")
    assert d is not None
    assert d.type == "sms.received"
    assert title_for(d, None) == "SMS from +81 90-1234-5678" and d.body == "hi"
    assert d.data["from"] == "+819012345678" and d.data["from_display"] == "+81 90-1234-5678"


def test_incoming_sms_long_body_is_snipped_but_kept_in_data() -> None:
    """A long SMS body is truncated in the signal body but kept whole in data.text."""
    body = "あ" * 500
    d = draft(_event("twilio.sms", From="+819012345678", To="+815012345678", Body=body), None)
    assert d is not None
    assert len(d.body) == 280
    assert d.body.endswith("…")
    assert d.data["text"] == body


# --- draft: calls --------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["no-answer", "busy", "canceled", "failed"])
def test_inbound_unanswered_call_is_missed(status: str) -> None:
    """Inbound calls ending no-answer/busy/canceled/failed become call.missed."""
    event = _event(
        "twilio.voice_status",
        From="+819012345678",
        To="+815012345678",
        CallSid="CA1",
        CallStatus=status,
        Direction="inbound",
    )
    d = draft(event, CONTACT, country="JP")
    assert d is not None
    assert (d.type, title_for(d, CONTACT), d.body) == ("call.missed", "Missed call from 佐藤 花子", "090-1234-5678")
    assert d.data == {
        "from": "+819012345678",
        "to": "+815012345678",
        "call_sid": "CA1",
        "status": status,  # Twilio's own word: the page localises it
        "from_display": "090-1234-5678",
    }


def test_missed_call_direction_defaults_to_inbound() -> None:
    """A voice status without Direction is treated as inbound."""
    d = draft(_event("twilio.voice_status", From="+819012345678", To="+815012345678", CallStatus="busy"), None)
    assert d is not None
    assert d.type == "call.missed"
    assert title_for(d, None) == "Missed call from +81 90-1234-5678"  # no country: international


@pytest.mark.parametrize("status", ["completed", "in-progress", "ringing", "queued", "initiated", ""])
def test_inbound_call_other_status_makes_no_signal(status: str) -> None:
    """Answered or still-running inbound calls make no signal."""
    event = _event(
        "twilio.voice_status", From="+819012345678", To="+815012345678", CallStatus=status, Direction="inbound"
    )
    assert draft(event, CONTACT) is None


def test_a_flows_call_nobody_took_is_the_same_missed_call_with_its_flow() -> None:
    """A flow answered it (completed) and nobody took it: call.missed like any other, plus ``flow``."""
    event = _event(
        "twilio.voice_status",
        From="+819012345678",
        To="+815012345678",
        CallSid="CA1",
        CallStatus="completed",
        Direction="inbound",
    )
    d = missed_in_flow(event, "main", "JP")
    assert (d.type, title_for(d, CONTACT), d.body) == ("call.missed", "Missed call from 佐藤 花子", "090-1234-5678")
    assert title_for(d, None) == "Missed call from 090-1234-5678"
    assert d.data == {
        "from": "+819012345678",
        "to": "+815012345678",
        "call_sid": "CA1",
        "status": "completed",
        "from_display": "090-1234-5678",
        "flow": "main",
    }


@pytest.mark.parametrize("direction", ["outbound-api", "outbound-dial", "outbound"])
@pytest.mark.parametrize("status", ["no-answer", "busy", "canceled", "failed", "completed"])
def test_outbound_call_makes_no_signal(direction: str, status: str) -> None:
    """Outbound calls never make call.missed, whatever their status."""
    event = _event(
        "twilio.voice_status", From="+815012345678", To="+819012345678", CallStatus=status, Direction=direction
    )
    assert draft(event, CONTACT) is None


# --- draft: SMS status ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("delivered", "sms.delivered"),
        ("failed", "sms.failed"),
        ("undelivered", "sms.failed"),
        ("sent", None),
        ("queued", None),
        ("sending", None),
        ("accepted", None),
        ("read", None),
        (None, None),
    ],
)
def test_sms_status_signals(status: str | None, expected: str | None) -> None:
    """Only a newly reached delivered/failed/undelivered status makes a signal."""
    event = _event("twilio.sms_status", To="+919812345678", MessageSid="SM1", SmsStatus=status or "sent")
    d = draft(event, CONTACT, status)
    assert (d.type if d else None) == expected


def test_sms_status_uses_argument_not_payload() -> None:
    """The signal follows the sms_status argument (the newly reached status), not the payload field."""
    event = _event("twilio.sms_status", To="+919812345678", MessageSid="SM1", SmsStatus="delivered")
    assert draft(event, CONTACT, None) is None
    assert draft(event, CONTACT, "sent") is None


def test_sms_delivered_draft_fields() -> None:
    """sms.delivered names the recipient, shows the number as body and carries the raw status."""
    event = _event("twilio.sms_status", To="+919812345678", MessageSid="SM1")
    d = draft(event, CONTACT, "delivered", "JP")
    assert d is not None
    assert (d.type, title_for(d, CONTACT), d.body) == ("sms.delivered", "SMS to 佐藤 花子 delivered", "+91 98123 45678")
    assert d.data == {
        "to": "+919812345678",
        "message_sid": "SM1",
        "status": "delivered",
        "error_code": None,
        "to_display": "+91 98123 45678",
    }


def test_sms_failed_draft_includes_error_code() -> None:
    """sms.failed shows the Twilio error code in body and data."""
    event = _event("twilio.sms_status", To="+919812345678", MessageSid="SM1", ErrorCode="30007")
    d = draft(event, None, "undelivered")
    assert d is not None
    assert d.type == "sms.failed"
    assert title_for(d, None) == "SMS to +91 98123 45678 failed"
    assert d.body == "+91 98123 45678 (error 30007)"
    assert d.data["status"] == "undelivered"
    assert d.data["error_code"] == "30007"


# --- draft: webhook and tracking -----------------------------------------------------------------


def test_webhook_draft_uses_event_fields() -> None:
    """A webhook event's type, title, body and data become the draft."""
    event = _event(
        "webhook",
        type="desk.ticket",
        contact={"id": "c1"},
        title="Ticket #42",
        body="Printer\n\non fire",
        data={"ticket": 42},
    )
    assert draft(event, CONTACT) == Draft("desk.ticket", "Ticket #42", "Printer on fire", {"ticket": 42})


def test_webhook_draft_defaults() -> None:
    """Without title, body or data they are empty (the page labels the type itself)."""
    event = _event("webhook", type="survey.answered", contact={"id": "c1"}, title="", body="", data={})
    assert draft(event, None) == Draft("survey.answered", "", "", {})


def test_track_open_draft() -> None:
    """track.open makes email.opened carrying the notification id."""
    d = draft(_event("track.open", notification="n1", contact="c1"), CONTACT)
    assert d is not None
    assert (d.type, title_for(d, CONTACT), d.body, d.data) == (
        "email.opened",
        "佐藤 花子 opened your email",
        "",
        {"notification": "n1"},
    )


def test_track_click_draft() -> None:
    """track.click makes email.clicked naming the contact, the URL as body and in data."""
    url = "https://例え.jp/製品?色=赤"
    d = draft(_event("track.click", notification="n1", contact="c1", url=url), CONTACT)
    assert d is not None
    assert (title_for(d, CONTACT), d.body, d.data) == (
        "佐藤 花子 clicked a link in your email",
        url,
        {"notification": "n1", "url": url},
    )
    assert title_for(d, None) == url  # nobody to name: the URL


def test_unknown_source_makes_no_draft() -> None:
    """An unknown source makes no signal."""
    assert draft(_event("email.imap", From="a@b.jp"), CONTACT) is None


@pytest.mark.parametrize(
    "event",
    [
        _event("twilio.sms", From="+819012345678", Body="x"),
        _event("twilio.voice_status", From="+819012345678", CallStatus="busy"),
        _event("track.open", notification="n1"),
        _event("track.click", notification="n1", url="https://e.jp"),
    ],
    ids=["sms", "call", "open", "click"],
)
def test_built_in_drafts_use_known_signal_types(event: Event) -> None:
    """Drafts made by the gateway itself always use a type from SIGNAL_TYPES."""
    d = draft(event, None)
    assert d is not None
    assert d.type in SIGNAL_TYPE_SET
    assert event.source in SOURCES


@pytest.mark.parametrize("status", ["delivered", "failed", "undelivered"])
def test_sms_status_drafts_use_known_signal_types(status: str) -> None:
    """SMS status drafts use a type from SIGNAL_TYPES."""
    d = draft(_event("twilio.sms_status", To="+919812345678"), None, status)
    assert d is not None
    assert d.type in SIGNAL_TYPE_SET


# --- snippet -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("", 280, ""),
        ("hello", 280, "hello"),
        ("  a \t b\n\nc  ", 280, "a b c"),
        ("a\u3000b", 280, "a b"),
        ("abcde", 5, "abcde"),
        ("abcdef", 5, "abcd…"),
        ("ab   cd   ef", 5, "ab c…"),
        ("日本語のテキスト", 4, "日本語…"),
    ],
)
def test_snippet(text: str, limit: int, expected: str) -> None:
    """snippet collapses whitespace and truncates to the limit with a trailing ellipsis."""
    assert snippet(text, limit) == expected


def test_snippet_default_limit() -> None:
    """The default limit is 280 characters including the ellipsis."""
    assert snippet("x" * 280) == "x" * 280
    assert snippet("x" * 281) == "x" * 279 + "…"


# --- the stored signal: title naming the contact, links.record ---------------------------------

ORG: dict[str, Any] = {
    "id": "acme",
    "country": "JP",
    "record_url_template": "https://crm.example.jp/{kind}s/{contact_id}",
}


def test_signal_body_names_the_contact_and_links_its_record() -> None:
    """signal_body titles with the contact's name and bakes links.record from the org's template."""
    d = draft(_event("twilio.sms", From="+819012345678", Body="折り返し"), None, country="JP")
    assert d is not None
    contact = {"id": "c 1/x", "name": "山田 太郎", "kind": "lead"}
    body = signal_body(ORG, "u1", contact, d, 1700000000000)
    assert body["title"] == "SMS from 山田 太郎" and body["body"] == "折り返し"
    assert body["links"] == {"record": "https://crm.example.jp/leads/c%201%2Fx"}
    assert body["org"] == "acme" and body["contact"] == contact


@pytest.mark.parametrize(
    ("org", "contact"),
    [({"id": "acme"}, {"id": "c1", "name": "x", "kind": "lead"}), (ORG, None)],
    ids=["no-template", "no-contact"],
)
def test_signal_body_without_template_or_contact_has_no_links(org: dict[str, Any], contact: Any) -> None:
    """No record_url_template, or no contact: no ``links`` key at all."""
    d = Draft("desk.ticket", "Ticket #1", "")
    assert "links" not in signal_body(org, "u1", contact, d, 1700000000000)


def test_contact_without_name_keeps_the_draft_title() -> None:
    """A contact with an empty name does not make "SMS from " — the number stays in the title."""
    d = draft(_event("twilio.sms", From="+819012345678", Body="x"), None, country="JP")
    assert d is not None
    assert title_for(d, {"id": "c1", "name": " ", "kind": "lead"}) == "SMS from 090-1234-5678"
