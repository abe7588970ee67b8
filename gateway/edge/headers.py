"""Security headers on every HTTP response (pure ASGI, so contextvars and streaming are untouched).

The page (``/`` and its files under ``/web/``) gets a strict Content-Security-Policy: scripts,
styles and connections only from our own origin (CSP Level 3 ``'self'`` also matches ``ws:``/``wss:``
of the same host, which is what ``/ws`` needs), images also from ``data:`` (the favicon), no
inline script or style, no plugins, no framing, no ``<base>``. Every other response (JSON API,
webhooks, tracking) is not meant to be rendered: ``default-src 'none'``. All responses carry
``X-Frame-Options: DENY``, ``X-Content-Type-Options: nosniff`` and ``Referrer-Policy: no-referrer``.
A header the endpoint set itself is kept.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; manifest-src 'self'; form-action 'self'; "
    "base-uri 'none'; object-src 'none'; frame-ancestors 'none'"
)
API_CSP = "default-src 'none'; frame-ancestors 'none'"

_COMMON: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
)


def is_page(path: str) -> bool:
    return path == "/" or path.startswith("/web/")


def security_headers(path: str) -> list[tuple[bytes, bytes]]:
    """The headers a response to ``path`` gets."""
    csp = PAGE_CSP if is_page(path) else API_CSP
    return [*_COMMON, (b"content-security-policy", csp.encode("ascii"))]


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = security_headers(scope["path"])

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend((name, value) for name, value in extra if name not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
