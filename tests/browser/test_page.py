"""The page at / in real headless Chromium: sign in, live signals, grouping, read, resume."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page, WebSocketRoute, async_playwright

from tests.support.api import Gateway, OrgCtx, post_event, survey
from tests.support.timing import FACTOR

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-dev-shm-usage",
]
WAIT_MS = int(10_000 * FACTOR)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not os.access(CHROMIUM, os.X_OK):
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed (apt-get install chromium)")
        pytest.skip("chromium is not installed")
    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        await b.close()


async def _signed_in_page(
    browser: Browser, gateway: Gateway, org: OrgCtx, lang: str = "ja", ws_gate: Any = None
) -> Page:
    context = await browser.new_context(locale="ja-JP" if lang == "ja" else "en-US")
    # Test-side instrumentation: remember every WebSocket the page opens, to drop it later.
    await context.add_init_script(
        "window.__sockets = []; const W = window.WebSocket;"
        "window.WebSocket = class extends W { constructor(...a) { super(...a); window.__sockets.push(this); } };"
    )
    # Every Content-Security-Policy violation the page causes (blocked scripts, styles, sockets).
    await context.add_init_script(
        "window.__csp = []; document.addEventListener('securitypolicyviolation',"
        " e => window.__csp.push(`${e.effectiveDirective} ${e.blockedURI}`));"
    )
    page = await context.new_page()
    if ws_gate is not None:
        await page.route_web_socket("**/ws", ws_gate)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if "Content Security Policy" in msg.text else None)
    await page.goto(f"{gateway.base_url}/#token={org.tokens['u1']}")
    await page.wait_for_selector("#status[data-state='live']", timeout=WAIT_MS)
    page.set_default_timeout(WAIT_MS)
    assert errors == []
    assert await csp_violations(page) == []
    return page


async def csp_violations(page: Page) -> list[str]:
    found: list[str] = await page.evaluate("() => window.__csp")
    return found


async def test_live_signals_appear_grouped_and_can_be_read(
    browser: Browser, client: httpx.AsyncClient, gateway: Gateway, org: OrgCtx, tmp_path: Path
) -> None:
    """A signal posted to the gateway appears live with its contact; a repeat updates the count in place."""
    page = await _signed_in_page(browser, gateway, org)
    assert "#token" not in page.url
    await post_event(client, org, survey({"id": "c-yamada"}, "満足度アンケート"))
    item = page.locator("li.signal[data-type='survey.answered']")
    await item.wait_for()
    assert "山田 太郎" in await item.inner_text()
    assert await page.locator("#bell-count").inner_text() == "1"
    await post_event(client, org, survey({"id": "c-yamada"}, "満足度アンケート"))
    await page.wait_for_selector("li.signal[data-type='survey.answered'] .count:text('2')")
    assert await page.locator("li.signal").count() == 1
    await page.screenshot(path=str(tmp_path / "feed.png"))
    await page.locator("#mark-all-read").click()
    await page.locator("#bell-count").wait_for(state="hidden")  # no string eval: the CSP forbids it


async def test_page_resumes_after_reconnect_without_loss_or_repeat(
    browser: Browser, client: httpx.AsyncClient, gateway: Gateway, org: OrgCtx
) -> None:
    """While the socket is down, new signals are made; the page reconnects and shows each once."""
    offline = False
    refused = 0

    async def gate(ws: WebSocketRoute) -> None:
        nonlocal refused
        if offline:
            refused += 1
            await ws.close(code=1013)
        else:
            ws.connect_to_server()

    page = await _signed_in_page(browser, gateway, org, ws_gate=gate)
    await post_event(client, org, {"type": "desk.ticket", "contact": {"id": "c-yamada"}, "title": "first"})
    await page.locator("li.signal[data-type='desk.ticket']").wait_for()
    # Refuse reconnects while "offline", drop the live socket, make signals while the page is away.
    offline = True
    await page.evaluate("() => window.__sockets.at(-1).close()")
    await page.wait_for_selector("#status:not([data-state='live'])")
    for kind in ("desk.escalated", "chat.unattended", "event.checked_in"):
        await post_event(client, org, {"type": kind, "contact": {"id": "c-suzuki"}, "title": kind})
    for _ in range(int(300 * FACTOR)):
        if refused >= 1:
            break
        await page.wait_for_timeout(100)
    assert refused >= 1, await page.evaluate(
        "() => [window.__sockets.length, document.querySelector('#status').dataset.state]"
    )
    offline = False
    await page.wait_for_selector("li.signal[data-type='event.checked_in']", timeout=WAIT_MS * 3)
    await page.wait_for_selector("#status[data-state='live']")
    types = await page.locator("li.signal").evaluate_all("els => els.map(e => e.dataset.type)")
    assert sorted(types) == sorted(["desk.ticket", "desk.escalated", "chat.unattended", "event.checked_in"])


async def test_language_toggle_and_settings(
    browser: Browser, gateway: Gateway, org: OrgCtx, client: httpx.AsyncClient
) -> None:
    """The page speaks Japanese for ja browsers, switches to English, and settings switch a type off."""
    page = await _signed_in_page(browser, gateway, org, lang="ja")
    assert await page.locator("#lang-toggle").get_attribute("data-lang") == "ja"
    await page.locator("#lang-toggle").click()
    await page.wait_for_selector("#lang-toggle[data-lang='en']")
    await page.locator("#settings-button").click()
    switch = page.locator("input.switch[data-type='survey.answered']")
    await switch.wait_for()
    await switch.click()
    r = await client.get("/api/v1/me/settings", headers=org.user_headers())
    for _ in range(50):
        if r.json()["types"]["survey.answered"] is False:
            break
        await page.wait_for_timeout(100)
        r = await client.get("/api/v1/me/settings", headers=org.user_headers())
    assert r.json()["types"]["survey.answered"] is False


async def test_page_works_under_its_content_security_policy(
    browser: Browser, client: httpx.AsyncClient, gateway: Gateway, org: OrgCtx
) -> None:
    """The page is served with a CSP that Chromium enforces (an injected inline handler is blocked),
    and signing in, the live socket, rendering a signal and the settings dialog violate none of it."""
    r = await client.get("/")
    assert "script-src 'self'" in r.headers["content-security-policy"]
    page = await _signed_in_page(browser, gateway, org)
    await post_event(client, org, survey({"id": "c-yamada"}, "CSP"))
    await page.locator("li.signal[data-type='survey.answered'] .type-icon svg").wait_for()
    await page.locator("#settings-button").click()
    await page.locator("input.switch[data-type='survey.answered']").wait_for()
    assert await csp_violations(page) == []
    await page.evaluate(
        "() => { const d = document.createElement('div');"
        ' d.innerHTML = \'<img src="data:,x" onerror="window.__ran = 1">\'; document.body.append(d); }'
    )
    await page.wait_for_function("() => window.__csp.length > 0")
    assert await page.evaluate("() => window.__ran") is None
    assert any(v.startswith("script-src") for v in await csp_violations(page))


async def test_web_serves_the_page_but_not_its_unit_tests(client: httpx.AsyncClient) -> None:
    """/web has the page's modules; web/tests/ and web/package.json (node's, for `node --test`) 404."""
    for path in ("/web/ws.js", "/web/i18n.js", "/web/style.css"):
        assert (await client.get(path)).status_code == 200, path
    for path in (
        "/web/tests/ws.test.js",
        "/web/tests/fakes.js",
        "/web/tests/",
        "/web/tests",
        "/web/package.json",
        "/web/./tests/ids.test.js",
        "/web/x/../tests/ids.test.js",
    ):
        r = await client.get(path)
        assert r.status_code == 404, (path, r.status_code)


def test_chromium_present_in_ci() -> None:
    """CI must have Debian's chromium; locally the browser tests skip without it."""
    if os.environ.get("CI") == "true":
        assert shutil.which("chromium") or os.access(CHROMIUM, os.X_OK)
