"""Reminder requests: the shape of ``POST``/``PUT .../reminders`` and the job id of one version. Pure."""

from __future__ import annotations

from typing import Any

from gateway.domain.errors import BadRequest
from gateway.domain.send_request import parse_send_at
from gateway.domain.tenancy import check_id

ACTIVITIES = ("task", "event", "call")
STATUSES = ("scheduled", "sending", "sent", "skipped", "failed", "cancelled")
MAX_TITLE = 200
_FIELDS = {"user", "activity", "title", "remind_at"}


def parse_reminder(body: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    """The fields a create (every one required, plus an optional ``id``) or an update (``title``
    and/or ``remind_at``; ``user`` and ``activity`` may be repeated) sets; 400 otherwise.
    ``remind_at`` comes back as ISO 8601 UTC."""
    allowed = _FIELDS if partial else _FIELDS | {"id"}
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise BadRequest(f"unknown field(s): {', '.join(unknown)}", code="unknown_field")
    out: dict[str, Any] = {}
    if "user" in body or not partial:
        out["user"] = check_id("user", body.get("user"))
    if "activity" in body or not partial:
        if body.get("activity") not in ACTIVITIES:
            raise BadRequest(f"'activity' must be one of {', '.join(ACTIVITIES)}", code="invalid_field")
        out["activity"] = body["activity"]
    if "title" in body or not partial:
        title = body.get("title")
        if not isinstance(title, str) or not title.strip() or len(title) > MAX_TITLE:
            raise BadRequest(f"'title' must be a non-empty string of at most {MAX_TITLE} characters",
                             code="invalid_field")  # fmt: skip
        out["title"] = title
    if "remind_at" in body or not partial:
        at = parse_send_at(body.get("remind_at"), "remind_at")
        if at is None:
            raise BadRequest("'remind_at' is required", code="invalid_field")
        out["remind_at"] = at.isoformat()
    if partial and not out:
        raise BadRequest("nothing to change: give 'title' and/or 'remind_at'", code="invalid_body")
    return out


def reminder_job_id(org: str, rid: str, version: int) -> str:
    """One arq job per version: arq refuses a job id it already holds, so a reschedule needs a new one."""
    return f"reminder:{org}:{rid}:v{version}"
