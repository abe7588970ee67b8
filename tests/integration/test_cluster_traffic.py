"""Traffic on a real Redis Cluster with two ``serve`` nodes and two routers (``cluster_env``: grouping
off, so every event is a signal of its own): slots resharded while signed requests are in flight lose and
duplicate nothing, per-contact order holds across nodes, and a client resuming with its cursor
gets exactly what it missed."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from typing import Any

import httpx
import pytest
from redis.crc import key_slot
from websockets.exceptions import ConnectionClosed

from gateway.store import keys
from tests.support.api import Gateway, OrgCtx, post_twilio, provision_org, sms_params
from tests.support.processes import Processes
from tests.support.redis_cluster import RedisCluster, error_deltas, next_master, reshard_slot
from tests.support.timing import FACTOR, wait_for
from tests.support.ws import Feed, open_feed

CONTACTS = 8


@pytest.fixture(scope="module")
def traffic_nodes(
    redis_cluster: RedisCluster,
    cluster_env: dict[str, str],
    cluster_procs: Processes,
    cluster_gateways: tuple[Gateway, Gateway],
) -> tuple[Gateway, Gateway]:
    """The session's two ``serve`` nodes, and a second router beside its first (every router of the
    session shares the consumer group, so they all run with the session's settings)."""
    cluster_procs.router(redis_cluster.url, **cluster_env)
    return cluster_gateways


def _phone(i: int) -> str:
    return f"+8190{55550000 + i}"


async def _contacts(client: httpx.AsyncClient, org: OrgCtx, owners: tuple[str, ...]) -> list[str]:
    """``CONTACTS`` more contacts, each with its own phone (so its own routing key), owners in turn."""
    phones = []
    for i in range(CONTACTS):
        body = {"kind": "lead", "name": f"顧客 {i}", "phones": [_phone(i)], "owner": owners[i % len(owners)]}
        r = await client.put(f"/api/v1/orgs/{org.id}/contacts/c-t{i}", json=body, headers=org.gateway.admin)
        assert r.status_code == 201, r.text
        phones.append(_phone(i))
    return phones


async def _feed_texts(client: httpx.AsyncClient, org: OrgCtx, user: str) -> list[str]:
    """Every ``sms.received`` text in the user's feed, in id order (REST, paged by id)."""
    texts: list[str] = []
    after = "0-0"
    while True:
        r = await client.get(
            "/api/v1/me/signals", params={"after": after, "limit": 500}, headers=org.user_headers(user)
        )
        assert r.status_code == 200, r.text
        page = r.json()["signals"]
        texts += [s["data"]["text"] for s in page if s["type"] == "sms.received"]
        if len(page) < 500:
            return texts
        after = page[-1]["id"]


async def test_slots_resharded_during_signed_traffic_lose_and_duplicate_nothing(
    redis_cluster: RedisCluster, traffic_nodes: tuple[Gateway, Gateway]
) -> None:
    """Signed Twilio SMS stream into both nodes while the org's slot (key by key) and every
    partition stream's slot migrate to another master. A request may get 503 meanwhile (and is
    retried with its idempotency token, as Twilio does), never 500; afterwards every accepted
    message is in its owner's feed exactly once."""
    a, b = traffic_nodes
    statuses: Counter[int] = Counter()
    accepted: dict[str, str] = {}  # text -> user
    moving = True

    async with (
        httpx.AsyncClient(base_url=a.base_url, timeout=10 * FACTOR) as ca,
        httpx.AsyncClient(base_url=b.base_url, timeout=10 * FACTOR) as cb,
    ):
        org = await provision_org(ca, a, "rt-" + uuid.uuid4().hex[:10])
        phones = await _contacts(ca, org, ("u1", "u2"))
        for i in range(20):  # the org's slot gets keys to move: feeds, signals, dedupe marks
            r = await post_twilio(ca, org, "sms", sms_params(f"warm {i}", sender=phones[i % CONTACTS]))
            assert r.status_code in (200, 204), r.text
            accepted[f"warm {i}"] = ("u1", "u2")[i % CONTACTS % 2]

        async def sender(n: int) -> None:
            i = 0
            while (moving or i < 5) and i < 80:
                client, node = ((ca, a), (cb, b))[i % 2]
                url = f"{node.base_url}/webhooks/twilio/{org.id}/sms"  # Twilio signs the node's URL
                text = f"s{n}-{i}"
                params = sms_params(text, sender=phones[n])
                token = uuid.uuid4().hex
                for _ in range(100):
                    r = await post_twilio(client, org, "sms", params, idempotency_token=token, sign_url=url)
                    statuses[r.status_code] += 1
                    if r.status_code in (200, 204):
                        accepted[text] = ("u1", "u2")[n % 2]
                        break
                    assert r.status_code == 503, (r.status_code, r.text)
                    await asyncio.sleep(0.05)
                else:
                    raise AssertionError(f"{text} never accepted")
                if i % 3 == 0:  # Twilio delivers again (same token): deduped, even on a half-moved slot
                    r = await post_twilio(client, org, "sms", params, idempotency_token=token, sign_url=url)
                    statuses[r.status_code] += 1
                    assert r.status_code in (200, 204, 503), (r.status_code, r.text)
                i += 1

        def reshard() -> int:
            moved = reshard_slot(redis_cluster, org_slot, next_master(redis_cluster, org_slot), pause=0.005)
            for slot in partition_slots:
                moved += reshard_slot(redis_cluster, slot, next_master(redis_cluster, slot), pause=0.01)
            return moved

        org_slot = key_slot(keys.org(org.id).encode())
        partition_slots = sorted({key_slot(keys.events_stream(p).encode()) for p in range(keys.PARTITIONS)})
        before = redis_cluster.error_stats()
        live: list[tuple[str, str]] = []  # (id, text) of u1's live and replayed frames on node B
        watcher = asyncio.create_task(_watch(b, org.tokens["u1"], live))
        await asyncio.sleep(0.2)
        senders = [asyncio.create_task(sender(n)) for n in range(CONTACTS)]
        await asyncio.sleep(0.3)  # traffic first, then the move under it
        try:
            moved = await asyncio.to_thread(reshard)
        finally:
            moving = False
        await asyncio.gather(*senders)
        assert moved > 20
        # the traffic met the move: clients were redirected (ASK/MOVED) or told to retry (TRYAGAIN)
        rose = error_deltas(before, redis_cluster.error_stats())
        assert sum(r.get(k, 0) for r in rose.values() for k in ("ASK", "MOVED", "TRYAGAIN")) > 0, rose

        async def routed() -> dict[str, list[str]] | None:
            feeds = {u: await _feed_texts(cb, org, u) for u in ("u1", "u2")}
            return feeds if sum(len(t) for t in feeds.values()) >= len(accepted) else None

        try:
            feeds = await wait_for(routed, timeout=30, interval=0.3)
        except TimeoutError:
            feeds = {u: await _feed_texts(cb, org, u) for u in ("u1", "u2")}
        for user in ("u1", "u2"):
            got = Counter(feeds[user])
            want = {t for t, u in accepted.items() if u == user}
            assert not [t for t, c in got.items() if c > 1], f"duplicates in {user}'s feed"
            assert want - set(got) == set(), f"lost from {user}'s feed ({statuses})"
            assert set(got) - want == set(), f"never accepted, yet in {user}'s feed"

        # the WebSocket on node B (resuming with its cursor if the hub closed it) saw u1's once each
        want = {t for t, u in accepted.items() if u == "u1"}
        try:
            await wait_for(lambda: want <= {t for _, t in live} or None, timeout=15, interval=0.1)
        except TimeoutError:
            missing = sorted(want - {t for _, t in live})
            died = watcher.exception() if watcher.done() else None
            raise AssertionError(
                f"live on B: {len(missing)} of {len(want)} missing {missing[:8]}; watcher {died!r}"
            ) from None
        finally:
            watcher.cancel()
        ids = [i for i, _ in live]
        assert len(set(ids)) == len(ids) and ids == sorted(ids, key=_id_order), "duplicates or disorder live"
        assert {t for _, t in live} == want

        # deleting the org after the move removes its keys from every master (SCAN on each primary)
        assert redis_cluster.org_keys(org.id)
        r = await ca.delete(f"/api/v1/orgs/{org.id}", headers=a.admin)
        assert r.status_code == 204, r.text
        assert redis_cluster.org_keys(org.id) == [], "keys left behind on some master"
    assert redis_cluster.crossslot_errors() == dict.fromkeys(redis_cluster.ports, 0)


async def _watch(gw: Gateway, token: str, out: list[tuple[str, str]]) -> None:
    """u1's socket: every sms.received from the start of the feed (replayed, then live); when closed
    (1013), resume after the last id seen."""
    after = "0-0"
    while True:
        feed, _ = await open_feed(gw, token, after=after)
        try:
            while True:
                frame = await feed.recv(timeout=60)
                if frame["type"] == "signal" and frame["signal"]["type"] == "sms.received":
                    sig = frame["signal"]
                    out.append((sig["id"], sig["data"]["text"]))
                    after = sig["id"]
        except ConnectionClosed:
            continue
        finally:
            await feed.ws.close()


def _id_order(sid: str) -> tuple[int, ...]:
    return tuple(int(part) for part in sid.split("-"))


async def _signals(feed: Feed, n: int, timeout: float = 15) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    while len(out) < n:
        out.append(await feed.signal("sms.received", timeout=timeout))
    return out


async def test_many_contacts_keep_their_order_across_nodes_and_resume_gets_what_was_missed(
    redis_cluster: RedisCluster, traffic_nodes: tuple[Gateway, Gateway]
) -> None:
    """SMS from 8 contacts of u1, each contact's in sequence (all at once across contacts), ingested
    on node A and routed by two routers, reach u1's WebSocket on node B in each contact's order, ids
    ascending, once each. The client drops; 6 more arrive; reconnected with its last id it gets
    exactly those 6, in order, then ``live``, and the next one live."""
    a, b = traffic_nodes
    per_contact = 5
    async with httpx.AsyncClient(base_url=a.base_url, timeout=10 * FACTOR) as client:
        org = await provision_org(client, a, "ro-" + uuid.uuid4().hex[:10])
        phones = await _contacts(client, org, ("u1",))
        feed, _ = await open_feed(b, org.tokens["u1"])
        assert (await feed.recv())["type"] == "live"

        async def contact_stream(n: int, first: int, count: int) -> None:
            for i in range(first, first + count):
                r = await post_twilio(client, org, "sms", sms_params(f"c{n}:{i}", sender=phones[n]))
                assert r.status_code in (200, 204), r.text

        await asyncio.gather(*(contact_stream(n, 0, per_contact) for n in range(CONTACTS)))
        got = await _signals(feed, CONTACTS * per_contact)
        ids = [s["id"] for s in got]
        assert ids == sorted(ids, key=_id_order) and len(set(ids)) == len(ids)
        for n in range(CONTACTS):
            assert [s["data"]["text"] for s in got if s["contact"]["id"] == f"c-t{n}"] == [
                f"c{n}:{i}" for i in range(per_contact)
            ]
        last = ids[-1]
        await feed.ws.close()

        await asyncio.gather(contact_stream(0, per_contact, 3), contact_stream(5, per_contact, 3))
        missed = {f"c{n}:{i}" for n in (0, 5) for i in range(per_contact, per_contact + 3)}
        await wait_for(lambda: _routed_after(client, org, last, len(missed)), timeout=20, interval=0.1)

        resumed, _welcome = await open_feed(b, org.tokens["u1"], after=last)
        frames = []
        while (frame := await resumed.recv(timeout=10))["type"] != "live":
            frames.append(frame)
        replay = [f["signal"] for f in frames if f["type"] == "signal"]
        assert {f["type"] for f in frames} <= {"signal", "unread"}, frames
        assert [s["data"]["text"] for s in replay if s["contact"]["id"] == "c-t0"] == [
            f"c0:{i}" for i in range(per_contact, per_contact + 3)
        ]
        assert [s["data"]["text"] for s in replay if s["contact"]["id"] == "c-t5"] == [
            f"c5:{i}" for i in range(per_contact, per_contact + 3)
        ]
        assert len(replay) == len(missed)
        assert [s["id"] for s in replay] == sorted((s["id"] for s in replay), key=_id_order)
        assert _id_order(replay[0]["id"]) > _id_order(last)
        await contact_stream(3, per_contact, 1)
        assert (await resumed.signal("sms.received", timeout=10))["data"]["text"] == f"c3:{per_contact}"
        await resumed.ws.close()
    assert redis_cluster.crossslot_errors() == dict.fromkeys(redis_cluster.ports, 0)


async def _routed_after(client: httpx.AsyncClient, org: OrgCtx, after: str, n: int) -> bool | None:
    r = await client.get("/api/v1/me/signals", params={"after": after, "limit": 50}, headers=org.user_headers("u1"))
    assert r.status_code == 200, r.text
    return True if len(r.json()["signals"]) >= n else None
