"""Mailboxes API: the org's IMAP mailboxes — ``[[imap]]`` entries of the config and mailboxes added
through the API — and what their listeners do.

- ``GET /api/v1/orgs/{org}/mailboxes`` lists both (``source``: ``config`` or ``api``) with the state
  the listener holding each one records in Redis (:mod:`gateway.store.mailboxes`): ``idle``,
  ``connecting``, ``auth_failed``, ``tls_failed`` or ``backoff``, the last error and the last UID.
- ``POST .../mailboxes`` adds one (201 with its id). Only its shape is checked here; nothing is
  connected to while the request is answered. A host that is a non-public address is 400 unless
  ``[mailboxes] allow_private_hosts``; a name is checked by the listener when it resolves it. Every
  IMAP process follows the list (:mod:`gateway.ingest.imap.watch`) and one of them starts listening
  within seconds.
- ``GET .../mailboxes/{id}`` one of them; ``DELETE .../mailboxes/{id}`` stops an API mailbox (204); a
  config mailbox cannot be deleted here (409 ``config_mailbox``).
- ``PATCH .../mailboxes/{id}`` changes an API mailbox in place (a new password, folder, server …),
  checked as a POST of the result would be; its id stays, and so does its checkpoint unless the
  mailbox moved to another UID space (:func:`gateway.domain.mailbox.patch_mailbox`). Its listener
  restarts with the new settings within seconds, like an added one starts.

Passwords are never shown.
"""

from __future__ import annotations

import os
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.config import ImapConfig
from gateway.domain.clock import now_ms
from gateway.domain.errors import ApiError, BadRequest, NotFound
from gateway.domain.mailbox import (
    MAX_API_MAILBOXES,
    mailbox_id,
    mailbox_status,
    new_mailbox_id,
    patch_mailbox,
    public_mailbox,
    validate_mailbox,
)
from gateway.domain.signals import iso_utc
from gateway.http import JSONResponse, State, admin_org, path_id, read_json
from gateway.services import Services


class Conflict(ApiError):
    status = 409
    code = "conflict"


def _box_id(box: ImapConfig) -> str:
    return box.id or mailbox_id(box.org, box.host, box.port, box.username, box.folder)


def _iso(ms: int | None) -> str | None:
    return None if ms is None else iso_utc(ms)


def _config_public(box: ImapConfig) -> dict[str, Any]:
    """What an org admin may see of a configured mailbox: never its password."""
    return {
        "id": _box_id(box),
        "user": box.user,
        "host": box.host,
        "port": box.port,
        "tls": box.tls,
        "username": box.username,
        "folder": box.folder,
        "mode": box.mode,
        "source": "config",
        "password_set": bool(box.password),
    }


def _with_status(public: dict[str, Any], status: dict[str, Any]) -> dict[str, Any]:
    return {
        **public,
        "state": status["state"],
        "state_since": _iso(status["state_since_ms"]),
        "last_error": status["last_error"],
        "last_error_at": _iso(status["last_error_ms"]),
        "last_uid": status["last_uid"],
        "uidvalidity": status["uidvalidity"],
    }


async def _rows(svc: Services, org_id: str, public: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found = await svc.mailboxes.statuses(org_id, [box["id"] for box in public])
    return [_with_status(box, mailbox_status(state, cp)) for box, (state, cp) in zip(public, found, strict=True)]


def _configured(svc: Services, org_id: str) -> list[dict[str, Any]]:
    return [_config_public(box) for box in svc.config.imap if box.org == org_id]


async def list_mailboxes(request: Request[State]) -> Response:
    svc, org = await admin_org(request)
    api = [public_mailbox(rec) for rec in await svc.mailboxes.api_records(org["id"])]
    return JSONResponse({"mailboxes": await _rows(svc, org["id"], _configured(svc, org["id"]) + api)})


async def add_mailbox(request: Request[State]) -> Response:
    svc, org = await admin_org(request)
    body = await read_json(request)
    allow_private = svc.config.mailboxes.allow_private_hosts
    rec = validate_mailbox(org["id"], new_mailbox_id(os.urandom(8).hex()), body, now_ms(), allow_private=allow_private)
    if await svc.tenancy.get_user(org["id"], rec["user"]) is None:
        raise BadRequest(f"'user' {rec['user']!r} is not a user of the org", code="unknown_user")
    if not await svc.mailboxes.add_api(rec, MAX_API_MAILBOXES):
        raise Conflict(f"the org already has {MAX_API_MAILBOXES} mailboxes", code="mailbox_limit")
    (row,) = await _rows(svc, org["id"], [public_mailbox(rec)])
    return JSONResponse(row, status_code=201)


async def get_mailbox(request: Request[State]) -> Response:
    svc, org = await admin_org(request)
    wanted = path_id(request, "mailbox")
    rec = await svc.mailboxes.get_api(org["id"], wanted)
    if rec is not None:
        public = public_mailbox(rec)
    else:
        public = next((box for box in _configured(svc, org["id"]) if box["id"] == wanted), {})
        if not public:
            raise NotFound("mailbox does not exist", code="mailbox_not_found")
    (row,) = await _rows(svc, org["id"], [public])
    return JSONResponse(row)


async def change_mailbox(request: Request[State]) -> Response:
    svc, org = await admin_org(request)
    wanted = path_id(request, "mailbox")
    body = await read_json(request)
    allow_private = svc.config.mailboxes.allow_private_hosts
    rec = await svc.mailboxes.get_api(org["id"], wanted)
    if rec is None:
        if any(box["id"] == wanted for box in _configured(svc, org["id"])):
            raise Conflict(
                "a mailbox of the config ([[imap]]) is changed in the config, not here", code="config_mailbox"
            )
        raise NotFound("mailbox does not exist", code="mailbox_not_found")
    patch_mailbox(rec, body, allow_private=allow_private)  # a bad body is 400 before anything else
    if isinstance(body, dict) and "user" in body and await svc.tenancy.get_user(org["id"], body["user"]) is None:
        raise BadRequest(f"'user' {body['user']!r} is not a user of the org", code="unknown_user")
    changed = await svc.mailboxes.update_api(
        org["id"], wanted, lambda stored: patch_mailbox(stored, body, allow_private=allow_private)
    )
    if changed is None:  # deleted meanwhile
        raise NotFound("mailbox does not exist", code="mailbox_not_found")
    (row,) = await _rows(svc, org["id"], [public_mailbox(changed)])
    return JSONResponse(row)


async def delete_mailbox(request: Request[State]) -> Response:
    svc, org = await admin_org(request)
    wanted = path_id(request, "mailbox")
    if await svc.mailboxes.remove_api(org["id"], wanted):
        return Response(status_code=204)
    if any(box["id"] == wanted for box in _configured(svc, org["id"])):
        raise Conflict("a mailbox of the config ([[imap]]) is removed from the config, not here", code="config_mailbox")
    raise NotFound("mailbox does not exist", code="mailbox_not_found")


routes = [
    Route("/api/v1/orgs/{org}/mailboxes", list_mailboxes, methods=["GET"]),
    Route("/api/v1/orgs/{org}/mailboxes", add_mailbox, methods=["POST"]),
    Route("/api/v1/orgs/{org}/mailboxes/{mailbox}", get_mailbox, methods=["GET"]),
    Route("/api/v1/orgs/{org}/mailboxes/{mailbox}", change_mailbox, methods=["PATCH"]),
    Route("/api/v1/orgs/{org}/mailboxes/{mailbox}", delete_mailbox, methods=["DELETE"]),
]
