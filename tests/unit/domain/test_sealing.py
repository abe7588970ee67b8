"""Sealed provider secrets: AES-256-GCM round trip, bound to the org and field, tamper-evident,
legacy plain values passed through, and the per-process cache of opened values."""

from __future__ import annotations

import base64

import pytest

from gateway.domain.sealing import (
    PREFIX,
    TWILIO_AUTH_TOKEN,
    Sealer,
    SealError,
    derive_key,
    mailbox_password,
    open_secret,
    seal_secret,
)

KEY = derive_key(b"the gateway secret key")
SECRET = "s3cr\u00e9t-token"


def test_round_trip_and_stored_form() -> None:
    sealed = seal_secret(KEY, "acme", TWILIO_AUTH_TOKEN, SECRET)
    assert sealed.startswith(PREFIX) and SECRET not in sealed
    raw = base64.urlsafe_b64decode(sealed[len(PREFIX) :])
    assert len(raw) == 12 + len(SECRET.encode()) + 16  # nonce || ciphertext || tag
    assert open_secret(KEY, "acme", TWILIO_AUTH_TOKEN, sealed) == SECRET


def test_every_seal_has_its_own_nonce() -> None:
    assert seal_secret(KEY, "acme", "f", SECRET) != seal_secret(KEY, "acme", "f", SECRET)


def test_the_key_is_derived_not_the_secret_key_itself() -> None:
    assert len(KEY) == 32 and KEY == derive_key(b"the gateway secret key")
    assert derive_key(b"another key") != KEY
    with pytest.raises(ValueError):
        derive_key(b"")


@pytest.mark.parametrize(
    ("org", "field"),
    [("other", TWILIO_AUTH_TOKEN), ("acme", "smtp.password"), ("acme", mailbox_password("mbx-2"))],
)
def test_a_value_moved_to_another_org_or_field_does_not_open(org: str, field: str) -> None:
    sealed = seal_secret(KEY, "acme", mailbox_password("mbx-1") if "mailbox" in field else TWILIO_AUTH_TOKEN, SECRET)
    with pytest.raises(SealError) as caught:
        open_secret(KEY, org, field, sealed)
    assert org in str(caught.value) and field in str(caught.value) and SECRET not in str(caught.value)


def test_a_wrong_key_does_not_open() -> None:
    sealed = seal_secret(KEY, "acme", TWILIO_AUTH_TOKEN, SECRET)
    with pytest.raises(SealError, match="cannot be opened"):
        open_secret(derive_key(b"rotated"), "acme", TWILIO_AUTH_TOKEN, sealed)


@pytest.mark.parametrize("where", [0, 5, 12, -1])
def test_a_tampered_value_does_not_open(where: int) -> None:
    sealed = seal_secret(KEY, "acme", TWILIO_AUTH_TOKEN, SECRET)
    raw = bytearray(base64.urlsafe_b64decode(sealed[len(PREFIX) :]))
    raw[where] ^= 0x01
    with pytest.raises(SealError):
        open_secret(KEY, "acme", TWILIO_AUTH_TOKEN, PREFIX + base64.urlsafe_b64encode(bytes(raw)).decode())


@pytest.mark.parametrize("stored", [PREFIX, PREFIX + "!!!not base64", PREFIX + "AAAA", PREFIX + "\u00e9"])
def test_a_malformed_sealed_value_is_a_seal_error(stored: str) -> None:
    with pytest.raises(SealError):
        open_secret(KEY, "acme", TWILIO_AUTH_TOKEN, stored)


def test_a_legacy_plain_value_passes_through() -> None:
    assert open_secret(KEY, "acme", TWILIO_AUTH_TOKEN, "plain-token") == "plain-token"
    assert Sealer(b"k").open("acme", TWILIO_AUTH_TOKEN, "plain-token") == "plain-token"


def test_sealer_caches_what_it_opened_and_what_failed() -> None:
    sealer = Sealer(b"the gateway secret key", cache_max=2)
    sealed = sealer.seal("acme", TWILIO_AUTH_TOKEN, SECRET)
    assert open_secret(KEY, "acme", TWILIO_AUTH_TOKEN, sealed) == SECRET  # same derivation
    assert sealer.open("acme", TWILIO_AUTH_TOKEN, sealed) == SECRET
    sealer._aead = None  # type: ignore[assignment]  # a second open must not decrypt again
    assert sealer.open("acme", TWILIO_AUTH_TOKEN, sealed) == SECRET
    other = Sealer(b"another key")
    for _ in range(2):  # the failure is cached too, and raised afresh each time
        with pytest.raises(SealError, match="acme"):
            other.open("acme", TWILIO_AUTH_TOKEN, sealed)
    assert len(other._cache) == 1


def test_sealer_cache_is_bounded() -> None:
    sealer = Sealer(b"k", cache_max=3)
    values = [sealer.seal("acme", "f", str(i)) for i in range(10)]
    assert [sealer.open("acme", "f", v) for v in values] == [str(i) for i in range(10)]
    assert len(sealer._cache) <= 3


# -- key rotation: opened under the current key, else the previous ones; sealed under the current --
def test_a_value_sealed_under_a_previous_key_opens_and_new_ones_use_the_current_key() -> None:
    old = seal_secret(derive_key(b"old key"), "acme", TWILIO_AUTH_TOKEN, SECRET)
    older = seal_secret(derive_key(b"older key"), "acme", TWILIO_AUTH_TOKEN, "older-" + SECRET)
    sealer = Sealer(b"new key", previous=(b"old key", b"older key"))
    assert sealer.open("acme", TWILIO_AUTH_TOKEN, old) == SECRET
    assert sealer.open("acme", TWILIO_AUTH_TOKEN, older) == "older-" + SECRET
    fresh = sealer.seal("acme", TWILIO_AUTH_TOKEN, SECRET)
    assert open_secret(derive_key(b"new key"), "acme", TWILIO_AUTH_TOKEN, fresh) == SECRET
    with pytest.raises(SealError):
        open_secret(derive_key(b"old key"), "acme", TWILIO_AUTH_TOKEN, fresh)
    with pytest.raises(SealError):  # without the previous key it does not open
        Sealer(b"new key").open("acme", TWILIO_AUTH_TOKEN, old)


def test_a_value_of_no_known_key_still_fails_naming_only_org_and_field() -> None:
    stranger = seal_secret(derive_key(b"a key nobody has"), "acme", TWILIO_AUTH_TOKEN, SECRET)
    sealer = Sealer(b"new key", previous=(b"old key",))
    with pytest.raises(SealError) as info:
        sealer.open("acme", TWILIO_AUTH_TOKEN, stranger)
    assert "'acme'" in str(info.value) and TWILIO_AUTH_TOKEN in str(info.value) and SECRET not in str(info.value)
    old = seal_secret(derive_key(b"old key"), "acme", TWILIO_AUTH_TOKEN, SECRET)
    with pytest.raises(SealError):  # the previous key is bound to org and field like the current one
        sealer.open("other-org", TWILIO_AUTH_TOKEN, old)


def test_reseal_moves_a_value_to_the_current_key_once() -> None:
    sealer = Sealer(b"new key", previous=(b"old key",))
    old = seal_secret(derive_key(b"old key"), "acme", mailbox_password("m1"), SECRET)
    moved = sealer.reseal("acme", mailbox_password("m1"), old)
    assert moved is not None and moved != old
    assert open_secret(derive_key(b"new key"), "acme", mailbox_password("m1"), moved) == SECRET
    assert sealer.reseal("acme", mailbox_password("m1"), moved) is None  # already under the current key
    plain = sealer.reseal("acme", mailbox_password("m1"), "legacy-plain")  # a legacy plain value is sealed
    assert plain is not None and Sealer(b"new key").open("acme", mailbox_password("m1"), plain) == "legacy-plain"
    stranger = seal_secret(derive_key(b"a key nobody has"), "acme", mailbox_password("m1"), SECRET)
    with pytest.raises(SealError):
        sealer.reseal("acme", mailbox_password("m1"), stranger)
