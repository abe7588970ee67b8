"""Unit tests for gateway.domain.streamid: ``<ms>-<seq>`` parsing, validation and sorted-set scores."""

from __future__ import annotations

import itertools

import pytest

from gateway.domain.streamid import BadStreamId, is_valid, parse, score

VALID = [
    ("0-0", (0, 0)),
    ("1-0", (1, 0)),
    ("1700000000000-0", (1700000000000, 0)),
    ("1700000000000-999", (1700000000000, 999)),
    ("999999999999999-9999999999", (999999999999999, 9999999999)),
    ("007-01", (7, 1)),
]

INVALID: list[object] = [
    "",
    "-",
    "1",
    "1-",
    "-1",
    "1-2-3",
    "a-0",
    "1-b",
    " 1-0",
    "1-0 ",
    "1.5-0",
    "+1-0",
    "1--1",
    "1000000000000000-0",
    "1-10000000000",
    "$",
    ">",
    "*",
    "1-*",
    "1-0\n",
    "١٧-٣",
    "１-０",
    None,
    10,
    b"1-0",
    ["1-0"],
]


@pytest.mark.parametrize(("value", "expected"), VALID)
def test_parse_valid(value: str, expected: tuple[int, int]) -> None:
    """parse splits a stream id into (ms, seq) integers."""
    assert parse(value) == expected
    assert is_valid(value)


@pytest.mark.parametrize("value", INVALID, ids=repr)
def test_invalid_ids(value: object) -> None:
    """Anything but ASCII <ms>-<seq> digits (incl. a trailing newline or non-ASCII digits) is invalid."""
    assert not is_valid(value)
    if isinstance(value, str):
        with pytest.raises(BadStreamId):
            parse(value)


def test_bad_stream_id_is_a_value_error() -> None:
    """BadStreamId subclasses ValueError."""
    assert issubclass(BadStreamId, ValueError)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0-0", 0), ("0-1", 1), ("1-0", 1000), ("1-999", 1999), ("1700000000000-5", 1700000000000005)],
)
def test_score_values(value: str, expected: int) -> None:
    """score is ms * 1000 + seq for seq < 1000."""
    assert score(value) == expected


def test_score_is_exact_in_a_double_for_realistic_ids() -> None:
    """Scores of realistic ids (ms up to year ~2255) stay exactly representable as doubles."""
    value = score("9000000000000-999")
    assert value < 2**53
    assert int(float(value)) == value


ORDERED = [
    "0-0",
    "0-1",
    "0-999",
    "1-0",
    "1-1",
    "1-500",
    "1-999",
    "2-0",
    "1699999999999-999",
    "1700000000000-0",
    "1700000000000-1",
    "1700000000000-2",
    "1700000000000-10",
    "1700000000000-100",
    "1700000000000-998",
    "1700000000000-999",
    "1700000000001-0",
    "1800000000000-0",
]


@pytest.mark.parametrize(("a", "b"), list(itertools.combinations(ORDERED, 2)))
def test_score_order_matches_stream_order(a: str, b: str) -> None:
    """For ids with seq < 1000, score(a) < score(b) exactly when (ms, seq) of a < that of b."""
    assert parse(a) < parse(b)
    assert score(a) < score(b)


def test_score_order_for_every_seq_in_one_ms() -> None:
    """Within one millisecond, seq 0..999 give strictly increasing scores."""
    scores = [score(f"1700000000000-{seq}") for seq in range(1000)]
    assert scores == sorted(scores)
    assert len(set(scores)) == 1000
    assert scores[-1] < score("1700000000001-0")


def test_score_saturates_beyond_999() -> None:
    """seq >= 1000 is clamped into the last slot of its millisecond, never into the next one."""
    assert score("5-1000") == score("5-999")
    assert score("5-99999") < score("6-0")
