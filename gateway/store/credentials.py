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
from gateway.domain.signed_token import Keys
from gateway.store import keys


@dataclass(frozen=True)
class Secrets:
    admin_token: str
    secret_key: bytes  # the HMAC key of tracking tokens
    # [gateway] previous_secret_keys: tokens signed and values sealed under them still verify/open.
    previous_keys: tuple[bytes, ...] = ()

    @property
    def verify_keys(self) -> Keys:
        """What a signed token verifies under: the key alone when nothing is being rotated."""
        return (self.secret_key, *self.previous_keys) if self.previous_keys else self.secret_key


async def resolve(redis: Redis, cfg: GatewayConfig) -> Secrets:
    admin = cfg.admin_token
    secret = cfg.secret_key
    if not admin:
        await redis.hsetnx(keys.SECRETS, "admin_token", "sga_" + secrets.token_urlsafe(32))
        admin = await redis.hget(keys.SECRETS, "admin_token")
    if not secret:
        await redis.hsetnx(keys.SECRETS, "secret_key", secrets.token_urlsafe(48))
        secret = await redis.hget(keys.SECRETS, "secret_key")
    return Secrets(admin, secret.encode(), previous_keys(cfg))


def previous_keys(cfg: GatewayConfig) -> tuple[bytes, ...]:
    """``[gateway] previous_secret_keys`` as keys (config allows them only beside an explicit key)."""
    return tuple(key.encode() for key in cfg.previous_secret_keys)
