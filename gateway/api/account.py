"""Credits (balance, purchase, auto-recharge, ledger), today's usage, and the email report."""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, date, datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.domain.errors import ApiError, BadRequest
from gateway.domain.events import MAX_JSON_DEPTH, json_depth
from gateway.domain.quota import email_caps, local_day
from gateway.domain.rendering import TemplateError, render
from gateway.domain.sms_segments import preview
from gateway.domain.tenancy import RECORD_ID
from gateway.http import JSONResponse, State, admin_org, int_param, json_object
from gateway.services import Services
from gateway.store.credits import DEFAULT_MAX_PER_DAY, MAX_PER_DAY
from gateway.store.reports import MAX_DAYS

MAX_PURCHASE = 10_000_000
MAX_PREVIEW_CHARS = 10_000
REPORT_EARLIEST = date(1970, 1, 1)
REPORT_LATEST = date(2100, 12, 31)


def _positive_int(body: dict[str, Any], key: str, hi: int, lo: int = 1) -> int:
    value = body.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise BadRequest(f"'{key}' must be an integer from {lo} to {hi}", code="invalid_field")
    return value


def _today(org: dict[str, Any]) -> str:
    return local_day(datetime.now(tz=UTC), org["timezone"])


async def get_credits(request: Request[State]) -> Response:
    svc, org = await admin_org(request)
    return JSONResponse(await svc.credits.status(org["id"], _today(org)))


async def purchase(request: Request[State]) -> Response:
    """Operator only (SPEC): credits are bought through the operator, not by an org admin."""
    svc, org = await admin_org(request, operator_only=True)
    body = await json_object(request, '{"amount": N}')
    amount = _positive_int(body, "amount", MAX_PURCHASE)
    reference = body.get("reference") or "p_" + secrets.token_hex(6)
    if not isinstance(reference, str) or len(reference) > 100:
        raise BadRequest("'reference' must be a short string", code="invalid_field")
    await svc.credits.purchase(org["id"], amount, reference)
    return JSONResponse(await svc.credits.status(org["id"], _today(org)), status_code=201)


async def auto_recharge(request: Request[State]) -> Response:
    """Top up ``amount`` before the balance would fall below ``threshold``, at most ``max_per_day``
    top-ups per org-local day; enabled below the threshold, it tops up at once."""
    svc, org = await admin_org(request)
    shape = '{"enabled": bool, "threshold": N, "amount": N, "max_per_day": N}'
    body = await json_object(request, shape)
    if not isinstance(body.get("enabled"), bool):
        raise BadRequest(f"body must be {shape}", code="invalid_body")
    unknown = sorted(set(body) - {"enabled", "threshold", "amount", "max_per_day"})
    if unknown:
        raise BadRequest(f"unknown field(s): {', '.join(unknown)}", code="unknown_field")
    enabled = body["enabled"]
    today = _today(org)
    # Switched off without them, threshold and amount stay as they were: the threshold still
    # decides when the admins hear credits.low, and switching back on needs no re-entry.
    kept = {} if enabled else (await svc.credits.status(org["id"], today))["auto_recharge"]
    threshold = (
        _positive_int(body, "threshold", MAX_PURCHASE, lo=0) if enabled or "threshold" in body else kept["threshold"]
    )
    amount = _positive_int(body, "amount", MAX_PURCHASE) if enabled or "amount" in body else kept["amount"]
    per_day = _positive_int(body, "max_per_day", MAX_PER_DAY) if "max_per_day" in body else DEFAULT_MAX_PER_DAY
    await svc.credits.set_auto_recharge(org["id"], enabled, threshold, amount, per_day, today)
    return JSONResponse(await svc.credits.status(org["id"], today))


async def ledger(request: Request[State]) -> Response:
    svc, org = await admin_org(request)
    limit = int_param(request, "limit", 100, 1, 1000)
    return JSONResponse({"entries": await svc.credits.ledger(org["id"], limit)})


async def _preview_text(svc: Services, org_id: str, body: dict[str, Any]) -> str:
    """The text ``{"body"}`` or ``{"template", "data"}`` names (a template rendered, not sent)."""
    if "body" in body:
        if set(body) != {"body"} or not isinstance(body["body"], str) or len(body["body"]) > MAX_PREVIEW_CHARS:
            raise BadRequest(f"'body' must be a string of at most {MAX_PREVIEW_CHARS} characters, alone",
                             code="invalid_body")  # fmt: skip
        return str(body["body"])
    unknown = sorted(set(body) - {"template", "data"})
    if unknown:
        raise BadRequest(f"unknown field(s): {', '.join(unknown)}", code="unknown_field")
    tid = body.get("template")
    if not isinstance(tid, str) or not RECORD_ID.fullmatch(tid):
        raise BadRequest('body must be {"template": id, "data": {...}} or {"body": "text"}', code="invalid_body")
    data = body.get("data", {})
    if not isinstance(data, dict) or json_depth(data) > MAX_JSON_DEPTH:
        raise BadRequest("'data' must be an object of merge fields", code="invalid_field")
    template = await svc.templates.get(org_id, tid)
    if template is None or template.get("channel") != "sms":
        raise ApiError(f"template {tid!r} is not an SMS template", code="template_not_found", status=404)
    try:
        return await asyncio.to_thread(render, str(template["body"]), data)
    except TemplateError as exc:
        raise BadRequest(f"the template does not render: {exc}", code="template_error") from None


async def sms_preview(request: Request[State]) -> Response:
    """What an SMS would cost: its text, encoding, segments and credits; nothing is sent."""
    svc, org = await admin_org(request)
    body = await json_object(request, '{"template": id, "data": {...}} or {"body": "text"}')
    return JSONResponse(preview(await _preview_text(svc, org["id"], body)))


async def usage(request: Request[State]) -> Response:
    svc, org = await admin_org(request)
    caps = email_caps(org["plan"], int(org.get("active_users", 0)), int(org.get("mass_email_addon", 0)))
    email = await svc.email_usage.today(org["id"], org["timezone"], datetime.now(tz=UTC), caps)
    return JSONResponse({"email": email, "sms": await svc.credits.status(org["id"], _today(org))})


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
    Route("/api/v1/orgs/{org}/sms/preview", sms_preview, methods=["POST"]),
    Route("/api/v1/orgs/{org}/usage", usage, methods=["GET"]),
    Route("/api/v1/orgs/{org}/reports/email", email_report, methods=["GET"]),
]
