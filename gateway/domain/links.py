"""Links a signal carries: the contact's CRM record from the org's ``record_url_template``. Pure.

SPEC: an http(s) URL with placeholders only among ``{org}``, ``{kind}``, ``{contact_id}``, e.g.
``https://crm.example.jp/{kind}s/{contact_id}``; anything else is refused when the org is saved,
so filling a stored template at routing time cannot fail.
"""

from __future__ import annotations

import string
from typing import Any
from urllib.parse import quote, urlsplit

from gateway.domain.errors import BadRequest

PLACEHOLDERS = ("org", "kind", "contact_id")
MAX_TEMPLATE = 500  # a URL, not a document: bounds what every signal of the org carries
_SCHEMES = ("http", "https")
_FORMATTER = string.Formatter()


def _invalid(why: str) -> BadRequest:
    return BadRequest(f"'record_url_template' {why}", code="invalid_field")


def check_record_url_template(value: Any) -> str | None:
    """``value`` once it is a valid template (None clears it), else 400 ``invalid_field``."""
    if value is None:
        return None
    if not isinstance(value, str) or not 0 < len(value) <= MAX_TEMPLATE:
        raise _invalid(f"must be a URL string of 1 to {MAX_TEMPLATE} characters")
    if any(c.isspace() or not c.isprintable() for c in value):
        raise _invalid("must not contain spaces or control characters")
    try:
        fields = [(name, spec, conv) for _, name, spec, conv in _FORMATTER.parse(value) if name is not None]
    except ValueError as exc:  # a lone brace
        raise _invalid(f"has a malformed placeholder ({exc}); write a literal brace as {{{{ or }}}}") from None
    for name, spec, conv in fields:
        if name not in PLACEHOLDERS:
            allowed = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
            raise _invalid(f"has the placeholder {{{name}}}; only {allowed} are allowed")
        if spec or conv:
            raise _invalid(f"placeholders take no conversion or format: write {{{name}}}")
    try:
        parts = urlsplit(value)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        raise _invalid("is not a valid URL") from None
    if parts.scheme.lower() not in _SCHEMES or not parts.netloc:
        raise _invalid("must be an http:// or https:// URL with a host")
    return value


def record_url(template: str, org: str, kind: str, contact_id: str) -> str:
    """The template (already checked) with each placeholder replaced by its URL-quoted value."""
    return template.format(org=quote(org, safe=""), kind=quote(kind, safe=""), contact_id=quote(contact_id, safe=""))


def signal_links(org: dict[str, Any], contact: dict[str, Any] | None) -> dict[str, str] | None:
    """``{"record": url}`` for a signal about ``contact`` when the org has a template, else None."""
    template = org.get("record_url_template")
    if not template or contact is None:
        return None
    return {"record": record_url(template, str(org["id"]), str(contact.get("kind", "")), str(contact["id"]))}
