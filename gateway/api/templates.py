"""Templates API: CRUD, the SMS approval lifecycle (submit / approve / reject) and versions (an edit
of an approved SMS template is a new version; the approved one serves until it is replaced)."""

from __future__ import annotations

import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.domain.errors import BadRequest, NotFound
from gateway.domain.rendering import TemplateError, check
from gateway.domain.template_versions import act, public
from gateway.domain.template_versions import edit as edit_versions
from gateway.domain.templates import Conflict, new_template, parse_edit
from gateway.domain.tenancy import check_id
from gateway.http import JSONResponse, State, admin_org, path_id, read_json
from gateway.store.templates import Templates


def _check_syntax(rec: dict[str, Any]) -> None:
    """Syntax, nesting and the limits known without data (``'a'.ljust(10**9)``, huge nested loops)."""
    for key in ("body", "subject"):
        source = rec.get(key)
        if isinstance(source, str):
            try:
                check(source)
            except TemplateError as exc:
                raise BadRequest(f"'{key}' is not a valid template: {exc}", code="invalid_template") from None


async def create(request: Request[State]) -> Response:
    svc, org = await admin_org(request)
    body = await read_json(request)
    raw_id = body.get("id") if isinstance(body, dict) else None
    tid = check_id("template", raw_id) if raw_id is not None else "t_" + secrets.token_hex(8)
    rec = new_template(tid, body)
    _check_syntax(rec)
    if not await svc.templates.create(org["id"], rec):
        raise Conflict(f"template {tid!r} already exists", code="template_exists")
    stored = await svc.templates.get(org["id"], tid)
    return JSONResponse(public(stored or rec), status_code=201)


async def list_templates(request: Request[State]) -> Response:
    svc, org = await admin_org(request)
    return JSONResponse({"templates": [public(t) for t in await svc.templates.list(org["id"])]})


async def _load(request: Request[State]) -> tuple[Templates, dict[str, Any], dict[str, Any]]:
    """(the templates store, the org, the template named in the path) or 404."""
    svc, org = await admin_org(request)
    rec = await svc.templates.get(org["id"], path_id(request, "template"))
    if rec is None:
        raise NotFound("template does not exist", code="template_not_found")
    return svc.templates, org, rec


async def get_template(request: Request[State]) -> Response:
    _, _, rec = await _load(request)
    return JSONResponse(public(rec))


async def list_versions(request: Request[State]) -> Response:
    templates, org, rec = await _load(request)
    return JSONResponse({"template": rec["id"], "versions": await templates.versions(org["id"], rec)})


async def edit(request: Request[State]) -> Response:
    """An edit; of an approved SMS template's text: a new draft version (``"submit": true``: pending)."""
    templates, org, stored = await _load(request)
    change = parse_edit(stored, await read_json(request))
    _check_syntax(change.texts)
    rec = edit_versions(stored, change.texts, change.name, change.submit)
    return JSONResponse(public(await templates.put(org["id"], rec, stored)))


async def delete(request: Request[State]) -> Response:
    templates, org, stored = await _load(request)
    await templates.delete(org["id"], str(stored["id"]))
    return Response(status_code=204)


async def submit(request: Request[State]) -> Response:
    """The new version (or a template never approved yet): draft or rejected → pending."""
    templates, org, stored = await _load(request)
    return JSONResponse(public(await templates.put(org["id"], act(stored, "submit"), stored)))


async def approve(request: Request[State]) -> Response:
    """pending → approved; a new version becomes the live one (the old one is retired)."""
    templates, org, stored = await _load(request)
    body = await read_json(request) if await request.body() else {}
    dlt = None
    if org.get("country") == "IN" or (isinstance(body, dict) and "dlt_template_id" in body):
        if not isinstance(body, dict) or "dlt_template_id" not in body:
            raise BadRequest("an org in India needs the DLT template id to approve", code="dlt_template_required")
        dlt = body["dlt_template_id"]
    rec = act(stored, "approve", dlt=dlt)
    return JSONResponse(public(await templates.put(org["id"], rec, stored)))


async def reject(request: Request[State]) -> Response:
    """pending → rejected; a rejected new version leaves the approved one serving."""
    templates, org, stored = await _load(request)
    body = await read_json(request) if await request.body() else {}
    reason = body.get("reason") if isinstance(body, dict) else None
    rec = act(stored, "reject", reason=reason if isinstance(reason, str) and reason else None)
    return JSONResponse(public(await templates.put(org["id"], rec, stored)))


routes = [
    Route("/api/v1/orgs/{org}/templates", create, methods=["POST"]),
    Route("/api/v1/orgs/{org}/templates", list_templates, methods=["GET"]),
    Route("/api/v1/orgs/{org}/templates/{template}", get_template, methods=["GET"]),
    Route("/api/v1/orgs/{org}/templates/{template}", edit, methods=["PUT"]),
    Route("/api/v1/orgs/{org}/templates/{template}", delete, methods=["DELETE"]),
    Route("/api/v1/orgs/{org}/templates/{template}/versions", list_versions, methods=["GET"]),
    Route("/api/v1/orgs/{org}/templates/{template}/submit", submit, methods=["POST"]),
    Route("/api/v1/orgs/{org}/templates/{template}/approve", approve, methods=["POST"]),
    Route("/api/v1/orgs/{org}/templates/{template}/reject", reject, methods=["POST"]),
]
