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
