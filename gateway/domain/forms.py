"""``application/x-www-form-urlencoded`` bodies, parsed the way starlette's ``request.form()`` does. Pure.

Same result and same limits as starlette's ``FormParser`` (python-multipart): fields split on
``&`` (empty ones skipped), a field without ``=`` has the value ``""``, names and values decoded
from Latin-1 then ``unquote_plus`` (UTF-8, undecodable escapes replaced), the last value of a
repeated name wins in the dict, more than ``max_fields`` fields or a field over 1 MiB is refused
with starlette's own message. ``urllib.parse.parse_qsl`` does the work in one C-backed pass,
~1.6× faster than the callback parser (``tests/unit/domain/test_forms.py`` compares the two).
"""

from __future__ import annotations

from urllib.parse import parse_qsl

# starlette's FormParser max_part_size default: one field's name + value, in raw bytes.
MAX_FIELD_BYTES = 1024 * 1024


class FormError(ValueError):
    """Over a limit; ``str(exc)`` is starlette's message for it."""


def _check_limits(text: str, max_fields: int) -> None:
    fields = 0
    for chunk in text.split("&"):
        if not chunk:
            continue
        if len(chunk) - ("=" in chunk) > MAX_FIELD_BYTES:
            raise FormError(f"Field exceeded maximum size of {MAX_FIELD_BYTES // 1024}KB.")
        fields += 1
        if fields > max_fields:
            raise FormError(f"Too many fields. Maximum number of fields is {max_fields}.")


def parse_urlencoded(body: bytes, max_fields: int) -> dict[str, str]:
    """The fields of ``body`` (last value per name); :class:`FormError` over a limit."""
    text = body.decode("latin-1")
    if len(text) > MAX_FIELD_BYTES or text.count("&") >= max_fields:
        _check_limits(text, max_fields)  # only bodies that could be over a limit pay for the scan
    return dict(parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="replace"))
