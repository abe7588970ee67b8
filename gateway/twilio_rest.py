"""The gateway's side of Twilio's REST API for telephony: numbers and outbound calls.

Everything goes through the real ``twilio`` library, asynchronously (``*_async`` methods on an
``AsyncTwilioHttpClient``), pointed at ``[twilio] api_base`` by the library's documented extension
point — :class:`gateway.twilio_http.RewritingHttpClient`, shared with the SMS worker. The aiohttp
session opens on first use, inside the gateway's event loop, and closes with the services.

Failures become :class:`TwilioFailure` (Twilio's HTTP status and error code when it answered);
the API edge turns them into 4xx/502 JSON errors.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import aiohttp
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest import Client

from gateway.domain.call_queue import needs_completing
from gateway.twilio_http import RewritingHttpClient, int_or_none

log = logging.getLogger("signalgate.twilio_rest")
MAX_CACHED_CLIENTS = 256
# Twilio answers up to 30 available numbers per search by default; a page of the admin UI.
AVAILABLE_LIMIT = 30
# Call progress events the status callback hears about (the call log's statuses).
CALL_EVENTS = ["initiated", "ringing", "answered", "completed"]


class TwilioFailure(Exception):
    """A Twilio request that did not succeed. ``status``/``code``: Twilio's answer, when there was one."""

    def __init__(self, message: str, *, status: int | None = None, code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code


@dataclass(frozen=True)
class PlacedCall:
    sid: str
    status: str


class TwilioRest:
    """Numbers and calls of one Twilio account at a time (the org's ``account_sid``/``auth_token``)."""

    def __init__(self, api_base: str, timeout: float) -> None:
        self.api_base = api_base
        self.timeout = timeout
        self._http: RewritingHttpClient | None = None
        self._clients: OrderedDict[tuple[str, str], Any] = OrderedDict()

    async def aclose(self) -> None:
        self._clients.clear()
        if self._http is not None:
            await self._http.close()
            self._http = None

    def _account(self, account_sid: str, auth_token: str) -> Any:
        """The library's Account resource (``client.api.v2010.accounts(sid)``), client cached."""
        if self._http is None:  # opened here, in the running loop (aiohttp needs one)
            self._http = RewritingHttpClient(self.api_base, self.timeout)
        key = (account_sid, auth_token)
        client = self._clients.get(key)
        if client is None:
            client = self._clients[key] = Client(account_sid, auth_token, http_client=self._http)
            if len(self._clients) > MAX_CACHED_CLIENTS:
                self._clients.popitem(last=False)
        else:
            self._clients.move_to_end(key)
        return client.api.v2010.accounts(account_sid)

    async def available(
        self, account_sid: str, auth_token: str, country: str, kind: str, contains: str | None
    ) -> list[dict[str, Any]]:
        """AvailablePhoneNumbers of ``kind`` (``local``, ``mobile`` or ``toll_free``) in ``country``."""
        numbers = getattr(self._account(account_sid, auth_token).available_phone_numbers(country), kind)
        kwargs: dict[str, Any] = {"limit": AVAILABLE_LIMIT}
        if contains:
            kwargs["contains"] = contains
        found = await _call(numbers.list_async(**kwargs))
        return [
            {
                "phone_number": n.phone_number,
                "friendly_name": n.friendly_name,
                "locality": n.locality,
                "region": n.region,
                "iso_country": n.iso_country,
                "capabilities": n.capabilities,
            }
            for n in found
        ]

    async def buy(
        self, account_sid: str, auth_token: str, phone_number: str, voice_url: str, status_callback: str
    ) -> dict[str, Any]:
        """IncomingPhoneNumbers create: buy ``phone_number`` with our voice URL and status callback."""
        created = await _call(
            self._account(account_sid, auth_token).incoming_phone_numbers.create_async(
                phone_number=phone_number, **_voice_webhooks(voice_url, status_callback)
            )
        )
        return _number(created)

    async def adopt(
        self, account_sid: str, auth_token: str, number_sid: str, voice_url: str, status_callback: str
    ) -> dict[str, Any]:
        """IncomingPhoneNumbers update: point a number the account owns at our webhooks."""
        updated = await _call(
            self._account(account_sid, auth_token)
            .incoming_phone_numbers(number_sid)
            .update_async(**_voice_webhooks(voice_url, status_callback))
        )
        return _number(updated)

    async def release(self, account_sid: str, auth_token: str, number_sid: str) -> None:
        """IncomingPhoneNumbers delete: the account gives the number back."""
        await _call(self._account(account_sid, auth_token).incoming_phone_numbers(number_sid).delete_async())

    async def call(
        self, account_sid: str, auth_token: str, *, to: str, from_: str, url: str, status_callback: str
    ) -> PlacedCall:
        """Calls create: Twilio rings ``to`` from ``from_`` and, once answered, runs the TwiML at ``url``."""
        placed = await _call(
            self._account(account_sid, auth_token).calls.create_async(
                to=to,
                from_=from_,
                url=url,
                method="POST",
                status_callback=status_callback,
                status_callback_method="POST",
                status_callback_event=CALL_EVENTS,
            )
        )
        return PlacedCall(str(placed.sid), str(placed.status))

    async def ring(
        self, account_sid: str, auth_token: str, *, to: str, from_: str, url: str, ring_seconds: int
    ) -> PlacedCall:
        """Calls create for a call queue's member: Twilio rings ``to`` for ``ring_seconds`` and,
        once answered, runs the TwiML at ``url``. No status callback: these legs are how a waiting
        caller is answered, not calls of their own in the log."""
        placed = await _call(
            self._account(account_sid, auth_token).calls.create_async(
                to=to, from_=from_, url=url, method="POST", timeout=ring_seconds
            )
        )
        return PlacedCall(str(placed.sid), str(placed.status))

    async def hang_up(self, account_sid: str, auth_token: str, call_sid: str) -> str:
        """Calls update: end a call we placed; its status afterwards. ``Status=canceled`` ends one
        still queued or ringing but, as Twilio documents, does not affect one in progress: an
        answered call is then ended with ``Status=completed``. One already over stays as it was."""
        call = self._account(account_sid, auth_token).calls(call_sid)
        updated = await _call(call.update_async(status="canceled"))
        if needs_completing(str(updated.status)):
            updated = await _call(call.update_async(status="completed"))
        return str(updated.status)


def _voice_webhooks(voice_url: str, status_callback: str) -> dict[str, str]:
    return {
        "voice_url": voice_url,
        "voice_method": "POST",
        "status_callback": status_callback,
        "status_callback_method": "POST",
    }


def _number(n: Any) -> dict[str, Any]:
    return {
        "sid": n.sid,
        "phone_number": n.phone_number,
        "friendly_name": n.friendly_name,
        "capabilities": n.capabilities,
        "voice_url": n.voice_url,
        "status_callback": n.status_callback,
    }


async def _call(request: Any) -> Any:
    """Await a library call; its failures as :class:`TwilioFailure`."""
    try:
        return await request
    except TwilioRestException as exc:
        raise TwilioFailure(str(exc.msg), status=int(exc.status), code=int_or_none(exc.code)) from exc
    except TwilioException as exc:
        raise TwilioFailure(f"Twilio request failed: {exc}") from exc
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise TwilioFailure(f"cannot reach Twilio: {type(exc).__name__}: {exc}") from exc
