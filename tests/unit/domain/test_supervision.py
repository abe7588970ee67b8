"""Unit tests for gateway.domain.supervision: reply codes, backoff, part states and the /healthz answer."""

from __future__ import annotations

import pytest

from gateway.domain.supervision import Backoff, describe, health_report, part_state, reply_code


@pytest.mark.parametrize(
    ("message", "code"),
    [
        ("UNBLOCKED the stream key no longer exists", "UNBLOCKED"),
        ("NOGROUP No such key 'sg:{p3}:events' or consumer group 'routers'", "NOGROUP"),
        ("BUSY Redis is busy running a script.", "BUSY"),
        ("BUSYGROUP Consumer Group name already exists", "BUSYGROUP"),
        ("wrong number of arguments", ""),
        ("", ""),
        ("ERR2 odd", ""),
    ],
)
def test_reply_code(message: str, code: str) -> None:
    """The code is the reply's first word when it is one: upper-case letters only."""
    assert reply_code(message) == code


@pytest.mark.parametrize(
    ("attempt", "rand", "delay"),
    [(0, 0.0, 0.05), (0, 1.0, 0.1), (1, 0.0, 0.1), (3, 1.0, 0.8), (5, 1.0, 2.0), (60, 0.0, 1.0), (-1, 1.0, 0.1)],
)
def test_backoff_doubles_up_to_its_cap_with_jitter(attempt: int, rand: float, delay: float) -> None:
    """initial * 2**attempt, capped, then jittered into [base/2, base]."""
    assert Backoff(initial=0.1, cap=2.0).delay(attempt, rand) == pytest.approx(delay)


@pytest.mark.parametrize(
    ("units", "state"),
    [
        ({}, "ok"),
        ({"": "ok"}, "ok"),
        (
            {"p0": "ok", "p1": "restarting: ConnectionError: x", "p2": "error: KeyError: 'a'"},
            "restarting: ConnectionError: x",
        ),
        ({"p0": "ok", "p9": "error: bug"}, "error: bug"),
    ],
)
def test_part_state_is_the_first_unit_not_ok(units: dict[str, str], state: str) -> None:
    """A part is ok only when every unit is; otherwise it shows a failing unit's state."""
    assert part_state(units) == state


def test_health_report() -> None:
    """200 "ok" when every part is ok; 503 "degraded" naming the failing part otherwise."""
    assert health_report({"redis": "ok", "router": "ok"}) == (
        200,
        {"status": "ok", "parts": {"redis": "ok", "router": "ok"}},
    )
    status, body = health_report({"redis": "down", "router": "ok"})
    assert (status, body) == (503, {"status": "degraded", "parts": {"redis": "down", "router": "ok"}})


def test_describe_is_one_short_line() -> None:
    """A state never carries a traceback or a newline, and stays short."""
    assert describe(KeyError("a")) == "KeyError: 'a'"
    long = describe(ValueError("x\n" * 200))
    assert "\n" not in long and len(long) == 160 and long.endswith("…")
