"""Unit tests for gateway.domain.signed_token: the `<payload>.<mac>` tokens of every URL kind."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from gateway.domain import signed_token

KEY = b"k" * 32


class Refused(ValueError):
    pass


def unseal(token: str, domain: bytes = b"d:", key: bytes = KEY) -> object:
    return signed_token.unseal(key, domain, token, max_length=256, error=Refused)


def test_a_sealed_body_comes_back() -> None:
    token = signed_token.seal(KEY, b"d:", {"o": "acme", "n": 1, "u": "https://x.example/ü"})
    assert unseal(token) == {"o": "acme", "n": 1, "u": "https://x.example/ü"}
    assert "=" not in token and token.count(".") == 1


@pytest.mark.parametrize(
    ("domain", "key"), [(b"other:", KEY), (b"", KEY), (b"d:", b"j" * 32)], ids=["domain", "no-domain", "key"]
)
def test_another_domain_or_key_is_a_bad_signature(domain: bytes, key: bytes) -> None:
    token = signed_token.seal(KEY, b"d:", {"o": "acme"})
    with pytest.raises(Refused, match="bad signature"):
        unseal(token, domain, key)


def test_malformed_and_altered_tokens_are_refused() -> None:
    token = signed_token.seal(KEY, b"d:", {"o": "acme"})
    payload, mac = token.split(".")
    for bad, why in [
        ("", "malformed token"),
        (f"{token}.x", "malformed token"),
        (token + "A" * 256, "malformed token"),
        (f"{payload}.{mac[:-1]}", "bad signature"),
        (f"{payload[:-1]}.{mac}", "bad signature"),
    ]:
        with pytest.raises(Refused, match=why):
            unseal(bad)


def test_a_validly_signed_payload_that_is_not_json_is_undecodable() -> None:
    payload = signed_token.b64(b"not json")
    mac = signed_token.b64(hmac.digest(KEY, b"d:" + payload.encode(), hashlib.sha256)[: signed_token.MAC_BYTES])
    with pytest.raises(Refused, match="undecodable payload"):
        unseal(f"{payload}.{mac}")


# -- key rotation: verified under the current key, then the previous ones -----------------------
OLD, OLDER, UNKNOWN = b"o" * 32, b"p" * 32, b"u" * 32


@pytest.mark.parametrize("signer", [KEY, OLD, OLDER], ids=["current", "previous", "older"])
def test_a_token_of_the_current_or_a_previous_key_verifies(signer: bytes) -> None:
    token = signed_token.seal(signer, b"d:", {"o": "acme"})
    assert signed_token.unseal((KEY, OLD, OLDER), b"d:", token, max_length=256, error=Refused) == {"o": "acme"}


def test_a_token_of_a_key_not_in_the_ring_is_refused_and_previous_keys_keep_their_domain() -> None:
    with pytest.raises(Refused, match="bad signature"):
        unseal(signed_token.seal(UNKNOWN, b"d:", {"o": "acme"}), key=KEY)
    for keys in ((KEY, OLD), (KEY, OLD, OLDER)):
        with pytest.raises(Refused, match="bad signature"):
            signed_token.unseal(keys, b"d:", signed_token.seal(UNKNOWN, b"d:", {}), max_length=256, error=Refused)
        with pytest.raises(Refused, match="bad signature"):  # an old key's token of another kind
            signed_token.unseal(keys, b"d:", signed_token.seal(OLD, b"x:", {}), max_length=256, error=Refused)
    with pytest.raises(Refused, match="bad signature"):  # no key at all verifies nothing
        signed_token.unseal((), b"d:", signed_token.seal(KEY, b"d:", {}), max_length=256, error=Refused)
