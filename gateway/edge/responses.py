"""Whole HTTP/1.1 answers as bytes, for the protocol layer that writes them before (or instead of)
running the app: the body is the usual ``{"error", "detail"}`` JSON and the connection closes."""

from __future__ import annotations

import http

import orjson


def raw_error(status: int, error: str, detail: str, *, retry_after: int | None = None) -> bytes:
    """``status`` with a JSON error body and ``connection: close``."""
    body = orjson.dumps({"error": error, "detail": detail})
    head = [
        f"HTTP/1.1 {status} {http.HTTPStatus(status).phrase}",
        "content-type: application/json",
        f"content-length: {len(body)}",
        "x-content-type-options: nosniff",
        "connection: close",
    ]
    if retry_after is not None:
        head.append(f"retry-after: {retry_after}")
    return ("\r\n".join(head) + "\r\n\r\n").encode("ascii") + body


OVERLOADED = raw_error(503, "overloaded", "too many open connections; retry shortly", retry_after=1)
HEADER_TIMEOUT = raw_error(408, "header_timeout", "the request headers did not arrive in time")
