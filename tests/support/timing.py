"""Timeouts that scale with ``SG_TEST_TIMEOUT_FACTOR`` (a slow or busy machine must not flake)."""

from __future__ import annotations

import asyncio
import os
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


async def sleep_scaled(seconds: float) -> None:
    await asyncio.sleep(seconds * FACTOR)
