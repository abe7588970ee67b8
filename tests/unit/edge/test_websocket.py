"""gateway.edge.websocket: the queue and event that stand in for asyncio's in uvicorn's protocol."""

from __future__ import annotations

import asyncio

import pytest

from gateway.edge.websocket import Flag, Inbox


async def test_inbox_is_fifo_and_wakes_a_waiting_getter() -> None:
    inbox = Inbox()
    assert inbox.empty()
    getter = asyncio.create_task(inbox.get())
    await asyncio.sleep(0)
    assert not getter.done()
    inbox.put_nowait({"type": "websocket.connect"})
    inbox.put_nowait({"type": "websocket.receive", "text": "a"})
    assert await asyncio.wait_for(getter, 1) == {"type": "websocket.connect"}
    assert not inbox.empty()
    assert await inbox.get() == {"type": "websocket.receive", "text": "a"}
    assert inbox.empty()


async def test_a_cancelled_get_loses_nothing() -> None:
    """A get cancelled while waiting (the hello timeout) leaves the next item to the next get."""
    inbox = Inbox()
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.01):
            await inbox.get()
    inbox.put_nowait({"type": "websocket.disconnect", "code": 1000})
    assert await asyncio.wait_for(inbox.get(), 1) == {"type": "websocket.disconnect", "code": 1000}


async def test_flag_wakes_every_waiter_and_a_cancelled_one_does_not_hurt_the_others() -> None:
    flag = Flag(True)
    assert await flag.wait() is True  # set: no waiting
    flag.clear()
    a = asyncio.create_task(flag.wait())
    b = asyncio.create_task(flag.wait())
    c = asyncio.create_task(flag.wait())
    await asyncio.sleep(0)
    b.cancel()
    await asyncio.sleep(0)
    assert not a.done() and not c.done()
    flag.set()
    assert list(await asyncio.wait_for(asyncio.gather(a, c), 1)) == [True, True]
    assert b.cancelled() and flag.is_set()
