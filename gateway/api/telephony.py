"""What the telephony endpoints share: the org's Twilio account, our webhook URLs, Twilio's
failures as API errors, and users' ``telephony`` settings (validated against the org's numbers)."""

from __future__ import annotations

from typing import Any

from gateway.domain.errors import ApiError
from gateway.domain.telephony import merge_telephony
from gateway.services import Services
from gateway.twilio_rest import TwilioFailure


def twilio_account(svc: Services, org: dict[str, Any]) -> tuple[str, str]:
    """The org's Twilio ``(account_sid, auth_token)`` (the token opened: it is stored sealed); 409
    ``twilio_not_configured`` without them, or when the stored token no longer opens."""
    tw = org.get("twilio") or {}
    if not tw.get("account_sid") or not tw.get("auth_token"):
        raise ApiError(
            "the org has no Twilio account_sid and auth_token (PUT the org with 'twilio')",
            code="twilio_not_configured",
            status=409,
        )
    account = svc.vault.twilio_account(org)
    if account is None:
        raise ApiError(
            "the org's stored Twilio auth_token cannot be opened with this gateway's secret key "
            "(was it changed?): PUT the org with 'twilio.auth_token' again",
            code="twilio_not_configured",
            status=409,
        )
    return account


def webhook_url(svc: Services, org: str, kind: str) -> str:
    """``<public_url>/webhooks/twilio/<org>/<kind>``: what Twilio calls (and signs) for this org."""
    return f"{svc.config.gateway.public_url.rstrip('/')}/webhooks/twilio/{org}/{kind}"


def twilio_error(exc: TwilioFailure) -> ApiError:
    """Twilio's refusal as our error: its 4xx stay client errors, the rest is 502 (Twilio, not you)."""
    said = f"Twilio answered {exc.status} (code {exc.code}): {exc.message}"
    if exc.status is None:
        return ApiError(exc.message, code="twilio_unavailable", status=502)
    if exc.status in (401, 403):
        return ApiError(f"{said}; check the org's Twilio credentials", code="twilio_auth_failed", status=502)
    if exc.status == 404:
        return ApiError(said, code="twilio_not_found", status=404)
    if 400 <= exc.status < 500 and exc.status != 429:
        return ApiError(said, code="twilio_refused", status=400)
    return ApiError(said, code="twilio_unavailable", status=502)


async def telephony_settings(
    svc: Services, org: str, body: Any, stored: dict[str, Any] | None
) -> dict[str, Any] | None:
    """Take ``telephony`` out of a ``PUT .../users/{user}`` body and validate it (None when absent)."""
    if not isinstance(body, dict) or "telephony" not in body:
        return None
    numbers = {n["phone_number"] for n in await svc.numbers.list_numbers(org)}
    return merge_telephony(body.pop("telephony"), (stored or {}).get("telephony"), numbers)
