"""The raw ingest endpoints against a real gateway: every signature twilio's RequestValidator makes
is accepted (query strings, the other port form, non-ASCII), form limits and errors as before,
headers as before, and an org change is seen at once by the cached org."""

from __future__ import annotations

import asyncio
from urllib.parse import urlencode, urlparse

import httpx
import redis.asyncio as aioredis
from twilio.request_validator import RequestValidator, add_port, remove_port

from gateway.domain.tracking import TrackingClaim, sign
from gateway.store.scripts import load_scripts
from gateway.store.tenancy import Tenancy
from tests.support.api import OrgCtx, call_params, post_twilio, sms_params
from tests.support.redis import RedisServer
from tests.support.streams import org_entries


async def _entries(redis_url: str, org: str) -> list[dict[str, str]]:
    r = aioredis.from_url(redis_url, decode_responses=True)
    try:
        return [fields for _id, fields in await org_entries(r, org)]
    finally:
        await r.aclose()


async def _post_signed(
    client: httpx.AsyncClient, org: OrgCtx, path_and_query: str, params: dict[str, str], signed_url: str
) -> httpx.Response:
    signature = RequestValidator(org.auth_token).compute_signature(signed_url, params)
    return await client.post(path_and_query, data=params, headers={"X-Twilio-Signature": signature})


async def test_status_callback_with_query_string_is_accepted_and_linked(
    client: httpx.AsyncClient, org: OrgCtx, redis_server: RedisServer
) -> None:
    """Twilio signs the query string too: ?n=<notification> is verified and links the status."""
    params = {"MessageSid": "SM" + "1" * 32, "MessageStatus": "delivered", "To": "+819012345678"}
    target = f"/webhooks/twilio/{org.id}/sms-status?n=notif-0001"
    r = await _post_signed(client, org, target, params, org.gateway.base_url + target)
    assert r.status_code == 204, r.text
    # The same signature without the query string is refused: the query is part of what is signed.
    unsigned_query = await _post_signed(client, org, target, params, org.gateway.base_url + target.split("?")[0])
    assert unsigned_query.status_code == 403
    entries = await _entries(redis_server.url, org.id)
    assert len(entries) == 1
    assert '"_notification":"notif-0001"' in entries[0]["data"]


async def test_signature_over_the_other_port_form_is_accepted(client: httpx.AsyncClient, org: OrgCtx) -> None:
    """public_url has a port; a signature over the URL without it passes, as with the validator."""
    url = org.gateway.base_url + f"/webhooks/twilio/{org.id}/voice-status"
    parsed = urlparse(url)
    assert parsed.port  # the test gateway's public_url names its port
    other = remove_port(parsed)
    assert other != url and add_port(parsed) == url
    for signed in (url, other):
        params = call_params("no-answer")
        r = await _post_signed(client, org, f"/webhooks/twilio/{org.id}/voice-status", params, signed)
        assert r.status_code == 204, (signed, r.text)


async def test_non_ascii_and_odd_parameters_verify(
    client: httpx.AsyncClient, org: OrgCtx, redis_server: RedisServer
) -> None:
    """Japanese text, emoji, '+', '&', '=' and '%' in values, an empty value: signed and stored as sent."""
    params = sms_params("見積もり 😀 a+b & c=d 100% ")
    params["Empty"] = ""
    params["ä Name"] = "ü"
    r = await post_twilio(client, org, "sms", params)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/xml"
    assert r.text == '<?xml version="1.0" encoding="UTF-8"?><Response/>'
    entries = await _entries(redis_server.url, org.id)
    assert "見積もり 😀 a+b & c=d 100% " in entries[0]["data"]


async def test_too_many_fields_is_400_as_before(client: httpx.AsyncClient, org: OrgCtx) -> None:
    """Over 200 form fields: starlette's 400 and message, before any signature check."""
    params = {f"f{i}": "1" for i in range(201)}
    r = await client.post(
        f"/webhooks/twilio/{org.id}/sms",
        content=urlencode(params),
        headers={"content-type": "application/x-www-form-urlencoded", "X-Twilio-Signature": "x"},
    )
    assert r.status_code == 400
    assert r.json() == {"error": "http_error", "detail": "Too many fields. Maximum number of fields is 200."}


async def test_wrong_method_and_bad_org_answer_as_before(client: httpx.AsyncClient, org: OrgCtx) -> None:
    r = await client.get(f"/webhooks/twilio/{org.id}/sms")
    assert r.status_code == 405
    assert r.headers["allow"] == "POST"
    assert r.json()["error"] == "method_not_allowed"
    r = await client.post("/webhooks/twilio/NOT_AN_ORG/sms", data={"a": "1"})
    assert r.status_code == 404
    assert r.json() == {"error": "org_not_found", "detail": "unknown org"}
    assert r.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"


async def test_pixel_headers_are_unchanged(client: httpx.AsyncClient, org: OrgCtx) -> None:
    """The raw pixel sends the GIF with the same headers starlette's Response did, plus security headers."""
    token = sign(org.gateway.secret_key, TrackingClaim(org.id, "n-pixel", "c-yamada"))
    for path in (f"/t/o/{token}", "/t/o/forged.token"):
        r = await client.get(path)
        assert r.status_code == 200
        assert r.headers["content-type"] == "image/gif"
        assert r.headers["content-length"] == str(len(r.content)) == "43"
        assert r.headers["cache-control"] == "no-store, no-cache, must-revalidate, max-age=0"
        assert r.headers["pragma"] == "no-cache"
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"
    r = await client.post(f"/t/o/{token}")
    assert r.status_code == 405


async def test_org_changes_are_seen_at_once(client: httpx.AsyncClient, org: OrgCtx) -> None:
    """A new Twilio auth token works on the next callback and the old one stops; a deleted org is 404."""
    params = call_params("no-answer")
    assert (await post_twilio(client, org, "voice-status", params)).status_code == 204  # org now cached
    r = await client.put(f"/api/v1/orgs/{org.id}", json={"twilio": {"auth_token": "f" * 32}}, headers=org.gateway.admin)
    assert r.status_code == 200, r.text
    old = await post_twilio(client, org, "voice-status", call_params("busy"))
    assert old.status_code == 403
    new = await post_twilio(client, org, "voice-status", call_params("busy"), auth_token="f" * 32)
    assert new.status_code == 204, new.text
    assert (await client.delete(f"/api/v1/orgs/{org.id}", headers=org.gateway.admin)).status_code == 204
    gone = await post_twilio(client, org, "voice-status", call_params("failed"), auth_token="f" * 32)
    assert gone.status_code == 404
    assert gone.json()["error"] == "org_not_found"


async def test_concurrent_misses_share_one_org_read(fresh_redis: RedisServer) -> None:
    """100 callbacks arriving at a cache expiry read the org from Redis once, not 100 times."""
    redis = aioredis.from_url(fresh_redis.url, decode_responses=True)
    tenancy = Tenancy(redis, load_scripts(redis))
    try:
        await tenancy.put_org({"id": "cache-org", "name": "x"})
        await redis.config_resetstat()
        records = await asyncio.gather(*(tenancy.cached_org("cache-org") for _ in range(100)))
        assert all(rec == {"id": "cache-org", "name": "x"} for rec in records)
        stats = await redis.info("commandstats")
        assert stats["cmdstat_get"]["calls"] == 1
        # PUT drops it: the next read sees the new record.
        await tenancy.put_org({"id": "cache-org", "name": "y"})
        assert (await tenancy.cached_org("cache-org") or {})["name"] == "y"
        await tenancy.delete_org("cache-org")
        assert await tenancy.cached_org("cache-org") is None
    finally:
        await redis.aclose()
