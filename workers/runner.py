"""Running an arq Worker under our own shutdown: stop taking jobs, let in-flight ones finish.

On stop the worker polls no more; jobs already running get ``grace`` seconds to finish, then are
cancelled (arq hands them to another worker once their in-progress key expires, and every send is
idempotent, so a cancelled send is never doubled).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from arq.worker import Worker

log = logging.getLogger("signalgate.worker")


async def run_worker(worker: Worker, stop: asyncio.Event, grace: float = 5.0) -> None:
    main = asyncio.create_task(worker.main(), name="arq-worker")
    stopping = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait({main, stopping}, return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    main.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await main
    if main in done and main.exception() is not None:
        raise main.exception()  # type: ignore[misc]
    running = [t for t in worker.tasks.values() if not t.done()]
    if running:
        log.info("waiting up to %.0f s for %d running job(s)", grace, len(running))
        _, late = await asyncio.wait(running, timeout=grace)
        for task in late:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
    worker.tasks.clear()
    await worker.close()
