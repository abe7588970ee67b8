"""``GET /api/v1/orgs/{org}/templates/{template}/dlt[?version=N]``: the DLT copy of an SMS template
(the text an org in India files on the regulator's portal, variables as ``{#var#}``;
:mod:`gateway.domain.dlt`).

Of the template's newest version by default: after an edit of an approved template that is the new
(draft or pending) version, the one the admin files before approving it; ``?version=`` asks for
any version kept (404 ``version_not_found`` for another)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.domain.dlt import NotDltCompatible, dlt_copy
from gateway.domain.errors import NotFound
from gateway.domain.templates import Conflict
from gateway.http import JSONResponse, State, admin_org, int_param, path_id

MAX_VERSION = 10**9


async def dlt(request: Request[State]) -> Response:
    svc, org = await admin_org(request)
    asked = int_param(request, "version", 0, 1, MAX_VERSION) or None
    rec = await svc.templates.get(org["id"], path_id(request, "template"))
    if rec is None:
        raise NotFound("template does not exist", code="template_not_found")
    if rec.get("channel") != "sms":
        raise Conflict("only SMS templates are filed with DLT", code="not_dlt_compatible")
    version = _version(await svc.templates.versions(org["id"], rec), asked)
    try:
        copy = dlt_copy(str(version.get("body") or ""))
    except NotDltCompatible as exc:
        raise Conflict(str(exc), code="not_dlt_compatible") from None
    out: dict[str, object] = {
        "text": copy.text,
        "variables": copy.variables,
        "version": int(version["version"]),
        "status": version.get("status"),
    }
    if version.get("dlt_template_id"):
        out["dlt_template_id"] = version["dlt_template_id"]
    return JSONResponse(out)


def _version(versions: list[dict[str, Any]], asked: int | None) -> dict[str, Any]:
    """Version ``asked`` of the kept ones (oldest first), or the newest when none is asked for."""
    if asked is None:
        return versions[-1]
    for version in versions:
        if int(version["version"]) == asked:
            return version
    raise NotFound(f"the template has no version {asked}", code="version_not_found")


routes = [Route("/api/v1/orgs/{org}/templates/{template}/dlt", dlt, methods=["GET"])]
