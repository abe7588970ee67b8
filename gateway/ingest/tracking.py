"""Open pixel ``GET /t/o/<token>`` and click redirect ``GET /t/c/<token>``.

The pixel always answers the GIF (a broken image in a customer's mail client helps nobody);
only a valid token records an open. A click with a valid token records the click and answers
302 to the signed URL; a forged or altered token answers 404, so this is never an open redirect.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from gateway.domain.errors import NotFound
from gateway.domain.tracking import NO_STORE, PIXEL, BadToken, verify
from gateway.http import State, services
from gateway.ingest.refusals import log_refusal, refusals_logged

log = logging.getLogger("signalgate.tracking")


async def pixel(request: Request[State]) -> Response:
    svc = services(request)
    metrics = svc.metrics
    try:
        claim = verify(svc.secret_key, request.path_params["token"])
        await svc.events.append(claim.org, "track.open", {"notification": claim.notification, "contact": claim.contact})
        metrics.events_in.labels("track.open").inc()
    except BadToken as exc:
        metrics.webhooks_refused.labels("track.open", "bad_token").inc()
        log_refusal("track.open", "-", "/t/o/…", 200, f"bad_token: {exc} (answered the pixel, recorded nothing)")
    except Exception:
        log.exception("open not recorded")
        metrics.webhooks_refused.labels("track.open", "error").inc()
    return Response(PIXEL, media_type="image/gif", headers=NO_STORE)


@refusals_logged("track.click", path="/t/c/…")  # the token is a credential: never logged
async def click(request: Request[State]) -> Response:
    svc = services(request)
    metrics = svc.metrics
    try:
        claim = verify(svc.secret_key, request.path_params["token"])
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


routes = [
    Route("/t/o/{token:path}", pixel, methods=["GET"]),
    Route("/t/c/{token:path}", click, methods=["GET"]),
]
