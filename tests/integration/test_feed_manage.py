"""Managing the feed over HTTP and /ws against the session's gateway + router processes: filters,
views, `before`/`after` paging (also back through 1,000+ signals), state changes with unknown ids,
counts, a group's events, snooze validation, state frames on every connection of the user, and a
grouped repeat reviving an archived or snoozed signal."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from gateway.config import load_config
from gateway.domain.signals import SIGNAL_TYPES, iso_utc
from gateway.services import Services, open_services
from gateway.store import keys
from tests.support.api import OrgCtx, post_event, signals_of
from tests.support.redis import RedisServer
from tests.support.timing import FACTOR
from tests.support.ws import live_feed


@pytest.fixture
async def store(redis_server: RedisServer) -> AsyncIterator[Services]:
    """The session Redis as the gateway's own store (to write many signals fast)."""
    async with open_services(load_config(None, {}), redis_server.url, secrets=False) as services:
        yield services


async def seed(store: Services, org: OrgCtx, specs: list[tuple[str, str]], user: str = "u1") -> list[str]:
    """One ungrouped signal per ``(type, contact)``, in order; their ids."""
    ids = []
    for i, (stype, contact) in enumerate(specs):
        body = {
            "type": stype,
            "org": org.id,
            "user": user,
            "contact": {"id": contact, "name": contact, "kind": "lead"},
            "title": f"{stype} #{i}",
            "body": f"body {i}",
            "occurred_at": iso_utc(1_764_000_000_000 + i),
            "data": {},
        }
        result = await store.feed.write(org.id, user, f"seed-{uuid.uuid4().hex}", stype, None, body)
        assert result.status == "new"
        ids.append(result.signal_id)
    return ids


async def post(client: httpx.AsyncClient, org: OrgCtx, op: str, body: dict[str, Any], user: str = "u1") -> Any:
    r = await client.post(f"/api/v1/me/signals/{op}", json=body, headers=org.user_headers(user))
    assert r.status_code == 200, r.text
    return r.json()


def ids_of(page: dict[str, Any]) -> list[str]:
    return [s["id"] for s in page["signals"]]


def _later(**delta: float) -> str:
    return (datetime.now(tz=UTC) + timedelta(**delta)).isoformat()


async def test_filters_views_and_paging(client: httpx.AsyncClient, org: OrgCtx, store: Services) -> None:
    """type/contact/unread/view narrow the feed; before pages back, after+before is a window; each
    listed signal carries read/archived/snoozed_until."""
    specs = [("sms.received", "c-a"), ("email.opened", "c-b"), ("sms.received", "c-b"), ("desk.ticket", "c-a")] * 3
    ids = await seed(store, org, specs)

    page = await signals_of(client, org)
    assert ids_of(page) == ids and page["unread"] == 12
    assert all(s["read"] is False and s["archived"] is False and s["snoozed_until"] is None for s in page["signals"])
    sms = [i for i, (t, _) in zip(ids, specs, strict=True) if t == "sms.received"]
    assert ids_of(await signals_of(client, org, type="sms.received")) == sms
    both = [i for i, (t, _) in zip(ids, specs, strict=True) if t in ("sms.received", "desk.ticket")]
    assert ids_of(await signals_of(client, org, type="sms.received,desk.ticket")) == both
    of_b = [i for i, (_, c) in zip(ids, specs, strict=True) if c == "c-b"]
    assert ids_of(await signals_of(client, org, contact="c-b")) == of_b
    assert ids_of(await signals_of(client, org, contact="c-b", type="sms.received")) == [ids[2], ids[6], ids[10]]

    assert ids_of(await signals_of(client, org, before=ids[6], limit=3)) == ids[3:6]
    assert ids_of(await signals_of(client, org, before=ids[6], limit=2, type="sms.received")) == [ids[2], ids[4]]
    assert ids_of(await signals_of(client, org, after=ids[2], before=ids[9], limit=3)) == ids[3:6]
    assert ids_of(await signals_of(client, org, after=ids[2], before=ids[5])) == ids[3:5]
    assert ids_of(await signals_of(client, org, before="0-0")) == []
    assert ids_of(await signals_of(client, org, after=ids[5], before=ids[5])) == []

    changed = await post(client, org, "archive", {"ids": [ids[0], ids[1]]})
    assert changed == {"unread": 10, "unknown": []}
    await post(client, org, "read", {"ids": [ids[2], ids[0]]})
    await post(client, org, "snooze", {"ids": [ids[3]], "until": _later(hours=2)})
    inbox = await signals_of(client, org)
    assert ids_of(inbox) == ids[2:3] + ids[4:] and inbox["unread"] == 8
    archived = (await signals_of(client, org, view="archived"))["signals"]
    assert [(s["id"], s["archived"], s["read"]) for s in archived] == [(ids[0], True, True), (ids[1], True, False)]
    snoozed = (await signals_of(client, org, view="snoozed"))["signals"]
    assert [s["id"] for s in snoozed] == [ids[3]] and snoozed[0]["snoozed_until"].endswith("Z")
    assert ids_of(await signals_of(client, org, view="all")) == ids
    assert ids_of(await signals_of(client, org, view="all", unread="false")) == [ids[0], ids[2]]
    assert ids_of(await signals_of(client, org, unread="true", limit=2)) == ids[10:12]

    for params, code in (
        ({"type": "sms.received,nope"}, "unknown_type"),
        ({"view": "trash"}, "invalid_parameter"),
        ({"unread": "yes"}, "invalid_parameter"),
        ({"before": "abc"}, "invalid_parameter"),
        ({"contact": ""}, "invalid_parameter"),
    ):
        r = await client.get("/api/v1/me/signals", params=params, headers=org.user_headers())
        assert (r.status_code, r.json()["error"]) == (400, code), params


async def test_state_changes_unknown_ids_up_to_and_counts(
    client: httpx.AsyncClient, org: OrgCtx, store: Services
) -> None:
    """Every POST answers unread + unknown; up_to acts on inbox signals; counts cover every type."""
    ids = await seed(store, org, [("sms.received", "c-a"), ("email.opened", "c-a"), ("sms.received", "c-b")] * 2)
    ghost = "1000-0"
    assert await post(client, org, "read", {"ids": [ids[0], ghost]}) == {"unread": 5, "unknown": [ghost]}
    assert await post(client, org, "read", {"ids": [ids[0]]}) == {"unread": 5, "unknown": []}
    assert await post(client, org, "unread", {"ids": [ids[0], ids[1]]}) == {"unread": 6, "unknown": []}
    assert await post(client, org, "unarchive", {"ids": [ids[0]]}) == {"unread": 6, "unknown": []}  # no-op
    assert await post(client, org, "archive", {"up_to": ids[2]}) == {"unread": 3, "unknown": []}
    assert ids_of(await signals_of(client, org, view="archived")) == ids[:3]
    # Read while archived stays read when it comes back; unread ones count again.
    await post(client, org, "read", {"ids": [ids[1]]})
    assert await post(client, org, "unarchive", {"up_to": ids[1]}) == {"unread": 4, "unknown": []}
    assert ids_of(await signals_of(client, org)) == [ids[0], ids[1], *ids[3:]]
    r = await client.get("/api/v1/me/signals/counts", headers=org.user_headers())
    assert r.status_code == 200
    counts = r.json()
    assert counts["unread"] == 4 and set(counts["by_type"]) == set(SIGNAL_TYPES)
    assert {t: n for t, n in counts["by_type"].items() if n} == {"sms.received": 3, "email.opened": 1}
    # Snoozing an archived signal un-archives it; archive un-snoozes.
    assert await post(client, org, "snooze", {"ids": [ids[2]], "until": _later(days=1)}) == {"unread": 4, "unknown": []}
    assert ids_of(await signals_of(client, org, view="archived")) == []
    assert await post(client, org, "snooze", {"up_to": ids[5], "until": _later(days=1)}) == {"unread": 0, "unknown": []}
    assert ids_of(await signals_of(client, org, view="snoozed")) == ids
    assert await post(client, org, "snooze", {"ids": [ids[4]], "until": None}) == {"unread": 1, "unknown": []}
    assert ids_of(await signals_of(client, org)) == [ids[4]]
    assert await post(client, org, "snooze", {"up_to": ids[1], "until": None}) == {"unread": 2, "unknown": []}
    assert ids_of(await signals_of(client, org)) == [ids[0], ids[1], ids[4]]
    await post(client, org, "snooze", {"ids": ids[:2], "until": _later(days=1)})
    await post(client, org, "archive", {"ids": [ids[5]]})
    page = await signals_of(client, org, view="archived")
    assert [(s["id"], s["snoozed_until"]) for s in page["signals"]] == [(ids[5], None)]


async def test_snooze_and_body_validation(client: httpx.AsyncClient, org: OrgCtx, store: Services) -> None:
    (sid,) = await seed(store, org, [("sms.received", "c-a")])
    naive = (datetime.now(tz=UTC) + timedelta(hours=1)).replace(tzinfo=None).isoformat()
    for until in (naive, _later(hours=-1), _later(days=91), "tomorrow", 12, "9999-12-31T23:59:59+14:00"):
        r = await client.post(
            "/api/v1/me/signals/snooze", json={"ids": [sid], "until": until}, headers=org.user_headers()
        )
        assert (r.status_code, r.json()["error"]) == (400, "invalid_until"), until
    r = await client.post("/api/v1/me/signals/snooze", json={"ids": [sid]}, headers=org.user_headers())
    assert (r.status_code, r.json()["error"]) == (400, "invalid_until")
    for op in ("unread", "archive", "unarchive", "snooze"):
        bodies: list[Any] = [{}, {"ids": "x"}, {"ids": ["not-an-id"]}, {"up_to": 5}, []]
        for body in bodies:
            r = await client.post(f"/api/v1/me/signals/{op}", json=body, headers=org.user_headers())
            assert (r.status_code, r.json()["error"]) == (400, "invalid_body"), (op, body)
    assert (await signals_of(client, org, view="snoozed"))["signals"] == []
    # Timezone offsets are honoured: +09:00 one hour ahead is one hour ahead.
    jst = (datetime.now(tz=UTC) + timedelta(hours=1)).astimezone(timezone(timedelta(hours=9)))
    await post(client, org, "snooze", {"ids": [sid], "until": jst.isoformat()})
    (snoozed,) = (await signals_of(client, org, view="snoozed"))["signals"]
    at = datetime.fromisoformat(snoozed["snoozed_until"])
    assert abs((at - datetime.now(tz=UTC)) - timedelta(hours=1)) < timedelta(minutes=1)


async def test_events_of_a_grouped_signal(client: httpx.AsyncClient, org: OrgCtx) -> None:
    """A group's members, newest first, each with its title and the count it made; 404 otherwise."""
    for i in range(3):
        r = await post_event(client, org, {"type": "desk.ticket", "contact": {"id": "c-suzuki"}, "title": f"t{i}"})
        assert r.status_code == 202
    sid = await _wait_count(client, org, "desk.ticket", 3)
    r = await client.get(f"/api/v1/me/signals/{sid}/events", headers=org.user_headers())
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["count"] == 3
    assert [(e["title"], e["count"]) for e in body["events"]] == [("t2", 3), ("t1", 2), ("t0", 1)]
    assert all(e["occurred_at"] for e in body["events"])
    r = await client.get(f"/api/v1/me/signals/{sid}/events", params={"limit": 2}, headers=org.user_headers())
    assert [e["title"] for e in r.json()["events"]] == ["t2", "t1"]
    for missing in ("1000-0", "nope"):
        r = await client.get(f"/api/v1/me/signals/{missing}/events", headers=org.user_headers())
        assert (r.status_code, r.json()["error"]) == (404, "signal_not_found")
    r = await client.get(f"/api/v1/me/signals/{sid}/events", headers=org.user_headers("u2"))
    assert r.status_code == 404  # another user's feed


async def _wait_count(client: httpx.AsyncClient, org: OrgCtx, stype: str, count: int) -> str:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10 * FACTOR
    while loop.time() < deadline:
        found = [s for s in (await signals_of(client, org, view="all"))["signals"] if s["type"] == stype]
        if found and found[-1]["count"] == count:
            return str(found[-1]["id"])
        await asyncio.sleep(0.05)
    raise AssertionError(f"no {stype} signal with count {count}")


async def test_paging_back_through_1100_signals_yields_each_once(
    client: httpx.AsyncClient, org: OrgCtx, store: Services
) -> None:
    types = ("sms.received", "email.opened", "desk.ticket")
    ids = await seed(store, org, [(types[i % 3], "c-a") for i in range(1100)])

    async def page_back(**params: Any) -> list[str]:
        seen: list[str] = []
        page = await signals_of(client, org, limit=100, **params)
        while page["signals"]:
            got = ids_of(page)
            assert got == sorted(got, key=lambda s: tuple(map(int, s.split("-"))))
            seen[:0] = got
            page = await signals_of(client, org, limit=100, before=got[0], **params)
        return seen

    assert await page_back() == ids
    assert await page_back(type="email.opened") == ids[1::3]
    # Forward with `after` too, filtered.
    forward: list[str] = []
    page = await signals_of(client, org, limit=150, after="0-0", type="desk.ticket")
    while page["signals"]:
        forward += ids_of(page)
        page = await signals_of(client, org, limit=150, after=forward[-1], type="desk.ticket")
    assert forward == ids[2::3]


async def test_state_frames_reach_every_connection_of_the_user_only(
    client: httpx.AsyncClient, gateway: Any, org: OrgCtx, store: Services
) -> None:
    ids = await seed(store, org, [("sms.received", "c-a"), ("email.opened", "c-a")])
    a = await live_feed(gateway, org.tokens["u1"])
    b = await live_feed(gateway, org.tokens["u1"])
    other = await live_feed(gateway, org.tokens["u2"])
    until = _later(hours=3)
    await post(client, org, "archive", {"ids": ids})
    await post(client, org, "snooze", {"ids": [ids[0]], "until": until})
    await post(client, org, "read", {"ids": [ids[1]]})
    await post(client, org, "unarchive", {"ids": [ids[1]]})
    await a.send({"type": "read", "ids": [ids[0]]})
    await post(client, org, "unread", {"ids": [ids[0]]})
    for feed in (a, b):
        states: list[dict[str, Any]] = []
        while len(states) < 6:
            frame = await feed.until(lambda f: f["type"] == "state")
            states.append({k: v for k, v in frame.items() if k != "type"})
        snoozed = states[1]["snoozed_until"]
        assert abs(datetime.fromisoformat(snoozed) - datetime.fromisoformat(until)) < timedelta(milliseconds=1)
        assert states == [
            {"ids": ids, "archived": True},
            {"ids": [ids[0]], "snoozed_until": snoozed, "archived": False},
            {"ids": [ids[1]], "read": True},
            {"ids": [ids[1]], "archived": False},
            {"ids": [ids[0]], "read": True},
            {"ids": [ids[0]], "read": False},
        ]
    # Only the archive changed the inbox's unread count (2 -> 0): the rest happened out of the inbox.
    assert [f["count"] for f in a.frames if f["type"] == "unread"] == [0]
    (u2_signal,) = await seed(store, org, [("sms.received", "c-x")], user="u2")
    first = await other.until(lambda f: f["type"] in ("state", "signal"))
    assert first["type"] == "signal" and first["signal"]["id"] == u2_signal
    for feed in (a, b, other):
        await feed.ws.close()


async def test_grouped_repeat_revives_archived_and_snoozed_signals(
    client: httpx.AsyncClient, gateway: Any, org: OrgCtx
) -> None:
    feed = await live_feed(gateway, org.tokens["u1"])
    for stype, op, extra in (
        ("survey.answered", "archive", {}),
        ("chat.unattended", "snooze", {"until": _later(hours=1)}),
    ):
        r = await post_event(client, org, {"type": stype, "contact": {"id": "c-yamada"}, "title": "first"})
        assert r.status_code == 202
        sig = await feed.signal(stype)
        await post(client, org, "read", {"ids": [sig["id"]]})
        await post(client, org, op, {"ids": [sig["id"]], **extra})
        assert sig["id"] not in ids_of(await signals_of(client, org))
        r = await post_event(client, org, {"type": stype, "contact": {"id": "c-yamada"}, "title": "again"})
        assert r.status_code == 202
        repeat = await feed.signal(stype)
        assert (repeat["id"], repeat["count"]) == (sig["id"], 2)
        assert (repeat["read"], repeat["archived"], repeat["snoozed_until"]) == (False, False, None)
        (listed,) = [s for s in (await signals_of(client, org))["signals"] if s["id"] == sig["id"]]
        assert (listed["read"], listed["archived"], listed["snoozed_until"], listed["count"]) == (False, False, None, 2)
    assert (await signals_of(client, org))["unread"] == 2
    await feed.ws.close()


async def test_acted_marker_and_publish_state(
    client: httpx.AsyncClient, gateway: Any, org: OrgCtx, store: Services
) -> None:
    """A signal with an entry in the acted hash is listed with it; publish_state reaches the sockets."""
    (sid,) = await seed(store, org, [("sms.received", "c-a")])
    acted = {"action": "sms", "notification": "n_1", "at": "2026-11-30T00:00:00Z"}
    await store.redis.hset(
        keys.signal_acted(org.id, "u1"), sid, '{"action":"sms","notification":"n_1","at":"2026-11-30T00:00:00Z"}'
    )
    (listed,) = (await signals_of(client, org))["signals"]
    assert listed["acted"] == acted
    feed = await live_feed(gateway, org.tokens["u1"])
    await store.feed.publish_state(org.id, "u1", [sid], {"acted": acted, "read": True})
    frame = await feed.until(lambda f: f["type"] == "state")
    assert frame == {"type": "state", "ids": [sid], "acted": acted, "read": True}
    await feed.ws.close()


async def test_deleting_a_user_deletes_their_feed_state(
    client: httpx.AsyncClient, gateway: Any, org: OrgCtx, store: Services
) -> None:
    ids = await seed(store, org, [("sms.received", "c-a")] * 3, user="u2")
    await post(client, org, "archive", {"ids": ids[:1]}, user="u2")
    await post(client, org, "snooze", {"ids": ids[1:2], "until": _later(hours=1)}, user="u2")
    await store.redis.hset(keys.signal_acted(org.id, "u2"), ids[2], "{}")
    assert all([await store.redis.exists(k) for k in (keys.archived(org.id, "u2"), keys.snoozed(org.id, "u2"))])
    r = await client.delete(f"/api/v1/orgs/{org.id}/users/u2", headers=gateway.admin)
    assert r.status_code in (200, 204), r.text
    assert await store.redis.exists(*keys.user_feed_keys(org.id, "u2")) == 0
