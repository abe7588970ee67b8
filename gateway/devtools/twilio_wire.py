"""Twilio's wire format, shared by the local Twilio API's resources: API version, timestamps, errors."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime

from starlette.responses import JSONResponse

API_VERSION = "2010-04-01"


def rfc2822(at: datetime) -> str:
    """Twilio's timestamp format: ``Thu, 30 Jul 2015 20:12:31 +0000``."""
    return format_datetime(at.astimezone(UTC).replace(microsecond=0))


def twilio_error(status: int, code: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return JSONResponse(body, status_code=status, headers=headers)
