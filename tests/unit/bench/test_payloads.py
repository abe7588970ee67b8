"""``gateway.bench.payloads``: signed requests that the gateway's own checks accept."""

from __future__ import annotations

from urllib.parse import parse_qsl

import orjson
from standardwebhooks.webhooks import Webhook
from twilio.request_validator import RequestValidator

from gateway.bench.payloads import DUPLICATE_EVERY, OrgsEvents, PixelHits, SignedEvents, TwilioMix, builder_from_spec
from gateway.domain.tracking import verify


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


def test_org_events_spread_over_orgs_each_signed_with_its_own_secret() -> None:
    """Event n goes to org n % k about that org's contact (n // k) % len, verifying with that org's secret."""
    secrets = ["whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY"]
    orgs = [
        {"org": "acme", "webhook_secret": secrets[0], "contacts": ["a0", "a1"]},
        {"org": "beta", "webhook_secret": secrets[1], "contacts": ["b0", "b1", "b2"]},
    ]
    builder = builder_from_spec({"kind": "org_events", "host": "gw", "orgs": orgs, "seq_base": 10})
    assert isinstance(builder, OrgsEvents)
    seen = []
    for i in range(4):  # n = 10, 11, 12, 13
        head, _, body = builder.build(i).data.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        headers = dict(line.split(": ", 1) for line in lines[1:])
        org = lines[0].split()[1].rsplit("/", 1)[1]
        Webhook(secrets[0 if org == "acme" else 1]).verify(body, headers)
        data = orjson.loads(body)
        seen.append((org, data["contact"]["id"], data["data"]["seq"]))
    assert seen == [("acme", "a1", 10), ("beta", "b2", 11), ("acme", "a0", 12), ("beta", "b0", 13)]
