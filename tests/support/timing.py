"""Timeouts that scale with ``SG_TEST_TIMEOUT_FACTOR`` (a slow or busy machine must not flake):
polling, async (``wait_for``) and blocking (``block_until``), and scaled sleeps."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from typing import Any

FACTOR = float(os.environ.get("SG_TEST_TIMEOUT_FACTOR", "1"))


async def wait_for(pred: Callable[[], Any], timeout: float = 5.0, interval: float = 0.05) -> Any:
    """Poll an async or sync predicate until it returns something truthy."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout * FACTOR
    while True:
        value = pred()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if loop.time() > deadline:
            raise TimeoutError("condition not reached")
        await asyncio.sleep(interval)


def block_until(check: Callable[[], bool], timeout: float, interval: float = 0.02) -> bool:
    """Call ``check`` until it is true or ``timeout`` (scaled) has passed; whether it became true.

    Blocking, for setup and teardown outside the event loop (a server starting or stopping).
    ``check`` may raise to give up early (the process it waits for has exited)."""
    deadline = time.monotonic() + timeout * FACTOR
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
    return True


async def sleep_scaled(seconds: float) -> None:
    await asyncio.sleep(seconds * FACTOR)
