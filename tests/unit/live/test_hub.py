"""gateway.live.hub with a hand-written pub/sub fake: races around a lost subscription, bugs vs.
Redis outages, and revocations — deterministic, no sockets."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from gateway.live.hub import Hub, HubUnavailable, Subscriber
from gateway.metrics import Metrics
from gateway.store.live import revocation

ORG = "acme"


class FakeSubscription:
    """A pub/sub connection: ``subscribe`` confirms through ``get_message``; tests push messages,
    raise errors from ``get_message`` and can hold ``subscribe`` of one channel at a gate."""

    def __init__(self, world: FakeChannels) -> None:
        self.world = world
        self.inbox: asyncio.Queue[dict[str, Any] | BaseException] = asyncio.Queue()
        self.channels: set[str] = set()
        self.connects = 0

    async def connect(self) -> None:
        self.connects += 1

    async def subscribe(self, *channels: str) -> None:
        for channel in channels:
            gate = self.world.gates.get(channel)
            if gate is not None:
                await gate.wait()
            self.channels.add(channel)
            self.inbox.put_nowait({"type": "subscribe", "channel": channel, "data": 1})

    async def unsubscribe(self, *channels: str) -> None:
        self.channels.difference_update(channels)

    async def get_message(self, *, timeout: float) -> dict[str, Any] | None:
        try:
            item = await asyncio.wait_for(self.inbox.get(), timeout)
        except TimeoutError:
            return None
        if isinstance(item, BaseException):
            raise item
        return item

    async def aclose(self) -> None:
        pass


class FakeChannels:
    def __init__(self) -> None:
        self.made: list[FakeSubscription] = []
        self.gates: dict[str, asyncio.Event] = {}

    def channel(self, org: str, user: str) -> str:
        return f"{org}:{user}"

    def subscription(self) -> FakeSubscription:
        self.made.append(FakeSubscription(self))
        return self.made[-1]

    @property
    def current(self) -> FakeSubscription:
        return self.made[-1]

    def publish(self, channel: str, data: str) -> None:
        sub = self.current
        if channel in sub.channels:
            sub.inbox.put_nowait({"type": "message", "channel": channel, "data": data})


@pytest.fixture
async def world() -> AsyncIterator[tuple[Hub, FakeChannels]]:
    channels = FakeChannels()
    hub = Hub(channels, queue_size=8, metrics=Metrics())
    stop = asyncio.Event()
    task = asyncio.create_task(hub.run(stop))
    await _until(lambda: bool(channels.made) and hub._pubsub is not None)
    yield hub, channels
    stop.set()
    await asyncio.wait_for(task, 5)


async def _until(pred: Any, timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not pred():
        assert loop.time() < deadline, "condition not reached"
        await asyncio.sleep(0.005)


class Closes:
    """Records the close codes the hub asks a connection for."""

    def __init__(self) -> None:
        self.codes: list[int] = []

    def __call__(self, code: int) -> None:
        self.codes.append(code)


class Conn(Subscriber):
    """A connection as the hub sees it; records close requests and wake-ups."""

    __slots__ = ("closes", "wakes")

    def __init__(self, token: str, closes: Closes, limit: int = 8) -> None:
        super().__init__(token, limit)
        self.closes = closes
        self.wakes = 0

    def close(self, code: int) -> None:
        if not self.closed:
            self.closes(code)
        super().close(code)

    def wake(self) -> None:
        self.wakes += 1


async def _next(sub: Subscriber) -> tuple[str, str]:
    await _until(lambda: sub.frames)
    return sub.frames.pop(0)


@contextlib.asynccontextmanager
async def _connected(hub: Hub, user: str, token: str, closes: Closes) -> AsyncIterator[Subscriber]:
    sub = Conn(token, closes)
    channel = await hub.attach(ORG, user, sub, confirm_within=5.0)
    try:
        yield sub
    finally:
        await hub.detach(channel, sub)


async def test_subscription_lost_between_ready_and_lock_is_waited_out(world: tuple[Hub, FakeChannels]) -> None:
    """A hello that passed `ready` while the subscription then fails waits for the next one (no assert, no 1011)."""
    hub, channels = world
    channels.gates[f"{ORG}:ua"] = gate = asyncio.Event()
    results: dict[str, Any] = {}
    release_b = asyncio.Event()

    async def hello(user: str) -> None:
        try:
            async with _connected(hub, user, "tk_" + user, Closes()) as sub:
                results[user] = sub
                if user == "ub":
                    await release_b.wait()
        except Exception as exc:
            results[user] = exc

    a = asyncio.create_task(hello("ua"))  # holds the hub's lock inside subscribe (gated)
    await _until(lambda: hub._lock.locked())
    b = asyncio.create_task(hello("ub"))  # passes ready, queues for the lock
    await asyncio.sleep(0.01)
    old = channels.current
    old.inbox.put_nowait(ConnectionError("redis went away"))  # the subscription fails meanwhile
    await _until(lambda: hub._pubsub is None)
    gate.set()
    await asyncio.wait_for(a, 5)
    await _until(lambda: "ub" in results)
    assert isinstance(results["ua"], HubUnavailable)  # its confirmation was lost: retry (1013)
    assert isinstance(results["ub"], Subscriber), repr(results["ub"])
    assert channels.current is not old and f"{ORG}:ub" in channels.current.channels
    channels.publish(f"{ORG}:ub", '1-0\n{"type":"signal"}')
    assert await _next(results["ub"]) == ("1-0", '{"type":"signal"}')
    release_b.set()
    await asyncio.wait_for(b, 5)


async def test_redis_outage_closes_1013(world: tuple[Hub, FakeChannels]) -> None:
    """A transient Redis error closes every connection with 1013 (resume) and the hub resubscribes."""
    hub, channels = world
    closes = Closes()
    async with _connected(hub, "u1", "tk_1", closes):
        first = channels.current
        first.inbox.put_nowait(ConnectionError("connection reset"))
        await _until(lambda: closes.codes)
        assert closes.codes == [1013]
        await _until(lambda: channels.current is not first and hub._pubsub is channels.current)
        assert f"{ORG}:u1" in channels.current.channels


async def test_a_bug_is_logged_and_closes_1011_once(
    world: tuple[Hub, FakeChannels], caplog: pytest.LogCaptureFixture
) -> None:
    """A non-Redis error is a bug: logged with its traceback, connections closed 1011 once, the hub recovers."""
    hub, channels = world
    closes = Closes()
    with caplog.at_level(logging.WARNING, logger="signalgate.hub"):
        async with _connected(hub, "u1", "tk_1", closes) as sub:
            first = channels.current
            first.inbox.put_nowait(KeyError("a bug"))
            await _until(lambda: closes.codes)
            await _until(lambda: hub._pubsub is not None and channels.current is not first)
            channels.publish(f"{ORG}:u1", '2-0\n{"type":"signal"}')
            await asyncio.sleep(0.05)
            assert not sub.frames  # a closed connection is offered nothing more
        assert closes.codes == [1011]
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert len(errors) == 1 and errors[0].exc_info is not None and "a bug" in caplog.text
        # A new connection works on the rebuilt subscription.
        fresh = Closes()
        async with _connected(hub, "u1", "tk_1", fresh) as sub:
            channels.publish(f"{ORG}:u1", '3-0\n{"type":"signal"}')
            assert await _next(sub) == ("3-0", '{"type":"signal"}')
        assert fresh.codes == []


async def test_revocation_closes_the_named_tokens_4401(world: tuple[Hub, FakeChannels]) -> None:
    """A revocation on the user's channel closes the connections of the named tokens (or all) with 4401."""
    hub, channels = world
    one, two, other = Closes(), Closes(), Closes()
    channel = f"{ORG}:u1"
    async with (
        _connected(hub, "u1", "tk_1", one) as s1,
        _connected(hub, "u1", "tk_2", two) as s2,
        _connected(hub, "u2", "tk_1", other),
    ):
        channels.publish(channel, revocation(["tk_1", "tk_9"]))
        channels.publish(channel, '4-0\n{"type":"signal"}')
        await _until(lambda: s2.frames)
        assert one.codes == [4401] and two.codes == [] and other.codes == []
        assert not s1.frames  # nothing after the revocation reaches a revoked socket
        channels.publish(channel, revocation(None))  # the user was deleted
        await _until(lambda: two.codes)
        assert two.codes == [4401] and one.codes == [4401] and other.codes == []


def test_subscriber_wakes_on_the_first_frame_and_hands_frames_over_in_order() -> None:
    """offer() appends without waiting and wakes the connection when its buffer was empty;
    next_frame() takes the oldest frame out (None when there is none)."""
    sub = Conn("tk_1", Closes(), limit=8)
    sub.offer("1-0", "a")
    sub.offer("2-0", "b")
    assert sub.wakes == 1
    assert sub.next_frame() == ("1-0", "a")
    sub.offer("", "u")
    assert sub.wakes == 1  # still not empty: the connection is already draining
    assert [sub.next_frame(), sub.next_frame(), sub.next_frame()] == [("2-0", "b"), ("", "u"), None]
    sub.offer("3-0", "c")
    assert sub.wakes == 2


def test_a_frame_counts_against_the_limit_until_it_is_taken() -> None:
    """The bound is on frames not yet taken to be sent: taking one makes room for one more."""
    closes = Closes()
    sub = Conn("tk_1", closes, limit=2)
    sub.offer("1-0", "a")
    sub.offer("2-0", "b")
    assert sub.next_frame() == ("1-0", "a")
    sub.offer("3-0", "c")
    assert closes.codes == [] and sub.frames == [("2-0", "b"), ("3-0", "c")]
    sub.offer("4-0", "d")
    assert closes.codes == [1013]


def test_a_full_buffer_is_a_slow_consumer_closed_1013() -> None:
    """Past `limit` buffered frames the connection is closed with 1013, its buffer dropped (the client
    resumes from its cursor) and nothing more is buffered."""
    closes = Closes()
    sub = Conn("tk_1", closes, limit=3)
    for i in range(3):
        sub.offer(f"{i + 1}-0", "x")
    assert closes.codes == [] and len(sub.frames) == 3
    sub.offer("4-0", "x")
    assert closes.codes == [1013] and sub.closed and sub.frames == []
    sub.offer("5-0", "x")
    sub.close(4401)
    assert closes.codes == [1013] and sub.close_code == 1013 and sub.frames == []
    assert sub.wakes == 2  # the first frame, then the close request
