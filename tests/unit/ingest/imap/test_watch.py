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
