"""Unit tests for gateway.routing.mail_rules: what an imap.mail event means and the signal it makes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gateway.domain.signals import SIGNAL_TYPE_SET
from gateway.domain.tenancy import merge_contact
from gateway.ingest.imap.parse import ParsedMail, parse_mail, summary
from gateway.routing.mail_rules import (
    MAX_DROPBOX_RECIPIENTS,
    MAX_REPLY_LOOKUPS,
    Party,
    activity_entry,
    bounce_ids,
    bounce_is_final,
    bounce_reason,
    bounced_draft,
    classify,
    created_body,
    created_id,
    creation_kind,
    dropbox_recipients,
    facts,
    received_draft,
    replied_draft,
    reply_ids,
    sender_addresses,
)
from gateway.routing.rules import title_for

CORPUS = Path(__file__).parents[2] / "data" / "mail_corpus"


def _data(name: str, mode: str = "inbox") -> dict[str, Any]:
    mail = parse_mail((CORPUS / name).read_bytes())
    assert isinstance(mail, ParsedMail)
    return {**summary(mail), "mode": mode, "mailbox": "mb-1", "mailbox_user": "u1", "uid": 1, "uidvalidity": 9}


@pytest.mark.parametrize(
    ("name", "mode", "kind"),
    [
        ("plain_utf8_ja.eml", "inbox", "mail"),
        ("reply_quoted.eml", "inbox", "mail"),
        ("ooo_auto_submitted.eml", "inbox", "auto"),
        ("ooo_ja_subject.eml", "inbox", "auto"),
        ("precedence_bulk.eml", "inbox", "auto"),
        ("dsn_hard_headers.eml", "inbox", "bounce"),
        ("dsn_delayed.eml", "inbox", "bounce"),
        ("dsn_success.eml", "inbox", "report"),
        ("many_recipients.eml", "dropbox", "dropbox"),
        ("dsn_hard_headers.eml", "dropbox", "dropbox"),
        ("plain_utf8_ja.eml", "sent", "sent"),
        ("ooo_auto_submitted.eml", "sent", "sent"),
    ],
)
def test_classify(name: str, mode: str, kind: str) -> None:
    """Dropbox first, then reports (bounce or not), then auto-replies, then ordinary mail."""
    assert classify(facts(_data(name, mode))) == kind


def test_facts_tolerate_missing_and_malformed_fields() -> None:
    """An event with odd data still gives facts (no KeyError in the router)."""
    f = facts({"from": "not a dict", "to": [{"email": ""}, {"x": 1}, {"email": "A@B.example"}], "report": "x"})
    assert f.sender is None
    assert f.to == (Party("a@b.example", ""),)
    assert f.report is None and f.mode == "inbox"
    assert classify(f) == "mail"


def test_reply_ids_in_reply_to_first_then_newest_reference() -> None:
    """Lookups: In-Reply-To, then References newest first, deduplicated and capped."""
    f = facts(_data("reply_quoted.eml"))
    assert reply_ids(f) == ["n_abc123@mail.example.test", "root-0@mail.example.test"]
    many = facts({"references": [f"r{i}@x" for i in range(30)]})
    assert reply_ids(many) == [f"r{i}@x" for i in range(29, 29 - MAX_REPLY_LOOKUPS, -1)]


def test_bounce_ids_and_finality() -> None:
    """A report's original Message-ID is looked up first; delayed reports are not final."""
    hard = facts(_data("dsn_hard_headers.eml"))
    assert bounce_ids(hard) == ["n_hard1@mail.example.test"]
    assert bounce_is_final(hard)
    assert bounce_is_final(facts(_data("dsn_soft_failed_rfc822.eml")))
    assert not bounce_is_final(facts(_data("dsn_delayed.eml")))


def test_bounced_draft() -> None:
    """email.bounced: "Email to <contact or recipient> bounced", status + diagnostic as body, data.bounce."""
    d = bounced_draft(facts(_data("dsn_soft_failed_rfc822.eml")), "n1")
    assert d.type == "email.bounced"
    assert d.title == "Email to full@client.example.jp bounced"
    assert title_for(d, {"id": "c1", "name": "山田 太郎", "kind": "lead"}) == "Email to 山田 太郎 bounced"
    assert d.body == "4.2.2 452 4.2.2 Mailbox full"
    assert d.data["bounce"] == "soft" and d.data["final"] is True and d.data["notification"] == "n1"
    assert d.data["message_id"] == "n_soft2@mail.example.test"
    assert bounce_reason(facts(_data("dsn_hard_headers.eml"))).startswith("hard 5.1.1 550 5.1.1")


def test_received_and_replied_drafts() -> None:
    """Subject as title, snippet as body, data with from/subject/message_id (and notification)."""
    f = facts(_data("plain_utf8_ja.eml"))
    d = received_draft(f)
    assert (d.type, d.title) == ("email.received", "お見積もりのご依頼について")
    assert d.body.startswith("佐藤様")
    assert d.data["from"] == "yamada@client.example.jp" and d.data["from_name"] == "山田 太郎"
    assert d.data["message_id"] == "CAF1234567890abcdef@mail.client.example.jp"
    r = replied_draft(facts(_data("reply_quoted.eml")), "n_abc")
    assert r.type == "email.replied" and r.data["notification"] == "n_abc"
    assert r.body == "Sounds good, let's talk on Friday."
    assert {d.type, r.type} <= SIGNAL_TYPE_SET


def test_title_falls_back_to_sender_without_subject() -> None:
    """A mail without subject is titled with its sender's address."""
    assert received_draft(facts({"from": {"email": "a@b.example"}})).title == "a@b.example"


def test_dropbox_recipients() -> None:
    """To then Cc, deduplicated, without the sender and org users, capped."""
    f = facts(_data("many_recipients.eml", "dropbox"))
    got = [p.email for p in dropbox_recipients(f, {"jane@acme.example.com"})]
    assert got == ["yamada@client.example.jp", "suzuki@partner.example.com", "new.lead@prospect.example.org"]
    crowd = facts({"from": {"email": "me@x.example"}, "to": [{"email": f"p{i}@y.example"} for i in range(80)]})
    assert len(dropbox_recipients(crowd, set())) == MAX_DROPBOX_RECIPIENTS


def test_lead_is_deterministic_and_valid() -> None:
    """A lead's id depends only on the address; its body passes contact validation."""
    p = Party("new.lead@prospect.example.org", "新規 顧客")
    assert created_id(p.email) == created_id(p.email) != created_id("other@prospect.example.org")
    rec = merge_contact({"country": "JP"}, created_id(p.email), created_body(p, "u1"), None)
    assert rec["kind"] == "lead" and rec["emails"] == [p.email] and rec["owner"] == "u1" and rec["name"] == "新規 顧客"
    as_contact = merge_contact(
        {"country": "JP"}, created_id(p.email, "contact"), created_body(p, "u1", "contact"), None
    )
    assert as_contact["kind"] == "contact" and as_contact["id"] != rec["id"] and as_contact["id"].startswith("contact-")


@pytest.mark.parametrize(
    ("org", "kind"),
    [
        ({}, None),
        ({"allow_lead_creation": False, "dropbox_create": "contact"}, None),
        ({"allow_lead_creation": True}, "lead"),
        ({"allow_lead_creation": True, "dropbox_create": "lead"}, "lead"),
        ({"allow_lead_creation": True, "dropbox_create": "contact"}, "contact"),
    ],
)
def test_creation_kind_follows_the_org(org: dict[str, Any], kind: str | None) -> None:
    """An unknown recipient becomes nothing, a lead or a contact as the org says."""
    assert creation_kind(org) == kind


def test_sender_addresses_take_each_users_own_address_and_aliases() -> None:
    """Own addresses and extra senders map to their user; an own address beats another user's alias."""
    users: list[dict[str, Any]] = [
        {"id": "u1", "email": "Sato@Example.test", "extra_senders": ["sato.h@alias.example", "tanaka@example.test"]},
        {"id": "u2", "email": "tanaka@example.test"},
        {"id": "u3"},
    ]
    assert sender_addresses(users) == {
        "sato@example.test": "u1",
        "sato.h@alias.example": "u1",
        "tanaka@example.test": "u2",
    }


def test_activity_entry_is_a_function_of_the_event() -> None:
    """The same event gives the same entry (so re-adding it changes nothing)."""
    f = facts(_data("many_recipients.eml", "dropbox"))
    a = activity_entry("p1-1-0", "2024-01-01T00:00:00.000Z", f, "outbound", "u1")
    assert a == activity_entry("p1-1-0", "2024-01-01T00:00:00.000Z", f, "outbound", "u1")
    assert a["subject"] == "Meeting notes" and a["direction"] == "outbound" and a["from"] == "sales@example.test"
