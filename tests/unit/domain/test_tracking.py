"""Unit tests for gateway.domain.tracking: signed ``<payload>.<mac>`` tokens for opens and clicks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

import pytest

from gateway.domain.tracking import MAX_TOKEN_LENGTH, BadToken, TrackingClaim, sign, verify

KEY = b"unit-test-secret-key"
OTHER_KEY = b"another-secret-key"
URL_SAFE = re.compile(r"^[A-Za-z0-9_.-]+$")
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

CLAIMS = [
    TrackingClaim(org="acme", notification="n-1", contact="c-1"),
    TrackingClaim(org="acme", notification="n-1", contact=None),
    TrackingClaim(org="acme", notification="n-1", contact="c-1", url="https://example.com/a?b=1&c=2#frag"),
    TrackingClaim(org="acme", notification="n-1", contact=None, url="https://example.com/"),
    TrackingClaim(org="acme", notification="n-1", contact="佐藤", url="https://例え.jp/製品/価格?色=赤"),
    TrackingClaim(org="acme", notification="n-1", contact="c-1", url="https://example.com/" + "x" * 2000),
    TrackingClaim(org="", notification="", contact="", url=""),
]


def _forge(secret: bytes, payload: str) -> str:
    """A token with ``payload`` and a correct mac, computed as the module documents it."""
    mac = hmac.new(secret, payload.encode(), hashlib.sha256).digest()[:16]
    return f"{payload}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.mark.parametrize("claim", CLAIMS, ids=range(len(CLAIMS)))
def test_round_trip(claim: TrackingClaim) -> None:
    """verify(sign(claim)) returns the same claim, with or without contact and url."""
    assert verify(KEY, sign(KEY, claim)) == claim


@pytest.mark.parametrize("claim", CLAIMS, ids=range(len(CLAIMS)))
def test_tokens_are_url_safe(claim: TrackingClaim) -> None:
    """Tokens use only URL-safe characters and exactly one dot."""
    token = sign(KEY, claim)
    assert URL_SAFE.match(token)
    assert token.count(".") == 1


def test_mac_matches_documented_format() -> None:
    """The mac is the first 16 bytes of HMAC-SHA256 over the payload, URL-safe base64 unpadded."""
    token = sign(KEY, CLAIMS[2])
    payload, _ = token.split(".")
    assert token == _forge(KEY, payload)


def test_signing_is_deterministic() -> None:
    """The same claim under the same key always yields the same token."""
    assert sign(KEY, CLAIMS[0]) == sign(KEY, CLAIMS[0])


def test_different_claims_give_different_tokens() -> None:
    """Tokens for different notifications differ."""
    a = TrackingClaim(org="acme", notification="n-1", contact="c-1")
    b = TrackingClaim(org="acme", notification="n-2", contact="c-1")
    assert sign(KEY, a) != sign(KEY, b)


@pytest.mark.parametrize("claim", [CLAIMS[0], CLAIMS[4]], ids=["ascii", "japanese"])
def test_any_flipped_character_is_refused(claim: TrackingClaim) -> None:
    """Changing any single character of payload or mac makes the token invalid."""
    token = sign(KEY, claim)
    for i, ch in enumerate(token):
        replacement = "A" if ch != "A" else "B"
        altered = token[:i] + replacement + token[i + 1 :]
        with pytest.raises(BadToken):
            verify(KEY, altered)


def test_token_from_another_key_is_refused() -> None:
    """A token signed with a different secret is refused."""
    with pytest.raises(BadToken):
        verify(KEY, sign(OTHER_KEY, CLAIMS[0]))


def test_swapped_payload_is_refused() -> None:
    """Another token's payload with this token's mac is refused."""
    mine = sign(KEY, TrackingClaim(org="acme", notification="n-1", contact="c-1"))
    theirs = sign(KEY, TrackingClaim(org="evil", notification="n-9", contact="c-9", url="https://evil.example/"))
    forged = f"{theirs.split('.')[0]}.{mine.split('.')[1]}"
    with pytest.raises(BadToken):
        verify(KEY, forged)


def test_truncated_mac_is_refused() -> None:
    """A token whose mac lost characters is refused."""
    token = sign(KEY, CLAIMS[0])
    with pytest.raises(BadToken):
        verify(KEY, token[:-1])


@pytest.mark.parametrize(
    "token",
    [
        "",
        ".",
        "nodot",
        "a.b.c",
        "..",
        "!!!.???",
        "eyJvIjoiYSJ9.%%%%",
        "日本語.トークン",
        "A" * (MAX_TOKEN_LENGTH + 1),
        "A" * MAX_TOKEN_LENGTH + ".A",
    ],
    ids=["empty", "dot", "nodot", "two-dots", "only-dots", "punct", "bad-mac", "japanese", "long", "long-dotted"],
)
def test_garbage_is_refused(token: str) -> None:
    """Empty, dot-less, multi-dot, non-base64 and over-long inputs raise BadToken."""
    with pytest.raises(BadToken):
        verify(KEY, token)


def test_over_long_token_is_refused_even_if_correctly_signed() -> None:
    """A correctly signed token longer than MAX_TOKEN_LENGTH is refused unread."""
    token = sign(KEY, TrackingClaim(org="acme", notification="n", contact=None, url="https://e.jp/" + "x" * 4000))
    assert len(token) > MAX_TOKEN_LENGTH
    with pytest.raises(BadToken):
        verify(KEY, token)


@pytest.mark.parametrize(
    "payload",
    [
        "!!!!",
        _b64(b"not json"),
        _b64(b"[1, 2]"),
        _b64(b'"just a string"'),
        _b64(b'{"n": "n-1"}'),
        _b64(b'{"o": "acme"}'),
        _b64(b'{"o": 1, "n": "n-1"}'),
        _b64(b'{"o": "acme", "n": null}'),
        _b64(b"\xff\xfe"),
        "",
    ],
    ids=[
        "non-b64",
        "not-json",
        "list",
        "string",
        "no-org",
        "no-notification",
        "int-org",
        "null-n",
        "bad-utf8",
        "empty",
    ],
)
def test_correctly_signed_but_malformed_payload_is_refused(payload: str) -> None:
    """A payload with a valid mac that does not decode to {o: str, n: str, ...} raises BadToken."""
    with pytest.raises(BadToken):
        verify(KEY, _forge(KEY, payload))


def test_bad_token_is_a_value_error() -> None:
    """BadToken subclasses ValueError so generic handlers catch it."""
    assert issubclass(BadToken, ValueError)
