"""The HTTP edge of a real gateway process: security headers, /metrics protection, the access log
and refused webhooks in the log."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx

from gateway.devtools.net import free_port
from tests.support.api import Gateway, OrgCtx, post_twilio, provision_org, sms_params, survey
from tests.support.processes import Processes
from tests.support.redis import RedisServer
from tests.support.timing import FACTOR, wait_for

METRICS_TOKEN = "metrics-token-0123456789abcdef"


def log_text(procs: Processes) -> str:
    return "".join(p.read_text(errors="replace") for p in Path(procs.logdir).glob("serve-*.log"))


async def test_page_and_api_carry_security_headers(client: httpx.AsyncClient) -> None:
    """The page gets a strict CSP and DENY framing; every response gets nosniff and no-referrer."""
    for path in ("/", "/web/app.js", "/web/style.css"):
        r = await client.get(path)
        assert r.status_code == 200, path
        csp = r.headers["content-security-policy"]
        directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
        assert directives["default-src"] == "'none'"
        assert directives["script-src"] == "'self'"
        assert directives["style-src"] == "'self'"
        assert directives["connect-src"] == "'self'"  # CSP 3: covers ws:/wss: of the same host
        assert directives["frame-ancestors"] == "'none'"
        assert "unsafe" not in csp
        assert r.headers["x-frame-options"] == "DENY"
    for r in (
        await client.get("/healthz"),
        await client.get("/api/v1/me"),  # 401
        await client.get("/nope"),  # 404
        await client.post("/webhooks/events/nobody", content=b"{}"),
    ):
        assert r.headers["x-content-type-options"] == "nosniff", r.url
        assert r.headers["referrer-policy"] == "no-referrer", r.url
        assert r.headers["content-security-policy"].startswith("default-src 'none'"), r.url


async def test_metrics_token_is_required_when_configured(procs: Processes, redis_server: RedisServer) -> None:
    """With [gateway] metrics_token, /metrics answers 401 without the exact bearer token."""
    gw, _ = procs.serve(redis_server.url, SIGNALGATE_GATEWAY_METRICS_TOKEN=METRICS_TOKEN)
    async with httpx.AsyncClient(base_url=gw.base_url, timeout=5 * FACTOR) as c:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Bearer {METRICS_TOKEN}x"}):
            r = await c.get("/metrics", headers=headers)
            assert r.status_code == 401, headers
            assert r.json()["error"] == "unauthorized"
        r = await c.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        assert r.status_code == 200
        assert "signalgate_events_in" in r.text


async def test_metrics_port_moves_metrics_to_its_own_listener(procs: Processes, redis_server: RedisServer) -> None:
    """With [gateway] metrics_port, the main listener has no /metrics; the metrics listener serves
    it (with the token too, when both are set) and nothing else."""
    mport = free_port()
    gw, _ = procs.serve(
        redis_server.url,
        SIGNALGATE_GATEWAY_METRICS_PORT=str(mport),
        SIGNALGATE_GATEWAY_METRICS_TOKEN=METRICS_TOKEN,
    )
    auth = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    async with httpx.AsyncClient(timeout=5 * FACTOR) as c:
        assert (await c.get(gw.base_url + "/metrics", headers=auth)).status_code == 404
        base = f"http://127.0.0.1:{mport}"
        assert (await c.get(base + "/metrics")).status_code == 401
        r = await c.get(base + "/metrics", headers=auth)
        assert r.status_code == 200
        assert "signalgate_ws_connections" in r.text
        assert (await c.get(base + "/healthz", headers=auth)).status_code == 404
        assert (await c.get(base + "/api/v1/orgs", headers=auth)).status_code == 404


async def test_access_log_is_one_line_per_request_without_secrets(procs: Processes, redis_server: RedisServer) -> None:
    """[gateway] access_log = true: method, path, status and duration per request; no query string,
    no tracking token."""
    gw, _ = procs.serve(redis_server.url, SIGNALGATE_GATEWAY_ACCESS_LOG="true", SIGNALGATE_GATEWAY_LOG_LEVEL="info")
    token = "tok" + uuid.uuid4().hex
    async with httpx.AsyncClient(base_url=gw.base_url, timeout=5 * FACTOR) as c:
        await c.get("/healthz", params={"token": token})
        await c.get(f"/t/o/{token}")
        await c.get("/nope")

    def logged() -> bool:
        text = log_text(procs)
        return "GET /nope 404" in text

    await wait_for(logged)
    text = log_text(procs)
    assert token not in text
    lines = [line for line in text.splitlines() if "signalgate.access" in line]
    assert any(" GET /healthz 200 " in line for line in lines), lines
    assert any(" GET /t/o/… 200 " in line for line in lines), lines
    assert all(line.endswith("ms") for line in lines)


async def _refusing_gateway(procs: Processes, redis_server: RedisServer) -> tuple[Gateway, OrgCtx]:
    gw, _ = procs.serve(redis_server.url, SIGNALGATE_GATEWAY_LOG_LEVEL="info")
    async with httpx.AsyncClient(base_url=gw.base_url, timeout=10 * FACTOR) as c:
        org = await provision_org(c, gw, "refuse-" + uuid.uuid4().hex[:10])
    return gw, org


async def test_refused_webhooks_are_logged_with_org_path_and_reason(
    procs: Processes, redis_server: RedisServer
) -> None:
    """Refused Twilio, signed-event and tracking requests each leave one info line naming the org,
    path and reason — never the signature; the access log stays off by default."""
    gw, org = await _refusing_gateway(procs, redis_server)
    async with httpx.AsyncClient(base_url=gw.base_url, timeout=5 * FACTOR) as c:
        bad_sig = "AAAAsignature" + uuid.uuid4().hex
        r = await post_twilio(c, org, "sms", sms_params("hi"), signature=bad_sig)
        assert r.status_code == 403
        r = await post_twilio(c, org, "sms", sms_params("hi"), sign_url="https://elsewhere.example/x")
        assert r.status_code == 403
        r = await c.post(f"/webhooks/events/{org.id}", json=survey({"id": "c-yamada"}), headers={"webhook-id": "m1"})
        assert r.status_code == 403
        assert (await c.get("/t/c/forged.token")).status_code == 404

    def logged() -> bool:
        return log_text(procs).count("webhook refused:") >= 4

    await wait_for(logged)
    lines = [line for line in log_text(procs).splitlines() if "webhook refused:" in line]
    assert all(" INFO signalgate.ingest: " in line for line in lines), lines
    twilio = [line for line in lines if "source=twilio.sms " in line]
    assert len(twilio) == 2, lines
    for line in twilio:
        assert f"org='{org.id}'" in line and f"path=/webhooks/twilio/{org.id}/sms " in line
        assert "status=403 reason=bad_signature" in line
        assert f"checked against {gw.base_url}/webhooks/twilio/{org.id}/sms" in line
    assert any("source=webhook " in line and f"path=/webhooks/events/{org.id} " in line for line in lines), lines
    assert any("source=track.click " in line and "path=/t/c/… status=404" in line for line in lines), lines
    text = log_text(procs)
    assert bad_sig not in text and org.auth_token not in text and "forged.token" not in text
    assert "signalgate.access" not in text
