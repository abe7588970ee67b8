"""Loads every Lua script shipped in ``gateway/store/lua`` and registers it on a client.

Registering costs no round trip: redis-py sends EVALSHA and loads the script on NOSCRIPT.

A script may reuse another one's rules verbatim: a line ``--#include NAME`` becomes
``local function NAME(KEYS, ARGV) <NAME.lua> end``, so a combined script (e.g. ``sms_begin``)
applies exactly the same checks as the single-purpose script it includes. A script only ever
included (``fanout_done``) is not registered.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from redis.asyncio import Redis
from redis.commands.core import AsyncScript

_INCLUDE = "--#include "


def _source(name: str) -> str:
    text = resources.files("gateway.store.lua").joinpath(f"{name}.lua").read_text(encoding="utf-8")
    return "\n".join(_expand(line) for line in text.splitlines()) + "\n"


def _expand(line: str) -> str:
    if not line.startswith(_INCLUDE):
        return line
    included = line[len(_INCLUDE) :].strip()
    return f"local function {included}(KEYS, ARGV)\n{_source(included)}end"


@dataclass(frozen=True)
class Scripts:
    ingest: AsyncScript
    apply_signal: AsyncScript
    feed_state: AsyncScript
    feed_wake: AsyncScript
    advance_status: AsyncScript
    count_once: AsyncScript
    upsert_contact: AsyncScript
    report_once: AsyncScript
    credits_reserve: AsyncScript
    credits_credit: AsyncScript
    credits_configure: AsyncScript
    notification_cancel: AsyncScript
    reminder_write: AsyncScript
    email_reserve: AsyncScript
    begin_attempt: AsyncScript
    imap_lease: AsyncScript
    imap_checkpoint: AsyncScript
    mailbox_update: AsyncScript
    notification_create: AsyncScript
    email_release: AsyncScript
    claim_orphans: AsyncScript
    sms_begin: AsyncScript
    sms_accepted: AsyncScript
    email_begin: AsyncScript
    find_contacts: AsyncScript
    partition_lease: AsyncScript
    token_issue: AsyncScript
    token_revoke: AsyncScript
    signal_acted: AsyncScript
    call_flow_write: AsyncScript
    number_release: AsyncScript
    fanout_join: AsyncScript
    fanout_create: AsyncScript
    queue_legs: AsyncScript
    queue_settle: AsyncScript
    call_flow_missed: AsyncScript
    org_replace: AsyncScript

    async def advance(
        self,
        record_key: str,
        history_key: str,
        status: str,
        rank: int,
        *,
        event_key: str,
        at_ms: int,
        note: str = "",
        fields: Mapping[str, Any] | None = None,
    ) -> bool:
        """``advance_status.lua`` for an SMS, a call or a notification: True when this event advanced it.

        ``fields`` are stored with the status; ``note`` goes into the history entry.
        """
        args = advance_args(status, rank, event_key=event_key, at_ms=at_ms, note=note, fields=fields)
        return bool(await self.advance_status(keys=[record_key, history_key], args=args))


def advance_args(
    status: str, rank: int, *, event_key: str, at_ms: int, note: str = "", fields: Mapping[str, Any] | None = None
) -> list[Any]:
    """ARGV of ``advance_status.lua`` (see :meth:`Scripts.advance`)."""
    return [status, rank, event_key, at_ms, note, *(item for pair in (fields or {}).items() for item in pair)]


def load_scripts(redis: Redis) -> Scripts:
    return Scripts(**{name: redis.register_script(_source(name)) for name in Scripts.__dataclass_fields__})
