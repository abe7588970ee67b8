"""The sending identity of one email (From, Reply-To, the SMTP server): the rules are in
:mod:`gateway.domain.identity`; this reads the user the mail is sent for and applies them."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

from gateway.domain.identity import Identity, choose_identity
from workers.deps import Deps
from workers.providers.smtp import MailError, SmtpTarget
from workers.sealed import smtp_password


async def sender_identity(deps: Deps, org: dict[str, Any], rec: dict[str, Any]) -> Identity:
    """From / Reply-To of a notification: for its ``sender`` user when it has one, else the org's."""
    user = None
    if rec.get("sender"):
        user = await deps.services.tenancy.get_user(org["id"], str(rec["sender"]))
    return choose_identity(org, user, deps.services.config.smtp.from_address)


def smtp_target(deps: Deps, org: dict[str, Any]) -> SmtpTarget | None:
    """The org's own SMTP server, or None for the config's (connections are pooled per target).

    Its password is stored sealed: when it does not open, a temporary :class:`MailError` (the
    send is retried, then fails ``smtp_unavailable``; the vault logged the org and field)."""
    if not org.get("smtp"):
        return None
    password = smtp_password(deps, org)
    if password is None:
        raise MailError("the org's SMTP password cannot be opened with this secret key", code=None, permanent=False)
    return SmtpTarget.of(deps.services.config.smtp, org["smtp"] | {"password": password})


def add_reply_to(message: EmailMessage, identity: Identity) -> None:
    if identity.reply_to:
        message["Reply-To"] = identity.reply_to
