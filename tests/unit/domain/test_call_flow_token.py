"""Call flow tokens: round trip, and no forged, altered or foreign token is accepted."""

from __future__ import annotations

import pytest

from gateway.domain import tracking
from gateway.domain.call_flow_run import Resume
from gateway.domain.call_flow_token import _KINDS, BadFlowToken, FlowClaim, sign, verify

KEY = b"k" * 32
CLAIM = FlowClaim("recording", "acme", "main", 3, "CA123", Resume((1, 2), 0), user="u1", caller="+819012345678")


def test_round_trip() -> None:
    assert verify(KEY, sign(KEY, CLAIM)) == CLAIM
    dial = FlowClaim("dial", "acme", "main", 1, "CA1", Resume((2,), 1))
    assert verify(KEY, sign(KEY, dial)) == dial
    for kind in ("queue", "wait", "agent"):
        claim = FlowClaim(kind, "acme", "main", 2, "CA9", Resume((1, 0)))
        assert verify(KEY, sign(KEY, claim)) == claim


def test_another_key_or_an_altered_payload_is_refused() -> None:
    token = sign(KEY, CLAIM)
    with pytest.raises(BadFlowToken):
        verify(b"x" * 32, token)
    other = sign(KEY, FlowClaim("dial", "other", "main", 3, "CA123", Resume((1, 2))))
    spliced = other.split(".")[0] + "." + token.split(".")[1]
    with pytest.raises(BadFlowToken):
        verify(KEY, spliced)


@pytest.mark.parametrize("token", ["", "abc", "a.b.c", "x" * 3000, "e30.AAAA"])
def test_malformed_tokens(token: str) -> None:
    with pytest.raises(BadFlowToken):
        verify(KEY, token)


def test_a_tracking_token_under_the_same_key_is_not_a_flow_token() -> None:
    track = tracking.sign(KEY, tracking.TrackingClaim("acme", "n1", None))
    with pytest.raises(BadFlowToken):
        verify(KEY, track)


def test_an_accept_token_carries_the_member_call_and_old_kinds_keep_their_numbers() -> None:
    accept = FlowClaim("accept", "acme", "main", 2, "CA9", Resume((1,)), leg="CAmember")
    assert verify(KEY, sign(KEY, accept)) == accept
    assert verify(KEY, sign(KEY, FlowClaim("agent", "acme", "main", 2, "CA9", Resume((1,))))).leg is None
    # A kind is its index in every token already handed to Twilio: new kinds only at the end.
    assert _KINDS[:6] == ("dial", "record", "recording", "queue", "wait", "agent") and _KINDS[6] == "accept"
