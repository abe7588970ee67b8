"""Unit tests for gateway.domain.flow_missed: what takes a flow's call, which status decides."""

from __future__ import annotations

import pytest

from gateway.domain.flow_missed import dial_taken, flow_call_ended, voicemail_left


@pytest.mark.parametrize(
    ("status", "taken"),
    [("completed", True), ("answered", True), ("no-answer", False), ("busy", False), ("failed", False),
     ("canceled", False), ("", False), (None, False)],
)  # fmt: skip
def test_dial_taken(status: str | None, taken: bool) -> None:
    assert dial_taken(status) is taken


@pytest.mark.parametrize(
    ("params", "left"),
    [
        ({"RecordingUrl": "https://api.twilio.com/r/RE1", "RecordingDuration": "12"}, True),
        ({"RecordingUrl": "https://api.twilio.com/r/RE1"}, True),  # the Record action may omit the duration
        ({"RecordingUrl": "https://api.twilio.com/r/RE1", "RecordingStatus": "completed"}, True),
        ({"RecordingUrl": "https://api.twilio.com/r/RE1", "RecordingDuration": "0"}, False),  # silence
        ({"RecordingUrl": "https://api.twilio.com/r/RE1", "RecordingStatus": "failed"}, False),
        ({"RecordingUrl": "https://api.twilio.com/r/RE1", "RecordingStatus": "absent"}, False),
        ({"RecordingDuration": "12"}, False),
        ({}, False),
    ],
)
def test_voicemail_left(params: dict[str, str], left: bool) -> None:
    assert voicemail_left(params) is left


@pytest.mark.parametrize(
    ("params", "decides"),
    [
        ({"CallStatus": "completed", "Direction": "inbound"}, True),
        ({"CallStatus": "completed"}, True),  # no Direction: inbound, as for any missed call
        ({"CallStatus": "completed", "Direction": "outbound-api"}, False),
        ({"CallStatus": "completed", "Direction": "outbound-dial"}, False),
        ({"CallStatus": "no-answer", "Direction": "inbound"}, False),  # missed by its status alone
        ({"CallStatus": "in-progress", "Direction": "inbound"}, False),
        ({"CallStatus": "ringing"}, False),
    ],
)
def test_flow_call_ended(params: dict[str, str], decides: bool) -> None:
    assert flow_call_ended(params) is decides
