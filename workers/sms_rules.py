"""Which rule refuses an SMS, if any. Pure: the org, the template and the number in, a reason out.

Reasons are the notification's public ``reason`` codes; a refused send costs nothing.
"""

from __future__ import annotations

import re
from typing import Any

from gateway.domain.sender_registration import registered

_INDIA_MOBILE = re.compile(r"\+91[0-9]{10}")


def template_reason(template: dict[str, Any] | None) -> str | None:
    if template is None or template.get("channel") != "sms" or template.get("status") != "approved":
        return "template_not_approved"
    return None


def sender_reason(org: dict[str, Any], phone: str) -> str | None:
    """India (DLT): +91 with 10 digits, and a complete sender registration (the sender's header,
    19-digit entity ID, entity name, unique ID and operator; the org's legal and brand name and
    address: :mod:`gateway.domain.sender_registration`)."""
    if org.get("country") != "IN":
        return None
    if not _INDIA_MOBILE.fullmatch(phone):
        return "invalid_phone"
    if not registered(org):
        return "sender_not_registered"
    return None


def twilio_reason(org: dict[str, Any]) -> str | None:
    tw = org.get("twilio") or {}
    if not tw.get("account_sid") or not tw.get("auth_token"):
        return "twilio_not_configured"
    if not tw.get("from_number") and not tw.get("messaging_service_sid"):
        return "twilio_not_configured"
    return None
