"""One-click unsubscribe: ``GET /u/<token>`` (confirmation page) and ``POST /u/<token>`` (RFC 8058).

``GET`` only shows a page in the org's language with a button that POSTs (link scanners follow
GETs: they must change nothing). ``POST`` — a mail client's one-click (body
``List-Unsubscribe=One-Click``, any content type) or the page's button — sets the contact's
``marketing`` to false (idempotent), or, for mail sent to an address with no contact, suppresses
the address (reason ``unsubscribed``). A forged or altered token is 404. The token names org,
contact and address (:mod:`gateway.domain.unsubscribe`) and is never logged.
"""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from gateway.domain import unsubscribe
from gateway.domain.errors import NotFound
from gateway.domain.signals import iso_utc
from gateway.domain.tracking import BadToken
from gateway.domain.unsubscribe import UnsubscribeClaim
from gateway.http import State, services
from gateway.ingest.refusals import refusals_logged

_HEADERS = {"content-security-policy": unsubscribe.PAGE_CSP, "cache-control": "no-store"}


def _claim(request: Request[State]) -> UnsubscribeClaim:
    try:
        return unsubscribe.verify(services(request).verify_keys, request.path_params["token"])
    except BadToken:
        raise NotFound("unknown link", code="unknown_link") from None


@refusals_logged("unsubscribe", path="/u/…")
async def confirm(request: Request[State]) -> Response:
    claim = _claim(request)
    org = await services(request).tenancy.get_org(claim.org)
    if org is None:
        raise NotFound("unknown link", code="unknown_link")
    page = unsubscribe.page(unsubscribe.language(org), claim.address, done=False)
    return HTMLResponse(page, headers=_HEADERS)


@refusals_logged("unsubscribe", path="/u/…")
async def one_click(request: Request[State]) -> Response:
    claim = _claim(request)
    svc = services(request)
    org = await svc.tenancy.get_org(claim.org)
    if org is None:
        raise NotFound("unknown link", code="unknown_link")
    await request.body()  # RFC 8058: "List-Unsubscribe=One-Click"; any body (or none) does the same
    contact = await svc.tenancy.get_contact(claim.org, claim.contact) if claim.contact else None
    if contact is not None:
        if contact.get("marketing", False):
            await svc.tenancy.put_contact(claim.org, dict(contact, marketing=False))
    elif claim.contact is None:
        await svc.suppressions.add(claim.org, claim.address, "unsubscribed", iso_utc(_now_ms()))
    page = unsubscribe.page(unsubscribe.language(org), claim.address, done=True)
    return HTMLResponse(page, headers=_HEADERS)


def _now_ms() -> int:
    return int(time.time() * 1000)


routes = [
    Route("/u/{token}", confirm, methods=["GET"]),
    Route("/u/{token}", one_click, methods=["POST"]),
]
