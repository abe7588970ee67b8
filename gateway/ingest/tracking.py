"""Open pixel ``GET /t/o/<token>`` and click redirect ``GET /t/c/<token>``.

The pixel always answers the GIF (a broken image in a customer's mail client helps nobody);
only a valid token records an open. A click with a valid token records the click and answers
302 to the signed URL; a forged or altered token answers 404, so this is never an open redirect.
"""

from __future__ import annotations

import logging

from prometheus_client import Counter
from starlette.convertors import PathConvertor, register_url_convertor
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from gateway.domain.errors import NotFound
from gateway.domain.tracking import NO_STORE, PIXEL, BadToken, verify
from gateway.http import State, services
from gateway.ingest.asgi import respond, response_headers, services_of
from gateway.ingest.refusals import log_refusal, refusals_logged
from gateway.metrics import Metrics

log = logging.getLogger("signalgate.tracking")
PIXEL_HEADERS = response_headers(PIXEL, "image/gif", NO_STORE)


class Pixel:
    """``GET /t/o/<token>`` as a raw ASGI app (see :mod:`gateway.ingest.asgi`): the hottest path."""

    def __init__(self) -> None:
        self._opens: tuple[Metrics, Counter] | None = None

    def _opened(self, metrics: Metrics) -> Counter:
        if self._opens is None or self._opens[0] is not metrics:  # labels() resolved once per registry
            self._opens = (metrics, metrics.events_in.labels("track.open"))
        return self._opens[1]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        svc = services_of(scope)
        metrics = svc.metrics
        try:
            claim = verify(svc.verify_keys, scope["path_params"]["token"])
            await svc.events.append(
                claim.org, "track.open", {"notification": claim.notification, "contact": claim.contact}
            )
            self._opened(metrics).inc()
        except BadToken as exc:
            metrics.webhooks_refused.labels("track.open", "bad_token").inc()
            log_refusal("track.open", "-", "/t/o/…", 200, f"bad_token: {exc} (answered the pixel, recorded nothing)")
        except Exception:
            log.exception("open not recorded")
            metrics.webhooks_refused.labels("track.open", "error").inc()
        await respond(send, 200, PIXEL_HEADERS, PIXEL)


@refusals_logged("track.click", path="/t/c/…")  # the token is a credential: never logged
async def click(request: Request[State]) -> Response:
    svc = services(request)
    metrics = svc.metrics
    try:
        claim = verify(svc.verify_keys, request.path_params["token"])
    except BadToken:
        metrics.webhooks_refused.labels("track.click", "bad_token").inc()
        raise NotFound("unknown link", code="unknown_link") from None
    if not claim.url or not claim.url.startswith(("http://", "https://")):
        raise NotFound("unknown link", code="unknown_link")
    await svc.events.append(
        claim.org, "track.click", {"notification": claim.notification, "contact": claim.contact, "url": claim.url}
    )
    metrics.events_in.labels("track.click").inc()
    return RedirectResponse(claim.url, status_code=302, headers=NO_STORE)


class _Anything(PathConvertor):
    """Like ``path`` but also across line breaks: a mangled token (``%0A`` in a mail client's
    link) still reaches the pixel, which answers every hit with the GIF."""

    regex = "(?s:.*)"


register_url_convertor("anything", _Anything())

hot_routes = [Route("/t/o/{token:anything}", Pixel(), methods=["GET"])]
routes = [*hot_routes, Route("/t/c/{token:anything}", click, methods=["GET"])]
