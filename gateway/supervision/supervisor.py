"""Runs the long-running parts of a process so that none of them dies silently.

A part is a coroutine function ``run(stop)`` that returns only once ``stop`` is set. The
supervisor starts it and, while ``stop`` is not set, starts it again whenever it ends:

- a transient Redis error (down, LOADING, READONLY, BUSY, OOM, a vanished stream, see
  :func:`gateway.store.errors.is_transient`): one warning line per outage of the part, retried with
  capped exponential backoff (0.1 s doubling to 2 s, jittered) so it resumes seconds after Redis;
- anything else is a bug: logged once with its traceback (the same error again gets one line),
  restarted after a backoff of 1 s doubling to 30 s;
- a part that returns without being asked to is logged as an error and restarted the same way.

The part's state in :class:`~gateway.supervision.health.Health` is ``starting``/``restarting``
until a run has lasted :data:`SETTLE_SECONDS`, then ``ok``; between attempts it says why
(``restarting: <error>`` or ``error: <error>``). Every restart counts in
``signalgate_part_restarts{part,reason}``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable

from gateway.domain.supervision import OK, RESTARTING, STARTING, Backoff, describe
from gateway.metrics import Metrics
from gateway.store.errors import is_transient
from gateway.supervision.health import Health

log = logging.getLogger("signalgate.supervisor")

Runner = Callable[[asyncio.Event], Awaitable[None]]

TRANSIENT_BACKOFF = Backoff(initial=0.1, cap=2.0)
ERROR_BACKOFF = Backoff(initial=1.0, cap=30.0)
# A run that lasts this long counts as started (state ok) ...
SETTLE_SECONDS = 0.5
# ... and one that lasts this long resets the backoff to its first step.
HEALTHY_AFTER_SECONDS = 30.0


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


class Supervisor:
    """Supervises the parts of one process, reporting to ``health`` (and its metrics)."""

    def __init__(
        self,
        health: Health,
        metrics: Metrics | None = None,
        *,
        rand: Callable[[], float] = random.random,
        transient: Backoff = TRANSIENT_BACKOFF,
        error: Backoff = ERROR_BACKOFF,
        settle: float = SETTLE_SECONDS,
    ) -> None:
        self.health = health
        self._m = metrics
        self._rand = rand
        self._transient = transient
        self._error = error
        self._settle = settle
        self._outage: set[str] = set()  # parts with a transient failure not yet recovered from
        self._last_error: dict[str, str] = {}  # per part, the last error logged with its traceback

    async def run(self, part: str, runner: Runner, stop: asyncio.Event, unit: str = "") -> None:
        """Run ``runner`` as ``part`` (one of its ``unit`` s) until ``stop``; never raises but CancelledError."""
        attempt = 0
        state = STARTING
        while not stop.is_set():
            self.health.set(part, state, unit)
            started = time.monotonic()
            failure = await self._attempt(part, unit, runner, stop)
            if stop.is_set():
                if failure is not None:
                    log.info("%s: ended with %s while stopping", part, describe(failure))
                break
            if time.monotonic() - started >= HEALTHY_AFTER_SECONDS:
                attempt = 0
            state, delay = self._failed(part, unit, failure, attempt)
            attempt += 1
            await _pause(stop, delay)
        self.health.set(part, "stopped", unit)

    async def _attempt(self, part: str, unit: str, runner: Runner, stop: asyncio.Event) -> BaseException | None:
        """One run, to its end; its error if it raised. Marks the unit ok once it has settled."""

        async def call() -> None:  # inside the task: even building the coroutine may fail
            await runner(stop)

        task = asyncio.create_task(call(), name=f"{part}:{unit}" if unit else part)
        try:
            done, _ = await asyncio.wait({task}, timeout=self._settle)
            if not done:
                self._settled(part, unit)
                await asyncio.wait({task})
        finally:
            if not task.done():  # we are being cancelled: take the part down with us
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        return None if task.cancelled() else task.exception()

    def _settled(self, part: str, unit: str) -> None:
        self.health.set(part, OK, unit)
        if part in self._outage and self.health.state(part) == OK:
            self._outage.discard(part)
            log.info("%s: running again", part)

    def _failed(self, part: str, unit: str, failure: BaseException | None, attempt: int) -> tuple[str, float]:
        """Log and count one failure: the unit's state while it waits, and how long it waits."""
        label = f"{part} {unit}" if unit else part
        if failure is not None and is_transient(failure):
            reason, delay = "transient", self._transient.delay(attempt, self._rand())
            state = f"{RESTARTING}: {describe(failure)}"
            if part not in self._outage:
                self._outage.add(part)
                log.warning("%s: %s; retrying with backoff until it answers", label, describe(failure))
            else:
                log.debug("%s: %s; retrying in %.1fs", label, describe(failure), delay)
        elif failure is not None:
            reason, delay = "error", self._error.delay(attempt, self._rand())
            state = f"error: {describe(failure)}"
            signature = describe(failure)
            if self._last_error.get(part) != signature:
                self._last_error[part] = signature
                log.error("%s failed; restarting it in %.1fs", label, delay, exc_info=failure)
            else:
                log.error("%s failed again (%s); restarting it in %.1fs", label, signature, delay)
        else:
            reason, delay = "exited", self._error.delay(attempt, self._rand())
            state = f"{RESTARTING}: stopped unexpectedly"
            log.error("%s stopped without being asked to; restarting it in %.1fs", label, delay)
        if self._m is not None:
            self._m.part_restarts.labels(part, reason).inc()
        self.health.set(part, state, unit)
        return state, delay
