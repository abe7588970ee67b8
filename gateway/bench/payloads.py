"""Raw HTTP requests the load generator sends: signed Twilio callbacks, tracking hits, signed events.

Every builder is deterministic in the request number ``i`` (apart from the send time embedded in
events), so a retry can be rebuilt byte for byte and the orchestrator can tell, from a sequence
number alone, which contact (and so which user) an event was about. Each request carries a
``key``: the identity the gateway must accept exactly once (Twilio's idempotency token, the
tracking notification, the Standard Webhooks ``webhook-id``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import urlencode

import orjson
from standardwebhooks.webhooks import Webhook
from twilio.request_validator import RequestValidator

from gateway.domain.tracking import TrackingClaim, sign

# Every 10th Twilio request is a provider retry of the one 9 before it (same idempotency token).
DUPLICATE_EVERY = 10
TWILIO_KINDS = ("sms", "sms-status", "voice-status")
# The signal each Twilio callback in the mix makes (a retry makes none).
TWILIO_SIGNAL_TYPES = ("sms.received", "sms.delivered", "call.missed")
EVENT_TYPE = "survey.answered"
OUR_NUMBER = "+815012345678"
_ACCOUNT = "AC" + "b" * 32


@dataclass(frozen=True, slots=True)
class Item:
    data: bytes  # the whole HTTP/1.1 request
    key: str  # what the gateway must accept exactly once
    seq: int


class Builder(Protocol):
    def build(self, i: int) -> Item: ...


def http_request(method: str, path: str, host: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if body or method != "GET":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def twilio_params(kind: str, n: int, phone: str) -> dict[str, str]:
    """Form fields as Twilio sends them for one callback of ``kind`` (request number ``n``)."""
    if kind == "sms":
        sid = f"SM1{n:031x}"
        return {
            "MessageSid": sid,
            "SmsSid": sid,
            "AccountSid": _ACCOUNT,
            "From": phone,
            "To": OUR_NUMBER,
            "Body": f"ベンチ {n} 件目のお問い合わせです",
            "NumMedia": "0",
            "ApiVersion": "2010-04-01",
        }
    if kind == "sms-status":
        sid = f"SM2{n:031x}"
        return {
            "MessageSid": sid,
            "SmsSid": sid,
            "MessageStatus": "delivered",
            "SmsStatus": "delivered",
            "AccountSid": _ACCOUNT,
            "From": OUR_NUMBER,
            "To": phone,
            "ApiVersion": "2010-04-01",
        }
    return {
        "CallSid": f"CA{n:032x}",
        "AccountSid": _ACCOUNT,
        "From": phone,
        "To": OUR_NUMBER,
        "Direction": "inbound",
        "CallStatus": "no-answer",
        "ApiVersion": "2010-04-01",
    }


class TwilioMix:
    """sms / sms-status / voice-status in turn, every 10th a retry; phones spread over contacts."""

    def __init__(self, host: str, public_url: str, org: str, auth_token: str, phones: list[str], seq_base: int) -> None:
        self.host, self.public_url, self.org = host, public_url.rstrip("/"), org
        self.phones = phones
        self.seq_base = seq_base
        self._validator = RequestValidator(auth_token)

    def build(self, i: int) -> Item:
        if i % DUPLICATE_EVERY == DUPLICATE_EVERY - 1:
            return self._fresh(i - (DUPLICATE_EVERY - 1))
        return self._fresh(i)

    def _fresh(self, i: int) -> Item:
        n = self.seq_base + i
        kind = TWILIO_KINDS[i % len(TWILIO_KINDS)]
        params = twilio_params(kind, n, self.phones[(n * 7919) % len(self.phones)])
        path = f"/webhooks/twilio/{self.org}/{kind}"
        signature = str(self._validator.compute_signature(self.public_url + path, params))
        token = f"{self.org}-{n}"  # the bench org ids already start with "bench-"
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": signature,
            "I-Twilio-Idempotency-Token": token,
            "User-Agent": "TwilioProxy/1.1",
        }
        return Item(http_request("POST", path, self.host, headers, urlencode(params).encode()), token, n)


class PixelHits:
    """Open-pixel hits with valid tokens, one notification per hit, contacts in turn."""

    def __init__(self, host: str, secret_key: bytes, org: str, contacts: list[str], seq_base: int) -> None:
        self.host, self.secret, self.org, self.contacts, self.seq_base = host, secret_key, org, contacts, seq_base

    def build(self, i: int) -> Item:
        n = self.seq_base + i
        token = sign(self.secret, TrackingClaim(self.org, f"nb{n}", self.contacts[n % len(self.contacts)]))
        headers = {"User-Agent": "Mozilla/5.0 (bench)", "Accept": "image/*"}
        return Item(http_request("GET", f"/t/o/{token}", self.host, headers), f"nb{n}", n)


class SignedEvents:
    """Standard Webhooks events; ``data`` carries the sequence number and the send time (ns).

    Event number ``n`` is about ``contacts[n % len(contacts)]``, so the orchestrator knows the
    recipient of every event from its number alone.
    """

    def __init__(self, host: str, org: str, webhook_secret: str, contacts: list[str], seq_base: int) -> None:
        self.host, self.org, self.contacts, self.seq_base = host, org, contacts, seq_base
        self._webhook = Webhook(webhook_secret)

    def build(self, i: int) -> Item:
        n = self.seq_base + i
        return self.build_for(n, self.contacts[n % len(self.contacts)])

    def build_for(self, n: int, contact: str) -> Item:
        """Event number ``n`` about ``contact``."""
        msg_id = f"msg_bench_{self.org}_{n}"
        body = orjson.dumps(
            {
                "type": EVENT_TYPE,
                "contact": {"id": contact},
                "title": "ベンチマーク回答",
                "data": {"seq": n, "t": time.time_ns()},
            }
        )
        now = datetime.now(tz=UTC)
        headers = {
            "Content-Type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": self._webhook.sign(msg_id, now, body.decode()),
        }
        return Item(http_request("POST", f"/webhooks/events/{self.org}", self.host, headers, body), msg_id, n)


class OrgsEvents:
    """Standard Webhooks events spread over several orgs (the ``scale`` scenario's many orgs).

    Event number ``n`` goes to org ``orgs[n % len(orgs)]``, about that org's contact number
    ``(n // len(orgs)) % len(contacts)``, signed with that org's secret, shaped as :class:`SignedEvents`.
    """

    def __init__(self, host: str, orgs: list[dict[str, Any]], seq_base: int) -> None:
        if not orgs:
            raise ValueError("org_events needs at least one org")
        self.orgs = [SignedEvents(host, o["org"], o["webhook_secret"], o["contacts"], seq_base=0) for o in orgs]
        self.seq_base = seq_base

    def build(self, i: int) -> Item:
        n = self.seq_base + i
        one = self.orgs[n % len(self.orgs)]
        return one.build_for(n, one.contacts[(n // len(self.orgs)) % len(one.contacts)])


def builder_from_spec(spec: dict[str, Any]) -> Builder:
    """The builder an agent runs, from the JSON spec the orchestrator sent."""
    kind = spec["kind"]
    if kind == "twilio":
        return TwilioMix(
            spec["host"], spec["public_url"], spec["org"], spec["auth_token"], spec["phones"], spec["seq_base"]
        )
    if kind == "pixel":
        return PixelHits(spec["host"], spec["secret_key"].encode(), spec["org"], spec["contacts"], spec["seq_base"])
    if kind == "events":
        return SignedEvents(spec["host"], spec["org"], spec["webhook_secret"], spec["contacts"], spec["seq_base"])
    if kind == "org_events":
        return OrgsEvents(spec["host"], spec["orgs"], spec["seq_base"])
    raise ValueError(f"unknown request kind {kind!r}")
