"""Refused webhooks are logged at info, so an operator can see why a provider's callbacks fail.

One line per refusal: the source, the org named in the path, the path (never its query string,
and never a tracking token), the status and the reason we answered. Never the signature, the
secret or the body. A flood of refusals is bounded by the process's log filter
(``gateway.logfilter``).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from gateway.domain.errors import ApiError
from gateway.http import State

log = logging.getLogger("signalgate.ingest")
_MAX_ORG_CHARS = 64  # the org is whatever the caller put in the path: bounded in the log
Endpoint = Callable[[Request[State]], Awaitable[Response]]


def log_refusal(source: str, org: str, path: str, status: int, reason: str) -> None:
    log.info(
        "webhook refused: source=%s org=%r path=%s status=%d reason=%s",
        source,
        org[:_MAX_ORG_CHARS],
        path,
        status,
        reason,
    )


def refusals_logged(source: str, *, path: str | None = None) -> Callable[[Endpoint], Endpoint]:
    """Log every :class:`ApiError` the endpoint answers with (then let it answer as before).

    ``path``: what to log instead of the request path (for paths that carry a credential)."""

    def decorate(endpoint: Endpoint) -> Endpoint:
        @functools.wraps(endpoint)
        async def logged(request: Request[State]) -> Response:
            try:
                return await endpoint(request)
            except ApiError as exc:
                org = str(request.path_params.get("org", "-"))
                log_refusal(source, org, path or request.url.path, exc.status, f"{exc.code}: {exc.detail}")
                raise

        return logged

    return decorate
