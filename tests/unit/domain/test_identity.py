"""Sending identity (pure): which address a mail goes out From, where replies go, and the org's
``smtp`` / ``senders`` / ``user_from`` validation."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.domain.errors import BadRequest
from gateway.domain.hosts import is_host
from gateway.domain.identity import Identity, choose_identity
from gateway.domain.tenancy import merge_org, public_org

DEFAULT = "signalgate@localhost"
SATO = {"id": "sato", "email": "Sato@Acme.example.jp"}


def org(**extra: Any) -> dict[str, Any]:
    return merge_org("acme", extra, None)


def test_no_senders_no_user_uses_the_config_address() -> None:
    assert choose_identity(org(), None, DEFAULT) == Identity(DEFAULT)


def test_the_first_sender_is_the_org_default_and_the_user_gets_the_replies() -> None:
    o = org(senders=["sales@acme.example.jp", "info@acme.example.jp"])
    assert choose_identity(o, None, DEFAULT) == Identity("sales@acme.example.jp")
    assert choose_identity(o, SATO, DEFAULT) == Identity("sales@acme.example.jp", "sato@acme.example.jp")


def test_a_listed_user_address_goes_out_as_itself() -> None:
    o = org(senders=["sales@acme.example.jp", "sato@acme.example.jp"])
    assert choose_identity(o, SATO, DEFAULT) == Identity("sato@acme.example.jp")


def test_user_from_needs_own_smtp_and_a_senders_domain() -> None:
    # user_from without the org's own SMTP: never the user's address through the shared relay.
    shared = org(senders=["sales@acme.example.jp"], user_from=True)
    assert choose_identity(shared, SATO, DEFAULT).from_addr == "sales@acme.example.jp"
    own = org(senders=["sales@acme.example.jp"], user_from=True, smtp={"host": "smtp.acme.example.jp"})
    assert choose_identity(own, SATO, DEFAULT) == Identity("sato@acme.example.jp")
    outsider = {"id": "x", "email": "x@gmail.example.com"}
    assert choose_identity(own, outsider, DEFAULT) == Identity("sales@acme.example.jp", "x@gmail.example.com")
    off = org(senders=["sales@acme.example.jp"], user_from=False, smtp={"host": "smtp.acme.example.jp"})
    assert choose_identity(off, SATO, DEFAULT).from_addr == "sales@acme.example.jp"


def test_an_address_unsafe_for_a_header_is_never_used() -> None:
    o = org(senders=["sales@acme.example.jp"])
    for email in ('"a b"@acme.example.jp', "a<b>@acme.example.jp", "nodot@localhost", None, 7):
        assert choose_identity(o, {"id": "u", "email": email}, DEFAULT) == Identity("sales@acme.example.jp")


def test_no_reply_to_when_the_user_is_the_org_sender() -> None:
    o = org(senders=["sato@acme.example.jp"])
    assert choose_identity(o, SATO, DEFAULT) == Identity("sato@acme.example.jp")


def test_smtp_is_validated_merged_and_its_password_never_shown() -> None:
    body = {"smtp": {"host": "SMTP.acme.example.jp", "port": 2525, "username": "u", "password": "p4ss"}}
    rec = merge_org("acme", body, None)
    assert rec["smtp"] == {
        "host": "smtp.acme.example.jp",
        "port": 2525,
        "username": "u",
        "password": "p4ss",
        "starttls": True,
    }
    # A later PUT without the password keeps it (a CRM sync need not re-send secrets).
    rec = merge_org("acme", {"smtp": {"host": "smtp2.acme.example.jp", "starttls": False}}, rec)
    assert rec["smtp"]["password"] == "p4ss" and rec["smtp"]["port"] == 2525 and rec["smtp"]["starttls"] is False
    shown = public_org(rec)
    assert shown["smtp"] == {
        "host": "smtp2.acme.example.jp",
        "port": 2525,
        "username": "u",
        "starttls": False,
        "password_set": True,
    }
    assert "p4ss" not in str(shown)
    assert "smtp" not in merge_org("acme", {"smtp": None}, rec)


@pytest.mark.parametrize(
    "smtp",
    [
        "smtp.example.jp",
        {"port": 25},
        {"host": "bad host"},
        {"host": "a" * 300},
        {"host": "x.example.jp", "port": 0},
        {"host": "x.example.jp", "port": 70000},
        {"host": "x.example.jp", "port": True},
        {"host": "x.example.jp", "starttls": "yes"},
        {"host": "x.example.jp", "password": "a\r\nb"},
        {"host": "x.example.jp", "tls": True},
    ],
)
def test_bad_smtp_is_400_naming_the_key(smtp: Any) -> None:
    with pytest.raises(BadRequest) as caught:
        merge_org("acme", {"smtp": smtp}, None)
    assert caught.value.code in ("invalid_field", "unknown_field")
    assert "smtp" in caught.value.detail


def test_senders_are_lowercased_deduplicated_and_at_most_ten() -> None:
    rec = merge_org("acme", {"senders": ["A@x.example.jp", "a@x.example.jp", "b@x.example.jp"]}, None)
    assert rec["senders"] == ["a@x.example.jp", "b@x.example.jp"]
    with pytest.raises(BadRequest, match="senders"):
        merge_org("acme", {"senders": [f"s{i}@x.example.jp" for i in range(11)]}, None)
    for bad in (["no-at-sign"], ["a b@x.example.jp"], "a@x.example.jp", [1], ["Name <a@x.example.jp>"]):
        with pytest.raises(BadRequest, match="senders"):
            merge_org("acme", {"senders": bad}, None)
    with pytest.raises(BadRequest, match="user_from"):
        merge_org("acme", {"user_from": "yes"}, None)


def test_host_shape() -> None:
    for good in ("imap.example.jp", "127.0.0.1", "::1", "localhost", "mx-1.example.jp."):
        assert is_host(good), good
    for bad in ("", "a b", "-x.example.jp", "x..example.jp", "http://x", "x/y", "a" * 254, None, 5, "x\n"):
        assert not is_host(bad), bad
