"""Ending a call queue's member calls ("legs") once the webhook's answer is out.

When a member takes the caller, or the caller leaves the queue, the other legs are ended through
Twilio's REST API (:meth:`gateway.twilio_rest.TwilioRest.hang_up`) — *after* the answer
(:attr:`gateway.ingest.twilio.Reply.after`), so a slow Twilio never holds up the bridge.
All legs at once; a failure that may pass is tried again
(:func:`gateway.domain.call_queue.retry_hang_up`, a bounded number of times), and every failure is
logged with the org and the call sid (never a token). A leg left up rings out after the step's
``timeout``, and cannot take the caller: only the first accept wins, a later one is told so.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from functools import partial

from gateway.domain.call_queue import retry_hang_up
from gateway.services import Services
from gateway.twilio_rest import TwilioFailure

log = logging.getLogger("signalgate.call_flows")


def ending(svc: Services, org: str, legs: Sequence[str]) -> Callable[[], Awaitable[None]] | None:
    """The work that ends ``legs`` of ``org``, to run after the answer; ``None`` when there are none."""
    return partial(end_legs, svc, org, tuple(legs)) if legs else None


async def end_legs(svc: Services, org: str, legs: Sequence[str]) -> None:
    """End every leg of ``legs`` (cancel if ringing, complete if answered); never raises but
    :class:`asyncio.CancelledError` (the gateway stopping; what was not ended is logged)."""
    if not legs:
        return
    try:
        account = svc.vault.twilio_account(await svc.tenancy.cached_org(org) or {})
    except Exception:
        log.exception("call flow queue of org %s: member calls %s not ended", org, ", ".join(legs))
        return
    if account is None:
        log.warning("call flow queue of org %s: no Twilio account; member calls %s ring on", org, ", ".join(legs))
        return
    sid, token = account
    await asyncio.gather(*(_end(svc, org, sid, token, leg) for leg in legs))


async def _end(svc: Services, org: str, account_sid: str, auth_token: str, leg: str) -> None:
    attempt = 0
    try:
        while True:
            attempt += 1
            try:
                await svc.twilio.hang_up(account_sid, auth_token, leg)
                return
            except TwilioFailure as exc:
                delay = retry_hang_up(attempt, exc.status)
                if delay is None:
                    log.warning(
                        "call flow queue of org %s: Twilio did not end member call %s (try %d, giving up:"
                        " it rings out): %s",
                        org,
                        leg,
                        attempt,
                        exc.message,
                    )
                    return
                log.warning(
                    "call flow queue of org %s: Twilio did not end member call %s (try %d, again in %g s): %s",
                    org,
                    leg,
                    attempt,
                    delay,
                    exc.message,
                )
                await asyncio.sleep(delay)
    except asyncio.CancelledError:
        log.warning("call flow queue of org %s: stopping; member call %s not ended (try %d)", org, leg, attempt)
        raise
    except Exception:
        log.exception("call flow queue of org %s: member call %s not ended (try %d)", org, leg, attempt)
