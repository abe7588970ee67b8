"""The load-generator process: ``python -m gateway.bench.agent``.

It runs on its own event loop (uvloop) so that generating load never competes with
the orchestrator's bookkeeping, and takes one command at a time as a JSON line on stdin, answering
``{"id": n, "result": {...}}`` (or ``"error"``) on stdout; while a load phase runs it also prints
``{"progress": {...}}`` lines. Commands: ``http`` (one load phase), ``ws_open`` / ``ws_drop`` /
``ws_resume`` / ``ws_close`` (the client fleet), ``ws_reset`` / ``ws_wait`` / ``ws_check``
(counting what the fleet received), ``exit``.
"""

from __future__ import annotations

import asyncio
import contextlib
import resource
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
import uvloop

from gateway.bench.httpload import Endpoint, LoadPlan, LoadRun, classify_2xx, classify_event
from gateway.bench.payloads import builder_from_spec
from gateway.bench.procfs import CpuMeter
from gateway.bench.wsclient import Fleet, WsClient

Handler = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


def raise_fd_limit() -> int:
    """Lift the soft open-files limit to the hard one (each client or connection is one fd)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def emit(message: dict[str, Any]) -> None:
    sys.stdout.buffer.write(orjson.dumps(message) + b"\n")
    sys.stdout.buffer.flush()


class Agent:
    def __init__(self) -> None:
        self.fleet: Fleet | None = None
        self.handlers: dict[str, Handler] = {
            "http": self.http,
            "ws_open": self.ws_open,
            "ws_drop": self.ws_drop,
            "ws_resume": self.ws_resume,
            "ws_close": self.ws_close,
            "ws_reset": self.ws_reset,
            "ws_wait": self.ws_wait,
            "ws_check": self.ws_check,
        }

    # -- HTTP load ----------------------------------------------------------------------------
    async def http(self, cmd: dict[str, Any]) -> dict[str, Any]:
        builder = builder_from_spec(cmd["spec"])
        prebuilt = [builder.build(i) for i in range(int(cmd.get("prebuild", 0)))]
        ep = cmd["endpoint"]
        meter = CpuMeter({str(k): int(v) for k, v in (cmd.get("watch") or {}).items()})
        cpu: dict[str, float] = {}

        def on_window(mark: str) -> None:
            if mark == "start":
                meter.start(time.monotonic())
            else:
                cpu.update(meter.stop(time.monotonic()))

        plan = LoadPlan(
            endpoint=Endpoint(ep["host"], int(ep["port"]), bool(ep.get("tls"))),
            builder=builder,
            connections=int(cmd["connections"]),
            duration=float(cmd["duration"]),
            warmup=float(cmd.get("warmup", 0.5)),
            rate=cmd.get("rate"),
            count=cmd.get("count"),
            classify=classify_event if cmd.get("classify") == "event" else classify_2xx,
            prebuilt=prebuilt,
            cycle=bool(cmd.get("cycle")),
            on_window=on_window,
        )
        run = LoadRun(plan)
        ticker = asyncio.create_task(self._progress(run))
        try:
            r = await run.run()
        finally:
            ticker.cancel()
        return {
            "started_ns": r.started_ns,
            "window": r.window,
            "completed": r.completed_in_window,
            "sent": r.sent,
            "statuses": {str(k): v for k, v in r.statuses.items()},
            "errors": dict(r.errors),
            "accepted": len(r.accepted),
            "accepted_seqs": r.accepted_seqs if cmd.get("return_seqs") else [],
            "duplicates": r.duplicates,
            "latencies_us": r.latencies_us,
            "cpu": cpu,
        }

    async def _progress(self, run: LoadRun) -> None:
        while True:
            await asyncio.sleep(0.5)
            done, elapsed = run.progress()
            emit({"progress": {"done": done, "elapsed": round(elapsed, 2)}})

    # -- WebSocket fleet ----------------------------------------------------------------------
    def _fleet(self) -> Fleet:
        if self.fleet is None:
            raise RuntimeError("no client fleet: ws_open first")
        return self.fleet

    async def _connect_all(self, specs: list[tuple[int, int, str, str | None]], concurrency: int) -> dict[str, Any]:
        fleet = self._fleet()
        gate = asyncio.Semaphore(concurrency)
        errors: dict[str, int] = {}
        started = time.monotonic()
        live_at: list[float] = []

        async def one(index: int, group: int, token: str, after: str | None) -> WsClient | None:
            async with gate:
                try:
                    client = await fleet.connect(index, group, token, after)
                    live_at.append(await asyncio.wait_for(client.live, 60))
                    return client
                except Exception as exc:  # every failure is counted by its kind
                    errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                    return None

        clients = await asyncio.gather(*(one(*s) for s in specs))
        fleet.clients = [c for c in clients if c is not None]
        offsets = sorted(t - started for t in live_at)
        return {
            "connected": len(fleet.clients),
            "failed": len(specs) - len(fleet.clients),
            "errors": errors,
            "seconds": round(offsets[-1], 4) if offsets else None,
            "live_p50_s": round(offsets[len(offsets) // 2], 4) if offsets else None,
            "live_p99_s": round(offsets[max(0, int(len(offsets) * 0.99) - 1)], 4) if offsets else None,
            "gaps": sum(fleet.receipts_of(c.index).gaps for c in fleet.clients),
        }

    async def ws_open(self, cmd: dict[str, Any]) -> dict[str, Any]:
        ep = cmd["endpoint"]
        self.fleet = Fleet(ep["host"], int(ep["port"]), ep["path"], bool(ep.get("tls")), ep["host_header"])
        specs: list[tuple[int, int, str, str | None]] = [(int(i), int(g), str(t), None) for i, g, t in cmd["clients"]]
        return await self._connect_all(specs, int(cmd.get("concurrency", 200)))

    async def ws_drop(self, cmd: dict[str, Any]) -> dict[str, Any]:
        fleet = self._fleet()
        for c in fleet.clients:
            c.abort()
        await asyncio.sleep(0)
        return {"dropped": len(fleet.clients), "cursors": sum(1 for c in fleet.clients if c.cursor)}

    async def ws_resume(self, cmd: dict[str, Any]) -> dict[str, Any]:
        fleet = self._fleet()
        specs = [(c.index, c.group, c.token, c.cursor) for c in fleet.clients]
        return await self._connect_all(specs, int(cmd.get("concurrency", len(specs) or 1)))

    async def ws_close(self, cmd: dict[str, Any]) -> dict[str, Any]:
        if self.fleet is None:
            return {"closed": 0}
        clients = self.fleet.clients
        for c in clients:
            c.close()
        codes: list[int] = []
        with contextlib.suppress(TimeoutError):
            codes = list(await asyncio.wait_for(asyncio.gather(*(c.closed for c in clients)), 10))
        for c in clients:
            c.abort()
        self.fleet = None
        return {"closed": len(clients), "clean": sum(1 for code in codes if code == 1000)}

    async def ws_reset(self, cmd: dict[str, Any]) -> dict[str, Any]:
        fleet = self._fleet()
        fleet.reset()
        fleet.recording = bool(cmd.get("record", True))
        return {"clients": len(fleet.clients)}

    async def ws_wait(self, cmd: dict[str, Any]) -> dict[str, Any]:
        """Until every connected client got the events of its group (or ``timeout`` seconds passed).

        ``expected`` maps a group to its event numbers; deliveries are counted fleet-wide.
        """
        fleet = self._fleet()
        sizes = {int(g): len(seqs) for g, seqs in cmd["expected"].items()}
        expected = sum(sizes.get(c.group, 0) for c in fleet.clients)
        reached = asyncio.Event()

        def check() -> None:
            if fleet.deliveries >= expected:
                reached.set()

        fleet.on_signal = check
        check()
        try:
            await asyncio.wait_for(reached.wait(), float(cmd.get("timeout", 30)))
        except TimeoutError:
            pass
        finally:
            fleet.on_signal = None
        return {
            "expected": expected,
            "deliveries": fleet.deliveries,
            "last_receipt_ns": fleet.last_receipt_ns,
            "reached": reached.is_set(),
        }

    async def ws_check(self, cmd: dict[str, Any]) -> dict[str, Any]:
        """Lost / duplicated / foreign events per client, against the events each user was sent."""
        fleet = self._fleet()
        expected: dict[int, set[int]] = {int(g): set(seqs) for g, seqs in cmd["expected"].items()}
        lost = duplicated = foreign = frames = unread = 0
        for c in fleet.clients:
            want = expected.get(c.group, set())
            got = fleet.receipts_of(c.index)
            lost += len(want - got.seqs.keys())
            duplicated += sum(n - 1 for n in got.seqs.values() if n > 1)
            foreign += sum(1 for s in got.seqs if s not in want)
            frames += got.frames
            unread += got.unread_frames
        return {
            "lost": lost,
            "duplicated": duplicated,
            "foreign": foreign,
            "deliveries": fleet.deliveries,
            "frames": frames,
            "unread_frames": unread,
            "latencies_us": fleet.latencies_us,
            "routed_us": fleet.routed_us,
            "fanned_us": fleet.fanned_us,
            "last_receipt_ns": fleet.last_receipt_ns,
        }


async def serve(agent: Agent) -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 28)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    emit({"ready": True, "fd_limit": raise_fd_limit()})
    while line := await reader.readline():
        cmd = orjson.loads(line)
        op = cmd.get("op")
        if op == "exit":
            break
        handler = agent.handlers.get(op)
        try:
            if handler is None:
                raise ValueError(f"unknown op {op!r}")
            emit({"id": cmd.get("id"), "result": await handler(cmd)})
        except Exception as exc:
            emit({"id": cmd.get("id"), "error": f"{type(exc).__name__}: {exc}"})


def main() -> None:
    uvloop.run(serve(Agent()))


if __name__ == "__main__":
    main()
