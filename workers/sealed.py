"""The org's provider secrets as the providers need them: opened (they are stored sealed,
:mod:`gateway.domain.sealing`). The org record may be a shared cached one: never changed, copied.

A secret that does not open (the gateway's secret key changed) has been logged once by the vault,
naming the org and the field; the send then fails visibly instead of crashing the job: an SMS is
rejected ``twilio_not_configured``, an email fails like an unreachable SMTP server (retried: the
right key may come back), never as a bounce."""

from __future__ import annotations

from typing import Any

from gateway.domain.sealing import SMTP_PASSWORD, TWILIO_AUTH_TOKEN
from workers.deps import Deps


def with_twilio_token(deps: Deps, org: dict[str, Any]) -> dict[str, Any]:
    """``org`` with its Twilio auth token opened; without one when it does not open."""
    tw = org.get("twilio")
    if not isinstance(tw, dict) or not tw.get("auth_token"):
        return org
    token = deps.services.vault.reveal(str(org["id"]), TWILIO_AUTH_TOKEN, str(tw["auth_token"]))
    opened = {k: v for k, v in tw.items() if k != "auth_token"} | ({"auth_token": token} if token else {})
    return org | {"twilio": opened}


def smtp_password(deps: Deps, org: dict[str, Any]) -> str | None:
    """The org's own SMTP password opened ("" when it has none); None when it does not open."""
    smtp = org.get("smtp")
    stored = smtp.get("password") if isinstance(smtp, dict) else None
    if not stored:
        return ""
    return deps.services.vault.reveal(str(org["id"]), SMTP_PASSWORD, str(stored))
