"""``gateway.bench.wsclient``: the hand-written WebSocket client's frames."""

from __future__ import annotations

import time

import orjson
import pytest

from gateway.bench.wsclient import OP_TEXT, Fleet, WsClient, mask_frame, parse_frame


@pytest.mark.parametrize("size", [0, 5, 125, 126, 65535, 65536])
def test_websocket_frames_round_trip(size: int) -> None:
    """A masked client frame parses back to its payload, whatever the length encoding."""
    payload = bytes(range(256)) * (size // 256) + bytes(size % 256)
    frame = bytearray(b"xx" + mask_frame(OP_TEXT, payload))
    assert parse_frame(frame, 2) == (True, OP_TEXT, payload, len(frame))
    if size:  # one byte short: not a whole frame yet
        assert parse_frame(frame[:-1], 2) is None


async def test_a_signal_delivery_is_split_at_its_feed_write() -> None:
    """The frame's cursor (the feed entry id) carries Redis's clock at the write: each delivery's
    latency splits into POST -> feed write and feed write -> client, at millisecond resolution."""
    fleet = Fleet("127.0.0.1", 1, "/ws", False, "127.0.0.1:1")
    client = WsClient(fleet, 0, 0, "token", None)
    fleet.recording = True
    now_ms = time.time_ns() // 1_000_000
    sent_ns, written_ms = (now_ms - 30) * 1_000_000, now_ms - 10
    frame = {"type": "signal", "cursor": f"{written_ms}-0", "signal": {"data": {"seq": 7, "t": sent_ns}}}
    fleet.on_text(client, orjson.dumps(frame))
    assert fleet.deliveries == 1
    assert 20_000 <= fleet.routed_us[0] < 21_000  # 20 ms: sent 30 ms ago, written 10 ms ago
    assert 10_000 <= fleet.fanned_us[0] < 1_000_000
    assert fleet.routed_us[0] + fleet.fanned_us[0] <= fleet.latencies_us[0] + 1000
    fleet.on_text(client, orjson.dumps({**frame, "cursor": "not-an-id"}))  # no split without a stream id
    assert (fleet.deliveries, len(fleet.latencies_us), len(fleet.routed_us)) == (2, 2, 1)
