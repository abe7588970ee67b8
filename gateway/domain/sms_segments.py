"""SMS segment counting: how many parts (and so how many credits) a message costs. Pure.

Credits are charged per segment, so this must agree with what the carrier will bill:

- Text made only of the GSM 03.38 default alphabet (3GPP TS 23.038) plus its basic extension
  table is sent as GSM-7. Extension characters (``^ { } \\ [ ~ ] | €`` and form feed) are an
  escape septet plus the character, so they count as two. One segment holds 160 septets; a
  longer message is split into parts of 153 (seven septets go to the concatenation header).
- Anything else is sent as UCS-2, counted in UTF-16 code units: 70 in one segment, 67 per part.
  Characters outside the BMP (emoji) are a surrogate pair, two units.

Splitting never cuts a character: an escape pair that would straddle a boundary moves whole to
the next part, and so does a surrogate pair. That is why parts are filled one character at a
time rather than by dividing the length, which undercounts right at the boundaries.
An empty message still costs one segment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Encoding = Literal["GSM-7", "UCS-2"]

# 3GPP TS 23.038 §6.2.1 default alphabet, in code order (0x1B, the escape, is not a character).
_GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# §6.2.1.1 basic extension table: each is sent as ESC + character, two septets.
_GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

GSM7_SINGLE = 160
GSM7_PART = 153
UCS2_SINGLE = 70
UCS2_PART = 67


@dataclass(frozen=True)
class SegmentInfo:
    """``units`` are septets (GSM-7) or UTF-16 code units (UCS-2); ``per_segment`` is the
    capacity that applied: the single-segment size when it fits, else the per-part size."""

    encoding: Encoding
    units: int
    segments: int
    per_segment: int


def encoding(text: str) -> Encoding:
    """``"GSM-7"`` when every character is in the default alphabet or its extension table."""
    if all(ch in _GSM7_BASIC or ch in _GSM7_EXTENSION for ch in text):
        return "GSM-7"
    return "UCS-2"


def _septets(ch: str) -> int:
    return 2 if ch in _GSM7_EXTENSION else 1


def _utf16_units(ch: str) -> int:
    return 2 if ord(ch) > 0xFFFF else 1


def _fill_parts(sizes: list[int], capacity: int) -> int:
    """Number of parts of ``capacity`` units needed when no character may be split."""
    parts, used = 1, 0
    for size in sizes:
        if used + size > capacity:
            parts, used = parts + 1, 0
        used += size
    return parts


def count_segments(text: str) -> SegmentInfo:
    """Encoding, size in units and number of segments that ``text`` will be billed as."""
    enc = encoding(text)
    if enc == "GSM-7":
        sizes, single, part = [_septets(ch) for ch in text], GSM7_SINGLE, GSM7_PART
    else:
        sizes, single, part = [_utf16_units(ch) for ch in text], UCS2_SINGLE, UCS2_PART
    units = sum(sizes)
    if units <= single:
        return SegmentInfo(encoding=enc, units=units, segments=1, per_segment=single)
    return SegmentInfo(encoding=enc, units=units, segments=_fill_parts(sizes, part), per_segment=part)


def preview(text: str) -> dict[str, object]:
    """What ``POST .../sms/preview`` answers for ``text``: the text, its encoding, its segments and
    the credits it costs (1 credit per segment)."""
    info = count_segments(text)
    return {"text": text, "encoding": info.encoding, "segments": info.segments, "credits": info.segments}
