"""The OpenAPI 3.1 description served at ``/openapi.json``, built from the app's own routes.

The document is the app's routes, each looked up in the operation table
(:mod:`gateway.api.openapi.operations`): a path or method exists in the document only if a route
serves it, and every path parameter is declared from the route's path with the pattern the
validation code applies (:mod:`gateway.api.openapi.schemas`). ``tests/unit/api/test_openapi.py``
fails when a route has no operation in the table, or the table names an operation no route serves.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Iterator
from typing import Any

from starlette.routing import BaseRoute, Mount, Route

from gateway.api.openapi.build import ADMIN, USER, Schema, error, path_param
from gateway.api.openapi.operations import operations
from gateway.api.openapi.schemas import COMPONENTS

_CONVERTER = re.compile(r"\{(\w+):\w+\}")
_PARAM = re.compile(r"\{(\w+)\}")
# Methods starlette serves beside the ones a route names (HEAD with every GET).
IMPLIED = frozenset({"HEAD"})

DESCRIPTION = (
    "Self-hosted real-time notification gateway.\n\n"
    "Errors are JSON `{error, detail}`: a machine code and a sentence. A method a path does not serve "
    "answers 405 with an `Allow` header naming the methods it does.\n\n"
    'Live signals over WebSocket at `/ws`: send `{"type":"hello","token":...,"after":<cursor>}` within '
    "10 s; frames welcome, signal (with cursor), live, gap, unread, pong. Close codes: 1001 going away, "
    "1008 malformed frame, 1013 slow consumer / retry, 4401 bad or revoked token, 4408 no hello."
)


def route_operations(routes: Iterable[BaseRoute], prefix: str = "") -> Iterator[tuple[str, str]]:
    """(OpenAPI path, method) of every HTTP operation the routes serve, mounted ones included.

    A mounted app without routes (the static files) serves GET on ``<mount>/{path}``.
    """
    for route in routes:
        if isinstance(route, Route):
            path = _CONVERTER.sub(r"{\1}", prefix + route.path)
            for method in sorted((route.methods or {"GET"}) - IMPLIED):
                yield path, method
        elif isinstance(route, Mount):
            if route.routes:
                yield from route_operations(route.routes, prefix + route.path)
            else:
                yield prefix + route.path + "/{path}", "GET"


def _with_path_params(path: str, op: Schema) -> Schema:
    op = copy.deepcopy(op)
    params: list[Schema] = op.get("parameters", [])
    declared = {p["name"] for p in params if p["in"] == "path"}
    missing = [path_param(name) for name in _PARAM.findall(path) if name not in declared]
    if missing or params:
        op["parameters"] = missing + params
    return op


def openapi_document(routes: Iterable[BaseRoute]) -> dict[str, Any]:
    """The document for an app serving ``routes``."""
    table = operations()
    paths: dict[str, dict[str, Schema]] = {}
    for path, method in route_operations(routes):
        if (path, method) in table:
            paths.setdefault(path, {})[method.lower()] = _with_path_params(path, table[path, method])
    return {
        "openapi": "3.1.0",
        "info": {"title": "signalgate", "version": "0.1.0", "description": DESCRIPTION},
        "paths": paths,
        "components": {
            "securitySchemes": {
                ADMIN: {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "the operator's token ([gateway] admin_token) for the management API",
                },
                USER: {
                    "type": "http",
                    "scheme": "bearer",
                    "description": (
                        "a user token (sgu.<org>.<secret>) for /api/v1/me and /ws; an admin user's token also "
                        "for its own org's /api/v1/orgs/{org}/... except the operator-only operations"
                    ),
                },
            },
            "schemas": COMPONENTS,
            "responses": {
                "MethodNotAllowed": {
                    **error("the path exists but does not serve this method"),
                    "headers": {"Allow": {"schema": {"type": "string"}, "description": "the methods the path serves"}},
                }
            },
        },
    }
