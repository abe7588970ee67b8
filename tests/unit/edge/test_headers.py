"""Unit tests for gateway.edge.headers and gateway.edge.access_log: which path gets which headers,
and what of a path may be logged."""

from __future__ import annotations

import pytest

from gateway.edge.access_log import loggable_path
from gateway.edge.headers import API_CSP, PAGE_CSP, security_headers


@pytest.mark.parametrize(
    ("path", "csp"),
    [
        ("/", PAGE_CSP),
        ("/web/app.js", PAGE_CSP),
        ("/web/style.css", PAGE_CSP),
        ("/healthz", API_CSP),
        ("/api/v1/me", API_CSP),
        ("/webx", API_CSP),
        ("/t/o/abc", API_CSP),
    ],
)
def test_page_paths_get_the_page_policy_and_everything_else_none(path: str, csp: str) -> None:
    """The page and its files get the page CSP; other responses default-src 'none'; all the rest alike."""
    headers = dict(security_headers(path))
    assert headers[b"content-security-policy"] == csp.encode()
    assert headers[b"x-content-type-options"] == b"nosniff"
    assert headers[b"referrer-policy"] == b"no-referrer"
    assert headers[b"x-frame-options"] == b"DENY"


def test_page_policy_allows_no_inline_script_or_style() -> None:
    """No 'unsafe-*' source anywhere, scripts and styles only from our origin."""
    directives = dict(d.strip().split(" ", 1) for d in PAGE_CSP.split(";"))
    assert "unsafe" not in PAGE_CSP
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'" and directives["base-uri"] == "'none'"


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        ("/api/v1/me/signals", "/api/v1/me/signals"),
        ("/t/o/eyJvcmci.sig", "/t/o/…"),
        ("/t/c/eyJvcmci.sig", "/t/c/…"),
        ("/t/x/abc", "/t/x/abc"),
        ("/webhooks/twilio/acme/sms", "/webhooks/twilio/acme/sms"),
    ],
)
def test_tracking_tokens_are_cut_from_logged_paths(path: str, logged: str) -> None:
    """A tracking link's token is a credential: only its prefix is logged."""
    assert loggable_path(path) == logged
