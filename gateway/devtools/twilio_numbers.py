"""The local Twilio API's telephony resources: AvailablePhoneNumbers, IncomingPhoneNumbers, Calls.

Same wire format as the Messages resource in :mod:`gateway.devtools.twilio_api` (whose request
admission — recording, Basic auth, injected faults — every route here goes through first), with
the fields of Twilio's published OpenAPI description. See that module's docstring for what the
fake does not do.
"""

from __future__ import annotations

import re
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.devtools.twilio_wire import API_VERSION, rfc2822, twilio_error

Admit = Callable[[Request, Literal["create", "read"]], Awaitable[tuple[str | None, dict[str, str], Response | None]]]
# Awaited after a request was applied, before it is answered (a held answer): wait this many
# seconds, or until the fake stops.
Hold = Callable[[float], Awaitable[None]]
KINDS = ("Local", "Mobile", "TollFree")
_KEYPAD = {
    c: str(d)
    for d, letters in enumerate(("", "", "abc", "def", "ghi", "jkl", "mno", "pqrs", "tuv", "wxyz"))
    for c in letters
}
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
# IncomingPhoneNumber fields a POST may change (Twilio's parameter names → resource fields).
UPDATABLE = {
    "FriendlyName": "friendly_name",
    "VoiceUrl": "voice_url",
    "VoiceMethod": "voice_method",
    "VoiceFallbackUrl": "voice_fallback_url",
    "VoiceFallbackMethod": "voice_fallback_method",
    "StatusCallback": "status_callback",
    "StatusCallbackMethod": "status_callback_method",
    "SmsUrl": "sms_url",
    "SmsMethod": "sms_method",
}


# Twilio's call_enum_status and call_enum_update_status; which live statuses each update ends.
CALL_STATUSES = ("queued", "ringing", "in-progress", "completed", "busy", "failed", "no-answer", "canceled")
UPDATE_STATUSES = ("canceled", "completed")
ENDS = {"canceled": ("queued", "ringing"), "completed": ("queued", "ringing", "in-progress")}


@dataclass
class _Offer:
    phone_number: str
    country: str
    kind: str
    locality: str | None


def _sid(prefix: str) -> str:
    return prefix + uuid.uuid4().hex


def _contains(pattern: str, phone_number: str) -> bool:
    """Twilio's ``Contains``: digits, letters (keypad digits) and ``*`` (any one digit)."""
    digits = "".join(_KEYPAD.get(c.lower(), c) for c in pattern)
    regex = "".join(r"\d" if c == "*" else re.escape(c) for c in digits)
    return re.search(regex, phone_number) is not None


class Telephony:
    """Numbers on offer, numbers owned (by account) and calls created."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.clock = clock
        self._offers: dict[str, _Offer] = {}
        self._numbers: dict[str, tuple[str, dict[str, Any]]] = {}  # sid -> (account, resource)
        self._calls: dict[str, tuple[str, dict[str, Any]]] = {}
        # Seconds every call update (POST Calls/{sid}) holds its answer, after applying the update.
        self.call_update_delay = 0.0
        # Seconds the next number or call writes hold their answers, one each (hold_next_telephony).
        self.held_answers: deque[float] = deque()

    # -- test controls --------------------------------------------------------------------
    def offer(self, phone_number: str, country: str, kind: str, locality: str | None) -> None:
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}")
        self._offers[phone_number] = _Offer(phone_number, country, kind, locality)

    def own(self, account: str, phone_number: str) -> str:
        resource = self._new_number(account, phone_number, {}, "local")
        return str(resource["sid"])

    def number_resources(self) -> list[dict[str, Any]]:
        return [resource for _, resource in self._numbers.values()]

    def call_resources(self) -> list[dict[str, Any]]:
        return [resource for _, resource in self._calls.values()]

    # -- routes ---------------------------------------------------------------------------
    def routes(self, admit: Admit, hold: Hold) -> list[Route]:
        base = f"/{API_VERSION}/Accounts/{{account_sid}}"

        def endpoint(handler: Callable[[Request, str, dict[str, str]], Response], kind: str) -> Any:
            async def run(request: Request) -> Response:
                write = request.method == "POST" and kind == "create"
                account, form, refusal = await admit(request, "create" if write else "read")
                if refusal is not None or account is None:
                    return refusal or twilio_error(401, 20003, "Authenticate")
                response = handler(request, account, form)
                if request.method != "GET" and self.held_answers:
                    await hold(self.held_answers.popleft())
                return response

            return run

        fetch_or_update = endpoint(self._call, "create")

        async def call(request: Request) -> Response:
            response: Response = await fetch_or_update(request)
            if request.method == "POST" and self.call_update_delay > 0:
                await hold(self.call_update_delay)  # a slow Twilio: the update is done, the answer late
            return response

        numbers = base + "/IncomingPhoneNumbers"
        return [
            Route(base + "/AvailablePhoneNumbers/{country}/{kind}.json", endpoint(self._available, "read")),
            Route(numbers + ".json", endpoint(self._numbers_list_or_create, "create"), methods=["GET", "POST"]),
            Route(numbers + "/{sid}.json", endpoint(self._number, "create"), methods=["GET", "POST", "DELETE"]),
            Route(base + "/Calls.json", endpoint(self._calls_create, "create"), methods=["POST"]),
            Route(base + "/Calls/{sid}.json", call, methods=["GET", "POST"]),
        ]

    # -- AvailablePhoneNumbers ------------------------------------------------------------
    def _available(self, request: Request, account: str, form: dict[str, str]) -> Response:
        country, kind = request.path_params["country"], request.path_params["kind"]
        if kind not in KINDS:
            return _not_found(request)
        contains = request.query_params.get("Contains")
        found = [
            self._available_resource(o)
            for o in self._offers.values()
            if o.country == country and o.kind == kind and (not contains or _contains(contains, o.phone_number))
        ]
        page_size = int(request.query_params.get("PageSize", "50") or 50)
        return JSONResponse({"available_phone_numbers": found[:page_size], "uri": request.url.path})

    @staticmethod
    def _available_resource(offer: _Offer) -> dict[str, Any]:
        return {
            "address_requirements": "none",
            "beta": False,
            "capabilities": {"mms": False, "sms": offer.kind == "Mobile", "voice": True},
            "friendly_name": offer.phone_number,
            "iso_country": offer.country,
            "lata": None,
            "latitude": None,
            "locality": offer.locality,
            "longitude": None,
            "phone_number": offer.phone_number,
            "postal_code": None,
            "rate_center": None,
            "region": None,
        }

    # -- IncomingPhoneNumbers -------------------------------------------------------------
    def _numbers_list_or_create(self, request: Request, account: str, form: dict[str, str]) -> Response:
        if request.method == "GET":
            mine = [r for a, r in self._numbers.values() if a == account]
            wanted = request.query_params.get("PhoneNumber")
            mine = [r for r in mine if wanted is None or r["phone_number"] == wanted]
            path = request.url.path
            first = path + "?Page=0&PageSize=50"
            return JSONResponse({
                "incoming_phone_numbers": mine, "end": max(len(mine) - 1, 0), "first_page_uri": first,
                "next_page_uri": None, "page": 0, "page_size": 50, "previous_page_uri": None, "start": 0, "uri": path,
            })  # fmt: skip
        number = form.get("PhoneNumber", "")
        if not number and not form.get("AreaCode"):
            return twilio_error(400, 21421, "PhoneNumber or AreaCode is required.")
        offer = self._offers.pop(number, None)
        if offer is None or any(r["phone_number"] == number for _, r in self._numbers.values()):
            return twilio_error(400, 21422, f"PhoneNumber {number} is not available.")
        kind = {"Local": "local", "Mobile": "mobile", "TollFree": "toll-free"}[offer.kind]
        return JSONResponse(self._new_number(account, number, form, kind), status_code=201)

    def _new_number(self, account: str, number: str, form: dict[str, str], kind: str) -> dict[str, Any]:
        now = rfc2822(self.clock())
        sid = _sid("PN")
        resource: dict[str, Any] = {
            "account_sid": account, "address_requirements": "none", "address_sid": None, "api_version": API_VERSION,
            "beta": False, "capabilities": {"voice": True, "sms": kind == "mobile", "mms": False, "fax": False},
            "date_created": now, "date_updated": now, "emergency_status": "Inactive", "emergency_address_sid": None,
            "emergency_address_status": "unregistered", "friendly_name": number, "identity_sid": None,
            "origin": "twilio", "phone_number": number, "sid": sid, "sms_application_sid": None,
            "sms_fallback_method": "POST", "sms_fallback_url": None, "sms_method": "POST", "sms_url": None,
            "status_callback": None, "status_callback_method": "POST", "trunk_sid": None,
            "uri": f"/{API_VERSION}/Accounts/{account}/IncomingPhoneNumbers/{sid}.json",
            "voice_application_sid": None, "voice_caller_id_lookup": False, "voice_fallback_method": "POST",
            "voice_fallback_url": None, "voice_method": "POST", "voice_url": None, "bundle_sid": None,
            "voice_receive_mode": "voice", "status": "in-use", "type": kind,
        }  # fmt: skip
        self._apply(resource, form)
        self._numbers[sid] = (account, resource)
        return resource

    def _apply(self, resource: dict[str, Any], form: dict[str, str]) -> None:
        for param, field in UPDATABLE.items():
            if param in form:
                resource[field] = form[param] or None
        resource["date_updated"] = rfc2822(self.clock())

    def _number(self, request: Request, account: str, form: dict[str, str]) -> Response:
        found = self._numbers.get(request.path_params["sid"])
        if found is None or found[0] != account:
            return _not_found(request)
        resource = found[1]
        if request.method == "DELETE":
            del self._numbers[resource["sid"]]
            return Response(status_code=204)
        if request.method == "POST":
            self._apply(resource, form)
        return JSONResponse(resource)

    # -- Calls ----------------------------------------------------------------------------
    def _calls_create(self, request: Request, account: str, form: dict[str, str]) -> Response:
        to, sender = form.get("To", ""), form.get("From", "")
        if not to:
            return twilio_error(400, 21201, "No 'To' number is specified")
        if not sender:
            return twilio_error(400, 21213, "No 'From' number is specified")
        if not E164.fullmatch(to):
            return twilio_error(400, 21211, f"Invalid 'To' Phone Number: {to}")
        if not (form.get("Url") or form.get("Twiml") or form.get("ApplicationSid")):
            return twilio_error(400, 21205, "Url parameter is required.")
        if not any(a == account and r["phone_number"] == sender for a, r in self._numbers.values()):
            return twilio_error(
                400, 21210, f"The source phone number provided, {sender}, is not yet verified for your account."
            )
        now = rfc2822(self.clock().astimezone(UTC))
        sid = _sid("CA")
        uri = f"/{API_VERSION}/Accounts/{account}/Calls/{sid}"
        resource: dict[str, Any] = {
            "account_sid": account, "answered_by": None, "api_version": API_VERSION, "caller_name": None,
            "date_created": now, "date_updated": now, "direction": "outbound-api", "duration": None,
            "end_time": None, "forwarded_from": None, "from": sender, "from_formatted": sender, "group_sid": None,
            "parent_call_sid": None, "phone_number_sid": None, "price": None, "price_unit": "USD", "sid": sid,
            "start_time": None, "status": "queued", "queue_time": "0", "trunk_sid": None, "to": to,
            "to_formatted": to, "uri": uri + ".json",
            "subresource_uris": {k: f"{uri}/{v}.json" for k, v in (
                ("notifications", "Notifications"), ("recordings", "Recordings"), ("payments", "Payments"),
                ("events", "Events"), ("siprec", "Siprec"), ("streams", "Streams"),
                ("transcriptions", "Transcriptions"))},
        }  # fmt: skip
        self._calls[sid] = (account, resource)
        return JSONResponse(resource, status_code=201)

    def _call(self, request: Request, account: str, form: dict[str, str]) -> Response:
        """Fetch (GET) or update (POST) a call. An update's ``Status`` is Twilio's
        ``call_enum_update_status``: ``canceled`` ends a queued or ringing call and leaves one in
        progress as it is; ``completed`` ends a live call (queued, ringing or in progress); a call
        already over stays as it was. ``Url``/``Twiml`` and the other update parameters are only
        recorded (nothing runs TwiML here)."""
        found = self._calls.get(request.path_params["sid"])
        if found is None or found[0] != account:
            return _not_found(request)
        resource = found[1]
        if request.method == "POST" and "Status" in form:
            status = form["Status"]
            if status not in UPDATE_STATUSES:
                return twilio_error(400, 20001, f"Status must be one of {', '.join(UPDATE_STATUSES)}")
            if resource["status"] in ENDS[status]:
                now = self.clock().astimezone(UTC)
                if resource["status"] == "in-progress":  # answered: it ended, and lasted
                    started = parsedate_to_datetime(resource["start_time"])
                    resource.update(end_time=rfc2822(now), duration=str(max(int((now - started).total_seconds()), 0)))
                resource.update(status=status, date_updated=rfc2822(now))
        return JSONResponse(resource)

    def set_call_status(self, sid: str, status: str) -> None:
        """Move a created call to ``status`` (e.g. ``in-progress``: the member answered), as
        Twilio would while it rings and connects."""
        if status not in CALL_STATUSES:
            raise ValueError(f"status must be one of {CALL_STATUSES}")
        resource = self._calls[sid][1]
        resource.update(status=status, date_updated=rfc2822(self.clock().astimezone(UTC)))
        if status == "in-progress" and resource["start_time"] is None:
            resource["start_time"] = resource["date_updated"]


def _not_found(request: Request) -> JSONResponse:
    return twilio_error(404, 20404, f"The requested resource {request.url.path} was not found")
