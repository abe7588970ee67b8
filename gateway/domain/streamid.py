"""Redis stream ids (``<ms>-<seq>``): parsing, ordering and sorted-set scores. Pure."""

from __future__ import annotations

import re

_ID = re.compile(r"([0-9]{1,15})-([0-9]{1,10})")
# Scores must stay exact in a double (53 bits): ms (~1.8e12) * 1000 + seq < 2**53.
_SEQ_SLOTS = 1000


class BadStreamId(ValueError):
    """Not a ``<ms>-<seq>`` stream id."""


def parse(value: str) -> tuple[int, int]:
    m = _ID.fullmatch(value)
    if m is None:
        raise BadStreamId(f"not a stream id: {value!r}")
    return int(m.group(1)), int(m.group(2))


def is_valid(value: object) -> bool:
    return isinstance(value, str) and _ID.fullmatch(value) is not None


def score(value: str) -> int:
    """Monotonic integer score for a stream id; exact while seq < 1000 within one ms."""
    ms, seq = parse(value)
    return ms * _SEQ_SLOTS + min(seq, _SEQ_SLOTS - 1)
