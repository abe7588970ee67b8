"""Unit tests for gateway.supervision.listener.request_target: the one line the health listener parses."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from prometheus_client import CollectorRegistry

from gateway.devtools.net import free_port
from gateway.supervision.health import Health
from gateway.supervision.listener import HealthListener, header_value, request_target


def test_request_target() -> None:
    """Method and path, query dropped."""
    assert request_target(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n") == ("GET", "/healthz")
    assert request_target(b"HEAD /metrics?x=1 HTTP/1.0\r\n\r\n") == ("HEAD", "/metrics")


@pytest.mark.parametrize("head", [b"GET /healthz\r\n\r\n", b"\x16\x03\x01 tls", b"GET / SPDY/3\r\n\r\n", b""])
def test_not_a_request(head: bytes) -> None:
    """Anything else is a ValueError (answered 400)."""
    with pytest.raises(ValueError, match=r".+"):
        request_target(head)


async def _get(port: int, path: str, authorization: str | None = None) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    auth = f"Authorization: {authorization}\r\n" if authorization else ""
    writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\n{auth}\r\n".encode())
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    return answer


async def test_metrics_token_protects_the_listener_too() -> None:
    """With [gateway] metrics_token, the router/worker/imap listener's /metrics needs it as well."""
    port = free_port()
    registry = CollectorRegistry()
    token = "m" * 24

    async def ping() -> bool:
        return True

    listener = HealthListener("127.0.0.1", port, Health(), ping, registry, metrics_token=token)
    stop = asyncio.Event()
    serving = asyncio.create_task(listener.run(stop))
    try:
        for _ in range(100):  # until it listens
            with contextlib.suppress(OSError):
                await _get(port, "/healthz")
                break
            await asyncio.sleep(0.02)
        assert (await _get(port, "/metrics")).startswith(b"HTTP/1.1 401 ")
        assert (await _get(port, "/metrics", "Bearer wrong")).startswith(b"HTTP/1.1 401 ")
        assert (await _get(port, "/metrics", f"Bearer {token}")).startswith(b"HTTP/1.1 200 ")
        assert (await _get(port, "/healthz")).startswith(b"HTTP/1.1 200 ")
    finally:
        stop.set()
        await serving


def test_header_value() -> None:
    head = b"GET /metrics HTTP/1.1\r\nHost: x\r\nAUTHORIZATION:  Bearer abc \r\n\r\n"
    assert header_value(head, "authorization") == "Bearer abc"
    assert header_value(head, "cookie") is None
