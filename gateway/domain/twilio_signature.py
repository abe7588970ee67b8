"""The Twilio request signature (``X-Twilio-Signature``), checked with one HMAC. Pure.

Twilio signs ``url + name1 + value1 + name2 + value2 ...`` (parameters sorted by name) with
HMAC-SHA1 under the account's auth token, base64. twilio's ``RequestValidator.validate`` always
computes two HMACs: over the URL with its port and without it (Twilio's back end is not
consistent about the default port). A genuine callback matches the URL we are configured with,
``[gateway] public_url`` + path + query, so that one is computed first; only when it does not
match is the other form computed, so the set of accepted requests is exactly the validator's
(``tests/unit/domain/test_twilio_signature.py`` checks both against twilio's own code).
"""

from __future__ import annotations

import base64
import hmac
from collections.abc import Mapping
from urllib.parse import ParseResult, urlparse

# What makes ``urlparse(url).geturl() != url`` for a path or query we append: then the check
# builds both URL forms exactly the way twilio's validator does.
_NOT_ROUND_TRIP = frozenset("#;?\t\r\n")


def _with_port(uri: ParseResult) -> str:
    """twilio.request_validator.add_port."""
    if uri.port:
        return uri.geturl()
    port = 443 if uri.scheme == "https" else 80
    return uri._replace(netloc=uri.netloc + ":" + str(port)).geturl()


def _without_port(uri: ParseResult) -> str:
    """twilio.request_validator.remove_port."""
    if not uri.port:
        return uri.geturl()
    return uri._replace(netloc=uri.netloc.split(":")[0]).geturl()


def signature_of(key: bytes, url: str, params: Mapping[str, str]) -> bytes:
    """The base64 HMAC-SHA1 Twilio sends for ``url`` and ``params`` (one value per name)."""
    data = url + "".join([name + params[name] for name in sorted(params)])
    return base64.b64encode(hmac.digest(key, data.encode("utf-8"), "sha1"))


class SignedUrls:
    """The URLs a callback to ``public_url`` + path may be signed over: ours first, then the other
    port form. Built once per process; ``public_url`` is the configured base (no trailing ``/``)."""

    def __init__(self, public_url: str) -> None:
        self.base = public_url.rstrip("/")
        parsed = urlparse(self.base)
        # When the base survives urlparse unchanged, both forms of base + path are the base's
        # forms + path, for any path/query free of _NOT_ROUND_TRIP characters.
        self._plain = parsed.geturl() == self.base and not (parsed.params or parsed.query or parsed.fragment)
        self._other = _without_port(parsed) if parsed.port else _with_port(parsed)

    def url(self, path: str, query: str) -> str:
        """The exact URL Twilio signed: our public base + path + query string."""
        return f"{self.base}{path}?{query}" if query else self.base + path

    def check(self, key: bytes, path: str, query: str, params: Mapping[str, str], signature: bytes) -> bool:
        """True when ``signature`` is what twilio's ``RequestValidator(token).validate`` accepts
        for ``url(path, query)`` and ``params`` (``key`` is the token, UTF-8)."""
        url = self.url(path, query)
        if self._plain and _NOT_ROUND_TRIP.isdisjoint(path) and _NOT_ROUND_TRIP.isdisjoint(query):
            if hmac.compare_digest(signature_of(key, url, params), signature):
                return True
            other = self._other + url[len(self.base) :]
            return hmac.compare_digest(signature_of(key, other, params), signature)
        parsed = urlparse(url)  # anything unusual: exactly the validator's two forms
        return any(
            hmac.compare_digest(signature_of(key, form, params), signature)
            for form in (_without_port(parsed), _with_port(parsed))
        )
