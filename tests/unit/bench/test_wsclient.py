"""``gateway.bench.wsclient``: the hand-written WebSocket client's frames."""

from __future__ import annotations

import pytest

from gateway.bench.wsclient import OP_TEXT, mask_frame, parse_frame


@pytest.mark.parametrize("size", [0, 5, 125, 126, 65535, 65536])
def test_websocket_frames_round_trip(size: int) -> None:
    """A masked client frame parses back to its payload, whatever the length encoding."""
    payload = bytes(range(256)) * (size // 256) + bytes(size % 256)
    frame = bytearray(b"xx" + mask_frame(OP_TEXT, payload))
    assert parse_frame(frame, 2) == (True, OP_TEXT, payload, len(frame))
    if size:  # one byte short: not a whole frame yet
        assert parse_frame(frame[:-1], 2) is None
