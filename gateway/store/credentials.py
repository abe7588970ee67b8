"""Process secrets (admin token, tracking key): from config, else generated once in Redis.

Leaving them empty in config.toml is for development: the first process generates them and
every other process on the same Redis reads the same values. Production sets them through
``SIGNALGATE_GATEWAY_ADMIN_TOKEN`` / ``SIGNALGATE_GATEWAY_SECRET_KEY``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from redis.asyncio import Redis

from gateway.config import GatewayConfig
from gateway.store import keys


@dataclass(frozen=True)
class Secrets:
    admin_token: str
    secret_key: bytes  # the HMAC key of tracking tokens


async def resolve(redis: Redis, cfg: GatewayConfig) -> Secrets:
    admin = cfg.admin_token
    secret = cfg.secret_key
    if not admin:
        await redis.hsetnx(keys.SECRETS, "admin_token", "sga_" + secrets.token_urlsafe(32))
        admin = await redis.hget(keys.SECRETS, "admin_token")
    if not secret:
        await redis.hsetnx(keys.SECRETS, "secret_key", secrets.token_urlsafe(48))
        secret = await redis.hget(keys.SECRETS, "secret_key")
    return Secrets(admin, secret.encode())
