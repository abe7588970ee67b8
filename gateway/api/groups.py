"""``/api/v1/orgs/{org}/groups``: telephony groups (users a call flow rings together)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.domain.errors import NotFound
from gateway.domain.telephony import merge_group
from gateway.http import JSONResponse, State, admin_org, path_id, read_json


async def put_group(request: Request[State]) -> Response:
    """``{"name", "members": [user ids]}``: an upsert; every member must be a user of the org."""
    svc, org = await admin_org(request)
    group_id = path_id(request, "group")
    stored = await svc.groups.get_group(org["id"], group_id)
    users = {u["id"] for u in await svc.tenancy.list_users(org["id"])}
    rec = merge_group(group_id, await read_json(request), stored, users)
    await svc.groups.put_group(org["id"], rec)
    return JSONResponse(rec, status_code=200 if stored else 201)


async def list_groups(request: Request[State]) -> Response:
    svc, org = await admin_org(request)
    return JSONResponse({"groups": await svc.groups.list_groups(org["id"])})


async def get_group(request: Request[State]) -> Response:
    svc, org = await admin_org(request)
    rec = await svc.groups.get_group(org["id"], path_id(request, "group"))
    if rec is None:
        raise NotFound("group does not exist", code="group_not_found")
    return JSONResponse(rec)


async def delete_group(request: Request[State]) -> Response:
    svc, org = await admin_org(request)
    if not await svc.groups.delete_group(org["id"], path_id(request, "group")):
        raise NotFound("group does not exist", code="group_not_found")
    return Response(status_code=204)


routes = [
    Route("/api/v1/orgs/{org}/groups", list_groups, methods=["GET"]),
    Route("/api/v1/orgs/{org}/groups/{group}", put_group, methods=["PUT"]),
    Route("/api/v1/orgs/{org}/groups/{group}", get_group, methods=["GET"]),
    Route("/api/v1/orgs/{org}/groups/{group}", delete_group, methods=["DELETE"]),
]
