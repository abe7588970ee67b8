"""The page at / in real headless Chromium: sign in, live signals, grouping, read, resume, the
one-row phone header, language, settings, the CSP, and admin navigation only for admins."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import httpx
from playwright.async_api import Browser, WebSocketRoute

from tests.browser.conftest import CHROMIUM, WAIT_MS, csp_violations, signed_in_page
from tests.support.api import Gateway, OrgCtx, post_event, survey
from tests.support.timing import FACTOR


async def test_live_signals_appear_grouped_and_can_be_read(
    browser: Browser, client: httpx.AsyncClient, gateway: Gateway, org: OrgCtx, tmp_path: Path
) -> None:
    """A signal posted to the gateway appears live with its contact; a repeat updates the count in place."""
    page = await signed_in_page(browser, gateway, org)
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

    page = await signed_in_page(browser, gateway, org, ws_gate=gate)
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
    page = await signed_in_page(browser, gateway, org, lang="ja")
    assert await page.locator("#lang-toggle").get_attribute("data-lang") == "ja"
    await page.locator("#lang-toggle").click()
    await page.wait_for_selector("#lang-toggle[data-lang='en']")
    await page.locator(".tab[data-view='inbox']:text('Inbox')").wait_for()  # the feed re-rendered
    assert await page.evaluate("() => document.documentElement.lang") == "en"
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
    page = await signed_in_page(browser, gateway, org)
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


async def test_phone_header_is_one_row_and_the_badge_leaves_the_bell_visible(
    browser: Browser, client: httpx.AsyncClient, gateway: Gateway, org: OrgCtx
) -> None:
    """At 390 px the header is a single row, and a two-digit badge sits beside the bell, not on it."""
    kinds = [
        "desk.ticket",
        "desk.escalated",
        "chat.unattended",
        "event.checked_in",
        "webinar.registered",
        "desk.rating",
    ]
    for kind in kinds:
        for contact in ("c-yamada", "c-suzuki"):
            await post_event(client, org, {"type": kind, "contact": {"id": contact}, "title": kind})
    page = await signed_in_page(browser, gateway, org, width=390)
    await page.locator("#bell-count:text('12')").wait_for()
    header = await page.locator("header.topbar").bounding_box()
    assert header is not None and header["height"] < 64, header
    tops = await page.locator("header.topbar > *").evaluate_all(
        "els => els.filter(e => e.offsetParent).map(e => e.getBoundingClientRect().top)"
    )
    assert max(tops) - min(tops) < 20, tops
    bell = await page.locator("#bell-button .icon").bounding_box()
    badge = await page.locator("#bell-count").bounding_box()
    assert bell and badge and badge["x"] >= bell["x"] + bell["width"] - 1, (bell, badge)
    assert await page.evaluate("() => document.documentElement.scrollWidth") <= 390


async def test_members_see_no_admin_navigation(
    browser: Browser, client: httpx.AsyncClient, gateway: Gateway, org: OrgCtx
) -> None:
    """A member's page has no admin link, and an admin address shows the member the feed."""
    page = await signed_in_page(browser, gateway, org, user="u2", path="&/admin/usage")
    await page.locator("#signal-list").wait_for(state="attached")
    assert await page.locator("#admin-link, .admin-area").count() == 0
    assert (await client.get("/api/v1/me", headers=org.user_headers("u2"))).json()["role"] == "member"


def test_chromium_present_in_ci() -> None:
    """CI must have Debian's chromium; locally the browser tests skip without it."""
    if os.environ.get("CI") == "true":
        assert shutil.which("chromium") or os.access(CHROMIUM, os.X_OK)
