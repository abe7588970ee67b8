"""Small builders for OpenAPI objects: parameters, bodies, responses and operations.

Every id pattern comes from the validation code (``gateway.domain``), anchored for JSON Schema
(whose ``pattern`` searches, where our validators ``fullmatch``).
"""

from __future__ import annotations

import re
from typing import Any

from gateway.domain import tenancy

Schema = dict[str, Any]

ADMIN = "operator"
USER = "user"
# An org's management endpoints: the operator's token, or the user token of an admin of that org.
ORG_ADMIN = "operator or org admin"


def anchored(pattern: re.Pattern[str] | str) -> str:
    return f"^{pattern.pattern if isinstance(pattern, re.Pattern) else pattern}$"


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def id_schema(kind: str) -> Schema:
    """An id as ``check_id`` accepts it: orgs by ``ORG_ID``, everything else by ``RECORD_ID``."""
    pattern = tenancy.ORG_ID if kind == "org" else tenancy.RECORD_ID
    return {"type": "string", "pattern": anchored(pattern), "description": f"{kind} id"}


def path_param(name: str) -> Schema:
    return {"name": name, "in": "path", "required": True, "schema": id_schema(name)}


def query(name: str, schema: Schema, description: str) -> Schema:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def limit(default: int, hi: int, lo: int = 1) -> Schema:
    return query(
        "limit",
        {"type": "integer", "minimum": lo, "maximum": hi, "default": default},
        f"page size, {lo}-{hi} (default {default})",
    )


def header(name: str, description: str, *, required: bool = True) -> Schema:
    return {
        "name": name,
        "in": "header",
        "required": required,
        "schema": {"type": "string"},
        "description": description,
    }


def json_body(schema: Schema, *, required: bool = True) -> Schema:
    return {"required": required, "content": {"application/json": {"schema": schema}}}


def json_response(description: str, schema: Schema, **extra: Any) -> Schema:
    return {"description": description, "content": {"application/json": {"schema": schema}}, **extra}


def error(description: str) -> Schema:
    return json_response(description, ref("Error"))


def ok(code: str, description: str, schema_name: str) -> dict[str, Schema]:
    """A response ``code`` whose JSON body is the named component schema."""
    return {code: json_response(description, ref(schema_name))}


NO_CONTENT: dict[str, Schema] = {"204": {"description": "done; no body"}}


def obj(
    props: dict[str, Schema], required: tuple[str, ...] = (), *, closed: bool = False, min_properties: int = 0
) -> Schema:
    """An object schema: ``required`` keys, ``closed`` to refuse other keys, at least ``min_properties``."""
    out: Schema = {"type": "object", "properties": props}
    if required:
        out["required"] = list(required)
    if closed:
        out["additionalProperties"] = False
    if min_properties:
        out["minProperties"] = min_properties
    return out


# The errors every operation of a kind can answer, beside its own.
ERRORS: dict[str, str] = {
    "400": "invalid id, parameter or body (`invalid_id`, `invalid_parameter`, `invalid_body`, `invalid_field`, ...)",
    "401": "no bearer token, or a wrong or revoked one",
    "403": "a user token of a member, of another org's user, or on an operator-only endpoint (`forbidden`)",
    "404": "the org (or the record named in the path) does not exist",
    "413": "the request body is larger than [gateway] max_body_bytes",
    "503": "Redis is unavailable (or the gateway sheds load); retry later",
}


def operation(
    summary: str,
    ok: dict[str, Schema],
    *,
    security: str | None,
    errors: tuple[str, ...] = (),
    params: tuple[Schema, ...] = (),
    body: Schema | None = None,
    description: str | None = None,
    extra_errors: dict[str, str] | None = None,
) -> Schema:
    """One operation: its success responses, the errors of its kind, plus ``extra_errors``."""
    codes = list(errors)
    if security in (ADMIN, ORG_ADMIN):
        codes += ["400", "401", "403", "404"]
    elif security == USER:
        codes += ["401"]
    if body is not None:
        codes += ["400", "413"]
    codes.append("503")
    responses: dict[str, Schema] = dict(ok)
    texts = {**ERRORS, **(extra_errors or {})}
    for code in sorted({*codes, *(extra_errors or {})}):
        responses.setdefault(code, error(texts[code]))
    op: Schema = {"summary": summary, "responses": responses}
    if description:
        op["description"] = description
    if params:
        op["parameters"] = list(params)
    if body is not None:
        op["requestBody"] = body
    if security == ORG_ADMIN:
        op["security"] = [{ADMIN: []}, {USER: []}]
    else:
        op["security"] = [{security: []}] if security else []
    return op
