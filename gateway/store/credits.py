"""Prepaid SMS credits: balance, ledger, auto-recharge; every change is one Lua script.

1 credit = 1 SMS segment. See ``credits_reserve.lua`` and ``credits_credit.lua`` for the
invariants (never negative, charged and refunded at most once per notification, auto-recharge
once per crossing of its threshold).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from gateway.store import keys
from gateway.store.scripts import Scripts

# Ledger entries kept per org (about, XADD MAXLEN ~): at a few hundred sends a day that is a
# year or more of history; the balance itself never depends on the ledger.
LEDGER_MAX = 100_000


@dataclass(frozen=True)
class Reservation:
    outcome: str  # "charged" | "already_charged" | "insufficient"
    balance: int


RESERVE_OUTCOMES = {1: "charged", 2: "already_charged", 0: "insufficient"}


def _now() -> int:
    return int(time.time() * 1000)


class Credits:
    def __init__(self, redis: Redis, scripts: Scripts, ledger_max: int = LEDGER_MAX) -> None:
        self._r = redis
        self._s = scripts
        self._ledger_max = ledger_max

    def _keys(self, org: str, nid: str | None = None) -> list[str]:
        return [keys.credits(org), keys.credit_ledger(org), keys.notification(org, nid or "-")]

    async def reserve(self, org: str, nid: str, amount: int) -> Reservation:
        code, balance = await self._s.credits_reserve(
            keys=self._keys(org, nid), args=[amount, nid, _now(), self._ledger_max]
        )
        return Reservation(RESERVE_OUTCOMES[int(code)], int(balance))

    async def refund(self, org: str, nid: str, reason: str) -> bool:
        code, _ = await self._s.credits_credit(
            keys=self._keys(org, nid), args=["refund", nid, _now(), reason, self._ledger_max]
        )
        return bool(code)

    async def purchase(self, org: str, amount: int, reference: str) -> int:
        _, balance = await self._s.credits_credit(
            keys=self._keys(org), args=["purchase", amount, _now(), reference, self._ledger_max]
        )
        return int(balance)

    async def set_auto_recharge(self, org: str, enabled: bool, threshold: int, amount: int) -> None:
        balance = int(await self._r.hget(keys.credits(org), "balance") or 0)
        await self._r.hset(
            keys.credits(org),
            mapping={
                "auto_enabled": "1" if enabled else "0",
                "auto_threshold": threshold,
                "auto_amount": amount,
                # Arm only from above: enabling below the threshold does not recharge by itself.
                "auto_armed": "1" if balance >= threshold else "0",
            },
        )

    async def status(self, org: str) -> dict[str, Any]:
        raw = await self._r.hgetall(keys.credits(org))
        return {
            "balance": int(raw.get("balance", 0)),
            "auto_recharge": {
                "enabled": raw.get("auto_enabled") == "1",
                "threshold": int(raw.get("auto_threshold", 0)),
                "amount": int(raw.get("auto_amount", 0)),
            },
        }

    async def ledger(self, org: str, limit: int = 100) -> list[dict[str, Any]]:
        entries = await self._r.xrevrange(keys.credit_ledger(org), count=limit)
        out = []
        for entry_id, f in entries:
            item: dict[str, Any] = {
                "id": entry_id,
                "type": f["type"],
                "amount": int(f["amount"]),
                "balance": int(f["balance"]),
                "at_ms": int(f["at"]),
            }
            if f.get("notification"):
                item["notification"] = f["notification"]
            if f.get("note"):
                item["note"] = f["note"]
            out.append(item)
        return out
