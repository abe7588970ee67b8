"""``gateway.bench.httpload``: HTTP/1.1 responses parsed by the load generator."""

from __future__ import annotations

import pytest

from gateway.bench.httpload import ResponseError, parse_response


def test_http_responses_parse_by_length_and_chunks() -> None:
    """Content-Length, chunked and bodiless answers; incomplete ones wait for more bytes."""
    plain = bytearray(b"HTTP/1.1 202 Accepted\r\ncontent-length: 5\r\n\r\nhello" + b"HTTP/1.1 204")
    assert parse_response(plain) == (202, b"hello", len(plain) - 12, False)
    assert parse_response(bytearray(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhel")) is None
    chunked = bytearray(
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
    )
    assert parse_response(chunked) == (200, b"abc", len(chunked), True)
    assert parse_response(bytearray(b"HTTP/1.1 204 No Content\r\n\r\n")) == (204, b"", 27, False)
    with pytest.raises(ResponseError):
        parse_response(bytearray(b"SSH-2.0-x\r\n\r\n"))
