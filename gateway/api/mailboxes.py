"""Mailboxes API (read-only for now): the org's ``[[imap]]`` mailboxes and what their listeners do.

``GET /api/v1/orgs/{org}/mailboxes`` lists the mailboxes configured for the org with the state the
listener holding each one records in Redis (:mod:`gateway.store.mailboxes`): ``idle``,
``connecting``, ``auth_failed``, ``tls_failed`` or ``backoff``, the last error and the last UID.
Passwords are never shown. Creating and deleting mailboxes through the API is issue 14's.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.config import ImapConfig
from gateway.domain.mailbox import mailbox_id, mailbox_status
from gateway.domain.signals import iso_utc
from gateway.http import JSONResponse, State, admin_org


def _box_id(box: ImapConfig) -> str:
    return box.id or mailbox_id(box.org, box.host, box.port, box.username, box.folder)


def _iso(ms: int | None) -> str | None:
    return None if ms is None else iso_utc(ms)


def _public(box: ImapConfig, status: dict[str, Any]) -> dict[str, Any]:
    """What an org admin may see of a mailbox: never its password."""
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
        "state": status["state"],
        "state_since": _iso(status["state_since_ms"]),
        "last_error": status["last_error"],
        "last_error_at": _iso(status["last_error_ms"]),
        "last_uid": status["last_uid"],
        "uidvalidity": status["uidvalidity"],
    }


async def list_mailboxes(request: Request[State]) -> Response:
    svc, org = await admin_org(request)
    boxes = [box for box in svc.config.imap if box.org == org["id"]]
    found = await svc.mailboxes.statuses(org["id"], [_box_id(box) for box in boxes])
    rows = [_public(box, mailbox_status(state, cp)) for box, (state, cp) in zip(boxes, found, strict=True)]
    return JSONResponse({"mailboxes": rows})


routes = [Route("/api/v1/orgs/{org}/mailboxes", list_mailboxes, methods=["GET"])]
