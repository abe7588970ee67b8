"""The little the raw ASGI ingest endpoints need: header lookup, the body, the URL, a response.

The hot ingest paths (Twilio callbacks, the open pixel) are plain ASGI apps behind starlette's
``Route``: routing, path parameters, 405 with ``Allow``, the exception handlers (an
:class:`~gateway.domain.errors.ApiError` raised here renders as ``{"error","detail"}``), the
security headers and the access log all stay as they are; only the per-request ``Request`` and
``Response`` objects and starlette's endpoint wrapper are skipped. Responses carry exactly the
headers starlette's ``Response`` would send.
"""

from __future__ import annotations

from starlette.datastructures import URL
from starlette.requests import ClientDisconnect
from starlette.types import Receive, Scope, Send

from gateway.edge.headers import API_HEADERS
from gateway.services import Services

Headers = tuple[tuple[bytes, bytes], ...]


def services_of(scope: Scope) -> Services:
    svc: Services = scope["state"]["services"]
    return svc


def header(scope: Scope, name: bytes) -> bytes | None:
    """The first value of header ``name`` (lower case), like starlette's ``headers.get``."""
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


def path_and_query(scope: Scope) -> tuple[str, str]:
    """``request.url.path`` and ``request.url.query``, without building the URL when they are plain."""
    path: str = scope["path"]
    query = scope.get("query_string", b"").decode()
    if "?" in path or "#" in path or "\\" in path or "#" in query or "\t" in query or "\r" in query or "\n" in query:
        url = URL(scope=scope)
        return url.path, url.query
    return path, query


async def body(receive: Receive) -> bytes:
    """The whole request body (``request.body()``)."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.request":
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        elif message["type"] == "http.disconnect":
            raise ClientDisconnect
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def response_headers(body: bytes | None, media_type: str | None, extra: dict[str, str] | None = None) -> Headers:
    """The headers starlette's ``Response(body, media_type=..., headers=extra)`` sends (``body``
    None: a 204, no length), followed by the security headers the app's edge gives every API
    response (:data:`gateway.edge.headers.API_HEADERS`): built once, the edge adds nothing."""
    headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (extra or {}).items()]
    if body is not None:
        headers.append((b"content-length", str(len(body)).encode("latin-1")))
    if media_type is not None:
        headers.append((b"content-type", media_type.encode("latin-1")))
    return (*headers, *API_HEADERS)


async def respond(send: Send, status: int, headers: Headers, content: bytes = b"") -> None:
    """``Response.__call__``. ``headers`` is a shared constant, a tuple: no layer may change it in place
    (uvicorn copies what it sends; the security-header layer builds a new list when it adds one)."""
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": content})
