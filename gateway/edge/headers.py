"""Security headers on every HTTP response (pure ASGI, so contextvars and streaming are untouched).

The page (``/`` and its files under ``/web/``) gets a strict Content-Security-Policy: scripts,
styles and connections only from our own origin (CSP Level 3 ``'self'`` also matches ``ws:``/``wss:``
of the same host, which is what ``/ws`` needs), images also from ``data:`` (the favicon), no
inline script or style, no plugins, no framing, no ``<base>``. Every other response (JSON API,
webhooks, tracking) is not meant to be rendered: ``default-src 'none'``. All responses carry
``X-Frame-Options: DENY``, ``X-Content-Type-Options: nosniff`` and ``Referrer-Policy: no-referrer``.
A header the endpoint set itself is kept.

The header lists are built once; an endpoint on a hot path may put :data:`API_HEADERS` into its
own constant response headers, and then nothing is added or copied here.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; manifest-src 'self'; form-action 'self'; "
    "base-uri 'none'; object-src 'none'; frame-ancestors 'none'"
)
API_CSP = "default-src 'none'; frame-ancestors 'none'"

Headers = tuple[tuple[bytes, bytes], ...]

_COMMON: Headers = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
)
PAGE_HEADERS: Headers = (*_COMMON, (b"content-security-policy", PAGE_CSP.encode("ascii")))
API_HEADERS: Headers = (*_COMMON, (b"content-security-policy", API_CSP.encode("ascii")))


def is_page(path: str) -> bool:
    return path == "/" or path.startswith("/web/")


def security_headers(path: str) -> list[tuple[bytes, bytes]]:
    """The headers a response to ``path`` gets."""
    return list(PAGE_HEADERS if is_page(path) else API_HEADERS)


def _secured(message: Message, extra: Headers) -> Message:
    """``message`` (a response start) with every header of ``extra`` it does not set itself."""
    headers = list(message.get("headers", ()))
    present = {name.lower() for name, _ in headers}
    missing = [header for header in extra if header[0] not in present]
    if not missing:
        return message
    return {**message, "headers": headers + missing}


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.app(scope, receive, self.sender(scope["path"], send))

    @staticmethod
    def sender(path: str, send: Send) -> Send:
        """``send`` adding the security headers of ``path`` to the response start."""
        extra = PAGE_HEADERS if is_page(path) else API_HEADERS

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = _secured(message, extra)
            await send(message)

        return send_with_headers
