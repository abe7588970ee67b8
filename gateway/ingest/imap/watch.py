"""Mailboxes added through the API: every IMAP process follows the list in Redis without a restart.

The list (:meth:`gateway.store.mailboxes.Mailboxes.all_api_records`) carries a version counter,
bumped after every add, change and delete. :class:`ApiMailboxWatcher` reads the counter every
``[mailboxes] watch_seconds`` and re-reads the list when it moved (and every ``resync_seconds``
anyway, e.g. after an org was deleted); it starts a supervised
:class:`~gateway.ingest.imap.service.MailboxService` for each new mailbox, stops the one of each
mailbox that is gone, and restarts the one of each mailbox whose settings changed (``PATCH``: a
new password, folder, server …) — the new service starts only once the old one has ended, so the
two never listen at once (both would hold the process's lease token). Every process runs one
service per mailbox, exactly as for ``[[imap]]`` entries: the lease decides which one listens, so
each mailbox is listened to by exactly one process, and a standby takes over when the holder dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from gateway.config import MailboxesConfig
from gateway.domain.mailbox import mailbox_epoch
from gateway.ingest.imap.client import Endpoint
from gateway.ingest.imap.listener import Mailbox
from gateway.store.errors import StoreError
from gateway.store.mailboxes import Mailboxes

log = logging.getLogger("signalgate.imap")
# start(box, stop) -> the task running the mailbox's service until ``stop``.
Starter = Callable[[Mailbox, asyncio.Event], "asyncio.Task[None]"]


def api_mailbox(rec: Mapping[str, Any], cfg: MailboxesConfig) -> Mailbox | None:
    """The listener settings of a stored API mailbox (its password opened by the store); None when
    the record is unusable. A password that did not open (``password_error``) makes every LOGIN
    attempt fail before connecting: the mailbox shows ``auth_failed`` and its owner is told."""
    try:
        endpoint = Endpoint(
            str(rec["host"]),
            int(rec["port"]),
            str(rec["tls"]),
            str(rec["username"]),
            "" if "password_error" in rec else str(rec["password"]),
            "",
            cfg.timeout_seconds,
            public_only=not cfg.allow_private_hosts,  # a tenant's host: never an internal address
            password_error=str(rec.get("password_error", "")),
        )
        return Mailbox(
            id=str(rec["id"]),
            org=str(rec["org"]),
            user=str(rec["user"]),
            mode=str(rec["mode"]),
            folder=str(rec["folder"]),
            endpoint=endpoint,
            idle_renew_seconds=cfg.idle_renew_seconds,
            heartbeat_seconds=cfg.heartbeat_seconds,
            backoff_initial_seconds=cfg.backoff_initial_seconds,
            backoff_max_seconds=cfg.backoff_max_seconds,
            lease_seconds=cfg.lease_seconds,
            epoch=mailbox_epoch(rec),
        )
    except (KeyError, TypeError, ValueError):
        return None


class ApiMailboxWatcher:
    """Keeps one running service per API mailbox. Its state outlives a restart of :meth:`run`
    (the supervisor restarts it after an unexpected error), so no mailbox is ever started twice."""

    def __init__(
        self,
        store: Mailboxes,
        cfg: MailboxesConfig,
        start: Starter,
        *,
        reserved: frozenset[str] = frozenset(),
        on_stopped: Callable[[str], None] | None = None,
    ) -> None:
        """``reserved``: ids of ``[[imap]]`` mailboxes (already running); ``on_stopped(id)``: called
        when a removed mailbox's service has ended (e.g. to forget its health unit)."""
        self._store = store
        self._cfg = cfg
        self._start = start
        self._reserved = reserved
        self._on_stopped = on_stopped
        self._running: dict[str, tuple[str, asyncio.Event, asyncio.Task[None]]] = {}
        self._settings: dict[str, Mailbox] = {}  # what each running service was started with
        self._ending: set[asyncio.Task[None]] = set()

    @property
    def running(self) -> set[str]:
        return set(self._running)

    async def run(self, stop: asyncio.Event) -> None:
        seen: int | None = None
        synced_at = 0.0
        redis_down = False
        try:
            while not stop.is_set():
                try:
                    version = await self._store.api_version()
                    if version != seen or time.monotonic() - synced_at >= self._cfg.resync_seconds:
                        self.sync(await self._store.all_api_records())
                        seen, synced_at = version, time.monotonic()
                    if redis_down:
                        redis_down = False
                        log.info("imap: the API mailbox list is readable again")
                except StoreError as exc:
                    if not redis_down:
                        log.warning("imap: cannot read the API mailbox list (%s); keeping what runs", exc)
                    redis_down = True
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self._cfg.watch_seconds)
        finally:
            if stop.is_set():
                for _, box_stop, _ in self._running.values():
                    box_stop.set()

    def sync(self, records: list[dict[str, Any]]) -> None:
        """Start what is new in ``records``, stop what is no longer there."""
        wanted: dict[str, Mailbox] = {}
        for rec in records:
            box = api_mailbox(rec, self._cfg)
            if box is None:
                log.error("imap: skipping malformed API mailbox record %r", rec.get("id"))
            elif box.id not in self._reserved:
                wanted[box.id] = box
        for gone in sorted(set(self._running) - set(wanted)):
            org, box_stop, task = self._running.pop(gone)
            self._settings.pop(gone, None)
            box_stop.set()
            log.info("mailbox %s: removed through the API; stopping its listener", gone)
            ending = asyncio.ensure_future(self._ended(org, gone, task))
            self._ending.add(ending)
            ending.add_done_callback(self._ending.discard)
        for changed in sorted(m for m in set(wanted) & set(self._running) if wanted[m] != self._settings.get(m)):
            org, old_stop, old_task = self._running[changed]
            old_stop.set()
            box_stop = asyncio.Event()
            log.info("mailbox %s: changed through the API; restarting its listener", changed)
            self._settings[changed] = wanted[changed]
            task = asyncio.ensure_future(self._restart(old_task, wanted[changed], box_stop))
            self._running[changed] = (org, box_stop, task)
        for new in sorted(set(wanted) - set(self._running)):
            box_stop = asyncio.Event()
            log.info("mailbox %s: added through the API (org %s); starting its listener", new, wanted[new].org)
            self._settings[new] = wanted[new]
            self._running[new] = (wanted[new].org, box_stop, self._start(wanted[new], box_stop))

    async def _restart(self, old: asyncio.Task[None], box: Mailbox, stop: asyncio.Event) -> None:
        """Start ``box``'s service once the old one has ended (unless stopped meanwhile, or the old one
        was cancelled: the process is going down); run until it ends."""
        await asyncio.wait({old})
        if not stop.is_set() and not old.cancelled():
            await asyncio.wait({self._start(box, stop)})

    async def _ended(self, org: str, mailbox: str, task: asyncio.Task[None]) -> None:
        """After a removed mailbox's service ended: drop the state it may have written after the
        API deleted it (best effort), then ``on_stopped``."""
        await asyncio.wait({task})
        with contextlib.suppress(StoreError, OSError):
            await self._store.purge(org, mailbox)
        if self._on_stopped is not None:
            self._on_stopped(mailbox)
