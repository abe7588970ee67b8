"""Phone numbers as people read them: national format in the org's own country, else
international (``+1 415-555-0134``). Pure; cached, since the router formats one per SMS or call.
"""

from __future__ import annotations

import functools

import phonenumbers

_CACHE = 4096


@functools.lru_cache(maxsize=_CACHE)
def display(number: str, country: str | None) -> str:
    """``number`` formatted for a reader in ``country`` (ISO alpha-2); unparseable input as given."""
    raw = number.strip()
    if not raw:
        return raw
    region = country.upper() if country else None
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return raw
    if not phonenumbers.is_possible_number(parsed):
        return raw
    same_country = region is not None and phonenumbers.region_code_for_number(parsed) == region
    fmt = phonenumbers.PhoneNumberFormat.NATIONAL if same_country else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    return str(phonenumbers.format_number(parsed, fmt))
