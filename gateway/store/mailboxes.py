"""Per-mailbox state of the IMAP listeners in Redis: the lease, the checkpoint, and the reported state.

**Lease**: at most one process listens to a mailbox at a time. Acquire is ``SET NX PX``; the
holder renews it every third of its length and releases it on a clean stop (``imap_lease.lua``
checks the token). The token is the holder process's heartbeat member
(``gateway.store.heartbeat``): when that heartbeat is gone the holder is dead, and a standby — or
the restarted process, whose token is new — takes the lease over at once (:meth:`Lease.take_from_dead`)
instead of waiting for it to expire, i.e. within ``[gateway] failover_seconds``.

**Checkpoint**: UIDVALIDITY, last handled UID, newest INTERNALDATE. Writes go through
``imap_checkpoint.lua`` together with the lease check, so only the process holding the mailbox's
lease moves the checkpoint, and only forward. The rules that read it are in
:mod:`gateway.ingest.imap.rules`.

**State**: what the listener holding the lease is doing (``idle``, ``connecting``, ``auth_failed``,
``tls_failed``, ``backoff``) and its last error, for ``GET /api/v1/orgs/{org}/mailboxes``. Its
``alerted`` field marks that the owner was told of a refused LOGIN (once per failure episode: it is
cleared when the mailbox is ``idle`` again).

**API mailboxes**: the records of mailboxes added by ``POST /api/v1/orgs/{org}/mailboxes`` (one
hash per org, passwords included but sealed (:mod:`gateway.domain.sealing`) — never answered),
the set of orgs that have any, and a version counter bumped after every add, change and delete, which
every IMAP process polls to start and stop listeners without a restart.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from typing import Any

import orjson
from redis.asyncio import Redis

from gateway.domain.mailbox import MAX_ERROR_CHARS, Checkpoint
from gateway.domain.sealing import SealError, is_sealed, mailbox_password
from gateway.store import keys
from gateway.store.errors import StoreError
from gateway.store.heartbeat import Heartbeats
from gateway.store.scripts import Scripts
from gateway.store.vault import Vault

# Reads and writes of one PATCH before giving up on a record that keeps changing under it.
_UPDATE_ATTEMPTS = 5


class LeaseLost(Exception):
    """This process no longer holds the mailbox's lease; it must stop listening at once."""


class ValidityChanged(Exception):
    """The stored UIDVALIDITY is not the one this connection works with; re-plan from SELECT."""


def holder_token() -> str:
    """Readable and unique: ``GET`` on the lease key shows which process listens."""
    return f"{socket.gethostname()}:{os.getpid()}:{os.urandom(4).hex()}"


class Lease:
    def __init__(
        self,
        redis: Redis,
        scripts: Scripts,
        org: str,
        mailbox: str,
        ttl_ms: int,
        token: str | None = None,
        heartbeats: Heartbeats | None = None,
    ) -> None:
        self._r = redis
        self._s = scripts
        self.key = keys.imap_lease(org, mailbox)
        self.ttl_ms = ttl_ms
        self.token = token or holder_token()
        self._heartbeats = heartbeats or Heartbeats(redis)

    async def acquire(self) -> bool:
        """Take the lease if nobody holds it (or keep it if we already do)."""
        if await self._r.set(self.key, self.token, nx=True, px=self.ttl_ms):
            return True
        return await self.renew()

    async def renew(self) -> bool:
        return bool(await self._s.imap_lease(keys=[self.key], args=[self.token, "renew", self.ttl_ms]))

    async def take_from_dead(self) -> str | None:
        """Take the lease if its holder's heartbeat is gone: the dead holder's token, else None.

        The check and the take are two steps (the heartbeat lives under another hash tag), but the
        take only succeeds if the lease still names that holder, and a dead holder's token never
        beats again. Should a live-but-stalled holder be taken for dead, the checkpoint fence stops
        its writes (:class:`LeaseLost`) and the dedupe id stops its events."""
        holder = await self.holder()
        if holder is None or holder == self.token or await self._heartbeats.alive([holder]):
            return None
        taken = await self._s.imap_lease(keys=[self.key], args=[self.token, "take", self.ttl_ms, holder])
        return holder if taken else None

    async def release(self) -> None:
        await self._s.imap_lease(keys=[self.key], args=[self.token, "release", 0])

    async def holder(self) -> str | None:
        value: str | None = await self._r.get(self.key)
        return value


class Checkpoints:
    """The checkpoint of one mailbox in one ``epoch``, written only while ``lease`` is held."""

    def __init__(self, redis: Redis, scripts: Scripts, org: str, mailbox: str, lease: Lease, epoch: int = 0) -> None:
        self._r = redis
        self._s = scripts
        self.key = keys.imap_checkpoint(org, mailbox)
        self._lease_key = lease.key
        self._token = lease.token
        self._epoch = epoch

    async def get(self) -> Checkpoint | None:
        """None when there is none, or it belongs to another epoch (another UID space: a listener of
        the mailbox's old folder or server may have written it after a PATCH moved the mailbox)."""
        raw = await self._r.hgetall(self.key)
        if not raw.get("uidvalidity", "").isdigit() or not raw.get("uid", "").isdigit():
            return None
        if raw.get("epoch", "0") != str(self._epoch):
            return None
        high = raw.get("high_water_ms", "")
        return Checkpoint(int(raw["uidvalidity"]), int(raw["uid"]), int(high) if high.isdigit() else None)

    async def reset(self, uidvalidity: int, uid: int, high_water_ms: int | None) -> None:
        await self._write("reset", uidvalidity, uid, high_water_ms)

    async def advance(self, uidvalidity: int, uid: int, high_water_ms: int | None) -> bool:
        """Move to ``uid``; False when the checkpoint was already there (a replay)."""
        return await self._write("advance", uidvalidity, uid, high_water_ms) == 1

    async def _write(self, mode: str, uidvalidity: int, uid: int, high_water_ms: int | None) -> int:
        result = int(
            await self._s.imap_checkpoint(
                keys=[self._lease_key, self.key],
                args=[
                    self._token,
                    mode,
                    uidvalidity,
                    uid,
                    "" if high_water_ms is None else high_water_ms,
                    int(time.time() * 1000),
                    self._epoch,
                ],
            )
        )
        if result == -1:
            raise LeaseLost(self._lease_key)
        if result == -2:
            raise ValidityChanged(self.key)
        return result


class Mailboxes:
    """Makes the lease and checkpoint of any mailbox on one Redis."""

    def __init__(self, redis: Redis, scripts: Scripts, vault: Vault | None = None) -> None:
        """``vault``: seals an API mailbox's password on write, opens it for the listeners."""
        self._r = redis
        self._s = scripts
        self.heartbeats = Heartbeats(redis)
        self._vault = vault

    @property
    def vault(self) -> Vault:
        if self._vault is None:
            raise RuntimeError("these mailboxes were opened without a Vault")
        return self._vault

    def lease(self, org: str, mailbox: str, ttl_ms: int, token: str | None = None) -> Lease:
        """``token``: the process's heartbeat member (one per process start); new one when omitted."""
        return Lease(self._r, self._s, org, mailbox, ttl_ms, token, self.heartbeats)

    def checkpoints(self, org: str, mailbox: str, lease: Lease, epoch: int = 0) -> Checkpoints:
        return Checkpoints(self._r, self._s, org, mailbox, lease, epoch)

    async def set_state(self, org: str, mailbox: str, state: str, error: str | None = None) -> None:
        """Record what the listener does now (``since_ms`` moves only when the state changes);
        ``error`` becomes the last error, kept after the mailbox recovers."""
        now = str(int(time.time() * 1000))
        key = keys.imap_state(org, mailbox)
        fields = {"state": state}
        if error is not None:
            fields |= {"error": error[:MAX_ERROR_CHARS], "error_ms": now}
        async with self._r.pipeline(transaction=False) as pipe:
            pipe.hget(key, "state")
            pipe.hset(key, mapping=fields)
            previous, _ = await pipe.execute()
        if previous != state:
            await self._r.hset(key, "since_ms", now)

    async def statuses(self, org: str, mailboxes: list[str]) -> list[tuple[dict[str, str], dict[str, str]]]:
        """(state hash, checkpoint hash) of each mailbox, in order; empty hashes when unknown."""
        async with self._r.pipeline(transaction=False) as pipe:
            for mailbox in mailboxes:
                pipe.hgetall(keys.imap_state(org, mailbox))
                pipe.hgetall(keys.imap_checkpoint(org, mailbox))
            found = await pipe.execute()
        return [(found[i], found[i + 1]) for i in range(0, len(found), 2)]

    async def set_steady(self, org: str, mailbox: str) -> None:
        """The listener is caught up and in IDLE: ``idle``, and a later refused LOGIN alerts again."""
        await self.set_state(org, mailbox, "idle")
        await self._r.hdel(keys.imap_state(org, mailbox), "alerted")

    async def claim_alert(self, org: str, mailbox: str) -> bool:
        """True exactly once per failure episode, whichever process asks (HSETNX)."""
        return bool(await self._r.hsetnx(keys.imap_state(org, mailbox), "alerted", str(int(time.time() * 1000))))

    # -- mailboxes added through the API ---------------------------------------------------------
    async def add_api(self, rec: dict[str, Any], limit: int) -> bool:
        """Store a new API mailbox, its password sealed; False (nothing stored) when the org
        already has ``limit``."""
        org, key = rec["org"], keys.api_mailboxes(rec["org"])
        if rec.get("password"):
            sealer = await self.vault.ready()
            rec = rec | {"password": sealer.seal(org, mailbox_password(rec["id"]), str(rec["password"]))}
        if await self._r.hlen(key) >= limit:
            return False
        await self._r.hset(key, rec["id"], orjson.dumps(rec))
        if await self._r.hlen(key) > limit:  # a concurrent add went in too: undo ours
            await self._r.hdel(key, rec["id"])
            return False
        await self._r.sadd(keys.API_MAILBOX_ORGS, org)
        await self._r.incr(keys.API_MAILBOX_VERSION)
        return True

    async def update_api(
        self, org: str, mailbox: str, change: Callable[[dict[str, Any]], tuple[dict[str, Any], bool]]
    ) -> dict[str, Any] | None:
        """Apply ``change`` (stored record -> (new record, whether its UID space moved)) to an API
        mailbox and store the result, its password sealed; the new record, or None when there is no
        such mailbox. The write only lands on the record ``change`` saw (a concurrent change makes it
        read and apply again; a concurrent delete wins). A moved mailbox loses its checkpoint and
        state with the write. Every IMAP process restarts the mailbox's listener with the new
        settings within ``[mailboxes] watch_seconds`` (the version counter moves)."""
        key = keys.api_mailboxes(org)
        for _ in range(_UPDATE_ATTEMPTS):
            raw = await self._r.hget(key, mailbox)
            if raw is None:
                return None
            old = dict(orjson.loads(raw))
            new, moved = change(old)
            password = new.get("password")
            if isinstance(password, str) and password and (password != old.get("password") or not is_sealed(password)):
                sealer = await self.vault.ready()
                new = new | {"password": sealer.seal(org, mailbox_password(mailbox), password)}
            written = int(
                await self._s.mailbox_update(
                    keys=[key, keys.imap_checkpoint(org, mailbox), keys.imap_state(org, mailbox)],
                    args=[mailbox, raw, orjson.dumps(new), "1" if moved else "0"],
                )
            )
            if written == 0:
                return None
            if written == 1:
                await self._r.incr(keys.API_MAILBOX_VERSION)
                return new
        raise StoreError(f"mailbox {mailbox} of org {org!r} kept changing while it was updated")

    async def get_api(self, org: str, mailbox: str) -> dict[str, Any] | None:
        raw = await self._r.hget(keys.api_mailboxes(org), mailbox)
        return dict(orjson.loads(raw)) if raw else None

    async def api_records(self, org: str) -> list[dict[str, Any]]:
        """The org's API mailboxes, oldest first."""
        raw = await self._r.hvals(keys.api_mailboxes(org))
        return sorted((dict(orjson.loads(r)) for r in raw), key=lambda r: (r.get("created_ms", 0), r["id"]))

    async def remove_api(self, org: str, mailbox: str) -> bool:
        """Delete an API mailbox and its state and checkpoint; its listener stops within the watch
        interval (and releases its lease). False when there was no such mailbox."""
        if not await self._r.hdel(keys.api_mailboxes(org), mailbox):
            return False
        await self._r.delete(keys.imap_state(org, mailbox), keys.imap_checkpoint(org, mailbox))
        await self._r.incr(keys.API_MAILBOX_VERSION)
        return True

    async def purge(self, org: str, mailbox: str) -> None:
        """Drop a deleted mailbox's state and checkpoint (again: its listener may have written
        after the delete); only for a mailbox that no longer exists."""
        if not await self._r.hexists(keys.api_mailboxes(org), mailbox):
            await self._r.delete(keys.imap_state(org, mailbox), keys.imap_checkpoint(org, mailbox))

    async def api_version(self) -> int:
        raw = await self._r.get(keys.API_MAILBOX_VERSION)
        return int(raw) if raw else 0

    async def all_api_records(self) -> list[dict[str, Any]]:
        """Every org's API mailboxes (what the IMAP processes should listen to), their passwords
        opened. A password that does not open is replaced by ``password_error`` (why, naming the
        org and the field, never the secret; logged once by the vault)."""
        orgs = sorted(await self._r.smembers(keys.API_MAILBOX_ORGS))
        if not orgs:
            return []
        async with self._r.pipeline(transaction=False) as pipe:
            for org in orgs:
                pipe.hvals(keys.api_mailboxes(org))
            found = await pipe.execute()
        records = [dict(orjson.loads(raw)) for values in found for raw in values]
        if records:
            await self.vault.ready()
        return [self._opened(rec) for rec in records]

    def _opened(self, rec: dict[str, Any]) -> dict[str, Any]:
        stored = rec.get("password")
        if not isinstance(stored, str) or not stored:
            return rec
        org, field = str(rec.get("org")), mailbox_password(str(rec.get("id")))
        plain = self.vault.reveal(org, field, stored)
        if plain is not None:
            return rec | {"password": plain}
        error = SealError(org, field, "the gateway's secret key changed, or the value was altered")
        return {k: v for k, v in rec.items() if k != "password"} | {"password_error": str(error)}
