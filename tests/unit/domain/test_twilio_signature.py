"""SignedUrls.check accepts exactly what twilio's own RequestValidator.validate accepts."""

from __future__ import annotations

import itertools
from urllib.parse import urlparse

import pytest
from twilio.request_validator import RequestValidator, add_port, remove_port

from gateway.domain.twilio_signature import SignedUrls, signature_of

TOKEN = "12345678901234567890123456789012"
PARAMS = [
    {},
    {"MessageSid": "SM" + "0" * 32, "From": "+819012345678", "Body": "hello"},
    {"Body": "こんにちは、見積もりの件です 😀", "From": "+81 90", "Zeta": "", "alpha": "ä&=+%"},
    {"b": "2", "B": "1", "a b": "c\u00e9"},
]
BASES = [
    "http://127.0.0.1:8000",
    "http://127.0.0.1:8000/",
    "https://gw.example.com",
    "https://gw.example.com:443",
    "https://gw.example.com:8443/signalgate",
    "http://gw.example.com",
    "http://gw.example.com:80",
    "HTTP://Gw.Example.com:8080",  # not its own urlparse round trip: the general path
]
TARGETS = [
    ("/webhooks/twilio/acme/sms", ""),
    ("/webhooks/twilio/acme/sms-status", "n=notif-01"),
    ("/webhooks/twilio/acme/sms-status", "n=%E3%81%93&x=1+2&y"),
    ("/webhooks/twilio/acme/voice", "a=1;b=2"),
    ("/webhooks/twilio/acme;x/voice", "q=?#"),  # characters urlparse does not round-trip
]


def validator_accepts(url: str, params: dict[str, str], signature: str) -> bool:
    return bool(RequestValidator(TOKEN).validate(url, params, signature))


def signer_forms(url: str) -> list[str]:
    """URLs a signer may have used for ``url``: as is, with and without the port, and wrong ones."""
    parsed = urlparse(url)
    return [url, add_port(parsed), remove_port(parsed), url + "x", url.replace("/webhooks", "/hooks")]


@pytest.mark.parametrize("base", BASES)
def test_same_verdict_as_the_validator(base: str) -> None:
    urls = SignedUrls(base)
    key = TOKEN.encode()
    for (path, query), params in itertools.product(TARGETS, PARAMS):
        url = urls.url(path, query)
        for signed in signer_forms(url):
            for token in (TOKEN, "0" * 32):
                signature = RequestValidator(token).compute_signature(signed, params)
                ours = urls.check(key, path, query, params, signature.encode())
                assert ours == validator_accepts(url, params, signature), (base, path, query, signed, token)
        # A tampered parameter is refused by both.
        good = RequestValidator(TOKEN).compute_signature(url, params)
        tampered = dict(params, Body="tampered")
        assert not urls.check(key, path, query, tampered, good.encode())
        assert not validator_accepts(url, tampered, good)


def test_url_is_public_url_plus_path_and_query() -> None:
    urls = SignedUrls("https://gw.example.com:8443/")
    assert urls.url("/webhooks/twilio/acme/sms", "") == "https://gw.example.com:8443/webhooks/twilio/acme/sms"
    assert urls.url("/x", "n=1") == "https://gw.example.com:8443/x?n=1"


@pytest.mark.parametrize("params", PARAMS)
def test_signature_of_is_the_validators(params: dict[str, str]) -> None:
    url = "https://gw.example.com/webhooks/twilio/acme/sms?n=1"
    expected = RequestValidator(TOKEN).compute_signature(url, params)
    assert signature_of(TOKEN.encode(), url, params) == expected.encode()


def test_genuine_callbacks_cost_one_hmac(monkeypatch: pytest.MonkeyPatch) -> None:
    """A callback signed over our public URL is checked with one HMAC (the validator computes two)."""
    import gateway.domain.twilio_signature as mod

    calls: list[str] = []
    real = mod.signature_of

    def counting(key: bytes, url: str, params: dict[str, str]) -> bytes:
        calls.append(url)
        return real(key, url, params)

    monkeypatch.setattr(mod, "signature_of", counting)
    urls = SignedUrls("https://gw.example.com")
    params = PARAMS[2]
    url = urls.url("/webhooks/twilio/acme/sms-status", "n=1")
    signature = RequestValidator(TOKEN).compute_signature(url, params).encode()
    assert urls.check(TOKEN.encode(), "/webhooks/twilio/acme/sms-status", "n=1", params, signature)
    assert calls == [url]
