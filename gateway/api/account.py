"""Credits (balance, purchase, auto-recharge, ledger), today's usage, and the email report."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.domain.errors import BadRequest
from gateway.domain.quota import email_caps, local_day
from gateway.http import JSONResponse, State, admin_org, int_param, json_object
from gateway.store.reports import MAX_DAYS

MAX_PURCHASE = 10_000_000
REPORT_EARLIEST = date(1970, 1, 1)
REPORT_LATEST = date(2100, 12, 31)


def _positive_int(body: dict[str, Any], key: str, hi: int, lo: int = 1) -> int:
    value = body.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise BadRequest(f"'{key}' must be an integer from {lo} to {hi}", code="invalid_field")
    return value


async def get_credits(request: Request[State]) -> Response:
    svc, org = await admin_org(request)
    return JSONResponse(await svc.credits.status(org["id"]))


async def purchase(request: Request[State]) -> Response:
    """Operator only (SPEC): credits are bought through the operator, not by an org admin."""
    svc, org = await admin_org(request, operator_only=True)
    body = await json_object(request, '{"amount": N}')
    amount = _positive_int(body, "amount", MAX_PURCHASE)
    reference = body.get("reference") or "p_" + secrets.token_hex(6)
    if not isinstance(reference, str) or len(reference) > 100:
        raise BadRequest("'reference' must be a short string", code="invalid_field")
    await svc.credits.purchase(org["id"], amount, reference)
    return JSONResponse(await svc.credits.status(org["id"]), status_code=201)


async def auto_recharge(request: Request[State]) -> Response:
    svc, org = await admin_org(request)
    shape = '{"enabled": bool, "threshold": N, "amount": N}'
    body = await json_object(request, shape)
    if not isinstance(body.get("enabled"), bool):
        raise BadRequest(f"body must be {shape}", code="invalid_body")
    enabled = body["enabled"]
    threshold = _positive_int(body, "threshold", MAX_PURCHASE, lo=0) if enabled or "threshold" in body else 0
    amount = _positive_int(body, "amount", MAX_PURCHASE) if enabled or "amount" in body else 0
    await svc.credits.set_auto_recharge(org["id"], enabled, threshold, amount)
    return JSONResponse(await svc.credits.status(org["id"]))


async def ledger(request: Request[State]) -> Response:
    svc, org = await admin_org(request)
    limit = int_param(request, "limit", 100, 1, 1000)
    return JSONResponse({"entries": await svc.credits.ledger(org["id"], limit)})


async def usage(request: Request[State]) -> Response:
    svc, org = await admin_org(request)
    caps = email_caps(org["plan"], int(org.get("active_users", 0)), int(org.get("mass_email_addon", 0)))
    email = await svc.email_usage.today(org["id"], org["timezone"], datetime.now(tz=UTC), caps)
    return JSONResponse({"email": email, "sms": await svc.credits.status(org["id"])})


def _date_param(request: Request[State], name: str, default: date) -> date:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise BadRequest(f"'{name}' must be a date like 2026-11-25", code="invalid_parameter") from None
    # Far from date.min/date.max, so the default range and week buckets never overflow.
    if not REPORT_EARLIEST <= day <= REPORT_LATEST:
        raise BadRequest(f"'{name}' must be between {REPORT_EARLIEST} and {REPORT_LATEST}", code="invalid_parameter")
    return day


async def email_report(request: Request[State]) -> Response:
    svc, org = await admin_org(request)
    today = date.fromisoformat(local_day(datetime.now(tz=UTC), org["timezone"]))
    end = _date_param(request, "to", today)
    start = _date_param(request, "from", end - timedelta(days=29))
    group = request.query_params.get("group", "day")
    if group not in ("day", "week", "month"):
        raise BadRequest("'group' must be day, week or month", code="invalid_parameter")
    if start > end or (end - start).days >= MAX_DAYS:
        raise BadRequest(f"'from' must be before 'to', at most {MAX_DAYS} days apart", code="invalid_parameter")
    body = await svc.reports.rows(org["id"], start, end, group)
    return JSONResponse({"from": start.isoformat(), "to": end.isoformat(), "group": group,
                         "timezone": org["timezone"], **body})  # fmt: skip


routes = [
    Route("/api/v1/orgs/{org}/credits", get_credits, methods=["GET"]),
    Route("/api/v1/orgs/{org}/credits/purchase", purchase, methods=["POST"]),
    Route("/api/v1/orgs/{org}/credits/auto-recharge", auto_recharge, methods=["PUT"]),
    Route("/api/v1/orgs/{org}/credits/ledger", ledger, methods=["GET"]),
    Route("/api/v1/orgs/{org}/usage", usage, methods=["GET"]),
    Route("/api/v1/orgs/{org}/reports/email", email_report, methods=["GET"]),
]
