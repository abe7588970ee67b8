"""Orgs, users, contacts and user tokens in Redis: the tenancy data every part reads.

Every key is under the org's hash tag; contact lookup by email or phone is one HGET on an index
kept exact by the ``upsert_contact`` script.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from typing import Any

import orjson
from redis.asyncio import Redis

from gateway.domain.tenancy import ORG_ID, RECORD_ID
from gateway.store import keys
from gateway.store.scripts import Scripts

TOKEN_PREFIX = "sgu"  # noqa: S105 - a public prefix, not a secret
# Hot paths (webhook ingest, the router) read an org on every event; a short per-process cache
# saves a Redis round trip each time. An org change is seen by other processes within this long.
ORG_CACHE_SECONDS = 1.0
ORG_CACHE_MAX = 10_000


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _load(raw: str | None) -> dict[str, Any] | None:
    return None if raw is None else dict(orjson.loads(raw))


class Tenancy:
    def __init__(self, redis: Redis, scripts: Scripts) -> None:
        self._r = redis
        self._s = scripts
        self._org_cache: dict[str, tuple[float, dict[str, Any] | None]] = {}

    # -- orgs ---------------------------------------------------------------------------------
    async def get_org(self, org: str) -> dict[str, Any] | None:
        return _load(await self._r.get(keys.org(org)))

    async def cached_org(self, org: str) -> dict[str, Any] | None:
        """``get_org`` through a per-process cache of ``ORG_CACHE_SECONDS`` (for hot paths)."""
        now = time.monotonic()
        hit = self._org_cache.get(org)
        if hit is not None and hit[0] > now:
            return hit[1]
        rec = await self.get_org(org)
        if len(self._org_cache) >= ORG_CACHE_MAX:
            self._org_cache.clear()
        self._org_cache[org] = (now + ORG_CACHE_SECONDS, rec)
        return rec

    async def put_org(self, rec: dict[str, Any]) -> None:
        await self._r.set(keys.org(rec["id"]), orjson.dumps(rec))
        await self._r.sadd(keys.ORGS, rec["id"])
        self._org_cache.pop(rec["id"], None)

    async def delete_org(self, org: str) -> bool:
        """Remove every key of the org: its hash tag's keys and its dedupe keys in its partition.

        Keys are found by SCAN of the org's exact prefix (glob-escaped, and each name checked to
        start with it), never by a pattern built from input: ``org`` must be a valid org id
        (ValueError otherwise), and the partition's stream and group are never touched."""
        existed = bool(await self._r.exists(keys.org(org)))
        for prefix in (keys.org_prefix(org), keys.ingest_dedupe_prefix(org)):
            await self._unlink_prefixed(prefix)
        await self._r.srem(keys.ORGS, org)
        self._org_cache.pop(org, None)
        return existed

    async def _unlink_prefixed(self, prefix: str) -> None:
        batch: list[str] = []
        async for key in self._r.scan_iter(match=keys.glob_escape(prefix) + "*", count=500):
            if not key.startswith(prefix):
                continue
            batch.append(key)
            if len(batch) >= 500:
                await self._r.unlink(*batch)
                batch.clear()
        if batch:
            await self._r.unlink(*batch)

    # -- users --------------------------------------------------------------------------------
    async def get_user(self, org: str, user: str) -> dict[str, Any] | None:
        return _load(await self._r.hget(keys.users(org), user))

    async def list_users(self, org: str) -> list[dict[str, Any]]:
        raw = await self._r.hvals(keys.users(org))
        return sorted((orjson.loads(v) for v in raw), key=lambda u: u["id"])

    async def put_user(self, org: str, rec: dict[str, Any]) -> None:
        await self._r.hset(keys.users(org), rec["id"], orjson.dumps(rec))

    async def delete_user(self, org: str, user: str) -> bool:
        removed = bool(await self._r.hdel(keys.users(org), user))
        tokens = await self._r.hgetall(keys.tokens(org))
        stale = [h for h, owner in tokens.items() if owner == user]
        if stale:
            await self._r.hdel(keys.tokens(org), *stale)
        return removed

    # -- contacts -----------------------------------------------------------------------------
    async def get_contact(self, org: str, contact: str) -> dict[str, Any] | None:
        return _load(await self._r.hget(keys.contacts(org), contact))

    async def put_contact(self, org: str, rec: dict[str, Any]) -> None:
        await self._write_contact(org, rec["id"], rec)

    async def delete_contact(self, org: str, contact: str) -> bool:
        return bool(await self._write_contact(org, contact, None))

    async def _write_contact(self, org: str, contact: str, rec: dict[str, Any] | None) -> Any:
        emails: list[str] = rec["emails"] if rec else []
        phones: list[str] = rec["phones"] if rec else []
        return await self._s.upsert_contact(
            keys=[keys.contacts(org), keys.contact_by_email(org), keys.contact_by_phone(org)],
            args=[contact, orjson.dumps(rec) if rec else "", len(emails), *emails, *phones],
        )

    async def contact_by_email(self, org: str, email: str) -> dict[str, Any] | None:
        cid = await self._r.hget(keys.contact_by_email(org), email.strip().lower())
        return None if cid is None else await self.get_contact(org, cid)

    async def contact_by_phone(self, org: str, phone: str) -> dict[str, Any] | None:
        cid = await self._r.hget(keys.contact_by_phone(org), phone)
        return None if cid is None else await self.get_contact(org, cid)

    # -- user tokens --------------------------------------------------------------------------
    async def issue_token(self, org: str, user: str) -> str:
        """A new bearer token ``sgu.<org>.<secret>``; only its SHA-256 is stored."""
        token = f"{TOKEN_PREFIX}.{org}.{secrets.token_urlsafe(32)}"
        await self._r.hset(keys.tokens(org), _hash_token(token), user)
        return token

    async def resolve_token(self, token: str) -> tuple[str, str] | None:
        """(org, user) for a live token, else None. The org part only picks the hash tag."""
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != TOKEN_PREFIX or not ORG_ID.fullmatch(parts[1]):
            return None
        org = parts[1]
        # Looked up by SHA-256 digest: timing reveals nothing about the secret part.
        user = await self._r.hget(keys.tokens(org), _hash_token(token))
        if user is None or not RECORD_ID.fullmatch(user):
            return None
        if not await self._r.hexists(keys.users(org), user):
            return None
        return org, user
