"""Resolve a notification's ``to`` into an address, the contact it concerns and the user to tell."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from gateway.domain.actions import reply_phone
from gateway.domain.addresses import InvalidAddress, email_address
from gateway.domain.phones import InvalidPhone
from gateway.domain.phones import to_e164 as _to_e164
from gateway.store.sending import Opened
from gateway.store.tenancy import Tenancy

# Parsing and validating a number with phonenumbers costs more than the rest of resolving it, and
# a worker sends to the same numbers again and again: the pure result is kept (invalid ones raise
# each time, they are not cached).
to_e164 = functools.lru_cache(maxsize=8192)(_to_e164)


@dataclass(frozen=True)
class Recipient:
    address: str | None  # E.164 phone or email address; None with a reason when unusable
    contact: str | None
    user: str | None  # who gets status signals: the sender, else the contact's owner
    reason: str | None = None


async def resolve(
    tenancy: Tenancy, org: dict[str, Any], rec: dict[str, Any], channel: str, opened: Opened | None = None
) -> Recipient:
    """``opened``: the contact or user ``to`` names may already have been read with the notification."""
    kind, value = next(iter(rec["to"].items()))
    known = opened if opened is not None and opened.party_loaded else None
    sender = rec.get("sender")
    contact: dict[str, Any] | None = None
    address: str | None = None
    if kind == "contact":
        contact = known.party if known else await tenancy.get_contact(org["id"], value)
        if contact is None:
            return Recipient(None, None, sender, "unknown_recipient")
        if channel == "sms":  # the first mobile number (an SMS to a landline is lost), else the first
            address = reply_phone(contact["phones"])
        else:
            address = contact["emails"][0] if contact["emails"] else None
    elif kind == "user":
        user = known.party if known else await tenancy.get_user(org["id"], value)
        if user is None:
            return Recipient(None, None, sender, "unknown_recipient")
        address = user.get("phone") if channel == "sms" else user.get("email")
    elif kind == "phone":
        try:
            address = to_e164(value, org.get("country"))
        except InvalidPhone:
            return Recipient(None, None, sender, "invalid_phone")
        contact = await tenancy.contact_by_phone(org["id"], address)
    else:
        address = value.strip().lower()
        contact = await tenancy.contact_by_email(org["id"], address)
    if address is None:
        return Recipient(None, None, sender, "invalid_phone" if channel == "sms" else "no_email")
    if channel == "sms":
        try:
            address = to_e164(address, org.get("country"))
        except InvalidPhone:
            return Recipient(None, None, sender, "invalid_phone")
    else:
        try:
            address = email_address(address.strip())
        except InvalidAddress:
            return Recipient(None, None, sender, "invalid_email")
    cid = contact["id"] if contact else None
    return Recipient(address, cid, sender or (contact or {}).get("owner"))
