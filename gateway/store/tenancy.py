"""Orgs, users, contacts and user tokens in Redis: the tenancy data every part reads.

Every key is under the org's hash tag; contact lookup by email or phone is one HGET on an index
kept exact by the ``upsert_contact`` script.
"""

from __future__ import annotations

import asyncio
import bisect
import hashlib
import secrets
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import orjson
from redis.asyncio import Redis

from gateway.domain.automation import index_rules
from gateway.domain.clock import now_ms
from gateway.domain.tenancy import ORG_ID, RECORD_ID, contact_matches, phone_numbers
from gateway.store import keys
from gateway.store.live import revocation
from gateway.store.pipeline import Round, Slot
from gateway.store.scripts import Scripts
from gateway.store.vault import ORG_SECRET_KEYS, Vault, org_secret

TOKEN_PREFIX = "sgu"  # noqa: S105 - a public prefix, not a secret
# Hot paths (webhook ingest, the router) read an org on every event; a short per-process cache
# saves a Redis round trip each time (the record holds the Twilio auth token and the webhook
# secret, so those are cached with it). PUT and DELETE of an org drop it from this process's
# cache at once; other processes see the change within this long.
ORG_CACHE_SECONDS = 1.0
ORG_CACHE_MAX = 10_000
# Contacts listed or matched per call, read CONTACT_CHUNK at a time (see page_contacts).
CONTACT_SCAN_MAX = 5000
CONTACT_CHUNK = 500


class TokenOwner(NamedTuple):
    """Who a live user token belongs to, and the token's id (what a revocation names)."""

    org: str
    user: str
    token_id: str


class IssuedToken(NamedTuple):
    id: str
    token: str  # the secret: shown once, never stored
    created_ms: int


class TokenInfo(NamedTuple):
    id: str
    created_ms: int | None  # None for tokens issued before times were kept
    last_used_ms: int | None


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_id(digest: str) -> str:
    """A token's public id: a prefix of its SHA-256 (the digest reveals nothing about the secret)."""
    return "tk_" + digest[:20]


def _ids_of(tokens: dict[str, str], user: str) -> dict[str, str]:
    """digest -> token id for the user's tokens in an org's token hash."""
    return {digest: token_id(digest) for digest, owner in tokens.items() if owner == user}


def _int_or_none(raw: str | None) -> int | None:
    return None if raw is None else int(raw)


def _retrieve(task: asyncio.Task[Any]) -> None:
    """Mark a shared load's failure as seen (its callers got it), so asyncio does not log it."""
    if not task.cancelled():
        task.exception()


def _load(raw: str | None) -> dict[str, Any] | None:
    return None if raw is None else dict(orjson.loads(raw))


# The key under which a cached org carries its enabled automation rules by signal type (present
# only when it has some): read in the same round trip as the org, so an org without rules costs
# the router nothing more. Never stored, never shown (the API reads orgs uncached).
AUTOMATION = "_automation"


def _with_rules(rec: dict[str, Any] | None, rules: dict[str, str] | None) -> dict[str, Any] | None:
    if rec is not None and rules:
        index = index_rules(rules)
        if index:
            rec[AUTOMATION] = index
    return rec


def _has_secret(rec: dict[str, Any]) -> bool:
    return any(org_secret(rec, section, key) for section, key in ORG_SECRET_KEYS)


class Tenancy:
    def __init__(self, redis: Redis, scripts: Scripts, vault: Vault | None = None) -> None:
        """``vault``: seals the org's provider secrets on write (without it, writing one is refused)."""
        self._r = redis
        self._s = scripts
        self._vault = vault
        self._org_cache: dict[str, tuple[float, dict[str, Any] | None]] = {}
        # One GET per org in flight: concurrent misses (every request at a cache expiry) share it.
        self._org_loads: dict[str, asyncio.Task[dict[str, Any] | None]] = {}
        self._org_generation = 0  # bumped by every invalidation: a load begun before it is not cached

    # -- orgs ---------------------------------------------------------------------------------
    async def get_org(self, org: str) -> dict[str, Any] | None:
        return _load(await self._r.get(keys.org(org)))

    async def cached_org(self, org: str) -> dict[str, Any] | None:
        """``get_org`` through a per-process cache of ``ORG_CACHE_SECONDS`` (for hot paths)."""
        now = time.monotonic()
        hit = self._org_cache.get(org)
        if hit is not None and hit[0] > now:
            return hit[1]
        load = self._org_loads.get(org)
        if load is None:
            load = self._org_loads[org] = asyncio.ensure_future(self._load_org(org, self._org_generation))
            load.add_done_callback(_retrieve)
        # Shielded: a caller that is cancelled does not cancel the others' load.
        return await asyncio.shield(load)

    async def _load_org(self, org: str, generation: int) -> dict[str, Any] | None:
        try:
            async with self._r.pipeline(transaction=False) as pipe:  # one slot: the org's tag
                pipe.get(keys.org(org))
                pipe.hgetall(keys.automation_rules(org))
                raw, rules = await pipe.execute()
            rec = _with_rules(_load(raw), rules)
        finally:
            if self._org_loads.get(org) is asyncio.current_task():
                del self._org_loads[org]
        if generation == self._org_generation:  # no PUT/DELETE of an org since the GET was sent
            if len(self._org_cache) >= ORG_CACHE_MAX:
                self._org_cache.clear()
            self._org_cache[org] = (time.monotonic() + ORG_CACHE_SECONDS, rec)
        return rec

    async def cached_orgs(self, orgs: set[str]) -> dict[str, dict[str, Any] | None]:
        """:meth:`cached_org` for many orgs, the misses read in one round trip."""
        now = time.monotonic()
        found: dict[str, dict[str, Any] | None] = {}
        missing = []
        for org in orgs:
            hit = self._org_cache.get(org)
            if hit is not None and hit[0] > now:
                found[org] = hit[1]
            else:
                missing.append(org)
        if missing:
            generation = self._org_generation
            async with self._r.pipeline(transaction=False) as pipe:
                for org in missing:  # one GET each: org keys are in different Cluster slots
                    pipe.get(keys.org(org))
                    pipe.hgetall(keys.automation_rules(org))  # the org's rules, same slot
                raw = await pipe.execute()
            if len(self._org_cache) + len(missing) > ORG_CACHE_MAX:
                self._org_cache.clear()
            for org, value, rules in zip(missing, raw[::2], raw[1::2], strict=True):
                found[org] = rec = _with_rules(_load(value), rules)
                if generation == self._org_generation:  # no PUT/DELETE of an org meanwhile
                    self._org_cache[org] = (now + ORG_CACHE_SECONDS, rec)
        return found

    def forget_org(self, org: str) -> None:
        """Drop the org from this process's cache (its rules changed)."""
        self._forget_org(org)

    def _forget_org(self, org: str) -> None:
        self._org_generation += 1
        self._org_cache.pop(org, None)
        self._org_loads.pop(org, None)

    async def put_org(self, rec: dict[str, Any], previous: dict[str, Any] | None = None) -> dict[str, Any]:
        """Store the org with its provider secrets sealed (:meth:`Vault.seal_org`); what was stored.

        ``previous``: the stored record ``rec`` was merged into (``{}`` for a new org), so a
        secret the caller sent again is sealed even when it looks sealed."""
        if self._vault is not None:
            rec = await self._vault.seal_org(rec, previous)
        elif _has_secret(rec):
            raise RuntimeError("an org with provider secrets needs a Vault to be stored (sealed)")
        await self._r.set(keys.org(rec["id"]), orjson.dumps(rec))
        await self._r.sadd(keys.ORGS, rec["id"])
        self._forget_org(rec["id"])
        return rec

    async def delete_org(self, org: str) -> bool:
        """Remove every key of the org: its hash tag's keys and its dedupe keys in every partition.

        Keys are found by SCAN of the org's exact prefixes (glob-escaped, and each name checked to
        start with one of them), never by a pattern built from input: ``org`` must be a valid org
        id (ValueError otherwise), and the partitions' streams and groups are never touched."""
        existed = bool(await self._r.exists(keys.org(org)))
        holders = set(await self._r.hvals(keys.tokens(org))) | set(await self._r.hkeys(keys.users(org)))
        org_prefix = keys.org_prefix(org)
        await self._unlink_prefixed(keys.glob_escape(org_prefix) + "*", (org_prefix,))
        # Events of one org spread over every partition (by routing key), and so do its dedupe
        # keys: one SCAN finds them all, and a name is unlinked only if it starts with one of the
        # org's 16 exact prefixes (a dedupe id may contain anything, e.g. another org's prefix).
        dedupe = tuple(keys.ingest_dedupe_prefix(org, p) for p in range(keys.PARTITIONS))
        await self._unlink_prefixed(keys.ingest_dedupe_match(org), dedupe)
        await self._r.srem(keys.ORGS, org)
        self._forget_org(org)
        # Every token of the org is gone: its open sockets close with 4401 like any revocation.
        for user in holders:  # a raw PUBLISH: redis-py's async Cluster client has no publish()
            await self._r.execute_command("PUBLISH", keys.live_channel(org, user), revocation(None))
        return existed

    async def _unlink_prefixed(self, match: str, prefixes: tuple[str, ...]) -> None:
        batch: list[str] = []
        async for key in self._r.scan_iter(match=match, count=500):
            if not key.startswith(prefixes):
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
        """Remove the user, their feed and its state, and revoke every token of theirs (open
        sockets close with 4401)."""
        removed, _ = await self._revoke(org, user, None, delete_user=True)
        await self._r.unlink(*keys.user_feed_keys(org, user))
        return removed

    # -- contacts -----------------------------------------------------------------------------
    async def get_contact(self, org: str, contact: str) -> dict[str, Any] | None:
        return _load(await self._r.hget(keys.contacts(org), contact))

    async def put_contact(self, org: str, rec: dict[str, Any]) -> None:
        await self._write_contact(org, rec["id"], rec)

    async def delete_contact(self, org: str, contact: str) -> bool:
        return bool(await self._write_contact(org, contact, None))

    async def _write_contact(self, org: str, contact: str, rec: dict[str, Any] | None) -> Any:
        keys_, args = self._contact_call(org, contact, rec)
        return await self._s.upsert_contact(keys=keys_, args=args)

    @staticmethod
    def _contact_call(org: str, contact: str, rec: dict[str, Any] | None) -> tuple[list[str], list[Any]]:
        """KEYS and ARGV of ``upsert_contact.lua`` (indexes by every email and phone number)."""
        emails: list[str] = rec["emails"] if rec else []
        phones = phone_numbers(rec["phones"]) if rec else []
        return (
            [keys.contacts(org), keys.contact_by_email(org), keys.contact_by_phone(org)],
            [contact, orjson.dumps(rec) if rec else "", len(emails), *emails, *phones],
        )

    async def get_contacts(self, org: str, ids: list[str]) -> dict[str, dict[str, Any]]:
        """The stored contacts among ``ids`` (one HMGET), by id."""
        if not ids:
            return {}
        raws = await self._r.hmget(keys.contacts(org), ids)
        return {cid: rec for cid, raw in zip(ids, raws, strict=True) if (rec := _load(raw)) is not None}

    async def put_contacts(self, org: str, recs: list[dict[str, Any]]) -> None:
        """Many :meth:`put_contact` in one round trip; each contact is still its own atomic script."""
        batch = Round(self._r)
        for rec in recs:
            batch.script(self._s.upsert_contact, *self._contact_call(org, rec["id"], rec))
        await batch.run()

    async def page_contacts(
        self, org: str, after: str | None, limit: int, keep: Callable[[dict[str, Any]], bool] | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Contacts ordered by id after ``after`` that ``keep``, at most ``limit``, and the cursor
        of the next page (the last id examined; None when none is left). At most
        ``CONTACT_SCAN_MAX`` contacts are examined per call, so a filter matching little still
        answers quickly (a page may then be short or empty with a cursor: follow it).

        Ordered by id, so every contact present for the whole listing is returned exactly once."""
        ids = sorted(await self._r.hkeys(keys.contacts(org)))
        i = start = bisect.bisect_right(ids, after) if after is not None else 0
        out: list[dict[str, Any]] = []
        while i < len(ids) and len(out) < limit and i - start < CONTACT_SCAN_MAX:
            chunk = ids[i : i + CONTACT_CHUNK]
            raws = await self._r.hmget(keys.contacts(org), chunk)
            for raw in raws:
                i += 1
                rec = _load(raw)
                if rec is not None and (keep is None or keep(rec)):
                    out.append(rec)
                    if len(out) == limit:
                        break
        return out, (ids[i - 1] if i < len(ids) else None)

    async def search_contacts(
        self, org: str, after: str | None, limit: int, q: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """:meth:`page_contacts` keeping those ``q`` matches (:func:`contact_matches`)."""
        return await self.page_contacts(org, after, limit, None if not q else lambda rec: contact_matches(rec, q))

    async def contact_by_email(self, org: str, email: str) -> dict[str, Any] | None:
        cid = await self._r.hget(keys.contact_by_email(org), email.strip().lower())
        return None if cid is None else await self.get_contact(org, cid)

    async def contact_by_phone(self, org: str, phone: str) -> dict[str, Any] | None:
        cid = await self._r.hget(keys.contact_by_phone(org), phone)
        return None if cid is None else await self.get_contact(org, cid)

    def queue_find_contacts(
        self, batch: Round, org: str, refs: list[tuple[str, str]]
    ) -> Slot[list[dict[str, Any] | None]]:
        """Resolve many ``(kind, value)`` references (kind ``id``, ``email`` or ``phone``; phones as
        E.164) of one org in one script call of ``batch``; contacts (or None) in order."""
        args = [x for kind, value in refs for x in (kind, value.strip().lower() if kind == "email" else value)]
        first = batch.script(
            self._s.find_contacts, [keys.contacts(org), keys.contact_by_email(org), keys.contact_by_phone(org)], args
        )
        return batch.slot(first, lambda replies: [_load(raw) for raw in replies[0]])

    # -- user tokens --------------------------------------------------------------------------
    # A token is stored as sha256(token) -> user in ``tokens``; its id is derived from that digest,
    # so resolving a token yields its id without another lookup. Listing and revoking read the
    # org's token hash (management calls, not a hot path).
    async def issue_token(self, org: str, user: str) -> str:
        """A new bearer token ``sgu.<org>.<secret>``; only its SHA-256 is stored."""
        return (await self.new_token(org, user)).token

    async def new_token(self, org: str, user: str) -> IssuedToken:
        token = f"{TOKEN_PREFIX}.{org}.{secrets.token_urlsafe(32)}"
        digest = _hash_token(token)
        now = now_ms()
        # One script, not MULTI: a Redis Cluster client has no transactions (both keys share the org's slot).
        await self._s.token_issue(
            keys=[keys.tokens(org), keys.token_times(org)], args=[digest, user, f"{token_id(digest)}:created", now]
        )
        return IssuedToken(token_id(digest), token, now)

    async def resolve_token(self, token: str) -> TokenOwner | None:
        """Whose live token this is, else None. The org part only picks the hash tag."""
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != TOKEN_PREFIX or not ORG_ID.fullmatch(parts[1]):
            return None
        org = parts[1]
        # Looked up by SHA-256 digest: timing reveals nothing about the secret part.
        digest = _hash_token(token)
        user = await self._r.hget(keys.tokens(org), digest)
        if user is None or not RECORD_ID.fullmatch(user):
            return None
        tid = token_id(digest)
        async with self._r.pipeline(transaction=False) as pipe:
            pipe.hexists(keys.users(org), user)
            # Same round trip. A revocation landing in between can leave this one field behind;
            # listings only show ids still in ``tokens``, so it is never seen.
            pipe.hset(keys.token_times(org), f"{tid}:used", now_ms())
            exists, _ = await pipe.execute()
        return TokenOwner(org, user, tid) if exists else None

    async def list_tokens(self, org: str, user: str) -> list[TokenInfo]:
        """The user's live tokens (ids and times, never secrets), oldest first."""
        ids = sorted(_ids_of(await self._r.hgetall(keys.tokens(org)), user).values())
        if not ids:
            return []
        fields = [f"{tid}:{what}" for tid in ids for what in ("created", "used")]
        times = await self._r.hmget(keys.token_times(org), fields)
        infos = [
            TokenInfo(tid, _int_or_none(times[2 * i]), _int_or_none(times[2 * i + 1])) for i, tid in enumerate(ids)
        ]
        return sorted(infos, key=lambda t: (t.created_ms or 0, t.id))

    async def revoke_token(self, org: str, user: str, tid: str) -> bool:
        """Revoke one token of the user; False when the user has no token with that id."""
        _, revoked = await self._revoke(org, user, tid)
        return revoked > 0

    async def revoke_tokens(self, org: str, user: str) -> int:
        """Revoke every token of the user; how many there were."""
        _, revoked = await self._revoke(org, user, None)
        return revoked

    async def _revoke(self, org: str, user: str, tid: str | None, *, delete_user: bool = False) -> tuple[bool, int]:
        """One script (``token_revoke.lua``, on the org's slot), so a token issued meanwhile is not
        missed: delete the token digests, their times (and the user), and publish the revocation
        (:func:`gateway.store.live.revocation`'s message) on the user's channel in the same step, so
        a revoked token stops working at once and its sockets hear of it."""
        removed, revoked = await self._s.token_revoke(
            keys=[keys.tokens(org), keys.token_times(org), keys.users(org)],
            args=[user, tid or "", "1" if delete_user else "0", keys.live_channel(org, user)],
        )
        return bool(removed), int(revoked)
