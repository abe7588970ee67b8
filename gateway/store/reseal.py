"""``signalgate reseal``: every org's stored provider secrets sealed anew under the current key.

After a key rotation (``[gateway] secret_key`` = the new key, ``previous_secret_keys`` = the old
ones) the values written before it are still sealed under an old key. This seals each of them —
the org record's secrets (:data:`~gateway.store.vault.ORG_SECRETS`) and every API mailbox's
password — under the current key, so the previous keys can be dropped. A legacy plain value is
sealed too. A value already under the current key is not touched: a second run writes nothing.

Each record is written back only if it is still the one read (``org_replace.lua``,
``mailbox_update.lua``: one key of the org's hash slot each, so a Redis Cluster client works too): a
concurrent admin edit is never overwritten with stale data, the record is read again instead. A
value that opens under no key is left as it is and named in the summary (org and field only).
"""

from __future__ import annotations

from typing import Any

import orjson
from redis.asyncio import Redis

from gateway.domain.reseal import ResealSummary
from gateway.domain.sealing import Sealer, SealError, mailbox_password
from gateway.store import keys
from gateway.store.errors import StoreError
from gateway.store.scripts import Scripts, load_scripts
from gateway.store.vault import ORG_SECRETS, Vault, org_secret

_ATTEMPTS = 5  # reads of one record that kept changing under us before giving up


async def reseal_all(redis: Redis, vault: Vault) -> ResealSummary:
    """Reseal every org's secrets (orgs in id order); what was done."""
    sealer = await vault.ready()
    scripts = load_scripts(redis)
    orgs = set(await redis.smembers(keys.ORGS)) | set(await redis.smembers(keys.API_MAILBOX_ORGS))
    summary = ResealSummary()
    for org in sorted(orgs):
        await _reseal_org(redis, scripts, sealer, org, summary)
        for mailbox in sorted(await redis.hkeys(keys.api_mailboxes(org))):
            await _reseal_mailbox(redis, scripts, sealer, org, mailbox, summary)
    return summary


def _resealed(sealer: Sealer, org: str, field: str, stored: Any, unopened: list[str]) -> str | None:
    """The stored value sealed under the current key, or None (absent, already so, or in no key)."""
    if not isinstance(stored, str) or not stored:
        return None
    try:
        return sealer.reseal(org, field, stored)
    except SealError:
        unopened.append(field)
        return None


def _org_record(sealer: Sealer, org: str, rec: dict[str, Any]) -> tuple[dict[str, Any], int, list[str]]:
    """``rec`` with its secrets resealed, how many were, and the fields that open under no key."""
    out, count, unopened = dict(rec), 0, list[str]()
    for section, key, field in ORG_SECRETS:
        new = _resealed(sealer, org, field, org_secret(rec, section, key), unopened)
        if new is None:
            continue
        count += 1
        if section is None:
            out[key] = new
        else:
            out[section] = dict(out[section]) | {key: new}
    return out, count, unopened


async def _reseal_org(redis: Redis, scripts: Scripts, sealer: Sealer, org: str, summary: ResealSummary) -> None:
    for _ in range(_ATTEMPTS):
        raw = await redis.get(keys.org(org))
        if raw is None:
            return
        new, count, unopened = _org_record(sealer, org, dict(orjson.loads(raw)))
        written = 1
        if count:
            written = int(await scripts.org_replace(keys=[keys.org(org)], args=[raw, orjson.dumps(new)]))
        if written == -1:  # an admin changed it meanwhile: read it again
            continue
        summary.add(org, count if written == 1 else 0, unopened if written == 1 else [])
        return
    raise StoreError(f"org {org!r} kept changing while it was resealed")


async def _reseal_mailbox(
    redis: Redis, scripts: Scripts, sealer: Sealer, org: str, mailbox: str, summary: ResealSummary
) -> None:
    key = keys.api_mailboxes(org)
    for _ in range(_ATTEMPTS):
        raw = await redis.hget(key, mailbox)
        if raw is None:
            return
        rec, unopened = dict(orjson.loads(raw)), list[str]()
        new = _resealed(sealer, org, mailbox_password(mailbox), rec.get("password"), unopened)
        written = 1
        if new is not None:
            written = int(
                await scripts.mailbox_update(
                    keys=[key, keys.imap_checkpoint(org, mailbox), keys.imap_state(org, mailbox)],
                    args=[mailbox, raw, orjson.dumps(rec | {"password": new}), "0"],
                )
            )
        if written == -1:
            continue
        summary.add(org, 1 if new is not None and written == 1 else 0, unopened if written == 1 else [])
        return
    raise StoreError(f"mailbox {mailbox} of org {org!r} kept changing while it was resealed")
