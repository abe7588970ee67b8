"""The ``twilio`` library's aiohttp client, pointed at ``[twilio] api_base``.

Used by both sides that talk to Twilio: the SMS worker (``workers/providers/twilio_sms.py``) and
the gateway's numbers/calls client (``gateway/twilio_rest.py``). The library's documented
extension point is a custom HTTP client; :class:`RewritingHttpClient` sends every
``https://*.twilio.com`` request to ``api_base`` instead (tests and staging talk to a local
Twilio API, production to ``https://api.twilio.com``) and gives every request a timeout.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response


def rewrite_url(url: str, api_base: str) -> str:
    """Send a ``https://*.twilio.com`` URL to ``api_base`` instead, keeping path and query."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme != "https" or not (host == "twilio.com" or host.endswith(".twilio.com")):
        return url
    base = urlsplit(api_base)
    return urlunsplit((base.scheme, base.netloc, base.path.rstrip("/") + parts.path, parts.query, parts.fragment))


class RewritingHttpClient(AsyncTwilioHttpClient):  # type: ignore[misc]  # twilio ships no type hints
    """Twilio's aiohttp client, sending every request to ``api_base`` with a default timeout.

    Construct it inside a running event loop (it opens an aiohttp session) and ``close()`` it.
    """

    def __init__(self, api_base: str, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self.api_base = api_base
        self._client_timeout = aiohttp.ClientTimeout(total=timeout)

    def log_request(self, kwargs: dict[str, Any]) -> None:
        # The library formats every line of its request log before asking whether INFO is on.
        if self.logger.isEnabledFor(logging.INFO):
            super().log_request(kwargs)

    def log_response(self, status_code: int, response: Any) -> None:
        if self.logger.isEnabledFor(logging.INFO):
            super().log_response(status_code, response)

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109  # the library's signature; passed on to aiohttp
        allow_redirects: bool = False,
    ) -> Response:
        # The library passes timeout=None on every call, which aiohttp reads as "no timeout at
        # all": fall back to ours so a silent Twilio edge cannot hold a caller forever.
        return await super().request(
            method,
            rewrite_url(url, self.api_base),
            params=params,
            data=data,
            headers=headers,
            auth=auth,
            timeout=timeout if timeout is not None else self.timeout,
            allow_redirects=allow_redirects,
        )

    async def post_form(self, url: str, form: str, headers: dict[str, str]) -> Response:
        """POST an already encoded form to an already rewritten ``url`` on the shared session."""
        if self.logger.isEnabledFor(logging.INFO):
            self.log_request({"method": "POST", "url": url, "params": None, "data": form, "headers": headers})
        async with self.session.post(
            url, data=form.encode(), headers=headers, timeout=self._client_timeout, allow_redirects=False
        ) as response:
            text = await response.text()
        self.log_response(response.status, response)
        return Response(response.status, text, response.headers)


def int_or_none(value: object) -> int | None:
    """One of the library's loosely typed integers (error code, segment count), or None."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    try:
        return int(value)
    except ValueError:
        return None
