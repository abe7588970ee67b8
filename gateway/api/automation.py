"""``/api/v1/orgs/{org}/rules``: automation rules (send a message when a signal is created or stays
unread); firing them is the router's and the waker's (:mod:`gateway.routing.automation`)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.domain.automation import MAX_RULES, parse_rule
from gateway.domain.errors import ApiError, BadRequest, NotFound
from gateway.domain.signals import iso_utc
from gateway.http import JSONResponse, State, admin_org, path_id, read_json
from gateway.services import Services
from gateway.store.automation import AutomationRules


class RuleConflict(ApiError):
    status = 409
    code = "template_not_approved"


def public_rule(rec: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in rec.items() if k not in ("created_ms", "updated_ms")}
    out["created_at"] = iso_utc(int(rec["created_ms"]))
    out["updated_at"] = iso_utc(int(rec["updated_ms"]))
    return out


async def _check_action(svc: Services, org: str, action: dict[str, Any]) -> None:
    """SMS: an approved SMS template (its live version); email: an email template. A named user exists."""
    template = await svc.templates.get(org, action["template"])
    if action["channel"] == "sms":
        if template is None or template.get("channel") != "sms" or template.get("status") != "approved":
            raise RuleConflict(f"template {action['template']!r} is not an approved SMS template")
    elif template is None or template.get("channel") != "email":
        raise RuleConflict(f"template {action['template']!r} is not an email template", code="template_not_found")
    to = action["to"]
    if isinstance(to, dict) and await svc.tenancy.get_user(org, to["user"]) is None:
        raise BadRequest(f"user {to['user']!r} does not exist", code="unknown_user")


async def put_rule(request: Request[State]) -> Response:
    svc, org = await admin_org(request)
    rules = AutomationRules(svc.redis)
    rule_id = path_id(request, "rule")
    rec = parse_rule(rule_id, await read_json(request))
    await _check_action(svc, org["id"], rec["action"])
    stored = await rules.get(org["id"], rule_id)
    if stored is None and await rules.count(org["id"]) >= MAX_RULES:
        raise ApiError(f"an org has at most {MAX_RULES} rules", code="too_many_rules", status=409)
    saved = await rules.put(org["id"], rec, stored)
    svc.tenancy.forget_org(org["id"])  # this process's router sees it at once, others within a second
    return JSONResponse(public_rule(saved), status_code=200 if stored else 201)


async def list_rules(request: Request[State]) -> Response:
    svc, org = await admin_org(request)
    return JSONResponse({"rules": [public_rule(r) for r in await AutomationRules(svc.redis).list(org["id"])]})


async def get_rule(request: Request[State]) -> Response:
    svc, org = await admin_org(request)
    rec = await AutomationRules(svc.redis).get(org["id"], path_id(request, "rule"))
    if rec is None:
        raise NotFound("rule does not exist", code="rule_not_found")
    return JSONResponse(public_rule(rec))


async def delete_rule(request: Request[State]) -> Response:
    svc, org = await admin_org(request)
    if not await AutomationRules(svc.redis).delete(org["id"], path_id(request, "rule")):
        raise NotFound("rule does not exist", code="rule_not_found")
    svc.tenancy.forget_org(org["id"])
    return Response(status_code=204)


routes = [
    Route("/api/v1/orgs/{org}/rules", list_rules, methods=["GET"]),
    Route("/api/v1/orgs/{org}/rules/{rule}", put_rule, methods=["PUT"]),
    Route("/api/v1/orgs/{org}/rules/{rule}", get_rule, methods=["GET"]),
    Route("/api/v1/orgs/{org}/rules/{rule}", delete_rule, methods=["DELETE"]),
]
