"""Running a flow: the verbs of each request, where Twilio's callbacks resume, business hours."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from gateway.domain.call_flow_run import (
    BadPosition,
    Dial,
    Enqueue,
    Hangup,
    Leave,
    Pause,
    Play,
    Record,
    Resume,
    Say,
    after_dial,
    after_queue,
    is_open,
    plan,
    queue_name,
    step_at,
    waiting,
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


QUEUED = steps(
    {"say": "お電話ありがとうございます。"},
    {"queue": {"group": "sales", "max_wait": 120, "timeout": 15}},
    {"voicemail": {"user": "u2"}},
)


def test_a_queue_enqueues_the_caller_and_calls_the_groups_members() -> None:
    assert run(QUEUED) == [
        Say("お電話ありがとうございます。", "ja-JP"),
        Enqueue((PHONES["u1"], PHONES["u2"], PHONES["u3"]), 15, (1,), Resume((2,))),
    ]
    # Leaving the queue resumes at the voicemail.
    assert [type(v) for v in run(QUEUED, Resume((2,)))] == [Record]


def test_a_queue_nobody_can_answer_is_skipped() -> None:
    flow = steps({"queue": {"group": "nobody"}}, {"say": "不在です"})
    assert run(flow) == [Say("不在です", "ja-JP"), Hangup()]


@pytest.mark.parametrize(
    ("result", "goes_on"),
    [("leave", True), ("queue-full", True), ("error", True), ("system-error", True), ("bridged", False),
     ("hangup", False), ("redirected", False), ("bridging-in-process", False), (None, False)],
)  # fmt: skip
def test_after_queue(result: str | None, goes_on: bool) -> None:
    assert after_queue(result) is goes_on


def test_waiting_plays_the_hold_music_or_speaks_until_max_wait_then_leaves() -> None:
    music = {"max_wait": 60, "hold_music": "https://m.example/hold.mp3", "language": "ja-JP"}
    assert waiting(music, 0) == [Play("https://m.example/hold.mp3")]
    assert waiting(music, 59) == [Play("https://m.example/hold.mp3")]
    assert waiting(music, 60) == [Leave()]
    spoken = {"max_wait": 60, "language": "ja-JP"}
    [say, pause] = waiting(spoken, 55)
    assert isinstance(say, Say) and say.language == "ja-JP" and "お待ちください" in say.text
    assert pause == Pause(5)  # never past max_wait
    assert waiting({"max_wait": 60, "language": "en-US", "message": "Hold on"}, 0) == [
        Say("Hold on", "en-US"),
        Pause(10),
    ]
    assert waiting({"max_wait": 60, "language": "de-DE"}, 0)[0] == Say(
        "All of our staff are busy at the moment. Please stay on the line.", "de-DE"
    )


def test_queue_names_are_safe_and_one_per_call() -> None:
    name = queue_name("acme", "main", "CA1")
    assert name.isalnum() and len(name) <= 64
    assert name == queue_name("acme", "main", "CA1")
    assert len({name, queue_name("acme", "main", "CA2"), queue_name("other", "main", "CA1")}) == 3


def test_step_at() -> None:
    assert step_at(FLOW, (1, 1)) == {"voicemail": FLOW[1]["hours"]["closed"][1]["voicemail"]}
    for path in ((), (9,), (0, 0), (1, 5)):
        with pytest.raises(BadPosition):
            step_at(FLOW, path)
