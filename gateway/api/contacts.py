"""Contacts in bulk: ``GET /api/v1/orgs/{org}/contacts`` (paged, ``?q=`` search) and
``POST /api/v1/orgs/{org}/contacts:import`` (JSON or CSV, per-row results).

An import is validated and written a chunk of rows at a time: each row is merged into the stored
contact exactly as ``PUT .../contacts/{id}`` would (:func:`gateway.domain.tenancy.merge_contact`)
and written by one atomic script, so a bad row changes nothing and the other rows still apply.
Rows naming the same id apply in order.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.api.segments import PAGE, PAGE_MAX, cursor_param
from gateway.domain.contacts_import import ImportRow, parse_csv, parse_json
from gateway.domain.errors import BadRequest
from gateway.domain.tenancy import merge_contact
from gateway.http import JSONResponse, State, admin_org, int_param, read_json
from gateway.services import Services

MAX_Q = 100
IMPORT_CHUNK = 500


async def list_contacts(request: Request[State]) -> Response:
    """Contacts ordered by id; ``q``: case-insensitive substring of name, company, an email or a phone."""
    svc, org = await admin_org(request)
    limit = int_param(request, "limit", PAGE, 1, PAGE_MAX)
    q = request.query_params.get("q") or None
    if q is not None and len(q) > MAX_Q:
        raise BadRequest(f"'q' is at most {MAX_Q} characters", code="invalid_parameter")
    page, cursor = await svc.tenancy.search_contacts(org["id"], cursor_param(request), limit, q)
    return JSONResponse({"contacts": page, "cursor": cursor})


def _error(row: ImportRow, reason: str, detail: str) -> dict[str, Any]:
    return {"row": row.row, "id": row.id, "status": "error", "reason": reason, "detail": detail}


async def _apply(svc: Services, org: dict[str, Any], rows: list[ImportRow], users: set[str]) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    stored = await svc.tenancy.get_contacts(org["id"], sorted({r.id for r in rows if r.id and not r.error}))
    writes: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row.error is not None or row.id is None:
            reason, detail = row.error or ("invalid_id", "no id")
            results.append(_error(row, reason, detail))
            continue
        before = writes.get(row.id) or stored.get(row.id)
        try:
            rec = merge_contact(org, row.id, row.body, before)
        except BadRequest as exc:
            results.append(_error(row, exc.code, exc.detail))
            continue
        if rec["owner"] is not None and rec["owner"] not in users:
            results.append(_error(row, "unknown_owner", f"owner {rec['owner']!r} is not a user of this org"))
            continue
        writes[row.id] = rec
        results.append({"row": row.row, "id": row.id, "status": "updated" if before else "created"})
    # Written in row order (a dict keeps the order of first insertion; a later row for the same
    # id replaced the value, which already holds every earlier row's changes).
    await svc.tenancy.put_contacts(org["id"], list(writes.values()))
    return results


async def import_contacts(request: Request[State]) -> Response:
    svc, org = await admin_org(request)
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media in ("text/csv", "application/csv"):
        rows = parse_csv(await request.body())
    elif media in ("application/json", ""):
        rows = parse_json(await read_json(request))
    else:
        raise BadRequest("send application/json or text/csv", code="unsupported_media_type")
    users = {u["id"] for u in await svc.tenancy.list_users(org["id"])}
    results: list[dict[str, Any]] = []
    for i in range(0, len(rows), IMPORT_CHUNK):
        results += await _apply(svc, org, rows[i : i + IMPORT_CHUNK], users)
    counts = {s: sum(1 for r in results if r["status"] == s) for s in ("created", "updated", "error")}
    return JSONResponse(
        {"results": results, "created": counts["created"], "updated": counts["updated"], "errors": counts["error"]}
    )


routes = [
    Route("/api/v1/orgs/{org}/contacts", list_contacts, methods=["GET"]),
    Route("/api/v1/orgs/{org}/contacts:import", import_contacts, methods=["POST"]),
]
