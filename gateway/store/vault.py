"""The process's :class:`~gateway.domain.sealing.Sealer`, on the gateway's secret key.

Processes that opened their services with the secrets (the gateway, the worker) have it at once;
the others (the IMAP listeners) resolve the key on first need (:meth:`Vault.ready`), so they still
start while Redis is down. What the callers need:

- :meth:`Vault.seal_org` — the store seals an org record's secrets before writing it;
- :meth:`Vault.twilio_account` — the org's Twilio account with its token opened (or None);
- :meth:`Vault.reveal` — the plain secret, or None after one error line naming the org and the
  field (never the secret) per unreadable value: a reader turns None into a visible state (a
  refused webhook, a failed send, a mailbox in ``auth_failed``), never a crash loop.

A value sealed under one of ``[gateway] previous_secret_keys`` opens too (writes seal under the
current key); ``signalgate reseal`` (:mod:`gateway.store.reseal`) seals every stored one anew.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from redis.asyncio import Redis

from gateway.config import GatewayConfig
from gateway.domain.sealing import SMTP_PASSWORD, TWILIO_AUTH_TOKEN, WEBHOOK_SECRET, Sealer, SealError, is_sealed
from gateway.store import credentials

log = logging.getLogger("signalgate.secrets")
_LOGGED_MAX = 1000

# (section of the org record or None for a top-level key, key in it, field name in the associated data)
ORG_SECRETS: tuple[tuple[str | None, str, str], ...] = (
    ("twilio", "auth_token", TWILIO_AUTH_TOKEN),
    ("smtp", "password", SMTP_PASSWORD),
    (None, "webhook_secret", WEBHOOK_SECRET),
)
ORG_SECRET_KEYS = tuple((section, key) for section, key, _ in ORG_SECRETS)


def org_secret(rec: dict[str, Any] | None, section: str | None, key: str) -> Any:
    """The stored value of one of an org record's secrets (None when absent)."""
    part = rec if section is None else (rec or {}).get(section)
    return part.get(key) if isinstance(part, dict) else None


class Vault:
    def __init__(self, redis: Redis, cfg: GatewayConfig, secrets: credentials.Secrets | None) -> None:
        self._r = redis
        self._cfg = cfg
        # Without resolved secrets, a key set in config is known at once (no Redis needed); only a
        # generated one (kept in Redis) waits for ready().
        key = secrets.secret_key if secrets is not None else cfg.secret_key.encode()
        self._previous = credentials.previous_keys(cfg)  # values sealed under them still open
        self._sealer = Sealer(key, previous=self._previous) if key else None
        self._logged: set[tuple[str, str, str]] = set()

    async def ready(self) -> Sealer:
        """The sealer, resolving the secret key first if this process has not yet."""
        if self._sealer is None:
            key = (await credentials.resolve(self._r, self._cfg)).secret_key
            self._sealer = Sealer(key, previous=self._previous)
        return self._sealer

    @property
    def sealer(self) -> Sealer:
        if self._sealer is None:
            raise RuntimeError("the secret key is not resolved yet (await Vault.ready() first)")
        return self._sealer

    def reveal(self, org: str, field: str, stored: str) -> str | None:
        """The plain secret; None when it does not open (logged once per stored value)."""
        try:
            return self.sealer.open(org, field, stored)
        except SealError as exc:
            entry = (org, field, stored)
            if entry not in self._logged:
                if len(self._logged) >= _LOGGED_MAX:
                    self._logged.clear()
                self._logged.add(entry)
                log.error("%s", exc)
            return None

    def twilio_account(self, org: Mapping[str, Any]) -> tuple[str, str] | None:
        """The org's Twilio ``(account_sid, auth_token)``, the token opened; None when the org has
        no account, or when its token does not open (logged once, by :meth:`reveal`)."""
        tw = org.get("twilio")
        if not isinstance(tw, dict) or not tw.get("account_sid") or not tw.get("auth_token"):
            return None
        token = self.reveal(str(org["id"]), TWILIO_AUTH_TOKEN, str(tw["auth_token"]))
        return (str(tw["account_sid"]), token) if token else None

    async def seal_org(self, rec: dict[str, Any], previous: dict[str, Any] | None) -> dict[str, Any]:
        """``rec`` with its secrets sealed (a copy where they changed).

        ``previous``: the stored record the caller merged into (``{}`` for a new org; None when
        unknown: then a value that looks sealed is kept). A value equal to the stored one (a PUT
        that did not send it again) and already sealed is kept as is — even one that no longer
        opens, so its error stays visible; anything else came from the caller in plain text (or is
        a legacy plain value) and is sealed.
        """
        out = rec
        for section, key, field in ORG_SECRETS:
            value = org_secret(rec, section, key)
            if not isinstance(value, str) or not value:
                continue
            kept = org_secret(previous, section, key)
            if is_sealed(value) and (value == kept or previous is None):
                continue
            sealer = await self.ready()
            if out is rec:
                out = dict(rec)
            sealed = sealer.seal(str(rec["id"]), field, value)
            if section is None:
                out[key] = sealed
            else:
                out[section] = dict(out[section]) | {key: sealed}
        return out
