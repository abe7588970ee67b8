"""Phone numbers: E.164 normalisation with ``phonenumbers``. Pure."""

from __future__ import annotations

import phonenumbers


class InvalidPhone(ValueError):
    """Not a valid phone number for the given region."""


def to_e164(raw: str, region: str | None = None) -> str:
    """Normalise ``raw`` to E.164; national formats are read in ``region`` (ISO alpha-2)."""
    try:
        number = phonenumbers.parse(raw, region.upper() if region else None)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(f"{raw!r} is not a phone number ({exc})") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone(f"{raw!r} is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def lookup_key(raw: str) -> str:
    """Best-effort E.164 form of a number seen in a provider callback, for index lookups."""
    try:
        return to_e164(raw)
    except InvalidPhone:
        return raw.strip()
