"""The mailboxes API's view of a listener's recorded state (pure)."""

from __future__ import annotations

import pytest

from gateway.domain.errors import BadRequest
from gateway.domain.mailbox import (
    MAX_ERROR_CHARS,
    error_excerpt,
    mailbox_epoch,
    mailbox_id,
    mailbox_status,
    patch_mailbox,
    public_mailbox,
    validate_mailbox,
)
from gateway.ingest.imap.rules import mailbox_id as rules_mailbox_id


def test_nothing_recorded_is_connecting_with_no_uid() -> None:
    assert mailbox_status({}, {}) == {
        "state": "connecting",
        "state_since_ms": None,
        "last_error": None,
        "last_error_ms": None,
        "last_uid": None,
        "uidvalidity": None,
    }


def test_recorded_state_error_and_checkpoint() -> None:
    state = {"state": "auth_failed", "since_ms": "1700000000000", "error": "LOGIN refused", "error_ms": "1700000000001"}
    checkpoint = {"uidvalidity": "42", "uid": "7", "high_water_ms": "1"}
    assert mailbox_status(state, checkpoint) == {
        "state": "auth_failed",
        "state_since_ms": 1700000000000,
        "last_error": "LOGIN refused",
        "last_error_ms": 1700000000001,
        "last_uid": 7,
        "uidvalidity": 42,
    }


def test_an_unknown_recorded_state_is_not_passed_on() -> None:
    assert mailbox_status({"state": "exploded", "since_ms": "x"}, {"uid": "-1"})["state"] == "connecting"
    assert mailbox_status({"state": "exploded"}, {"uid": "-1"})["last_uid"] is None


def test_mailbox_id_is_stable_and_still_importable_from_the_rules() -> None:
    a = mailbox_id("acme", "IMAP.example.jp", 993, "sales@example.jp", "INBOX")
    assert a == mailbox_id("acme", "imap.example.jp", 993, "sales@example.jp", "INBOX")
    assert a.startswith("mb-") and len(a) == 19
    assert rules_mailbox_id is mailbox_id


# -- mailboxes added through the API -------------------------------------------------------------
def _body(**extra: object) -> dict[str, object]:
    return {"user": "u1", "host": "imap.example.jp", "username": "sato@example.jp", "password": "pw", **extra}


def test_a_minimal_mailbox_gets_the_defaults() -> None:
    rec = validate_mailbox("acme", "mbx-1", _body(), 5)
    assert rec == {
        "id": "mbx-1",
        "org": "acme",
        "user": "u1",
        "host": "imap.example.jp",
        "port": 993,
        "tls": "implicit",
        "username": "sato@example.jp",
        "password": "pw",
        "folder": "INBOX",
        "mode": "inbox",
        "created_ms": 5,
    }
    assert validate_mailbox("acme", "mbx-1", _body(tls="starttls"), 5)["port"] == 143
    shown = public_mailbox(validate_mailbox("acme", "mbx-1", _body(mode="sent", folder="Sent Items"), 5))
    assert "password" not in shown and "pw" not in map(str, shown.values()) and shown["password_set"] is True
    assert shown["source"] == "api" and shown["mode"] == "sent"


@pytest.mark.parametrize(
    ("body", "key"),
    [
        (_body(host="bad host"), "host"),
        (_body(host="169.254.169.254/latest"), "host"),
        (_body(port=0), "port"),
        (_body(port="993"), "port"),
        (_body(tls="ssl"), "tls"),
        (_body(mode="outbox"), "mode"),
        (_body(folder='IN"BOX'), "folder"),
        (_body(folder="受信箱"), "folder"),
        (_body(password="a\r\nb"), "password"),
        (_body(username=""), "username"),
        (_body(user="a b"), "user"),
        ({"user": "u1", "host": "x.example.jp", "username": "u"}, "password"),
        (_body(extra=1), "extra"),
    ],
)
def test_bad_mailbox_is_400_naming_the_key(body: dict[str, object], key: str) -> None:
    with pytest.raises(BadRequest) as caught:
        validate_mailbox("acme", "mbx-1", body, 5)
    assert key in caught.value.detail
    assert "pw" not in caught.value.detail


# -- only public hosts for a tenant's mailbox ------------------------------------------------------
@pytest.mark.parametrize(
    "host", ["127.0.0.1", "::1", "10.0.0.8", "192.168.1.20", "169.254.169.254", "100.64.1.1", "fd00::5", "2130706433"]
)
def test_a_non_public_address_is_400_naming_host_and_the_key(host: str) -> None:
    with pytest.raises(BadRequest) as caught:
        validate_mailbox("acme", "mbx-1", _body(host=host), 5)
    assert caught.value.code == "invalid_field"
    assert "'host'" in caught.value.detail and "allow_private_hosts" in caught.value.detail


def test_allow_private_lets_addresses_through_and_names_are_left_to_the_listener() -> None:
    assert validate_mailbox("acme", "mbx-1", _body(host="127.0.0.1"), 5, allow_private=True)["host"] == "127.0.0.1"
    assert validate_mailbox("acme", "mbx-1", _body(host="localhost"), 5)["host"] == "localhost"
    assert validate_mailbox("acme", "mbx-1", _body(host="93.184.216.34"), 5)["host"] == "93.184.216.34"


def test_last_error_is_a_short_printable_single_line() -> None:
    banner = "-ERR wrong protocol\r\n+OK redis 7.0\x1b[31m\x00" + "x" * 500
    shown = mailbox_status({"state": "backoff", "error": banner}, {})["last_error"]
    assert shown is not None and len(shown) <= MAX_ERROR_CHARS and shown.endswith("…")
    assert shown.startswith("-ERR wrong protocol +OK redis 7.0 [31m x")
    assert shown.isprintable()
    assert error_excerpt("a\u2028b\tc\x85d") == "a b c d"
    assert mailbox_status({"state": "backoff", "error": "\r\n"}, {})["last_error"] is None


# -- PATCH: a mailbox changed in place -----------------------------------------------------------
def _stored(**extra: object) -> dict[str, object]:
    return validate_mailbox("acme", "mbx-1", _body(password="sg1:sealed"), 5) | extra


def test_a_new_password_keeps_everything_else_and_the_uid_space() -> None:
    new, moved = patch_mailbox(_stored(), {"password": "new-pw"})
    assert not moved and new == _stored(password="new-pw")
    assert "epoch" not in new
    kept, moved = patch_mailbox(_stored(epoch=2), {"mode": "sent", "tls": "starttls", "user": "u2"})
    assert not moved and kept["epoch"] == 2 and kept["password"] == "sg1:sealed"
    assert kept["port"] == 993 and kept["tls"] == "starttls"  # the stored port stays with the new TLS mode
    assert patch_mailbox(_stored(), {}) == (_stored(), False)


@pytest.mark.parametrize(
    "change",
    [{"folder": "Archive"}, {"host": "imap2.example.jp"}, {"port": 1993}, {"username": "suzuki@example.jp"}],
)
def test_another_folder_login_or_server_is_another_uid_space(change: dict[str, object]) -> None:
    new, moved = patch_mailbox(_stored(), change)
    assert moved and new["epoch"] == 1 and new["id"] == "mbx-1" and new["created_ms"] == 5
    again, moved = patch_mailbox(new, {**change, "password": "x"})
    assert not moved and again["epoch"] == 1  # the same values again: nothing moved
    assert patch_mailbox(new, {"folder": "Other"})[0]["epoch"] == 2
    assert not patch_mailbox(_stored(), {"host": "IMAP.example.jp"})[1]  # host names are case-insensitive


@pytest.mark.parametrize(
    ("body", "key", "code"),
    [
        ({"host": "bad host"}, "host", "invalid_field"),
        ({"port": 0}, "port", "invalid_field"),
        ({"port": None}, "port", "invalid_field"),
        ({"tls": "ssl"}, "tls", "invalid_field"),
        ({"mode": "outbox"}, "mode", "invalid_field"),
        ({"folder": 'IN"BOX'}, "folder", "invalid_field"),
        ({"password": ""}, "password", "invalid_field"),
        ({"password": "a\r\nb"}, "password", "invalid_field"),
        ({"username": None}, "username", "invalid_field"),
        ({"user": "a b"}, "user", "invalid_field"),
        ({"host": "10.0.0.1"}, "allow_private_hosts", "invalid_field"),
        ({"id": "mbx-2"}, "id", "unknown_field"),
        ({"epoch": 0}, "epoch", "unknown_field"),
        (["password"], "JSON object", "invalid_body"),
    ],
)
def test_a_bad_patch_is_400_like_a_bad_post(body: object, key: str, code: str) -> None:
    with pytest.raises(BadRequest) as caught:
        patch_mailbox(_stored(), body)
    assert caught.value.code == code and key in caught.value.detail
    assert "sg1:sealed" not in caught.value.detail


def test_a_private_host_needs_the_operators_leave() -> None:
    assert patch_mailbox(_stored(), {"host": "127.0.0.1"}, allow_private=True)[0]["host"] == "127.0.0.1"


def test_a_missing_or_odd_epoch_is_zero() -> None:
    assert [mailbox_epoch({"epoch": v}) for v in (3, -1, True, "2", None)] == [3, 0, 0, 0, 0]
    assert mailbox_epoch({}) == 0
