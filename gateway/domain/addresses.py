"""Email recipient addresses: one RFC 5322 addr-spec per field, parsed by the standard library. Pure.

A recipient ends up in the ``To`` header and the SMTP ``RCPT TO``: a value with CR/LF, a second
address, a display name or any control character must be refused at submission (400), never
discovered by the worker while it builds the message.
"""

from __future__ import annotations

import re
from email.errors import MessageError
from email.headerregistry import Address

# RFC 5321 §4.5.3.1.3: a path is at most 256 octets, so an address at most 254.
MAX_ADDRESS = 254
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


class InvalidAddress(ValueError):
    """Not exactly one RFC 5322 address; the message says why."""


def email_address(value: str) -> str:
    """``value`` as one addr-spec (``local@domain``), or :class:`InvalidAddress`."""
    if not value or len(value) > MAX_ADDRESS:
        raise InvalidAddress(f"an email address has 3 to {MAX_ADDRESS} characters")
    if _CONTROL.search(value):
        raise InvalidAddress("an email address cannot contain line breaks or control characters")
    try:
        parsed = Address(addr_spec=value)
    except (ValueError, IndexError, TypeError, MessageError) as exc:
        raise InvalidAddress(f"not an email address ({exc})") from None
    if parsed.addr_spec != value or not parsed.username or not parsed.domain:
        raise InvalidAddress("exactly one address, like name@example.com, without a display name")
    return value
