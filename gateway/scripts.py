"""Loads the Lua scripts shipped in ``gateway/lua`` and registers them on a client."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

from redis.asyncio import Redis
from redis.commands.core import AsyncScript


def _source(name: str) -> str:
    return resources.files("gateway.lua").joinpath(f"{name}.lua").read_text(encoding="utf-8")


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


def load_scripts(redis: Redis) -> Scripts:
    return Scripts(**{name: redis.register_script(_source(name)) for name in Scripts.__dataclass_fields__})
