"""The local providers the send scenario delivers to: ``python -m gateway.bench.providers``.

One process, one event loop: the local Twilio REST API (:mod:`gateway.devtools.twilio_api`, the
same server the integration tests use) and an aiosmtpd SMTP server that counts what it accepts.
Commands are JSON lines on stdin: ``{"op": "account", "sid", "token"}`` registers a Twilio
account, ``{"op": "stats"}`` answers how many messages each provider received and how many of
them were distinct (by Twilio body, by Message-ID).
"""

from __future__ import annotations

import asyncio
import email.parser
import email.policy
import sys
from typing import Any

import orjson
import uvloop
from aiosmtpd.smtp import SMTP, Envelope, Session

from gateway.devtools.twilio_api import TwilioApi


class CountingSmtp:
    """aiosmtpd handler: accepts every message and remembers its Message-ID."""

    def __init__(self) -> None:
        self.accepted = 0
        self.message_ids: set[str] = set()
        self._parser = email.parser.BytesHeaderParser(policy=email.policy.compat32)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode()
        self.accepted += 1
        self.message_ids.add(str(self._parser.parsebytes(raw or b"").get("Message-ID", "")))
        return "250 Message accepted for delivery"


def stats(api: TwilioApi, smtp: CountingSmtp) -> dict[str, Any]:
    created = api.created
    return {
        "sms": len(created),
        "sms_unique": len({m["body"] for m in created}),
        "email": smtp.accepted,
        "email_unique": len(smtp.message_ids),
    }


async def run() -> None:
    loop = asyncio.get_running_loop()
    handler = CountingSmtp()
    smtp_server = await loop.create_server(lambda: SMTP(handler, hostname="bench.localhost"), "127.0.0.1", 0)
    smtp_port = smtp_server.sockets[0].getsockname()[1]
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    async with TwilioApi(timeout=30) as api, smtp_server:
        print(orjson.dumps({"twilio": api.base_url, "smtp_port": smtp_port}).decode(), flush=True)  # noqa: T201
        while line := await reader.readline():
            cmd = orjson.loads(line)
            if cmd.get("op") == "account":
                api.add_account(cmd["sid"], cmd["token"])
                answer: dict[str, Any] = {"ok": True}
            else:
                answer = stats(api, handler)
            print(orjson.dumps(answer).decode(), flush=True)  # noqa: T201


def main() -> None:
    uvloop.run(run())


if __name__ == "__main__":
    main()
