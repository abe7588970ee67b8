"""``/api/v1/orgs/{org}/numbers``: the org's Twilio numbers — search, buy or adopt, list, release.

Buying (IncomingPhoneNumbers create) and adopting (update of a number the account owns) both
point the number's VoiceUrl at ``/webhooks/twilio/{org}/voice`` and its StatusCallback at
``.../voice-status`` (POST), so calls to it reach this gateway; the record is kept per org.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.api.telephony import twilio_account, twilio_error, webhook_url
from gateway.domain.errors import ApiError, BadRequest, NotFound
from gateway.domain.telephony import NUMBER_TYPES, available_record, e164_param, number_record
from gateway.http import JSONResponse, State, admin_org, int_param, json_object
from gateway.services import Services
from gateway.store.telephony import NumberInUse
from gateway.twilio_rest import TwilioFailure

NUMBERS_PAGE = 100
COUNTRY = re.compile(r"[A-Z]{2}")
# Twilio's Contains: digits, letters (vanity numbers) and '*' wildcards.
CONTAINS = re.compile(r"[0-9A-Za-z*]{1,16}")
NUMBER_SID = re.compile(r"PN[0-9a-fA-F]{32}")


async def list_numbers(request: Request[State]) -> Response:
    """``?limit=`` (1-1000, default 100) ``&cursor=`` (the last number of the previous page).

    Numbers being released are listed too (``"status": "releasing"``), so one whose release Twilio
    did not answer can be seen and finished (another ``DELETE``); the org's are ``"active"``."""
    svc, org = await admin_org(request)
    limit = int_param(request, "limit", NUMBERS_PAGE, 1, 1000)
    after = request.query_params.get("cursor")
    listed = await svc.numbers.list_with_status(org["id"])
    numbers = [n for n in listed if after is None or n["phone_number"] > after]
    page = numbers[:limit]
    return JSONResponse({"numbers": page, "cursor": page[-1]["phone_number"] if len(numbers) > limit else None})


async def available_numbers(request: Request[State]) -> Response:
    """``?country=JP&type=local|mobile|toll_free&contains=``: numbers Twilio offers to buy."""
    svc, org = await admin_org(request)
    params = request.query_params
    country = params.get("country") or org.get("country", "US")
    if not COUNTRY.fullmatch(country):
        raise BadRequest("'country' must be an ISO 3166 alpha-2 code like JP", code="invalid_parameter")
    kind = params.get("type", "local")
    if kind not in NUMBER_TYPES:
        raise BadRequest(f"'type' must be one of {', '.join(NUMBER_TYPES)}", code="invalid_parameter")
    contains = params.get("contains") or None
    if contains is not None and not CONTAINS.fullmatch(contains):
        raise BadRequest("'contains' must be 1-16 digits, letters or '*'", code="invalid_parameter")
    sid, token = twilio_account(svc, org)
    try:
        found = await svc.twilio.available(sid, token, country, kind, contains)
    except TwilioFailure as exc:
        raise twilio_error(exc) from None
    return JSONResponse({"numbers": [available_record(n) for n in found]})


async def add_number(request: Request[State]) -> Response:
    """``{"phone_number": "+81…"}`` buys the number; ``{"sid": "PN…"}`` adopts one the account owns."""
    svc, org = await admin_org(request)
    body = await json_object(request, 'an object with "phone_number" or "sid"')
    unknown = sorted(set(body) - {"phone_number", "sid"})
    if unknown:
        raise BadRequest(f"unknown field(s): {', '.join(unknown)}", code="unknown_field")
    if ("phone_number" in body) == ("sid" in body):
        raise BadRequest('give exactly one of "phone_number" (buy) or "sid" (adopt)', code="invalid_body")
    sid, token = twilio_account(svc, org)
    voice, status = webhook_url(svc, org["id"], "voice"), webhook_url(svc, org["id"], "voice-status")
    try:
        if "phone_number" in body:
            number = _e164_field(body["phone_number"])
            if await svc.numbers.get_number(org["id"], number) is not None:
                raise ApiError(f"{number} is already one of the org's numbers", code="number_exists", status=409)
            resource = await svc.twilio.buy(sid, token, number, voice, status)
        else:
            if not isinstance(body["sid"], str) or not NUMBER_SID.fullmatch(body["sid"]):
                raise BadRequest("'sid' must be PN followed by 32 hex digits", code="invalid_field")
            resource = await svc.twilio.adopt(sid, token, body["sid"], voice, status)
    except TwilioFailure as exc:
        raise twilio_error(exc) from None
    rec = number_record(resource, datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"))
    stored = await svc.numbers.get_number(org["id"], rec["phone_number"])
    if stored is not None:  # adopting a number again keeps when it first became ours
        rec["bought_at"] = stored["bought_at"]
    await svc.numbers.put_number(org["id"], rec)
    return JSONResponse({**rec, "status": "active"}, status_code=200 if stored else 201)


def _e164_field(value: Any) -> str:
    if not isinstance(value, str):
        raise BadRequest("'phone_number' must be an E.164 string like +815012345678", code="invalid_phone")
    return e164_param(value)


async def _number_of(request: Request[State]) -> tuple[Services, dict[str, Any], str]:
    """Access checked on the org (the number in the path is not a record id: ``+`` is E.164's)."""
    raw = str(request.path_params["number"])
    scoped: Request[State] = Request(
        {**request.scope, "path_params": {"org": request.path_params["org"]}}, request.receive
    )
    svc, org = await admin_org(scoped)
    return svc, org, e164_param(raw if raw.startswith("+") else "+" + raw)


async def get_number(request: Request[State]) -> Response:
    """The number with its ``status``: ``active``, or ``releasing`` while parked by a release."""
    svc, org, number = await _number_of(request)
    rec = await svc.numbers.get_with_status(org["id"], number)
    if rec is None:
        raise NotFound(f"{number} is not one of the org's numbers", code="number_not_found")
    return JSONResponse(rec)


async def release_number(request: Request[State]) -> Response:
    """Give the number back to Twilio (409 ``number_in_use`` while a live call flow answers on it).

    The order, so the org's record never claims a number Twilio no longer routes to us and a
    failed release never loses one: (1) one Redis step checks that no published, enabled flow
    answers on the number and takes it out of the org's numbers (parked, not deleted), so from
    then on a publish or enable on it is refused (409 ``number_released``), with no window between
    the check and the removal; (2) Twilio releases it; calls it still routes here meanwhile meet
    no live flow and are rejected; (3) Twilio said yes (or "no such number"): the parked record is
    forgotten; Twilio said no: the number is put back and the error returned. When the outcome is
    unknown (no answer from Twilio, the process dies, the request is cancelled mid-call) the number
    stays parked (Twilio may have released it): the next ``DELETE`` of it finishes the release.
    """
    svc, org, number = await _number_of(request)
    sid, token = twilio_account(svc, org)
    try:
        rec = await svc.numbers.begin_release(org["id"], number)
    except NumberInUse:
        raise ApiError(
            f"a published, enabled call flow answers on {number}: switch it off first", code="number_in_use", status=409
        ) from None
    if rec is None:
        raise NotFound(f"{number} is not one of the org's numbers", code="number_not_found")
    try:
        await svc.twilio.release(sid, token, rec["sid"])
    except TwilioFailure as exc:
        if exc.status is None:  # no answer: it may be released; stays parked for a retried DELETE
            raise ApiError(f"{exc}; send the DELETE again to finish", code="twilio_unavailable", status=502) from None
        if exc.status != 404:  # Twilio refused: still ours (404: already gone at Twilio, forget it too)
            await svc.numbers.restore(org["id"], number)
            raise twilio_error(exc) from None
    await svc.numbers.release_done(org["id"], number)
    return Response(status_code=204)


routes = [
    Route("/api/v1/orgs/{org}/numbers", list_numbers, methods=["GET"]),
    Route("/api/v1/orgs/{org}/numbers", add_number, methods=["POST"]),
    Route("/api/v1/orgs/{org}/numbers/available", available_numbers, methods=["GET"]),
    Route("/api/v1/orgs/{org}/numbers/{number}", get_number, methods=["GET"]),
    Route("/api/v1/orgs/{org}/numbers/{number}", release_number, methods=["DELETE"]),
]
