"""The OpenAPI document against the app's routes and the OpenAPI 3.1 specification."""

from __future__ import annotations

import re
from typing import Any

import pytest
from openapi_spec_validator import validate
from starlette.applications import Starlette
from starlette.routing import BaseRoute

from gateway.api.openapi import openapi_document, route_operations
from gateway.api.openapi.operations import operations
from gateway.app import create_app
from gateway.config import Config
from gateway.domain.errors import BadRequest
from gateway.domain.tenancy import ORG_ID, RECORD_ID, check_id

# Documented operations no route serves yet (none: keep it that way).
PENDING: set[tuple[str, str]] = set()
OPERATOR_ONLY = {
    ("put", "/api/v1/orgs/{org}"),
    ("delete", "/api/v1/orgs/{org}"),
    ("post", "/api/v1/orgs/{org}/credits/purchase"),
}
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


@pytest.fixture(scope="module")
def routes() -> list[BaseRoute]:
    app: Any = create_app(Config(), "redis://127.0.0.1:1/0")  # no lifespan: nothing connects
    while not isinstance(app, Starlette):  # unwrap the ASGI middlewares around it
        app = app.app
    routes: list[BaseRoute] = app.routes
    return routes


@pytest.fixture(scope="module")
def document(routes: list[BaseRoute]) -> dict[str, Any]:
    return openapi_document(routes)


def _documented(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {(path, m.upper()) for path, item in document["paths"].items() for m in item if m in HTTP_METHODS}


def test_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    validate(document)
    assert document["openapi"].startswith("3.1")


def test_every_route_is_documented_with_exactly_its_methods(routes: list[BaseRoute], document: dict[str, Any]) -> None:
    served = set(route_operations(routes))
    assert served - set(operations()) == set(), "routes without an operation in gateway/api/openapi/operations.py"
    assert _documented(document) == served


def test_the_table_names_no_operation_that_no_route_serves(routes: list[BaseRoute]) -> None:
    stale = set(operations()) - set(route_operations(routes))
    assert stale <= PENDING, f"documented but not served: {sorted(stale - PENDING)}"


def test_mounted_routes_and_path_converters_are_walked(routes: list[BaseRoute]) -> None:
    served = set(route_operations(routes))
    assert ("/web/{path}", "GET") in served  # the static files mount
    assert ("/t/c/{token}", "GET") in served  # {token:path}
    assert not any("/ws" == path for path, _ in served)  # a WebSocket route is no HTTP operation


def test_every_operation_declares_exactly_its_path_parameters(document: dict[str, Any]) -> None:
    for path, item in document["paths"].items():
        names = set(re.findall(r"\{(\w+)\}", path))
        for method, op in item.items():
            declared = [p for p in op.get("parameters", []) if p["in"] == "path"]
            assert {p["name"] for p in declared} == names, (method, path)
            assert len(declared) == len(names), (method, path)
            assert all(p["required"] is True and p["schema"]["type"] == "string" for p in declared), (method, path)


@pytest.mark.parametrize(
    ("kind", "good", "bad"),
    [("org", "acme-1", "Acme"), ("org", "a" * 40, "a" * 41), ("user", "u.1@x_y-z", "u 1"), ("contact", "c" * 64, "")],
)
def test_id_patterns_are_the_validators(document: dict[str, Any], kind: str, good: str, bad: str) -> None:
    path = "/api/v1/orgs/{org}" if kind == "org" else f"/api/v1/orgs/{{org}}/{kind}s/{{{kind}}}"
    param = next(p for p in document["paths"][path]["get"]["parameters"] if p["name"] == kind)
    pattern = re.compile(param["schema"]["pattern"])
    for value, ok in ((good, True), (bad, False)):
        assert bool(pattern.search(value)) is ok
        try:
            check_id(kind, value, ORG_ID if kind == "org" else RECORD_ID)
            valid = True
        except BadRequest:
            valid = False
        assert valid is ok


def test_operations_document_their_errors_and_security(document: dict[str, Any]) -> None:
    schemes = set(document["components"]["securitySchemes"])
    assert schemes == {"operator", "user"}
    for path, item in document["paths"].items():
        for method, op in item.items():
            assert "security" in op, (method, path)
            names = {name for req in op["security"] for name in req}
            assert names <= schemes
            codes = set(op["responses"])
            for code, response in op["responses"].items():
                if code.startswith(("4", "5")) and path != "/healthz":  # /healthz answers its parts
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Error"}, (method, path, code)
            if path.startswith("/api/v1/orgs/"):  # SPEC "Org admins": all but the operator's own
                operator_only = (method, path) in OPERATOR_ONLY
                assert names == ({"operator"} if operator_only else {"operator", "user"}), (method, path)
                assert {"400", "401", "403", "404", "503"} <= codes, (method, path)
            if path.startswith("/api/v1/me"):
                assert names == {"user"}
                assert {"401", "503"} <= codes, (method, path)
            if "requestBody" in op:
                assert {"400", "413"} <= codes, (method, path)
                for media in op["requestBody"]["content"].values():
                    assert media["schema"] != {"type": "object"}, (method, path)


def test_webhooks_declare_their_signature_headers_and_form_bodies(document: dict[str, Any]) -> None:
    for path, item in document["paths"].items():
        if path.startswith("/webhooks/twilio/"):
            op = item["post"]
            headers = {p["name"]: p["required"] for p in op["parameters"] if p["in"] == "header"}
            assert headers["X-Twilio-Signature"] is True
            assert list(op["requestBody"]["content"]) == ["application/x-www-form-urlencoded"]
    events = document["paths"]["/webhooks/events/{org}"]["post"]
    names = {p["name"] for p in events["parameters"] if p["in"] == "header"}
    assert names == {"webhook-id", "webhook-timestamp", "webhook-signature"}


# SPEC "Sending": every status a notification can have, and the ledger's entry types (README "Credits").
NOTIFICATION_STATUSES = {"queued", "scheduled", "sending", "sent", "delivered", "read", "undelivered", "failed",
                         "bounced", "rejected", "cancelled"}  # fmt: skip
LEDGER_TYPES = {"purchase", "charge", "refund", "auto_recharge"}


def test_notification_statuses_and_ledger_entry_types_are_enumerated(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    notification = schemas["Notification"]["properties"]
    assert set(notification["status"]["enum"]) == NOTIFICATION_STATUSES
    assert set(notification["history"]["items"]["properties"]["status"]["enum"]) == NOTIFICATION_STATUSES
    entry = schemas["Ledger"]["properties"]["entries"]["items"]["properties"]
    assert set(entry["type"]["enum"]) == LEDGER_TYPES
