"""Prepaid SMS credits: balance, ledger, auto-recharge; every change is one Lua script.

1 credit = 1 SMS segment. See ``credits_reserve.lua``, ``credits_credit.lua`` and
``credits_configure.lua`` for the invariants (never negative, charged and refunded at most once
per notification, auto-recharge before the balance would fall below its threshold, at most
``max_per_day`` top-ups per org-local day, ``credits.low`` once per crossing: each crossing is
recorded as owed in the same step, :meth:`Credits.owed_low` / :meth:`Credits.clear_low`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from gateway.domain.credits_low import OwedLow, parse_owed
from gateway.store import keys
from gateway.store.scripts import Scripts

# Ledger entries kept per org (about, XADD MAXLEN ~): at a few hundred sends a day that is a
# year or more of history; the balance itself never depends on the ledger.
LEDGER_MAX = 100_000


# Top-ups per org-local day when ``max_per_day`` is not given, and the most it may be.
DEFAULT_MAX_PER_DAY = 10
MAX_PER_DAY = 100


@dataclass(frozen=True)
class Reservation:
    outcome: str  # "charged" | "already_charged" | "insufficient" | "cancelled"
    balance: int
    crossing: str = ""  # the id of the crossing below the threshold this step made ("" none)
    owed: int = 0  # credits.low warnings owed after this step (this crossing's included)

    @property
    def low(self) -> bool:
        """This step crossed below the threshold with no top-up possible: credits.low."""
        return bool(self.crossing)


RESERVE_OUTCOMES = {1: "charged", 2: "already_charged", 0: "insufficient", 3: "cancelled"}


def _now() -> int:
    return int(time.time() * 1000)


def _seq(crossing: str) -> int:
    head = crossing.split("-", 1)[0]
    return int(head) if head.isdigit() else 0


def reservation(code: Any, balance: Any, crossing: Any, owed: Any) -> Reservation:
    """A Reservation from ``credits_reserve.lua``'s reply (also part of ``sms_begin.lua``'s)."""
    return Reservation(RESERVE_OUTCOMES[int(code)], int(balance), str(crossing or ""), int(owed))


class Credits:
    def __init__(self, redis: Redis, scripts: Scripts, ledger_max: int = LEDGER_MAX) -> None:
        self._r = redis
        self._s = scripts
        self._ledger_max = ledger_max

    def _keys(self, org: str, nid: str | None = None) -> list[str]:
        return [keys.credits(org), keys.credit_ledger(org), keys.notification(org, nid or "-")]

    async def reserve(self, org: str, nid: str, amount: int, day: str) -> Reservation:
        """Charge ``amount`` for ``nid`` (topping up first when auto-recharge allows); ``day`` is
        the org's local day (:func:`gateway.domain.quota.local_day`)."""
        code, balance, crossing, owed = await self._s.credits_reserve(
            keys=[*self._keys(org, nid), keys.credits_low_owed(org)], args=[amount, nid, _now(), self._ledger_max, day]
        )
        return reservation(code, balance, crossing, owed)

    async def owed_low(self, org: str) -> list[OwedLow]:
        """The credits.low warnings owed to the org's admins (oldest crossing first)."""
        raw = await self._r.hgetall(keys.credits_low_owed(org))
        owed = [parse_owed(str(crossing), value) for crossing, value in raw.items()]
        return sorted(owed, key=lambda o: _seq(o.crossing))

    async def clear_low(self, org: str, crossing: str) -> bool:
        """The warning of ``crossing`` was delivered: no longer owed (False: already cleared)."""
        return bool(await self._r.hdel(keys.credits_low_owed(org), crossing))

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

    async def set_auto_recharge(
        self, org: str, enabled: bool, threshold: int, amount: int, max_per_day: int, day: str
    ) -> int:
        """Store the settings; enabled below the threshold, top up at once (within today's cap).
        Returns the number of top-ups made now."""
        _, made = await self._s.credits_configure(
            keys=[keys.credits(org), keys.credit_ledger(org)],
            args=["1" if enabled else "0", threshold, amount, max_per_day, _now(), self._ledger_max, day],
        )
        return int(made)

    async def status(self, org: str, day: str | None = None) -> dict[str, Any]:
        """Balance and auto-recharge; with ``day`` (the org's local day) also today's top-ups."""
        raw = await self._r.hgetall(keys.credits(org))
        auto: dict[str, Any] = {
            "enabled": raw.get("auto_enabled") == "1",
            "threshold": int(raw.get("auto_threshold", 0)),
            "amount": int(raw.get("auto_amount", 0)),
            "max_per_day": int(raw.get("auto_max_per_day", DEFAULT_MAX_PER_DAY)),
        }
        if day is not None:
            auto["today"] = int(raw.get("auto_count", 0)) if raw.get("auto_day") == day else 0
        return {"balance": int(raw.get("balance", 0)), "auto_recharge": auto}

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
