"""Shared by the browser tests: Debian's Chromium through Playwright, a signed-in page, and
:func:`check_view` (screenshots at desktop and phone width + an axe-core accessibility check)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

import pytest
from playwright.async_api import Browser, Page, async_playwright

from tests.support.api import Gateway, OrgCtx
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


async def signed_in_page(
    browser: Browser,
    gateway: Gateway,
    org: OrgCtx,
    lang: str = "ja",
    ws_gate: Any = None,
    user: str = "u1",
    width: int = 1280,
    path: str = "",
) -> Page:
    """A page signed in as ``user`` (its token in the URL fragment), live, with no script error and
    no Content-Security-Policy violation. ``path`` is appended to the fragment (e.g. ``&view=...``)."""
    context = await browser.new_context(
        locale="ja-JP" if lang == "ja" else "en-US", viewport={"width": width, "height": 900}
    )
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
    await page.goto(f"{gateway.base_url}/#token={org.tokens[user]}{path}")
    await page.wait_for_selector("#status[data-state='live']", timeout=WAIT_MS)
    page.set_default_timeout(WAIT_MS)
    assert errors == []
    assert await csp_violations(page) == []
    return page


async def csp_violations(page: Page) -> list[str]:
    found: list[str] = await page.evaluate("() => window.__csp")
    return found
