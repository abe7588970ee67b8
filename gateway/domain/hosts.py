"""Shape of a host name or IP literal given through the API (an org's SMTP server, a mailbox's
IMAP server). Pure: only the shape is checked here; nothing is resolved or connected to while a
request is answered."""

from __future__ import annotations

import ipaddress
import re

MAX_HOST = 253
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST_NAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*\.?")


def is_host(value: object) -> bool:
    """A DNS name (letters, digits, hyphens; labels of 1-63) or an IPv4/IPv6 literal."""
    if not isinstance(value, str) or not value or len(value) > MAX_HOST:
        return False
    if _HOST_NAME.fullmatch(value):
        return True
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True
