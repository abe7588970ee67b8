"""Call flow drafts: normalisation and every refusal naming the path of the bad value."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from gateway.domain.call_flows import InvalidFlow, Known, check_references, references, validate_flow

NUMBER = "+815012345678"
KNOWN = Known(users=frozenset({"u1", "u2"}), groups=frozenset({"sales"}), numbers=frozenset({NUMBER}))


def flow(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "代表番号",
        "number": NUMBER,
        "steps": [
            {"say": "お電話ありがとうございます。"},
            {
                "hours": {
                    "open": [{"days": ["mon", "tue", "wed", "thu", "fri"], "from": "09:00", "to": "18:00"}],
                    "closed": [{"say": "営業時間外です。"}, {"voicemail": {"user": "u1"}}],
                }
            },
            {"ring": {"group": "sales"}, "strategy": "simultaneous", "timeout": 20},
            {"voicemail": {"user": "u2", "prompt": "メッセージをどうぞ", "max_length": 60}},
            {"hangup": True},
        ],
    }
    body.update(over)
    return body


def refused(body: Any) -> InvalidFlow:
    with pytest.raises(InvalidFlow) as info:
        given = validate_flow(body)
        check_references(given.draft, KNOWN)
    assert info.value.code == "invalid_flow" and info.value.status == 400
    return info.value


def test_a_valid_flow_is_normalised_with_defaults() -> None:
    given = validate_flow(flow(enabled=True, description="本社"))
    assert given.enabled is True
    steps = given.draft["steps"]
    assert steps[0] == {"say": "お電話ありがとうございます。", "language": "ja-JP"}
    assert steps[1]["hours"]["closed"][1] == {"voicemail": {"user": "u1", "max_length": 120, "language": "ja-JP"}}
    assert steps[2] == {"ring": {"group": "sales"}, "strategy": "simultaneous", "timeout": 20}
    assert given.draft["description"] == "本社" and given.draft["number"] == NUMBER
    check_references(given.draft, KNOWN)


def test_ring_options_inside_ring_are_moved_beside_it_and_defaults_apply() -> None:
    inside = validate_flow(flow(steps=[{"ring": {"users": ["u1", "u2"], "strategy": "sequential", "timeout": 15}}]))
    assert inside.draft["steps"] == [{"ring": {"users": ["u1", "u2"]}, "strategy": "sequential", "timeout": 15}]
    default = validate_flow(flow(steps=[{"ring": {"users": ["u1"]}}]))
    assert default.draft["steps"][0] == {"ring": {"users": ["u1"]}, "strategy": "simultaneous", "timeout": 20}
    assert validate_flow(flow()).enabled is None  # absent: the switch is left as it is


def test_a_national_number_is_read_in_the_orgs_country() -> None:
    assert validate_flow(flow(number="050-1234-5678"), "JP").draft["number"] == NUMBER


def test_references_lists_every_user_and_group_with_its_path() -> None:
    steps = validate_flow(flow()).draft["steps"]
    assert list(references(steps)) == [
        ("steps[1].hours.closed[1].voicemail.user", "user", "u1"),
        ("steps[2].ring.group", "group", "sales"),
        ("steps[3].voicemail.user", "user", "u2"),
    ]


def _with_step(index: int, step: Any) -> dict[str, Any]:
    body = flow()
    body["steps"][index] = step
    return body


def _hours(**hours: Any) -> dict[str, Any]:
    body = flow()
    body["steps"][1]["hours"].update(hours)
    return body


def _window(**window: Any) -> dict[str, Any]:
    body = flow()
    base = {"days": ["mon"], "from": "09:00", "to": "18:00"}
    body["steps"][1]["hours"]["open"] = [base, dict(base, **window)]
    return body


CASES: list[tuple[str, Any, str]] = [
    ("not an object", [], "body"),
    ("unknown top-level field", flow(colour="red"), "colour"),
    ("missing name", {k: v for k, v in flow().items() if k != "name"}, "name"),
    ("blank name", flow(name="  "), "name"),
    ("description not a string", flow(description=3), "description"),
    ("missing number", {k: v for k, v in flow().items() if k != "number"}, "number"),
    ("not a phone number", flow(number="hello"), "number"),
    ("number the org does not have", flow(number="+815099998888"), "number"),
    ("enabled not a bool", flow(enabled="yes"), "enabled"),
    ("steps missing", {k: v for k, v in flow().items() if k != "steps"}, "steps"),
    ("no steps", flow(steps=[]), "steps"),
    ("steps not a list", flow(steps={"say": "x"}), "steps"),
    ("too many steps", flow(steps=[{"hangup": True}] * 51), "steps"),
    ("empty step", _with_step(2, {}), "steps[2]"),
    ("step not an object", _with_step(0, "say hello"), "steps[0]"),
    ("unknown step type", _with_step(1, {"conference": "c1"}), "steps[1]"),
    ("two step types", _with_step(1, {"say": "x", "hangup": True}), "steps[1]"),
    ("empty say", _with_step(0, {"say": ""}), "steps[0].say"),
    ("say too long", _with_step(0, {"say": "あ" * 4097}), "steps[0].say"),
    ("unknown language", _with_step(0, {"say": "x", "language": "xx-XX"}), "steps[0].language"),
    ("say with an unknown key", _with_step(0, {"say": "x", "voice": "alice"}), "steps[0].voice"),
    ("hangup false", _with_step(4, {"hangup": False}), "steps[4].hangup"),
    ("hours not an object", _with_step(1, {"hours": []}), "steps[1].hours"),
    ("hours without open", _with_step(1, {"hours": {"closed": []}}), "steps[1].hours.open"),
    ("hours with an empty open", _hours(open=[]), "steps[1].hours.open"),
    ("closed not a list", _hours(closed={"say": "x"}), "steps[1].hours.closed"),
    ("bad step in closed", _hours(closed=[{"say": "x"}, {"ring": {}}]), "steps[1].hours.closed[1].ring"),
    ("window not an object", _hours(open=["9-18"]), "steps[1].hours.open[0]"),
    ("window without days", _window(days=[]), "steps[1].hours.open[1].days"),
    ("unknown day", _window(days=["mon", "monday"]), "steps[1].hours.open[1].days[1]"),
    ("from not HH:MM", _window(**{"from": "9:00"}), "steps[1].hours.open[1].from"),
    ("from 24:00", _window(**{"from": "24:00"}), "steps[1].hours.open[1].from"),
    ("to minutes 60", _window(to="18:60"), "steps[1].hours.open[1].to"),
    ("to not a string", _window(to=1800), "steps[1].hours.open[1].to"),
    ("from after to", _window(**{"from": "18:00", "to": "09:00"}), "steps[1].hours.open[1].to"),
    ("from equals to", _window(**{"from": "09:00", "to": "09:00"}), "steps[1].hours.open[1].to"),
    ("window with an unknown key", _window(tz="UTC"), "steps[1].hours.open[1].tz"),
    ("ring not an object", _with_step(2, {"ring": "sales"}), "steps[2].ring"),
    ("ring naming nobody", _with_step(2, {"ring": {}}), "steps[2].ring"),
    ("ring naming users and group", _with_step(2, {"ring": {"users": ["u1"], "group": "sales"}}), "steps[2].ring"),
    ("ring users empty", _with_step(2, {"ring": {"users": []}}), "steps[2].ring.users"),
    ("ring user not an id", _with_step(2, {"ring": {"users": ["u1", "u 2"]}}), "steps[2].ring.users[1]"),
    ("ring user twice", _with_step(2, {"ring": {"users": ["u1", "u1"]}}), "steps[2].ring.users"),
    ("unknown ring user", _with_step(2, {"ring": {"users": ["u1", "u9"]}}), "steps[2].ring.users[1]"),
    ("unknown group", _with_step(2, {"ring": {"group": "support"}}), "steps[2].ring.group"),
    ("bad strategy", _with_step(2, {"ring": {"group": "sales"}, "strategy": "random"}), "steps[2].strategy"),
    ("timeout too short", _with_step(2, {"ring": {"group": "sales"}, "timeout": 4}), "steps[2].timeout"),
    ("timeout too long", _with_step(2, {"ring": {"group": "sales", "timeout": 601}}), "steps[2].ring.timeout"),
    ("timeout a bool", _with_step(2, {"ring": {"group": "sales"}, "timeout": True}), "steps[2].timeout"),
    (
        "timeout given twice",
        _with_step(2, {"ring": {"group": "sales", "timeout": 10}, "timeout": 10}),
        "steps[2].ring.timeout",
    ),
    ("voicemail without user", _with_step(3, {"voicemail": {}}), "steps[3].voicemail.user"),
    ("voicemail for an unknown user", _with_step(3, {"voicemail": {"user": "u9"}}), "steps[3].voicemail.user"),
    ("max_length 0", _with_step(3, {"voicemail": {"user": "u1", "max_length": 0}}), "steps[3].voicemail.max_length"),
    (
        "max_length over an hour",
        _with_step(3, {"voicemail": {"user": "u1", "max_length": 3601}}),
        "steps[3].voicemail.max_length",
    ),
    ("prompt not a string", _with_step(3, {"voicemail": {"user": "u1", "prompt": 1}}), "steps[3].voicemail.prompt"),
    ("queue not an object", _with_step(2, {"queue": "q1"}), "steps[2].queue"),
    ("queue without group", _with_step(2, {"queue": {"max_wait": 60}}), "steps[2].queue.group"),
    ("queue of an unknown group", _with_step(2, {"queue": {"group": "support"}}), "steps[2].queue.group"),
    (
        "queue max_wait too short",
        _with_step(2, {"queue": {"group": "sales", "max_wait": 9}}),
        "steps[2].queue.max_wait",
    ),
    (
        "queue max_wait over 30 minutes",
        _with_step(2, {"queue": {"group": "sales", "max_wait": 1801}}),
        "steps[2].queue.max_wait",
    ),
    ("queue timeout too short", _with_step(2, {"queue": {"group": "sales", "timeout": 4}}), "steps[2].queue.timeout"),
    (
        "queue hold music over http",
        _with_step(2, {"queue": {"group": "sales", "hold_music": "http://music.example/hold.mp3"}}),
        "steps[2].queue.hold_music",
    ),
    (
        "queue hold music not a URL",
        _with_step(2, {"queue": {"group": "sales", "hold_music": "https:// x"}}),
        "steps[2].queue.hold_music",
    ),
    ("queue with an unknown key", _with_step(2, {"queue": {"group": "sales", "moh": "x"}}), "steps[2].queue.moh"),
    ("queue message empty", _with_step(2, {"queue": {"group": "sales", "message": ""}}), "steps[2].queue.message"),
    ("queue whisper blank", _with_step(2, {"queue": {"group": "sales", "whisper": "  "}}), "steps[2].queue.whisper"),
    ("queue whisper not text", _with_step(2, {"queue": {"group": "sales", "whisper": 1}}), "steps[2].queue.whisper"),
    (
        "queue whisper too long",
        _with_step(2, {"queue": {"group": "sales", "whisper": "あ" * 301}}),
        "steps[2].queue.whisper",
    ),
    (
        "queue deep in closed for an unknown group",
        _hours(closed=[{"queue": {"group": "ghost"}}]),
        "steps[1].hours.closed[0].queue.group",
    ),
    (
        "unknown user deep in closed",
        _hours(closed=[{"voicemail": {"user": "ghost"}}]),
        "steps[1].hours.closed[0].voicemail.user",
    ),
]


@pytest.mark.parametrize(("case", "body", "path"), CASES, ids=[c[0] for c in CASES])
def test_refusals_name_the_path(case: str, body: Any, path: str) -> None:
    exc = refused(copy.deepcopy(body))
    assert exc.path == path, exc.detail
    assert exc.detail.startswith(f"{path}: ")


def test_hours_nest_at_most_four_deep() -> None:
    step: dict[str, Any] = {"say": "x"}
    for _ in range(4):
        step = {"hours": {"open": [{"days": ["mon"], "from": "09:00", "to": "10:00"}], "closed": [step]}}
    exc = refused(flow(steps=[step]))
    assert exc.path == "steps[0].hours.closed[0].hours.closed[0].hours.closed[0].hours"


def test_a_queue_step_is_normalised_and_its_group_is_a_reference() -> None:
    body = flow()
    body["steps"][2] = {"queue": {"group": "sales", "hold_music": "https://music.example/hold.mp3", "max_wait": 120}}
    steps = validate_flow(body).draft["steps"]
    assert steps[2] == {
        "queue": {
            "group": "sales",
            "hold_music": "https://music.example/hold.mp3",
            "max_wait": 120,
            "timeout": 20,
            "language": "ja-JP",
        }
    }
    assert ("steps[2].queue.group", "group", "sales") in list(references(steps))
    assert validate_flow(flow(steps=[{"queue": {"group": "sales"}}])).draft["steps"][0]["queue"]["max_wait"] == 300


def test_a_queue_step_keeps_its_own_whisper() -> None:
    whisper = "営業部へのお問い合わせです。1を押してください。"
    step = validate_flow(flow(steps=[{"queue": {"group": "sales", "whisper": whisper}}])).draft["steps"][0]
    assert step["queue"]["whisper"] == whisper
    assert "whisper" not in validate_flow(flow(steps=[{"queue": {"group": "sales"}}])).draft["steps"][0]["queue"]
