"""Call flows API: save a draft, publish it, switch the flow on or off, list, read, delete.

``PUT`` saves the **draft** (and the ``enabled`` switch, which takes effect at once);
``POST .../publish`` makes the draft the live version. One published, enabled flow per number:
going live on a number another flow answers is 409 ``number_has_flow`` (decided atomically in
Redis, :mod:`gateway.store.call_flows`); going live on a number released meanwhile is 409
``number_released``. Drafts are checked by :mod:`gateway.domain.call_flows`;
the users, groups and number they name must exist (checked again on publish).
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.domain.call_flows import Known, check_references, references, validate_flow
from gateway.domain.errors import ApiError, NotFound
from gateway.http import JSONResponse, State, admin_org, path_id, read_json
from gateway.services import Services
from gateway.store.call_flows import NumberGone, NumberTaken


class NumberHasFlow(ApiError):
    status = 409
    code = "number_has_flow"


class NumberReleased(ApiError):
    status = 409
    code = "number_released"


def _conflict(exc: NumberTaken | NumberGone) -> ApiError:
    """``exc.number`` is where the flow would go live: its published number (``PUT`` switching it
    on), which may differ from the draft's; the draft's number (``publish``)."""
    if isinstance(exc, NumberGone):
        return NumberReleased(f"{exc.number} is no longer one of the org's numbers (released); nothing goes live on it")
    return NumberHasFlow(f"flow {exc.holder!r} is published and enabled on {exc.number}; switch it off first")


async def known_for(svc: Services, org: str, draft: dict[str, Any]) -> Known:
    """Which of the users, groups and number ``draft`` names exist (one lookup each, at once)."""
    refs = list(references(draft["steps"]))
    users = sorted({ref for _, kind, ref in refs if kind == "user"})
    groups = sorted({ref for _, kind, ref in refs if kind == "group"})
    found_users, found_groups, number = await asyncio.gather(
        asyncio.gather(*(svc.tenancy.get_user(org, u) for u in users)),
        asyncio.gather(*(svc.groups.get_group(org, g) for g in groups)),
        svc.numbers.get_number(org, draft["number"]),
    )
    return Known(
        users=frozenset(u for u, rec in zip(users, found_users, strict=True) if rec is not None),
        groups=frozenset(g for g, rec in zip(groups, found_groups, strict=True) if rec is not None),
        numbers=frozenset([draft["number"]] if number is not None else []),
    )


def _public(rec: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in rec.items() if k not in ("rev", "created_ms", "updated_ms", "published_ms")}


async def put_flow(request: Request[State]) -> Response:
    svc, org = await admin_org(request)
    flow = path_id(request, "flow")
    given = validate_flow(await read_json(request), org.get("country"))
    check_references(given.draft, await known_for(svc, org["id"], given.draft))
    try:
        created = await svc.call_flows.put(org["id"], flow, given.draft, given.enabled)
    except (NumberTaken, NumberGone) as exc:
        raise _conflict(exc) from None
    return JSONResponse(_public(await _get(svc, org["id"], flow)), status_code=201 if created else 200)


async def publish(request: Request[State]) -> Response:
    svc, org = await admin_org(request)
    flow = path_id(request, "flow")
    rec = await _get(svc, org["id"], flow)
    check_references(rec["draft"], await known_for(svc, org["id"], rec["draft"]))
    try:
        version = await svc.call_flows.publish(org["id"], flow)
    except (NumberTaken, NumberGone) as exc:
        raise _conflict(exc) from None
    if version is None:
        raise NotFound("call flow does not exist", code="flow_not_found")
    return JSONResponse(_public(await _get(svc, org["id"], flow)))


async def get_flow(request: Request[State]) -> Response:
    svc, org = await admin_org(request)
    return JSONResponse(_public(await _get(svc, org["id"], path_id(request, "flow"))))


async def list_flows(request: Request[State]) -> Response:
    svc, org = await admin_org(request)
    return JSONResponse({"flows": [_public(rec) for rec in await svc.call_flows.list(org["id"])]})


async def delete_flow(request: Request[State]) -> Response:
    svc, org = await admin_org(request)
    if not await svc.call_flows.delete(org["id"], path_id(request, "flow")):
        raise NotFound("call flow does not exist", code="flow_not_found")
    return Response(status_code=204)


async def _get(svc: Services, org: str, flow: str) -> dict[str, Any]:
    rec = await svc.call_flows.get(org, flow)
    if rec is None:
        raise NotFound("call flow does not exist", code="flow_not_found")
    return rec


routes = [
    Route("/api/v1/orgs/{org}/call-flows", list_flows, methods=["GET"]),
    Route("/api/v1/orgs/{org}/call-flows/{flow}", get_flow, methods=["GET"]),
    Route("/api/v1/orgs/{org}/call-flows/{flow}", put_flow, methods=["PUT"]),
    Route("/api/v1/orgs/{org}/call-flows/{flow}", delete_flow, methods=["DELETE"]),
    Route("/api/v1/orgs/{org}/call-flows/{flow}/publish", publish, methods=["POST"]),
]
