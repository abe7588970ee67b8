"""Process secrets (admin token, tracking key): from config, else generated once in Redis.

Leaving them empty in config.toml is for development: the first process generates them and
every other process on the same Redis reads the same values. Production sets them through
``SIGNALGATE_GATEWAY_ADMIN_TOKEN`` / ``SIGNALGATE_GATEWAY_SECRET_KEY``.
"""

from __future__ import annotations

import secrets

from redis.asyncio import Redis

from gateway import keys
from gateway.config import GatewayConfig


async def resolve(redis: Redis, cfg: GatewayConfig) -> tuple[str, bytes]:
    """(admin token, secret key bytes)."""
    admin = cfg.admin_token
    secret = cfg.secret_key
    if not admin:
        await redis.hsetnx(keys.SECRETS, "admin_token", "sga_" + secrets.token_urlsafe(32))
        admin = await redis.hget(keys.SECRETS, "admin_token")
    if not secret:
        await redis.hsetnx(keys.SECRETS, "secret_key", secrets.token_urlsafe(48))
        secret = await redis.hget(keys.SECRETS, "secret_key")
    return admin, secret.encode()
