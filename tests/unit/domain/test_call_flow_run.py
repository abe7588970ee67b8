"""Running a flow: the verbs of each request, where Twilio's callbacks resume, business hours."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from gateway.domain.call_flow_run import (
    BadPosition,
    Dial,
    Hangup,
    Record,
    Resume,
    Say,
    after_dial,
    is_open,
    plan,
)
from gateway.domain.call_flows import validate_flow

PHONES = {"u1": "+819011110001", "u2": "+819011110002", "u3": "+819011110003"}
GROUPS = {"sales": ["u1", "u2", "u3"]}
WEEKDAYS = [{"days": ["mon", "tue", "wed", "thu", "fri"], "from": "09:00", "to": "18:00"}]


def steps(*raw: dict[str, Any]) -> list[dict[str, Any]]:
    return list(validate_flow({"name": "f", "number": "+815012345678", "steps": list(raw)}).draft["steps"])


def phones(ring: Mapping[str, Any]) -> list[str]:
    members = GROUPS.get(ring["group"], []) if "group" in ring else ring["users"]
    return [PHONES[m] for m in members if m in PHONES]


START = Resume((0,))


def run(flow: list[dict[str, Any]], start: Resume = START, *, open_: bool = True) -> list[Any]:
    def opened(windows: Sequence[Mapping[str, Any]]) -> bool:
        return open_

    return plan(flow, start, opened=opened, phones=phones)


FLOW = steps(
    {"say": "お電話ありがとうございます。"},
    {"hours": {"open": WEEKDAYS, "closed": [{"say": "営業時間外です。"}, {"voicemail": {"user": "u1"}}]}},
    {"ring": {"group": "sales"}, "timeout": 20},
    {"voicemail": {"user": "u2", "prompt": "メッセージをどうぞ", "max_length": 60}},
)


def test_open_hours_say_then_dial_the_group_at_once() -> None:
    assert run(FLOW) == [
        Say("お電話ありがとうございます。", "ja-JP"),
        Dial((PHONES["u1"], PHONES["u2"], PHONES["u3"]), 20, Resume((3,))),
    ]


def test_after_the_ring_the_voicemail_records_and_resumes_after_it() -> None:
    assert run(FLOW, Resume((3,))) == [
        Say("メッセージをどうぞ", "ja-JP"),
        Record(60, "u2", (3,), Resume((4,))),
    ]
    assert run(FLOW, Resume((4,))) == [Hangup()]  # the end of the steps hangs up


def test_closed_hours_run_the_closed_branch_instead_of_the_rest() -> None:
    assert run(FLOW, open_=False) == [
        Say("お電話ありがとうございます。", "ja-JP"),
        Say("営業時間外です。", "ja-JP"),
        Record(120, "u1", (1, 1), Resume((1, 2))),
    ]
    # The end of the closed branch is the end of the call, not the step after hours.
    assert run(FLOW, Resume((1, 2)), open_=False) == [Hangup()]


def test_sequential_ring_dials_one_member_at_a_time_then_moves_on() -> None:
    flow = steps(
        {"ring": {"users": ["u2", "nophone", "u1"]}, "strategy": "sequential", "timeout": 10}, {"hangup": True}
    )
    assert run(flow) == [Dial((PHONES["u2"],), 10, Resume((0,), 1))]
    assert run(flow, Resume((0,), 1)) == [Dial((PHONES["u1"],), 10, Resume((0,), 2))]
    assert run(flow, Resume((0,), 2)) == [Hangup()]


def test_a_ring_with_nobody_to_ring_is_skipped() -> None:
    flow = steps({"ring": {"users": ["nophone"]}}, {"say": "誰もいません"})
    assert run(flow) == [Say("誰もいません", "ja-JP"), Hangup()]


def test_hangup_ends_the_flow_even_with_steps_after_it() -> None:
    assert run(steps({"hangup": True}, {"say": "never"})) == [Hangup()]


@pytest.mark.parametrize("path", [(), (9, 0), (0, 0), (5,)])
def test_positions_outside_the_flow(path: tuple[int, ...]) -> None:
    if path == (5,):  # past the end of a list: the end of the call
        assert run(FLOW, Resume(path)) == [Hangup()]
        return
    with pytest.raises(BadPosition):
        run(FLOW, Resume(path))


@pytest.mark.parametrize(
    ("status", "goes_on"),
    [("completed", False), ("answered", False), ("no-answer", True), ("busy", True), ("failed", True),
     ("canceled", True), (None, True)],
)  # fmt: skip
def test_after_dial(status: str | None, goes_on: bool) -> None:
    assert after_dial(status) is goes_on


@pytest.mark.parametrize(
    ("utc", "tz", "expected"),
    [
        ("2026-03-02T00:00:00", "Asia/Tokyo", True),  # Mon 09:00 in Tokyo: open (from inclusive)
        ("2026-03-01T23:59:59", "Asia/Tokyo", False),  # Mon 08:59:59
        ("2026-03-02T08:59:59", "Asia/Tokyo", True),  # Mon 17:59:59
        ("2026-03-02T09:00:00", "Asia/Tokyo", False),  # Mon 18:00: 'to' is exclusive
        ("2026-03-07T03:00:00", "Asia/Tokyo", False),  # Sat 12:00
        ("2026-03-02T03:00:00", "America/New_York", False),  # Sun 22:00 in New York
        ("2026-03-02T15:00:00", "America/New_York", True),  # Mon 10:00 in New York
        ("2026-03-02T10:00:00", "Not/AZone", True),  # unknown zone: UTC, Mon 10:00
    ],
)
def test_is_open_in_the_orgs_zone(utc: str, tz: str, expected: bool) -> None:
    now = datetime.fromisoformat(utc).replace(tzinfo=UTC)
    assert is_open(WEEKDAYS, now, tz) is expected
