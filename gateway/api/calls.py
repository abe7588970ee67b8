"""``GET /api/v1/orgs/{org}/calls``: the call log, filtered and paged, as JSON or CSV."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.domain.errors import BadRequest
from gateway.domain.telephony_calls import CSV_MAX_ROWS, calls_csv, csv_filename, parse_query
from gateway.http import JSONResponse, State, admin_org


async def get_calls(request: Request[State]) -> Response:
    """``?format=json|csv&from=&to=&direction=&user=&status=&cursor=&limit=`` (dates in the org's zone).

    JSON answers one page and the next page's ``cursor`` (null at the end). CSV answers every
    matching call (newest first, at most ``CSV_MAX_ROWS``) for a spreadsheet: BOM, header, CRLF."""
    svc, org = await admin_org(request)
    params = request.query_params
    fmt = params.get("format", "json")
    if fmt not in ("json", "csv"):
        raise BadRequest("'format' must be json or csv", code="invalid_parameter")
    query = parse_query(params, org.get("timezone", "UTC"))
    if fmt == "json":
        rows, cursor = await svc.messages.call_log(org["id"], query)
        return JSONResponse({"calls": rows, "cursor": cursor.encode() if cursor else None})
    rows, _ = await svc.messages.call_log(org["id"], query, max_rows=CSV_MAX_ROWS, budget=10 * CSV_MAX_ROWS)
    return Response(
        calls_csv(rows),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{csv_filename(org["id"], params)}"'},
    )


routes = [Route("/api/v1/orgs/{org}/calls", get_calls, methods=["GET"])]
