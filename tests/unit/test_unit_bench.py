"""Pure parts of ``signalgate bench``: percentiles, goals, HTTP/WebSocket parsing, signed payloads."""

from __future__ import annotations

import argparse
from urllib.parse import parse_qsl

import orjson
import pytest
from standardwebhooks.webhooks import Webhook
from twilio.request_validator import RequestValidator

from gateway.bench.figures import Figure
from gateway.bench.httpload import ResponseError, parse_response
from gateway.bench.options import add_bench_arguments, settings_from
from gateway.bench.payloads import DUPLICATE_EVERY, PixelHits, SignedEvents, TwilioMix
from gateway.bench.stats import latency_ms, ratio
from gateway.bench.wsclient import OP_TEXT, mask_frame, parse_frame
from gateway.domain.tracking import verify


def test_percentiles_are_nearest_rank_in_ms() -> None:
    """p50/p90/p99/max of microsecond samples, in milliseconds."""
    lat = latency_ms(list(range(1000, 101_000, 1000)))  # 1..100 ms
    assert (lat.count, lat.p50_ms, lat.p90_ms, lat.p99_ms, lat.max_ms) == (100, 50.0, 90.0, 99.0, 100.0)
    assert latency_ms([]).p99_ms is None
    assert ratio(50, 200) == 0.25 and ratio(1, 0) is None and ratio(None, 3) is None


@pytest.mark.parametrize(
    ("name", "value", "baseline", "p99", "lost", "met"),
    [
        ("ingest", 800, 1000, 20, 0, True),
        ("ingest", 600, 1000, 20, 0, False),  # below 70 % of bare
        ("ingest", 800, 1000, 30, 0, False),  # p99 over 25 ms
        ("ingest", 800, 1000, 20, 1, False),  # lost one
        ("fanout", 500, 1000, 900, 0, True),
        ("e2e_memory", 20, None, None, 0, True),
        ("generator", 1, None, None, 0, None),  # no goal
    ],
)
def test_goals(name: str, value: float, baseline: float | None, p99: float | None, lost: int, met: bool | None) -> None:
    """Each figure is held to the issue's goal; correctness always counts."""
    fig = Figure(name, value, "x", baseline=baseline, lost=lost)
    if p99 is not None:
        fig.latency = latency_ms([int(p99 * 1000)])
    assert fig.goal_met is met
    assert fig.as_json()["ratio"] == (None if baseline is None else round(value / baseline, 3))


def test_http_responses_parse_by_length_and_chunks() -> None:
    """Content-Length, chunked and bodiless answers; incomplete ones wait for more bytes."""
    plain = bytearray(b"HTTP/1.1 202 Accepted\r\ncontent-length: 5\r\n\r\nhello" + b"HTTP/1.1 204")
    assert parse_response(plain) == (202, b"hello", len(plain) - 12, False)
    assert parse_response(bytearray(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhel")) is None
    chunked = bytearray(
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
    )
    assert parse_response(chunked) == (200, b"abc", len(chunked), True)
    assert parse_response(bytearray(b"HTTP/1.1 204 No Content\r\n\r\n")) == (204, b"", 27, False)
    with pytest.raises(ResponseError):
        parse_response(bytearray(b"SSH-2.0-x\r\n\r\n"))


@pytest.mark.parametrize("size", [0, 5, 125, 126, 65535, 65536])
def test_websocket_frames_round_trip(size: int) -> None:
    """A masked client frame parses back to its payload, whatever the length encoding."""
    payload = bytes(range(256)) * (size // 256) + bytes(size % 256)
    frame = bytearray(b"xx" + mask_frame(OP_TEXT, payload))
    assert parse_frame(frame, 2) == (True, OP_TEXT, payload, len(frame))
    if size:  # one byte short: not a whole frame yet
        assert parse_frame(frame[:-1], 2) is None


def test_twilio_mix_is_signed_and_retries_repeat_exactly() -> None:
    """Every request carries a valid Twilio signature; every 10th repeats an earlier one byte for byte."""
    mix = TwilioMix("gw:80", "http://gw", "acme", "secret", ["+819010000001", "+819010000002"], 1000)
    items = [mix.build(i) for i in range(2 * DUPLICATE_EVERY)]
    assert items[DUPLICATE_EVERY - 1] == items[0]
    assert len({i.key for i in items}) == 2 * DUPLICATE_EVERY - 2
    head, _, body = items[1].data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    path = lines[0].split()[1]
    headers = dict(line.split(": ", 1) for line in lines[1:])
    params = dict(parse_qsl(body.decode()))
    assert RequestValidator("secret").validate("http://gw" + path, params, headers["X-Twilio-Signature"])
    assert int(headers["Content-Length"]) == len(body)


def test_events_and_pixels_verify_with_the_gateways_own_checks() -> None:
    """Standard Webhooks events verify with the org's secret; pixel tokens with the secret key."""
    secret = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    event = SignedEvents("gw", "acme", secret, ["c0", "c1", "c2"], 30).build(4)
    head, _, body = event.data.partition(b"\r\n\r\n")
    headers = dict(line.split(": ", 1) for line in head.decode().split("\r\n")[1:])
    Webhook(secret).verify(body, headers)
    data = orjson.loads(body)
    assert data["data"]["seq"] == 34 and data["contact"] == {"id": "c1"}  # event n is about contact n % 3
    hit = PixelHits("gw", b"key", "acme", ["c0", "c1"], 0).build(3)
    token = hit.data.split(b" ")[1].decode().removeprefix("/t/o/")
    claim = verify(b"key", token)
    assert (claim.org, claim.notification, claim.contact) == ("acme", "nb3", "c1")


def test_options_refuse_a_target_without_an_admin_token() -> None:
    """--target needs an admin token (flag or environment); scenarios run in the documented order."""
    parser = argparse.ArgumentParser()
    add_bench_arguments(parser)
    with pytest.raises(ValueError, match="admin-token"):
        settings_from(parser.parse_args(["--target", "http://gw:8000"]), {})
    s = settings_from(parser.parse_args(["--target", "http://gw:8000/", "--scenario", "pixel", "--scenario", "e2e"]),
                      {"SIGNALGATE_GATEWAY_ADMIN_TOKEN": "t"})  # fmt: skip
    assert (s.target, s.admin_token, s.scenarios, s.public_url) == (
        "http://gw:8000",
        "t",
        ("e2e", "pixel"),
        "http://gw:8000",
    )
    assert settings_from(parser.parse_args(["--clients", "5", "--clients-per-user", "2"]), {}).users == 3
