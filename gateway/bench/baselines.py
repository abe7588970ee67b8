"""Bare baseline servers, each run as its own process: ``python -m gateway.bench.baselines MODE``.

- ``http``: a bare starlette app under the gateway's uvicorn settings and event loop: ``POST
  /webhooks/twilio/{org}/{kind}`` parses the same form and answers 204; ``GET /t/o/{token}``
  answers the same GIF with the same headers. No signature check, no Redis.
- ``canned``: the cheapest HTTP/1.1 server asyncio can run (a protocol answering 204 to every
  request); what the load generator reaches against it is the generator's own ceiling.
- ``ws``: the ``websockets`` library's own server and ``broadcast()``: clients say hello, get
  ``welcome`` and ``live``; a ``burst K SEQ`` line on stdin broadcasts K signal-shaped frames (each
  followed by an unread frame, as the gateway sends) to every client.
- ``noop``: an arq worker with a job that does nothing, under the send worker's settings.
- ``streams``: a bare stream consumer: ``--count`` times, one at a time, ``XADD`` an event-sized
  entry, ``XREADGROUP`` it and ``XACK`` it (three round trips, no routing work), for at most
  ``--seconds``; prints one JSON line (events, seconds, per-event latencies) and exits.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import time
from typing import Any, cast

import orjson
import uvicorn
import uvloop
from arq.connections import RedisSettings
from arq.worker import Worker, func
from redis.asyncio import Redis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from websockets.asyncio.server import ServerConnection, broadcast, serve

from gateway.config import GatewayConfig, WorkerConfig
from gateway.domain.tracking import NO_STORE, PIXEL
from gateway.store.jobs import deserialize, run_worker, serialize

NOOP_QUEUE = "signalgate:bench-noop"
BARE_STREAM = "bench:bare:events"
BARE_GROUP = "bare"
NOOP_JOB = "noop"
# What the gateway's Twilio endpoints accept (gateway/webhooks_twilio.py).
_MAX_FIELDS = 200


async def bare_form(request: Request) -> Response:
    form = await request.form(max_fields=_MAX_FIELDS)
    _ = {k: v for k, v in form.items() if isinstance(v, str)}
    return Response(status_code=204)


async def bare_pixel(request: Request) -> Response:
    return Response(PIXEL, media_type="image/gif", headers=NO_STORE)


def bare_app() -> Starlette:
    return Starlette(
        routes=[
            Route("/webhooks/twilio/{org}/{kind}", bare_form, methods=["POST"]),
            Route("/t/o/{token:path}", bare_pixel, methods=["GET"]),
        ]
    )


def uvicorn_settings(app: Any, host: str, port: int) -> uvicorn.Config:
    """The settings ``signalgate serve`` runs uvicorn with (gateway/cli.py ``_serve``), defaults included."""
    gw = GatewayConfig()
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        ws_ping_interval=gw.ws_ping_interval,
        ws_ping_timeout=gw.ws_ping_timeout,
        lifespan="on",
        access_log=False,
        timeout_graceful_shutdown=5,
    )


class CannedHttp(asyncio.Protocol):
    """Answers 204 to each complete request (headers + Content-Length body), keep-alive."""

    ANSWER = b"HTTP/1.1 204 No Content\r\nServer: canned\r\n\r\n"

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but have the same API.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while (end := self.buf.find(b"\r\n\r\n")) >= 0:
            head = bytes(self.buf[:end]).lower()
            length = 0
            at = head.find(b"\r\ncontent-length:")
            if at >= 0:
                line_end = head.find(b"\r\n", at + 2)
                length = int(head[at + 17 : line_end if line_end >= 0 else None])
            if len(self.buf) < end + 4 + length:
                return
            del self.buf[: end + 4 + length]
            assert self.transport is not None  # noqa: S101
            self.transport.write(self.ANSWER)


def signal_frame(seq: int, sent_ns: int) -> str:
    """A frame shaped and sized like the gateway's signal frame for the same event."""
    cursor = f"{sent_ns // 1_000_000}-{seq}"
    return orjson.dumps(
        {
            "type": "signal",
            "cursor": cursor,
            "signal": {
                "id": cursor,
                "count": seq + 1,
                "read": False,
                "type": "survey.answered",
                "org": "bench-baseline",
                "user": "fan",
                "contact": {"id": "c-fan", "name": "ベンチ 太郎", "kind": "lead"},
                "title": "ベンチマーク回答",
                "body": "",
                "occurred_at": "2026-01-01T00:00:00.000Z",
                "data": {"seq": seq, "t": sent_ns},
            },
        }
    ).decode()


async def run_ws(host: str, port: int) -> None:
    clients: set[ServerConnection] = set()

    async def handler(ws: ServerConnection) -> None:
        await ws.recv()  # hello
        await ws.send('{"type":"welcome","org":"bench-baseline","user":"fan","unread":0}')
        await ws.send('{"type":"live"}')
        clients.add(ws)
        try:
            await ws.wait_closed()
        finally:
            clients.discard(ws)

    gw = GatewayConfig()
    async with serve(
        handler,
        host,
        port,
        compression=None,
        ping_interval=gw.ws_ping_interval,
        ping_timeout=gw.ws_ping_timeout,
        max_queue=gw.ws_queue_size,
    ):
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        print("ready", flush=True)  # noqa: T201 - the orchestrator reads it
        while line := await reader.readline():
            words = line.decode().split()
            if words[:1] != ["burst"]:
                continue
            count, seq = int(words[1]), int(words[2])
            started = time.time_ns()
            for i in range(count):
                broadcast(clients, signal_frame(seq + i, time.time_ns()))
                broadcast(clients, f'{{"type":"unread","count":{i + 1}}}')
            print(orjson.dumps({"started_ns": started, "clients": len(clients)}).decode(), flush=True)  # noqa: T201


async def noop(ctx: dict[str, Any], **kwargs: Any) -> None:
    return None


async def run_noop(redis_url: str) -> None:
    cfg = WorkerConfig()
    worker = Worker(
        functions=[func(noop, name=NOOP_JOB, max_tries=cfg.max_tries, timeout=cfg.job_timeout)],
        queue_name=NOOP_QUEUE,
        redis_settings=RedisSettings.from_dsn(redis_url),
        handle_signals=False,
        max_jobs=cfg.max_jobs,
        job_timeout=cfg.job_timeout,
        keep_result=3600,
        poll_delay=0.1,
        job_serializer=serialize,
        job_deserializer=deserialize,
    )
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    await run_worker(worker, stop)


async def run_streams(redis_url: str, count: int, seconds: float) -> None:
    """``count`` XADD + XREADGROUP + XACK round trips, one event at a time, on a stream of its own."""
    r = Redis.from_url(redis_url, decode_responses=True)
    try:
        await r.delete(BARE_STREAM)
        await r.xgroup_create(BARE_STREAM, BARE_GROUP, id="0", mkstream=True)
        data = orjson.dumps({"type": "survey.answered", "contact": {"id": "c0"}, "title": "ベンチマーク回答"}).decode()
        latencies: list[int] = []
        started = time.perf_counter()
        deadline = started + seconds
        done = 0
        while done < count and time.perf_counter() < deadline:
            t0 = time.perf_counter_ns()
            await r.xadd(BARE_STREAM, {"org": "bench", "source": "webhook", "at": str(time.time_ns()), "data": data})
            got = await r.xreadgroup(BARE_GROUP, "bare-1", {BARE_STREAM: ">"}, count=1)
            for _stream, entries in got or []:
                for entry_id, _fields in entries:
                    await r.xack(BARE_STREAM, BARE_GROUP, entry_id)
                    done += 1
            latencies.append((time.perf_counter_ns() - t0) // 1000)
        elapsed = time.perf_counter() - started
        await r.delete(BARE_STREAM)
    finally:
        await r.aclose()
    print(orjson.dumps({"events": done, "seconds": elapsed, "latencies_us": latencies}).decode(), flush=True)  # noqa: T201


async def run_canned(host: str, port: int) -> None:
    server = await asyncio.get_running_loop().create_server(CannedHttp, host, port, backlog=2048)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m gateway.bench.baselines")
    parser.add_argument("mode", choices=("http", "canned", "ws", "noop", "streams"))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--redis", default="")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args(argv)
    # Same event loop as the process each baseline stands for: `signalgate serve` runs
    # `asyncio.run(server.serve())` (asyncio's own loop, not uvloop) and so do the http and ws
    # baselines; `signalgate worker` runs on asyncio's loop too. Only the canned server, which
    # exists to find the generator's ceiling, takes the fastest loop there is.
    if args.mode == "http":
        asyncio.run(uvicorn.Server(uvicorn_settings(bare_app(), args.host, args.port)).serve())
    elif args.mode == "ws":
        asyncio.run(run_ws(args.host, args.port))
    elif args.mode == "noop":
        asyncio.run(run_noop(args.redis))
    elif args.mode == "streams":  # `signalgate router` runs on asyncio's loop too
        asyncio.run(run_streams(args.redis, args.count, args.seconds))
    else:
        uvloop.run(run_canned(args.host, args.port))


if __name__ == "__main__":
    main()
