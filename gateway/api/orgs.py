"""Management API (admin bearer token): orgs, users, contacts, user tokens (the call log: api/calls.py)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.api.telephony import telephony_settings
from gateway.domain.errors import BadRequest, NotFound
from gateway.domain.signals import iso_utc
from gateway.domain.tenancy import merge_contact, merge_org, merge_user, public_org
from gateway.http import JSONResponse, State, admin_org, int_param, path_id, read_json, require_admin
from gateway.services import Services

USERS_PAGE = 100
USERS_MAX = 1000


async def put_org(request: Request[State]) -> Response:
    tenancy = (await require_admin(request)).tenancy
    org_id = path_id(request, "org")
    stored = await tenancy.get_org(org_id)
    rec = merge_org(org_id, await read_json(request), stored)
    await tenancy.put_org(rec, stored or {})
    return JSONResponse(public_org(rec), status_code=200 if stored else 201)


async def get_org(request: Request[State]) -> Response:
    _, org = await admin_org(request)
    return JSONResponse(public_org(org))


async def delete_org(request: Request[State]) -> Response:
    tenancy = (await require_admin(request)).tenancy
    # Checked before the store sees it: ``*`` or ``zz?`` must never reach a key scan.
    if not await tenancy.delete_org(path_id(request, "org")):
        raise NotFound("org does not exist", code="org_not_found")
    return Response(status_code=204)


async def put_user(request: Request[State]) -> Response:
    svc, org = await admin_org(request)
    tenancy = svc.tenancy
    user_id = path_id(request, "user")
    stored = await tenancy.get_user(org["id"], user_id)
    body = await read_json(request)
    telephony = await telephony_settings(svc, org["id"], body, stored)
    rec = merge_user(org, user_id, body, stored)
    if telephony is not None:
        rec["telephony"] = telephony
    await tenancy.put_user(org["id"], rec)
    return JSONResponse(rec, status_code=200 if stored else 201)


async def get_user(request: Request[State]) -> Response:
    svc, org = await admin_org(request)
    rec = await svc.tenancy.get_user(org["id"], path_id(request, "user"))
    if rec is None:
        raise NotFound("user does not exist", code="user_not_found")
    return JSONResponse(rec)


async def list_users(request: Request[State]) -> Response:
    """One page of users ordered by id: ``?limit=`` (1-1000, default 100), ``?after=<the last id>``."""
    svc, org = await admin_org(request)
    limit = int_param(request, "limit", USERS_PAGE, 1, USERS_MAX)
    after = request.query_params.get("after")
    users = [u for u in await svc.tenancy.list_users(org["id"]) if after is None or u["id"] > after]
    page = users[:limit]
    return JSONResponse({"users": page, "next": page[-1]["id"] if len(users) > limit else None})


async def delete_user(request: Request[State]) -> Response:
    svc, org = await admin_org(request)
    if not await svc.tenancy.delete_user(org["id"], path_id(request, "user")):
        raise NotFound("user does not exist", code="user_not_found")
    return Response(status_code=204)


async def _token_user(request: Request[State]) -> tuple[Services, str, str]:
    """Admin token, the org, then the user named in the path (404 ``user_not_found``)."""
    svc, org = await admin_org(request)
    user = path_id(request, "user")
    if await svc.tenancy.get_user(org["id"], user) is None:
        raise NotFound("user does not exist", code="user_not_found")
    return svc, org["id"], user


async def issue_token(request: Request[State]) -> Response:
    svc, org_id, user = await _token_user(request)
    issued = await svc.tenancy.new_token(org_id, user)
    body = {"id": issued.id, "token": issued.token, "org": org_id, "user": user,
            "created_at": iso_utc(issued.created_ms)}  # fmt: skip
    return JSONResponse(body, status_code=201)


def _iso_or_none(ms: int | None) -> str | None:
    return None if ms is None else iso_utc(ms)


async def list_tokens(request: Request[State]) -> Response:
    svc, org_id, user = await _token_user(request)
    tokens = [
        {"id": t.id, "created_at": _iso_or_none(t.created_ms), "last_used_at": _iso_or_none(t.last_used_ms)}
        for t in await svc.tenancy.list_tokens(org_id, user)
    ]
    return JSONResponse({"tokens": tokens})


async def revoke_token(request: Request[State]) -> Response:
    svc, org_id, user = await _token_user(request)
    if not await svc.tenancy.revoke_token(org_id, user, path_id(request, "token")):
        raise NotFound("the user has no token with this id", code="token_not_found")
    return Response(status_code=204)


async def revoke_tokens(request: Request[State]) -> Response:
    svc, org_id, user = await _token_user(request)
    await svc.tenancy.revoke_tokens(org_id, user)
    return Response(status_code=204)


async def put_contact(request: Request[State]) -> Response:
    svc, org = await admin_org(request)
    tenancy = svc.tenancy
    contact_id = path_id(request, "contact")
    stored = await tenancy.get_contact(org["id"], contact_id)
    rec = merge_contact(org, contact_id, await read_json(request), stored)
    if rec["owner"] is not None and await tenancy.get_user(org["id"], rec["owner"]) is None:
        raise BadRequest(f"owner {rec['owner']!r} is not a user of this org", code="unknown_owner")
    await tenancy.put_contact(org["id"], rec)
    return JSONResponse(rec, status_code=200 if stored else 201)


async def get_contact(request: Request[State]) -> Response:
    svc, org = await admin_org(request)
    rec = await svc.tenancy.get_contact(org["id"], path_id(request, "contact"))
    if rec is None:
        raise NotFound("contact does not exist", code="contact_not_found")
    return JSONResponse(rec)


async def delete_contact(request: Request[State]) -> Response:
    svc, org = await admin_org(request)
    if not await svc.tenancy.delete_contact(org["id"], path_id(request, "contact")):
        raise NotFound("contact does not exist", code="contact_not_found")
    return Response(status_code=204)


routes = [
    Route("/api/v1/orgs/{org}", put_org, methods=["PUT"]),
    Route("/api/v1/orgs/{org}", get_org, methods=["GET"]),
    Route("/api/v1/orgs/{org}", delete_org, methods=["DELETE"]),
    Route("/api/v1/orgs/{org}/users", list_users, methods=["GET"]),
    Route("/api/v1/orgs/{org}/users/{user}", put_user, methods=["PUT"]),
    Route("/api/v1/orgs/{org}/users/{user}", get_user, methods=["GET"]),
    Route("/api/v1/orgs/{org}/users/{user}", delete_user, methods=["DELETE"]),
    Route("/api/v1/orgs/{org}/users/{user}/tokens", issue_token, methods=["POST"]),
    Route("/api/v1/orgs/{org}/users/{user}/tokens", list_tokens, methods=["GET"]),
    Route("/api/v1/orgs/{org}/users/{user}/tokens", revoke_tokens, methods=["DELETE"]),
    Route("/api/v1/orgs/{org}/users/{user}/tokens/{token}", revoke_token, methods=["DELETE"]),
    Route("/api/v1/orgs/{org}/contacts/{contact}", put_contact, methods=["PUT"]),
    Route("/api/v1/orgs/{org}/contacts/{contact}", get_contact, methods=["GET"]),
    Route("/api/v1/orgs/{org}/contacts/{contact}", delete_contact, methods=["DELETE"]),
]
