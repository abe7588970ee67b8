"""Loads every Lua script shipped in ``gateway/store/lua`` and registers it on a client.

Registering costs no round trip: redis-py sends EVALSHA and loads the script on NOSCRIPT.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

from redis.asyncio import Redis
from redis.commands.core import AsyncScript


def _source(name: str) -> str:
    return resources.files("gateway.store.lua").joinpath(f"{name}.lua").read_text(encoding="utf-8")


@dataclass(frozen=True)
class Scripts:
    ingest: AsyncScript
    apply_signal: AsyncScript
    mark_read: AsyncScript
    advance_status: AsyncScript
    count_once: AsyncScript
    upsert_contact: AsyncScript
    report_once: AsyncScript
    credits_reserve: AsyncScript
    credits_credit: AsyncScript
    email_reserve: AsyncScript
    begin_attempt: AsyncScript
    imap_lease: AsyncScript
    imap_checkpoint: AsyncScript


def load_scripts(redis: Redis) -> Scripts:
    return Scripts(**{name: redis.register_script(_source(name)) for name in Scripts.__dataclass_fields__})
