"""``GET /api/v1/orgs/{org}/templates/{template}/dlt``: the DLT copy of an SMS template (the text an
org in India files on the regulator's portal, variables as ``{#var#}``; :mod:`gateway.domain.dlt`)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.domain.dlt import NotDltCompatible, dlt_copy
from gateway.domain.errors import NotFound
from gateway.domain.templates import Conflict
from gateway.http import JSONResponse, State, admin_org, path_id


async def dlt(request: Request[State]) -> Response:
    svc, org = await admin_org(request)
    rec = await svc.templates.get(org["id"], path_id(request, "template"))
    if rec is None:
        raise NotFound("template does not exist", code="template_not_found")
    if rec.get("channel") != "sms":
        raise Conflict("only SMS templates are filed with DLT", code="not_dlt_compatible")
    try:
        copy = dlt_copy(str(rec.get("body") or ""))
    except NotDltCompatible as exc:
        raise Conflict(str(exc), code="not_dlt_compatible") from None
    out: dict[str, object] = {"text": copy.text, "variables": copy.variables}
    if rec.get("dlt_template_id"):
        out["dlt_template_id"] = rec["dlt_template_id"]
    return JSONResponse(out)


routes = [Route("/api/v1/orgs/{org}/templates/{template}/dlt", dlt, methods=["GET"])]
