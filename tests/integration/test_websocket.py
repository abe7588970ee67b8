"""The /ws protocol: auth, hello timeout, resume across disconnects, gap, fan-out, unread sync."""

from __future__ import annotations

import asyncio
import json
import socket

import httpx
import pytest
import websockets
from websockets.asyncio.client import ClientConnection
from websockets.client import ClientProtocol
from websockets.exceptions import ConnectionClosed
from websockets.frames import Close, Frame, Opcode
from websockets.protocol import State
from websockets.uri import parse_uri

from gateway.domain.signals import SIGNAL_TYPES
from tests.support.api import Gateway, OrgCtx, post_event, provision_org, signals_of, survey
from tests.support.processes import Processes
from tests.support.redis import RedisServer
from tests.support.timing import FACTOR, wait_for
from tests.support.ws import Feed, live_feed, open_feed


async def _close_code(ws: ClientConnection) -> int | None:
    with pytest.raises(ConnectionClosed):
        while True:
            await asyncio.wait_for(ws.recv(), 15 * FACTOR)
    code: int | None = ws.close_code
    return code


async def test_bad_token_closes_4401(gateway: Gateway, org: OrgCtx) -> None:
    """A hello with an unknown, malformed or other-org-shaped token is closed with 4401."""
    for token in ("nope", "sgu.nosuchorg.abc", org.tokens["u1"][:-2] + "xx"):
        async with websockets.connect(gateway.ws_url) as ws:
            await ws.send(json.dumps({"type": "hello", "token": token}))
            assert await _close_code(ws) == 4401


async def test_malformed_frames_close_1008(gateway: Gateway, org: OrgCtx) -> None:
    """Non-JSON, a non-hello first frame, a bad `after` or an unknown frame type → 1008."""
    for first in (
        "not json",
        json.dumps({"type": "read", "ids": []}),
        json.dumps({"type": "hello", "token": org.tokens["u1"], "after": "yesterday"}),
    ):
        async with websockets.connect(gateway.ws_url) as ws:
            await ws.send(first)
            assert await _close_code(ws) == 1008
    feed = await live_feed(gateway, org.tokens["u1"])
    await feed.send({"type": "dance"})
    assert await _close_code(feed.ws) == 1008


async def test_no_hello_closes_4408(redis_server: RedisServer, procs: Processes) -> None:
    """A client that never says hello is closed with 4408 after hello_timeout."""
    gw, _ = procs.serve(redis_server.url, SIGNALGATE_GATEWAY_HELLO_TIMEOUT="0.5")
    async with websockets.connect(gw.ws_url) as ws:
        assert await _close_code(ws) == 4408


async def test_ping_pong_and_read_over_socket(client: httpx.AsyncClient, gateway: Gateway, org: OrgCtx) -> None:
    """`ping` answers `pong`; `read` over the socket updates unread on every connection."""
    a = await live_feed(gateway, org.tokens["u1"])
    b = await live_feed(gateway, org.tokens["u1"])
    await a.send({"type": "ping"})
    await a.until(lambda f: f["type"] == "pong")
    await post_event(client, org, survey({"id": "c-yamada"}))
    sig = await a.signal("survey.answered")
    assert (await b.signal("survey.answered"))["id"] == sig["id"]
    await a.until(lambda f: f["type"] == "unread" and f["count"] == 1)
    await a.send({"type": "read", "ids": [sig["id"]]})
    for feed in (a, b):
        await feed.until(lambda f: f["type"] == "unread" and f["count"] == 0)
    assert (await signals_of(client, org))["unread"] == 0
    await a.ws.close()
    await b.ws.close()


async def _make_signals(client: httpx.AsyncClient, org: OrgCtx, n: int, prefix: str) -> None:
    for i in range(n):
        r = await post_event(
            client, org, {"type": "desk.ticket", "contact": {"id": "c-yamada"}, "title": f"{prefix}-{i}"}
        )
        assert r.status_code == 202


async def test_resume_after_disconnect_replays_everything_once(
    client: httpx.AsyncClient, gateway: Gateway, org: OrgCtx
) -> None:
    """50 signals made while disconnected are replayed in order after `after`, then live, no duplicates."""
    feed = await live_feed(gateway, org.tokens["u1"])
    await _make_signals(client, org, 1, "before")
    first = await feed.signal("desk.ticket")
    await feed.ws.close()
    # Repeats of one type for one contact are grouped: each replayed frame is an update of `first`.
    await _make_signals(client, org, 50, "offline")
    await wait_for(lambda: _count_updates(client, org, first["id"]))
    resumed, _ = await open_feed(gateway, org.tokens["u1"], after=first["id"])
    frames = []
    while True:
        f = await resumed.recv()
        if f["type"] == "live":
            break
        frames.append(f)
    assert [f["type"] for f in frames] == ["signal"] * 50
    cursors = [f["cursor"] for f in frames]
    assert cursors == sorted(cursors, key=lambda c: tuple(map(int, c.split("-"))))
    assert len(set(cursors)) == 50
    assert [f["signal"]["count"] for f in frames] == list(range(2, 52))
    assert {f["signal"]["id"] for f in frames} == {first["id"]}
    await _make_signals(client, org, 1, "live")
    live = await resumed.signal("desk.ticket")
    assert live["count"] == 52
    await resumed.ws.close()


async def _count_updates(client: httpx.AsyncClient, org: OrgCtx, sid: str) -> bool:
    signals = (await signals_of(client, org))["signals"]
    return any(s["id"] == sid and s["count"] == 51 for s in signals)


async def test_resume_with_distinct_signals_and_live_seam(fresh_redis: RedisServer, procs: Processes) -> None:
    """With grouping off: 50 new signals while away → replayed once each in id order; live continues seamlessly."""
    # A private Redis: the session router would otherwise route these events with its own settings.
    gw, _ = procs.serve(fresh_redis.url, with_router=True, SIGNALGATE_SIGNALS_GROUP_WINDOW_SECONDS="0")
    async with httpx.AsyncClient(base_url=gw.base_url) as client:
        org = await provision_org(client, gw, "resume-seam")
        feed = await live_feed(gw, org.tokens["u1"])
        await _make_signals(client, org, 1, "before")
        first = await feed.signal()
        await feed.ws.close()
        await _make_signals(client, org, 50, "away")
        await wait_for(lambda: _has_n(client, org, 51), timeout=15)
        # Keep producing while the client resumes, to exercise the replay/live seam.
        producer = asyncio.create_task(_make_signals(client, org, 30, "during"))
        resumed, _ = await open_feed(gw, org.tokens["u1"], after=first["id"])
        await producer
        titles: list[str] = []
        while len(titles) < 80:
            titles.append((await resumed.signal(timeout=10))["title"])
        assert titles == [f"away-{i}" for i in range(50)] + [f"during-{i}" for i in range(30)]
        kinds = [f["type"] for f in resumed.frames if f["type"] in ("live", "gap")]
        assert kinds == ["live"]
        ids = [f["signal"]["id"] for f in resumed.frames if f["type"] == "signal"]
        assert len(ids) == len(set(ids)) == 80
        await resumed.ws.close()


async def _has_n(client: httpx.AsyncClient, org: OrgCtx, n: int) -> bool:
    return len((await signals_of(client, org, limit=500))["signals"]) >= n


async def test_gap_when_after_is_older_than_retention(fresh_redis: RedisServer, procs: Processes) -> None:
    """Resuming from an id that was trimmed away sends `gap` first, then what is retained."""
    gw, _ = procs.serve(
        fresh_redis.url,
        with_router=True,
        SIGNALGATE_SIGNALS_GROUP_WINDOW_SECONDS="0",
        SIGNALGATE_SIGNALS_HISTORY_MIN_ENTRIES="10",
        SIGNALGATE_SIGNALS_HISTORY_DAYS="1",
        SIGNALGATE_SIGNALS_HISTORY_MAX_ENTRIES="20",
    )
    async with httpx.AsyncClient(base_url=gw.base_url) as client:
        org = await provision_org(client, gw, "gap-org")
        feed = await live_feed(gw, org.tokens["u1"])
        await _make_signals(client, org, 1, "first")
        first = await feed.signal()
        await feed.ws.close()
        await _make_signals(client, org, 80, "flood")
        await wait_for(lambda: _newest_title(client, org, "flood-79"), timeout=15)
        resumed, _ = await open_feed(gw, org.tokens["u1"], after=first["id"])
        assert (await resumed.recv())["type"] == "gap"
        replayed = []
        while (f := await resumed.recv())["type"] != "live":
            replayed.append(f["signal"]["title"])
        assert 10 <= len(replayed) <= 20
        assert replayed[-1] == "flood-79"
        history = (await signals_of(client, org, limit=500))["signals"]
        assert 10 <= len(history) <= 20
        await resumed.ws.close()


async def _newest_title(client: httpx.AsyncClient, org: OrgCtx, title: str) -> bool:
    signals = (await signals_of(client, org, limit=1))["signals"]
    return bool(signals) and signals[-1]["title"] == title


async def test_two_connections_of_one_user_both_receive(
    client: httpx.AsyncClient, gateway: Gateway, org: OrgCtx
) -> None:
    """Every open connection of the user receives each signal and the unread count."""
    feeds: list[Feed] = [await live_feed(gateway, org.tokens["u1"]) for _ in range(2)]
    await post_event(client, org, survey({"id": "c-suzuki"}))
    got = [await f.signal("survey.answered") for f in feeds]
    assert got[0] == got[1]
    for f in feeds:
        await f.until(lambda fr: fr["type"] == "unread" and fr["count"] == 1)
        await f.ws.close()


async def test_unread_counts_and_rest_read(client: httpx.AsyncClient, gateway: Gateway, org: OrgCtx) -> None:
    """welcome carries unread; REST read by ids/up_to updates it and pushes `unread` frames."""
    await post_event(client, org, survey({"id": "c-yamada"}))
    await post_event(client, org, {"type": "desk.ticket", "contact": {"id": "c-suzuki"}, "title": "t"})
    await wait_for(lambda: _has_n(client, org, 2))
    feed, welcome = await open_feed(gateway, org.tokens["u1"])
    assert welcome["unread"] == 2
    assert (await feed.recv())["type"] == "live"
    page = await signals_of(client, org)
    assert page["unread"] == 2 and [s["read"] for s in page["signals"]] == [False, False]
    r = await client.post(
        "/api/v1/me/signals/read", json={"ids": [page["signals"][0]["id"]]}, headers=org.user_headers()
    )
    assert r.json() == {"unread": 1, "unknown": []}
    await feed.until(lambda f: f["type"] == "unread" and f["count"] == 1)
    r = await client.post(
        "/api/v1/me/signals/read", json={"up_to": page["signals"][1]["id"]}, headers=org.user_headers()
    )
    assert r.json() == {"unread": 0, "unknown": []}
    await feed.until(lambda f: f["type"] == "unread" and f["count"] == 0)
    bad = await client.post("/api/v1/me/signals/read", json={"ids": ["x"]}, headers=org.user_headers())
    assert bad.status_code == 400
    await feed.ws.close()
    # A resume carries each signal's read state; live frames are unread when they arrive.
    resumed, _ = await open_feed(gateway, org.tokens["u1"], after="0-0")
    replayed = [await resumed.recv(), await resumed.recv()]
    assert [f["signal"]["read"] for f in replayed] == [True, True]
    assert (await resumed.recv())["type"] == "live"
    await post_event(client, org, survey({"id": "c-yamada"}, "again"))
    assert (await resumed.signal("survey.answered"))["read"] is False
    await resumed.ws.close()


async def test_rest_history_paging(client: httpx.AsyncClient, gateway: Gateway, org: OrgCtx) -> None:
    """Without `after`: newest `limit` ascending; with `after`: the ones after it; limits validated."""
    for i, kind in enumerate(("desk.ticket", "desk.escalated", "desk.rating", "chat.unattended", "survey.answered")):
        await post_event(client, org, {"type": kind, "contact": {"id": "c-yamada"}, "title": str(i)})
    await wait_for(lambda: _has_n(client, org, 5))
    newest = (await signals_of(client, org, limit=2))["signals"]
    assert [s["title"] for s in newest] == ["3", "4"]
    everything = (await signals_of(client, org))["signals"]
    after = (await signals_of(client, org, after=everything[1]["id"], limit=2))["signals"]
    assert [s["title"] for s in after] == ["2", "3"]
    for bad in ({"limit": "0"}, {"limit": "501"}, {"after": "nope"}):
        r = await client.get("/api/v1/me/signals", params=bad, headers=org.user_headers())
        assert r.status_code == 400 and r.json()["error"] == "invalid_parameter"


async def test_switched_off_type_is_neither_pushed_nor_stored(
    client: httpx.AsyncClient, gateway: Gateway, org: OrgCtx
) -> None:
    """A type switched off in settings makes nothing for that user; others are unaffected."""
    r = await client.put("/api/v1/me/settings", json={"types": {"survey.answered": False}}, headers=org.user_headers())
    assert r.status_code == 200
    assert r.json()["types"]["survey.answered"] is False and r.json()["types"]["desk.ticket"] is True
    assert set(r.json()["types"]) == set(SIGNAL_TYPES)
    feed = await live_feed(gateway, org.tokens["u1"])
    await post_event(client, org, survey({"id": "c-yamada"}))
    await post_event(client, org, {"type": "desk.ticket", "contact": {"id": "c-yamada"}, "title": "after"})
    await feed.signal("desk.ticket")
    assert [f["signal"]["type"] for f in feed.frames if f["type"] == "signal"] == ["desk.ticket"]
    assert [s["type"] for s in (await signals_of(client, org))["signals"]] == ["desk.ticket"]
    bad = await client.put("/api/v1/me/settings", json={"types": {"nope": True}}, headers=org.user_headers())
    assert bad.status_code == 400 and bad.json()["error"] == "unknown_type"
    await feed.ws.close()


async def test_slow_consumer_is_closed_1013_and_can_resume(fresh_redis: RedisServer, procs: Processes) -> None:
    """A client that stops reading while frames pile up is closed with 1013; it resumes from its cursor."""
    gw, _ = procs.serve(
        fresh_redis.url,
        with_router=True,
        SIGNALGATE_GATEWAY_WS_QUEUE_SIZE="4",
        SIGNALGATE_SIGNALS_GROUP_WINDOW_SECONDS="0",
    )
    async with httpx.AsyncClient(base_url=gw.base_url, timeout=20) as client:
        org = await provision_org(client, gw, "slow-org")
        # The websockets library's sans-I/O client over a socket we simply stop reading.
        sock, proto = await _raw_client(gw, org.tokens["u1"], rcvbuf=16384)
        big = "x" * 60_000
        for i in range(200):
            r = await post_event(
                client,
                org,
                {"type": "desk.ticket", "contact": {"id": "c-yamada"}, "title": f"s{i}", "data": {"blob": big}},
            )
            assert r.status_code == 202
        # Only now read everything the server managed to send, up to its close frame.
        frames: list[dict[str, object]] = []
        close_code = None
        while close_code is None:
            data = await asyncio.to_thread(sock.recv, 1 << 20)
            if not data:
                break
            proto.receive_data(data)
            for event in proto.events_received():
                if isinstance(event, Frame) and event.opcode is Opcode.TEXT:
                    frames.append(json.loads(bytes(event.data)))
                elif isinstance(event, Frame) and event.opcode is Opcode.CLOSE:
                    close_code = Close.parse(event.data).code
        sock.close()
        assert close_code == 1013
        signals = [f for f in frames if f["type"] == "signal"]
        assert len(signals) < 200
        last = str(signals[-1]["cursor"]) if signals else "0-0"
        resumed, _ = await open_feed(gw, org.tokens["u1"], after=last)
        rest = []
        while (f := await resumed.recv(timeout=20))["type"] != "live":
            rest.append(f["signal"]["title"])
        titles = [f["signal"]["title"] for f in signals] + rest  # type: ignore[index]
        assert titles == [f"s{i}" for i in range(200)]
        await resumed.ws.close()


async def test_unanswered_ping_closes_1013(redis_server: RedisServer, procs: Processes) -> None:
    """SPEC: "Server pings; a connection that does not answer ... is closed with 1013" (and may resume)."""
    gw, _ = procs.serve(
        redis_server.url, SIGNALGATE_GATEWAY_WS_PING_INTERVAL="0.3", SIGNALGATE_GATEWAY_WS_PING_TIMEOUT="0.5"
    )
    async with httpx.AsyncClient(base_url=gw.base_url, timeout=20) as client:
        org = await provision_org(client, gw, "ping-org")
    # The websockets library's sans-I/O client; what it queues (the pongs) is never sent.
    sock, proto = await _raw_client(gw, org.tokens["u1"])
    pinged, close_code = False, None
    while close_code is None:
        data = await asyncio.to_thread(sock.recv, 65536)
        if not data:
            break
        proto.receive_data(data)
        for event in proto.events_received():
            if isinstance(event, Frame) and event.opcode is Opcode.PING:
                pinged = True
            elif isinstance(event, Frame) and event.opcode is Opcode.CLOSE:
                close_code = Close.parse(event.data).code
    sock.close()
    assert pinged and close_code == 1013


async def _raw_client(gw: Gateway, token: str, rcvbuf: int | None = None) -> tuple[socket.socket, ClientProtocol]:
    """A connected, hello'd feed driven by the websockets library's sans-I/O client over a plain
    socket: the test decides what is read and what is sent (nothing is, unless it says so)."""
    sock = socket.socket()
    if rcvbuf is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.settimeout(10 * FACTOR)
    sock.connect(("127.0.0.1", int(gw.base_url.rsplit(":", 1)[1])))
    proto = ClientProtocol(parse_uri(gw.ws_url))
    proto.send_request(proto.connect())
    sock.sendall(b"".join(proto.data_to_send()))
    while proto.state is not State.OPEN:
        proto.receive_data(await asyncio.to_thread(sock.recv, 4096))
    proto.send_text(json.dumps({"type": "hello", "token": token}).encode())
    sock.sendall(b"".join(proto.data_to_send()))
    return sock, proto
