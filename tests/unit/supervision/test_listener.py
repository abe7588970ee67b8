"""Unit tests for gateway.supervision.listener.request_target: the one line the health listener parses."""

from __future__ import annotations

import pytest

from gateway.supervision.listener import request_target


def test_request_target() -> None:
    """Method and path, query dropped."""
    assert request_target(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n") == ("GET", "/healthz")
    assert request_target(b"HEAD /metrics?x=1 HTTP/1.0\r\n\r\n") == ("HEAD", "/metrics")


@pytest.mark.parametrize("head", [b"GET /healthz\r\n\r\n", b"\x16\x03\x01 tls", b"GET / SPDY/3\r\n\r\n", b""])
def test_not_a_request(head: bytes) -> None:
    """Anything else is a ValueError (answered 400)."""
    with pytest.raises(ValueError, match=r".+"):
        request_target(head)
