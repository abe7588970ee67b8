"""Tenant isolation under attack (issue 9, findings 1-3): per-org dedupe, ids checked at the edge,
org data and partition data in separate hash-tag namespaces; other orgs' data checked afterwards."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from functools import partial

import httpx
import pytest
import redis.asyncio as aioredis
from starlette.routing import Route

from gateway.api import account, activity, notifications, orgs, templates
from gateway.domain.tenancy import ORG_ID
from gateway.store import keys
from tests.support.api import Gateway, OrgCtx, post_event, post_twilio, provision_org, signals_of, sms_params, survey
from tests.support.processes import Processes
from tests.support.redis import RedisServer
from tests.support.streams import stream_of, webhook_stream
from tests.support.timing import FACTOR, wait_for

YAMADA = {"id": "c-yamada"}


def _yamada_stream(org: str) -> str:
    """The partition stream of ``org``'s webhook events about YAMADA."""
    return webhook_stream(org, YAMADA)


def _sms_stream(org: str) -> str:
    """The partition stream of ``org``'s inbound SMS from YAMADA's phone."""
    return stream_of(org, "twilio.sms", sms_params(""))


def _in_partition(stream: str, prefix: str, n: int, stream_of_org: Callable[[str], str] = _yamada_stream) -> list[str]:
    """``n`` org ids (``prefix`` + a number) whose events (``stream_of_org``) all go to ``stream``."""
    found = (f"{prefix}{i}" for i in range(100_000) if stream_of_org(f"{prefix}{i}") == stream)
    return [next(found) for _ in range(n)]


async def _titles(client: httpx.AsyncClient, org: OrgCtx) -> list[str]:
    return [s["title"] for s in (await signals_of(client, org, limit=500))["signals"]]


async def _has_title(client: httpx.AsyncClient, org: OrgCtx, title: str) -> bool:
    return title in await _titles(client, org)


async def _stream_org(r: aioredis.Redis, org: str, event_id: str) -> str:
    entries = await r.xrange(_yamada_stream(org), event_id, event_id)
    assert len(entries) == 1, event_id
    return str(entries[0][1]["org"])


@pytest.fixture
async def redis_of(redis_server: RedisServer) -> AsyncIterator[aioredis.Redis]:
    r = aioredis.from_url(redis_server.url, decode_responses=True)
    yield r
    await r.aclose()


# -- finding 1: dedupe is per org ----------------------------------------------------------------
async def test_same_webhook_id_in_two_orgs_of_one_partition(
    client: httpx.AsyncClient, gateway: Gateway, redis_of: aioredis.Redis
) -> None:
    """Two orgs of one partition send one webhook-id: each gets its own event and signal; a real
    repeat within one org still dedupes and names that org's own event."""
    run = uuid.uuid4().hex[:6]
    a_id, b_id = _in_partition(_yamada_stream(f"dd{run}-a"), f"dd{run}-", 2)
    a, b = await provision_org(client, gateway, a_id), await provision_org(client, gateway, b_id)
    msg_id = "msg_1_" + run  # a tool numbering its deliveries sends the same ids for every tenant
    first = await post_event(client, a, survey(YAMADA, "A's survey"), msg_id=msg_id)
    second = await post_event(client, b, survey(YAMADA, "B's survey"), msg_id=msg_id)
    assert first.status_code == second.status_code == 202, (first.text, second.text)
    assert first.json()["duplicate"] is False and second.json()["duplicate"] is False, second.text
    assert first.json()["event"] != second.json()["event"]
    assert await _stream_org(redis_of, a.id, first.json()["event"]) == a.id
    assert await _stream_org(redis_of, b.id, second.json()["event"]) == b.id
    await wait_for(lambda: _has_title(client, a, "A's survey"))
    await wait_for(lambda: _has_title(client, b, "B's survey"))
    # The provider retries B's delivery: a duplicate, naming B's event, never A's.
    retry = await post_event(client, b, survey(YAMADA, "B's survey"), msg_id=msg_id)
    assert retry.status_code == 202
    assert retry.json() == {"accepted": True, "duplicate": True, "event": second.json()["event"]}
    assert await _titles(client, a) == ["A's survey"]
    assert await _titles(client, b) == ["B's survey"]


async def test_same_twilio_idempotency_token_in_two_orgs_of_one_partition(
    client: httpx.AsyncClient, gateway: Gateway, redis_of: aioredis.Redis
) -> None:
    """One I-Twilio-Idempotency-Token in two orgs of one partition: both SMS are kept and
    signalled; a retry within one org appends nothing."""
    run = uuid.uuid4().hex[:6]
    a_id, b_id = _in_partition(_sms_stream(f"tw{run}-a"), f"tw{run}-", 2, _sms_stream)
    a, b = await provision_org(client, gateway, a_id), await provision_org(client, gateway, b_id)
    token = "idem-" + run
    for org, text in ((a, "A からの返信"), (b, "B からの返信")):
        r = await post_twilio(client, org, "sms", sms_params(text), idempotency_token=token)
        assert r.status_code == 200, r.text
    stream = _sms_stream(a.id)

    async def sms_of(org: str) -> list[str]:
        return [e[1]["data"] for e in await redis_of.xrange(stream) if e[1]["org"] == org]

    assert len(await sms_of(a.id)) == len(await sms_of(b.id)) == 1
    for org, text in ((a, "A からの返信"), (b, "B からの返信")):
        await wait_for(partial(_sms_signal, client, org, text))
    r = await post_twilio(client, b, "sms", sms_params("B からの返信"), idempotency_token=token)
    assert r.status_code == 200
    assert len(await sms_of(b.id)) == 1


async def _sms_signal(client: httpx.AsyncClient, org: OrgCtx, text: str) -> bool:
    signals = (await signals_of(client, org))["signals"]
    return any(s["type"] == "sms.received" and text in str(s) for s in signals)


# -- finding 2: every id in a path is checked at the edge -------------------------------------
BAD_ORG_IDS = ["zz%3F", "%2A", "*", "zz[12]", "zz%5B12%5D", "Bad_Org", "p%3A9", "a" * 41]
BAD_RECORD_IDS = ["%2A", "a%3Fb", "bad%20id", "a%5Bb%5D", "x" * 65]


def _admin_routes() -> Iterator[tuple[str, str]]:
    for module in (orgs, notifications, templates, account, activity):
        for route in module.routes:
            assert isinstance(route, Route)
            for method in sorted((route.methods or set()) - {"HEAD"}):
                yield method, route.path


async def test_every_bad_path_id_is_400_invalid_id(
    client: httpx.AsyncClient, gateway: Gateway, org: OrgCtx, redis_of: aioredis.Redis
) -> None:
    """Every management route, every path parameter, every method: a bad id is 400 invalid_id
    (after the auth check) and nothing is written."""
    listings = ("", "/users", "/templates", "/contacts/c-yamada", "/credits")
    before = [(await client.get(f"/api/v1/orgs/{org.id}{p}", headers=gateway.admin)).json() for p in listings]
    checked = 0
    for method, path in _admin_routes():
        names = [p.strip("{}") for p in path.split("/") if p.startswith("{")]
        for name in names:
            for bad in BAD_ORG_IDS if name == "org" else BAD_RECORD_IDS:
                url = path
                for other in names:
                    url = url.replace("{" + other + "}", bad if other == name else (org.id if other == "org" else "u1"))
                r = await client.request(method, url, json={}, headers=gateway.admin)
                assert r.status_code == 400, (method, url, r.status_code, r.text)
                assert r.json()["error"] == "invalid_id", (method, url, r.text)
                checked += 1
                if name == "org":
                    assert (await client.request(method, url, json={})).status_code == 401, (method, url)
    assert checked > 100
    after = [(await client.get(f"/api/v1/orgs/{org.id}{p}", headers=gateway.admin)).json() for p in listings]
    assert after == before
    tags = {k[k.index("{") + 1 : k.index("}")] async for k in redis_of.scan_iter(match="sg:{*", count=1000)}
    assert not [t for t in tags if not ORG_ID.fullmatch(t) and not re.fullmatch(r"p:[0-9]+", t) and t != "node:hb"]


async def test_glob_ids_delete_nothing(fresh_redis: RedisServer, procs: Processes) -> None:
    """DELETE /orgs/zz%3F, *, zz[12], %2A → 400; every org's keys, the partition streams, their
    groups and dedupe keys are untouched, and routing still works for every org."""
    gw, _ = procs.serve(fresh_redis.url)
    procs.router(fresh_redis.url, SIGNALGATE_SIGNALS_GROUP_WINDOW_SECONDS="0")
    r = aioredis.from_url(fresh_redis.url, decode_responses=True)
    try:
        async with httpx.AsyncClient(base_url=gw.base_url, timeout=10 * FACTOR) as client:
            org_ids = ["zz1", "zz2", "zza", "p9", *_in_partition(keys.events_stream(9), "nine-", 2)]
            tenants = [await provision_org(client, gw, o) for o in org_ids]
            for t in tenants:
                first = await post_event(client, t, survey(YAMADA, "before"), msg_id=f"first-{t.id}")
                assert first.status_code == 202
            for t in tenants:
                await wait_for(partial(_has_title, client, t, "before"), timeout=10)
            snapshot = await _keyspace(r)
            assert keys.events_stream(9) in snapshot and keys.org("p9") in snapshot
            for bad in ("zz%3F", "*", "%2A", "zz[12]", "zz%5B12%5D", "zz%2A", "%3F%3F%3F", "p%3A9", "ZZ1"):
                resp = await client.delete(f"/api/v1/orgs/{bad}", headers=gw.admin)
                assert resp.status_code == 400, (bad, resp.text)
                assert resp.json()["error"] == "invalid_id"
            assert await _keyspace(r) == snapshot
            for t in tenants:
                assert (await client.get(f"/api/v1/orgs/{t.id}", headers=gw.admin)).status_code == 200
                again = await post_event(client, t, survey(YAMADA, "before"), msg_id=f"first-{t.id}")
                assert again.json()["duplicate"] is True, t.id  # dedupe memory survived
                assert (await post_event(client, t, survey(YAMADA, "after"))).status_code == 202
            for t in tenants:
                await wait_for(partial(_has_title, client, t, "after"), timeout=10)
    finally:
        await r.aclose()


async def _keyspace(r: aioredis.Redis) -> dict[str, object]:
    """Every key with its type, and for streams the names of their consumer groups."""
    out: dict[str, object] = {}
    async for key in r.scan_iter(count=1000):
        kind = await r.type(key)
        out[key] = (kind, sorted(g["name"] for g in await r.xinfo_groups(key))) if kind == "stream" else kind
    return out


async def test_glob_escape_matches_only_the_literal_in_redis(fresh_redis: RedisServer) -> None:
    """keys.glob_escape: a SCAN MATCH of an escaped literal finds that literal and nothing else."""
    r = aioredis.from_url(fresh_redis.url, decode_responses=True)
    try:
        literals = ["sg:{zz?}:", "sg:{*}:", "sg:{zz[12]}:", "sg:{a\\b}:", "sg:{[^a]}:"]
        others = ["sg:{zz1}:", "sg:{zza}:", "sg:{zz2}:", "sg:{ab}:", "sg:{b}:", "sg:{p:9}:"]
        for name in literals + others:
            await r.set(name + "x", "1")
        for literal in literals:
            found = [k async for k in r.scan_iter(match=keys.glob_escape(literal) + "*")]
            assert found == [literal + "x"], (literal, found)
    finally:
        await r.aclose()


# -- finding 3: org p9 is not partition 9 ---------------------------------------------------------
async def test_put_and_delete_org_p9_leave_partition_9_alone(fresh_redis: RedisServer, procs: Processes) -> None:
    """PUT + DELETE org p9 while other orgs of partition 9 have events: their stream, group and
    dedupe keys survive, p9's own keys are all gone, and the router keeps routing partition 9."""
    gw, _ = procs.serve(fresh_redis.url)
    procs.router(fresh_redis.url, SIGNALGATE_SIGNALS_GROUP_WINDOW_SECONDS="0")
    r = aioredis.from_url(fresh_redis.url, decode_responses=True)
    try:
        async with httpx.AsyncClient(base_url=gw.base_url, timeout=10 * FACTOR) as client:
            others = [await provision_org(client, gw, o) for o in _in_partition(keys.events_stream(9), "tenant-", 2)]
            for t in others:
                assert (await post_event(client, t, survey(YAMADA, "one"), msg_id=f"first-{t.id}")).status_code == 202
            for t in others:
                await wait_for(partial(_has_title, client, t, "one"), timeout=10)
            p9 = await provision_org(client, gw, "p9")
            assert (await post_event(client, p9, survey(YAMADA, "p9's"), msg_id="first-p9")).status_code == 202
            await wait_for(lambda: _has_title(client, p9, "p9's"), timeout=10)
            assert (await client.delete("/api/v1/orgs/p9", headers=gw.admin)).status_code == 204
            assert (await client.get("/api/v1/orgs/p9", headers=gw.admin)).status_code == 404
            left = [k async for k in r.scan_iter(count=1000) if "{p9}" in k or ":seen:p9:" in k]
            assert left == []
            stream = keys.events_stream(9)
            assert [g["name"] for g in await r.xinfo_groups(stream)] == [keys.ROUTER_GROUP]
            for t in others:
                repeat = await post_event(client, t, survey(YAMADA, "one"), msg_id=f"first-{t.id}")
                assert repeat.json()["duplicate"] is True, t.id
                assert (await post_event(client, t, survey(YAMADA, "two"))).status_code == 202
            for t in others:
                await wait_for(partial(_has_title, client, t, "two"), timeout=10)
                assert sorted(await _titles(client, t)) == ["one", "two"]
            # Re-created, p9 starts empty and its events route too.
            p9 = await provision_org(client, gw, "p9")
            fresh = await post_event(client, p9, survey(YAMADA, "new p9"), msg_id="first-p9")
            assert fresh.json()["duplicate"] is False  # the deleted p9's dedupe keys went with it
            await wait_for(lambda: _has_title(client, p9, "new p9"), timeout=10)
            assert await _titles(client, p9) == ["new p9"]
    finally:
        await r.aclose()
