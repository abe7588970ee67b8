"""Supervision of every ``[[imap]]`` mailbox of one process (``signalgate up`` or ``signalgate imap``).

Per mailbox, one service loop: take the mailbox's Redis lease (standby processes retry every
``check_seconds`` of ``[gateway] failover_seconds``, and take the lease over at once when its holder's
heartbeat is gone: the process keeps one heartbeat, and its lease token is that heartbeat's member),
then run sessions (:class:`~gateway.ingest.imap.listener.Listener`) while renewing
the lease; a session that fails is retried after a capped exponential backoff with jitter; losing
the lease stops listening at once. Any unexpected error is logged and retried the same way, so one
broken mailbox never stops the others. On stop: IDLE is ended, LOGOUT sent, the lease released.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable

from gateway.config import Config, ConfigError
from gateway.domain.failover import FailoverTiming
from gateway.domain.mailbox import error_excerpt
from gateway.domain.supervision import describe
from gateway.domain.tenancy import ORG_ID, RECORD_ID
from gateway.ingest.imap.client import Endpoint, ImapAuthFailed, ImapError, ImapHostRefused, ImapTlsFailed
from gateway.ingest.imap.listener import Listener, Mailbox
from gateway.ingest.imap.metrics import ImapMetrics
from gateway.ingest.imap.rules import backoff_delay, mailbox_id
from gateway.ingest.imap.watch import ApiMailboxWatcher
from gateway.services import Services
from gateway.store.errors import StoreError
from gateway.store.event_log import EventLog
from gateway.store.heartbeat import Heartbeat
from gateway.store.mailboxes import Lease, LeaseLost, Mailboxes, ValidityChanged, holder_token
from gateway.supervision.health import Health
from gateway.supervision.supervisor import Supervisor

log = logging.getLogger("signalgate.imap")
# Bound on a clean stop: end IDLE, LOGOUT, release the lease.
STOP_GRACE_SECONDS = 4.0
# A refused LOGIN waits backoff_delay(AUTH_HEAD_START + n): 16x the initial delay first, doubling.
AUTH_HEAD_START = 4
# Events about a mailbox itself (a refused LOGIN) for the router: gateway.domain.events.SOURCES.
ALERT_SOURCE = "imap.alert"


def mailboxes(config: Config) -> list[Mailbox]:
    """The configured mailboxes, checked for what listening needs (ConfigError names the key)."""
    out: list[Mailbox] = []
    for i, box in enumerate(config.imap):
        if not ORG_ID.fullmatch(box.org):
            raise ConfigError(f"config: imap[{i}].org must match {ORG_ID.pattern}, got {box.org!r}")
        if not RECORD_ID.fullmatch(box.user):
            raise ConfigError(f"config: imap[{i}].user must be a user id, got {box.user!r}")
        for key in ("host", "username", "password"):
            if not getattr(box, key):
                raise ConfigError(f"config: imap[{i}].{key} is required to listen")
        if box.id and not RECORD_ID.fullmatch(box.id):
            raise ConfigError(f"config: imap[{i}].id must match {RECORD_ID.pattern}")
        endpoint = Endpoint(box.host, box.port, box.tls, box.username, box.password, box.ca_file, box.timeout_seconds)
        out.append(
            Mailbox(
                id=box.id or mailbox_id(box.org, box.host, box.port, box.username, box.folder),
                org=box.org,
                user=box.user,
                mode=box.mode,
                folder=box.folder,
                endpoint=endpoint,
                idle_renew_seconds=box.idle_renew_seconds,
                heartbeat_seconds=box.heartbeat_seconds,
                backoff_initial_seconds=box.backoff_initial_seconds,
                backoff_max_seconds=box.backoff_max_seconds,
                lease_seconds=box.lease_seconds,
            )
        )
    return out


async def _pause(event: asyncio.Event, seconds: float) -> None:
    """Sleep ``seconds`` unless ``event`` is set first."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), seconds)


class MailboxService:
    def __init__(
        self,
        box: Mailbox,
        mailboxes: Mailboxes,
        events: EventLog,
        metrics: ImapMetrics,
        rand: Callable[[], float] = random.random,
        *,
        token: str | None = None,
        check_seconds: float | None = None,
    ) -> None:
        """``token``: this process's heartbeat member (kept alive by the caller); ``check_seconds``:
        how often a standby looks at the lease (default: a third of ``lease_seconds``)."""
        self._box = box
        self._mailboxes = mailboxes
        self._events = events
        self._m = metrics
        self._rand = rand
        self._token = token
        self._check = min(box.lease_seconds / 3, check_seconds or box.lease_seconds)

    async def run(self, stop: asyncio.Event) -> None:
        box = self._box
        lease = self._mailboxes.lease(box.org, box.id, int(box.lease_seconds * 1000), self._token)
        standby_logged = False
        failures = 0
        last_bug = ""
        redis_down = False
        while not stop.is_set():
            try:
                held = await lease.acquire()
                if not held and (dead := await lease.take_from_dead()) is not None:
                    log.warning("mailbox %s: holder %s is dead (no heartbeat); taking over", box.id, dead)
                    held = True
                if redis_down:
                    redis_down = False
                    log.info("mailbox %s: redis answers again", box.id)
                if not held:
                    if not standby_logged:
                        log.info("mailbox %s: standby (held by %s)", box.id, await lease.holder())
                        standby_logged = True
                    await _pause(stop, self._check)
                    continue
                standby_logged = False
                log.info("mailbox %s: lease acquired by %s; listening", box.id, lease.token)
                await self._hold(lease, stop)
                failures = 0
            except StoreError as exc:
                failures += 1
                # One line per outage (the retries would repeat it every backoff step).
                level = logging.DEBUG if redis_down else logging.WARNING
                redis_down = True
                log.log(level, "mailbox %s: redis unavailable (%s); retrying with backoff", box.id, exc)
                await _pause(stop, self._delay(failures))
            except Exception as exc:  # a bug in one mailbox must not stop the others: log, back off, retry
                failures += 1
                if describe(exc) != last_bug:  # its traceback once; the same error again is one line
                    last_bug = describe(exc)
                    log.exception("mailbox %s: unexpected error; restarting its listener", box.id)
                else:
                    log.error("mailbox %s: the same error again (%s); restarting its listener", box.id, last_bug)
                await _pause(stop, self._delay(failures))
        with contextlib.suppress(StoreError):
            await lease.release()

    def _delay(self, attempt: int) -> float:
        box = self._box
        return backoff_delay(attempt, box.backoff_initial_seconds, box.backoff_max_seconds, self._rand())

    async def _hold(self, lease: Lease, stop: asyncio.Event) -> None:
        """Listen while holding the lease; returns on stop or when the lease is lost."""
        halt = asyncio.Event()
        renewer = asyncio.create_task(self._renew(lease, halt))
        relay = asyncio.create_task(self._relay(stop, halt))
        try:
            await self._sessions(lease, halt)
        finally:
            halt.set()
            renewer.cancel()
            relay.cancel()
            await asyncio.wait({renewer, relay})
            if not renewer.cancelled() and renewer.exception() is not None:
                log.error("mailbox %s: renewing the lease failed", self._box.id, exc_info=renewer.exception())
        if stop.is_set():
            with contextlib.suppress(StoreError):
                await lease.release()

    @staticmethod
    async def _relay(stop: asyncio.Event, halt: asyncio.Event) -> None:
        await stop.wait()
        halt.set()

    async def _renew(self, lease: Lease, halt: asyncio.Event) -> None:
        """Renew every third of the lease; when it cannot be proven held any more, halt."""
        box = self._box
        last_ok = time.monotonic()
        while not halt.is_set():
            await _pause(halt, box.lease_seconds / 3)
            if halt.is_set():
                return
            try:
                if not await lease.renew():
                    log.warning("mailbox %s: lease lost to %s; stopping", box.id, await lease.holder())
                    halt.set()
                    return
                last_ok = time.monotonic()
            except StoreError as exc:
                if time.monotonic() - last_ok >= box.lease_seconds:
                    log.warning("mailbox %s: cannot renew the lease (%s); stopping", box.id, exc)
                    halt.set()
                    return

    async def _sessions(self, lease: Lease, halt: asyncio.Event) -> None:
        """Sessions one after another, with backoff between failures, until ``halt``."""
        box = self._box
        checkpoints = self._mailboxes.checkpoints(box.org, box.id, lease, box.epoch)
        attempt = refused = 0

        async def steady() -> None:
            nonlocal attempt, refused
            attempt = refused = 0
            with contextlib.suppress(StoreError, OSError):
                await self._mailboxes.set_steady(box.org, box.id)

        while not halt.is_set():
            await self._state("connecting")
            listener = Listener(box, self._events, checkpoints, self._m)
            try:
                await listener.run(halt, steady)
                return
            except LeaseLost:
                log.warning("mailbox %s: lease lost while writing the checkpoint; stopping", box.id)
                return
            except ImapAuthFailed as exc:
                # A refused LOGIN is retried slowly (starting at 16x the initial delay, doubling up
                # to the cap): fast retries only risk locking the account. The owner hears once.
                delay = self._delay(refused + AUTH_HEAD_START)
                refused += 1
                self._m.reconnects.labels(box.id).inc()
                log.error("mailbox %s: %s; retrying in %.1fs", box.id, exc, delay)
                await self._state("auth_failed", str(exc))
                await self._alert_owner(str(exc))
                await _pause(halt, delay)
                continue
            except (ImapError, ValidityChanged, StoreError, OSError) as exc:
                delay = self._delay(attempt)
                attempt += 1
                self._m.reconnects.labels(box.id).inc()
                log.warning("mailbox %s: %s: %s; reconnecting in %.1fs", box.id, type(exc).__name__, exc, delay)
                tls = isinstance(exc, ImapTlsFailed)
                # A refused host shows the rule alone (the admin can act on it; nothing was contacted).
                error = str(exc) if isinstance(exc, ImapHostRefused) else f"{type(exc).__name__}: {exc}"
                await self._state("tls_failed" if tls else "backoff", error)
                await _pause(halt, delay)

    async def _alert_owner(self, error: str) -> None:
        """Tell the mailbox's owner its LOGIN is refused: a ``mailbox.auth_failed`` signal, once per
        failure episode across every process (the state's ``alerted`` flag; cleared when ``idle``).
        Best effort: Redis may be what is failing."""
        box = self._box
        try:
            if not await self._mailboxes.claim_alert(box.org, box.id):
                return
            data = {"mailbox": box.id, "user": box.user, "host": box.endpoint.host, "error": error}
            data["username"] = box.endpoint.username
            await self._events.append(box.org, ALERT_SOURCE, {"kind": "auth_failed", **data})
        except (StoreError, OSError) as exc:
            log.warning("mailbox %s: could not alert its owner (%s)", box.id, exc)

    async def _state(self, state: str, error: str | None = None) -> None:
        """Record the listener's state for the mailboxes API; best effort (Redis may be what failed).
        The error may quote the server: only a short printable single-line excerpt of it is kept."""
        with contextlib.suppress(StoreError, OSError):
            await self._mailboxes.set_state(
                self._box.org, self._box.id, state, None if error is None else error_excerpt(error)
            )


async def run_mailboxes(
    services: Services,
    stop: asyncio.Event,
    metrics: ImapMetrics | None = None,
    supervisor: Supervisor | None = None,
) -> None:
    """One supervised service per mailbox (part ``imap``, unit = mailbox id), until ``stop``: each
    configured ``[[imap]]`` mailbox, and (``[mailboxes] listen``) each mailbox added through the
    API, followed by :class:`~gateway.ingest.imap.watch.ApiMailboxWatcher` as they come and go.

    ``metrics``: made once per process (a registry takes each metric once), on ``services.metrics``'
    registry (the gateway's ``/metrics`` in ``signalgate up``) when not given.
    """
    boxes = mailboxes(services.config)
    api = services.config.mailboxes
    # aioimaplib logs every command and response at DEBUG (mail contents; its LOGIN scrubbing
    # misses passwords that need quoting), so it stays at WARNING whatever the gateway's level.
    logging.getLogger("aioimaplib").setLevel(logging.WARNING)
    metrics = metrics or ImapMetrics(services.metrics.registry)
    supervisor = supervisor or Supervisor(Health(services.metrics), services.metrics)
    log.info("imap: %d configured mailbox(es)%s", len(boxes), "; following API mailboxes" if api.listen else "")
    if not boxes and not api.listen:
        return
    # One heartbeat for the process; its member is the token of every lease it holds, so a peer
    # (or this process's restart, with a new token) takes them over once the heartbeat is gone.
    timing = FailoverTiming(services.config.gateway.failover_seconds)
    heartbeat = Heartbeat(services.mailboxes.heartbeats, holder_token(), timing)
    async with heartbeat.kept(), asyncio.TaskGroup() as tg:

        def start(box: Mailbox, box_stop: asyncio.Event) -> asyncio.Task[None]:
            service = MailboxService(
                box,
                services.mailboxes,
                services.events,
                metrics,
                token=heartbeat.member,
                check_seconds=timing.check_seconds,
            )
            return tg.create_task(supervisor.run("imap", service.run, box_stop, unit=box.id), name=f"imap-{box.id}")

        for box in boxes:
            start(box, stop)
        if api.listen:
            watcher = ApiMailboxWatcher(
                services.mailboxes,
                api,
                start,
                reserved=frozenset(box.id for box in boxes),
                on_stopped=lambda unit: supervisor.health.forget("imap", unit),
            )
            tg.create_task(supervisor.run("imap", watcher.run, stop, unit="api-watch"), name="imap-api-watch")


async def stop_within(task: asyncio.Task[None], stop: asyncio.Event) -> None:
    """Set ``stop`` and give ``task`` :data:`STOP_GRACE_SECONDS` to end cleanly, then cancel it."""
    stop.set()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.shield(task), STOP_GRACE_SECONDS)
    if not task.done():
        task.cancel()
    await asyncio.wait({task})
    if not task.cancelled() and task.exception() is not None:
        log.error("imap listeners failed while stopping", exc_info=task.exception())
