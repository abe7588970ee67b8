"""Unit tests for gateway.supervision.supervisor: parts are restarted, errors logged once, Redis trouble retried."""

from __future__ import annotations

import asyncio
import logging

import pytest
from redis import exceptions as rx

from gateway.domain.supervision import Backoff
from gateway.metrics import Metrics
from gateway.supervision.health import Health
from gateway.supervision.supervisor import Supervisor

FAST = Backoff(initial=0.001, cap=0.002)


def _supervisor(metrics: Metrics) -> Supervisor:
    return Supervisor(Health(metrics), metrics, transient=FAST, error=FAST, settle=0.05, rand=lambda: 0.5)


def _restarts(metrics: Metrics, part: str, reason: str) -> float:
    value = metrics.registry.get_sample_value("signalgate_part_restarts_total", {"part": part, "reason": reason})
    return value or 0.0


class Flaky:
    """A part that fails with the given errors, one per run, then runs until stopped."""

    def __init__(self, *errors: BaseException | None) -> None:
        self.errors = list(errors)
        self.runs = 0
        self.running = asyncio.Event()

    async def __call__(self, stop: asyncio.Event) -> None:
        self.runs += 1
        if self.errors:
            error = self.errors.pop(0)
            if error is None:
                return  # ends without being asked to
            raise error
        self.running.set()
        await stop.wait()


async def _run_until_running(sup: Supervisor, part: Flaky, name: str = "router") -> None:
    """Supervise ``part`` until it runs (past the settle time), then stop it."""
    stop = asyncio.Event()
    task = asyncio.create_task(sup.run(name, part, stop))
    await asyncio.wait_for(part.running.wait(), 5)
    await asyncio.sleep(0.1)
    assert not task.done()
    stop.set()
    await asyncio.wait_for(task, 5)


async def test_a_bug_restarts_the_part_and_is_logged_once_with_its_traceback(caplog: pytest.LogCaptureFixture) -> None:
    """The same error twice: one traceback, then one line; the part runs again, restarts are counted."""
    metrics = Metrics()
    sup = _supervisor(metrics)
    part = Flaky(KeyError("org"), KeyError("org"), ValueError("other"))
    with caplog.at_level(logging.INFO, logger="signalgate.supervisor"):
        await _run_until_running(sup, part)
    assert part.runs == 4
    failures = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(failures) == 3
    with_traceback = [r for r in failures if r.exc_info]
    assert [type(r.exc_info[1]) for r in with_traceback if r.exc_info] == [KeyError, ValueError]
    assert "again" in failures[1].getMessage()
    assert _restarts(metrics, "router", "error") == 3


async def test_transient_redis_errors_are_retried_with_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    """Connection refused, LOADING, UNBLOCKED, READONLY: retried without a traceback, one warning per outage."""
    metrics = Metrics()
    sup = _supervisor(metrics)
    part = Flaky(
        rx.ConnectionError("Error 111"),
        rx.BusyLoadingError("loading"),
        rx.ResponseError("UNBLOCKED the stream key no longer exists"),
        rx.ReadOnlyError("read only replica"),
    )
    with caplog.at_level(logging.INFO, logger="signalgate.supervisor"):
        await _run_until_running(sup, part)
    assert part.runs == 5
    assert not any(r.exc_info for r in caplog.records)
    assert [r.levelname for r in caplog.records if r.levelno >= logging.WARNING] == ["WARNING"]
    assert any("running again" in r.getMessage() for r in caplog.records)
    assert _restarts(metrics, "router", "transient") == 4
    assert _restarts(metrics, "router", "error") == 0


async def test_a_part_that_returns_on_its_own_is_restarted(caplog: pytest.LogCaptureFixture) -> None:
    """Returning before stop is an error: logged and restarted."""
    metrics = Metrics()
    part = Flaky(None)
    with caplog.at_level(logging.INFO, logger="signalgate.supervisor"):
        await _run_until_running(_supervisor(metrics), part, "worker")
    assert part.runs == 2
    assert any("without being asked" in r.getMessage() for r in caplog.records if r.levelno == logging.ERROR)
    assert _restarts(metrics, "worker", "exited") == 1


async def test_health_follows_the_part() -> None:
    """starting → error: … while it waits to restart → ok once a run has settled → stopped."""
    metrics = Metrics()
    health = Health(metrics)
    sup = Supervisor(health, metrics, transient=FAST, error=Backoff(0.3, 0.3), settle=0.05, rand=lambda: 1.0)
    part = Flaky(KeyError("boom"))
    stop = asyncio.Event()
    task = asyncio.create_task(sup.run("imap", part, stop, unit="box1"))
    await asyncio.sleep(0.1)
    assert health.parts() == {"imap": "error: KeyError: 'boom'"}
    assert metrics.registry.get_sample_value("signalgate_part_up", {"part": "imap"}) == 0
    await asyncio.wait_for(part.running.wait(), 5)
    await asyncio.sleep(0.1)
    assert health.parts() == {"imap": "ok"}
    assert metrics.registry.get_sample_value("signalgate_part_up", {"part": "imap"}) == 1
    stop.set()
    await asyncio.wait_for(task, 5)
    assert health.parts() == {"imap": "stopped"}


async def test_units_of_one_part_fail_alone() -> None:
    """One unit (a router partition) failing leaves the others running; the part shows the failure."""
    health = Health()
    sup = Supervisor(health, transient=FAST, error=Backoff(10, 10), settle=0.01)
    stop = asyncio.Event()
    good, bad = Flaky(), Flaky(RuntimeError("p1 bug"))
    tasks = [
        asyncio.create_task(sup.run("router", good, stop, unit="p0")),
        asyncio.create_task(sup.run("router", bad, stop, unit="p1")),
    ]
    await asyncio.wait_for(good.running.wait(), 5)
    await asyncio.sleep(0.05)
    assert health.parts() == {"router": "error: RuntimeError: p1 bug"}
    assert good.runs == 1 and not any(t.done() for t in tasks)
    stop.set()  # also ends the 10 s backoff of p1 at once
    await asyncio.wait_for(asyncio.gather(*tasks), 5)


async def test_cancelling_the_supervisor_cancels_the_part() -> None:
    """Cancellation reaches the running part and is not swallowed."""
    sup = Supervisor(Health(), settle=0.01)
    cancelled = asyncio.Event()

    async def part(stop: asyncio.Event) -> None:
        try:
            await asyncio.sleep(60)
        finally:
            cancelled.set()

    task = asyncio.create_task(sup.run("hub", part, asyncio.Event()))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cancelled.is_set()


async def test_report_names_redis_when_it_does_not_answer() -> None:
    """/healthz: 503 degraded with redis "down" when PING fails, 200 when it answers and parts are ok."""
    health = Health()
    health.set("router", "ok", "p0")

    async def refused() -> None:
        raise rx.ConnectionError("Error 111")

    async def pong() -> bool:
        return True

    assert await health.report(refused) == (503, {"status": "degraded", "parts": {"redis": "down", "router": "ok"}})
    assert await health.report(pong) == (200, {"status": "ok", "parts": {"redis": "ok", "router": "ok"}})
