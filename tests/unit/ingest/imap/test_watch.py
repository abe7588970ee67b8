"""ApiMailboxWatcher.sync: one running service per API mailbox — new ones start, removed ones stop
(and are reported once ended), config mailboxes and malformed records are left alone."""

from __future__ import annotations

import asyncio
from typing import Any

from gateway.config import MailboxesConfig
from gateway.ingest.imap.listener import Mailbox
from gateway.ingest.imap.watch import ApiMailboxWatcher, api_mailbox


class FakeStore:
    def __init__(self) -> None:
        self.purged: list[tuple[str, str]] = []

    async def purge(self, org: str, mailbox: str) -> None:
        self.purged.append((org, mailbox))


def rec(mid: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": mid,
        "org": "acme",
        "user": "u1",
        "host": "imap.example.jp",
        "port": 993,
        "tls": "implicit",
        "username": "sato@example.jp",
        "password": "pw",
        "folder": "INBOX",
        "mode": "inbox",
        **extra,
    }


def test_api_mailbox_takes_the_config_timings_and_hides_the_password() -> None:
    box = api_mailbox(rec("mbx-1"), MailboxesConfig(lease_seconds=7, backoff_max_seconds=9))
    assert box is not None and box.lease_seconds == 7 and box.backoff_max_seconds == 9
    assert box.epoch == 0 and box.dedupe_suffix == "mbx-1"
    moved = api_mailbox(rec("mbx-1", epoch=2), MailboxesConfig())
    assert moved is not None and moved.epoch == 2 and moved.dedupe_suffix == "mbx-1:2"
    assert box.endpoint.password == "pw" and "pw" not in repr(box.endpoint)
    assert api_mailbox({"id": "x"}, MailboxesConfig()) is None


async def test_sync_starts_new_stops_removed_and_skips_reserved() -> None:
    started: dict[str, asyncio.Event] = {}
    stopped: list[str] = []

    def start(box: Mailbox, stop: asyncio.Event) -> asyncio.Task[None]:
        started[box.id] = stop
        return asyncio.ensure_future(stop.wait())  # type: ignore[arg-type]

    store = FakeStore()
    watcher = ApiMailboxWatcher(
        store,  # type: ignore[arg-type]
        MailboxesConfig(),
        start,
        reserved=frozenset({"mb-config"}),
        on_stopped=stopped.append,
    )
    watcher.sync([rec("mbx-1"), rec("mbx-2"), rec("mb-config"), {"id": "broken"}])
    assert watcher.running == {"mbx-1", "mbx-2"} and set(started) == {"mbx-1", "mbx-2"}
    watcher.sync([rec("mbx-1"), rec("mbx-2")])  # nothing new: nothing started twice
    assert len(started) == 2
    watcher.sync([rec("mbx-2"), rec("mbx-3")])
    assert watcher.running == {"mbx-2", "mbx-3"} and started["mbx-1"].is_set()
    assert not started["mbx-2"].is_set()
    for _ in range(5):
        await asyncio.sleep(0)
    assert stopped == ["mbx-1"] and store.purged == [("acme", "mbx-1")]
    for ev in started.values():
        ev.set()
    await asyncio.sleep(0)


async def test_a_changed_mailbox_restarts_once_its_old_service_has_ended() -> None:
    """A PATCH (new password, folder …): the old service is stopped and the new one starts with the
    new settings only after the old one ended — never both at once; unchanged ones are left alone."""
    starts: list[tuple[str, str, str]] = []
    stops: dict[tuple[str, str], asyncio.Event] = {}
    ended: dict[tuple[str, str], asyncio.Event] = {}

    def start(box: Mailbox, stop: asyncio.Event) -> asyncio.Task[None]:
        ident = (box.id, box.endpoint.password)
        starts.append((box.id, box.endpoint.password, box.folder))
        stops[ident], ended[ident] = stop, asyncio.Event()
        return asyncio.ensure_future(ended[ident].wait())  # type: ignore[arg-type]

    watcher = ApiMailboxWatcher(FakeStore(), MailboxesConfig(), start)  # type: ignore[arg-type]
    watcher.sync([rec("mbx-1"), rec("mbx-2")])
    watcher.sync([rec("mbx-1", password="new"), rec("mbx-2")])
    assert stops[("mbx-1", "pw")].is_set() and not stops[("mbx-2", "pw")].is_set()
    for _ in range(5):
        await asyncio.sleep(0)
    assert len(starts) == 2  # the old one has not ended yet: nothing new runs
    ended[("mbx-1", "pw")].set()
    for _ in range(5):
        await asyncio.sleep(0)
    assert starts[2:] == [("mbx-1", "new", "INBOX")] and watcher.running == {"mbx-1", "mbx-2"}
    watcher.sync([rec("mbx-1", password="new"), rec("mbx-2")])  # the same again: no restart
    assert len(starts) == 3
    # Changed twice before the first restart happened: only the latest settings start.
    watcher.sync([rec("mbx-1", password="new", folder="A"), rec("mbx-2")])
    watcher.sync([rec("mbx-1", password="new", folder="B"), rec("mbx-2")])
    ended[("mbx-1", "new")].set()
    for _ in range(10):
        await asyncio.sleep(0)
    assert starts[3:] == [("mbx-1", "new", "B")]
    for ev in ended.values():
        ev.set()
    await asyncio.sleep(0)
