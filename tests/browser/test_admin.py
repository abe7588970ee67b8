"""The admin console in real headless Chromium, signed in with an org admin's user token: usage,
credits and auto-recharge, templates and their lifecycle, the email report (table + chart), the call
log with its CSV, mailboxes with their state; screenshots and axe in ja and en at 1280 and 390 px.
A member never sees the console, and the API refuses the member's token on every endpoint it uses."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page
from redis.asyncio import Redis

from gateway.store.email_usage import EmailUsage
from gateway.store.reports import Reports
from gateway.store.scripts import load_scripts
from tests.browser.conftest import csp_violations, signed_in_page
from tests.browser.views import check_view
from tests.support.api import Gateway, OrgCtx, call_params, post_twilio, provision_org
from tests.support.imap import Dovecot, imap_env, mailbox_env
from tests.support.processes import Processes
from tests.support.redis import RedisServer
from tests.support.timing import FACTOR

LANGS = ("ja", "en")
TEXT = {
    "ja": {
        "reset": "リセット",
        "usage": "3 / 600 通",
        "mass_full": "本日の上限に達しました",
        "saved": "保存しました。",
        "bad_value": "入力値が正しくありません。",
        "bad_transition": "このテンプレートの状態ではその操作はできません。",
        "pending": "承認待ち",
        "approved": "承認済み",
        "purchase": "購入",
        "idle": "待機中（受信可能）",
        "auth_failed": "認証失敗",
        "calls": "2 件",
        "no_calls": "0 件",
    },
    "en": {
        "reset": "Resets",
        "usage": "3 of 600 emails",
        "mass_full": "Today's limit is reached",
        "saved": "Saved.",
        "bad_value": "A value is not valid.",
        "bad_transition": "This template cannot do that in its current state.",
        "pending": "Pending",
        "approved": "Approved",
        "purchase": "Purchase",
        "idle": "Idle (listening)",
        "auth_failed": "Login failed",
        "calls": "2 calls",
        "no_calls": "0 calls",
    },
}


async def make_admin(client: httpx.AsyncClient, org: OrgCtx, user: str = "u1") -> None:
    r = await client.put(f"/api/v1/orgs/{org.id}/users/{user}", json={"role": "admin"}, headers=org.gateway.admin)
    assert r.status_code == 200, r.text


async def open_admin(page: Page, view: str) -> None:
    """Go to an admin view through the console's navigation (as a user would), wait for it."""
    if not await page.locator(".admin-nav").count():
        await page.locator("#admin-link").click()
        await page.locator(".admin-nav").wait_for()
    await page.locator(f".admin-nav a[href='#/admin/{view}']").click()
    await page.locator(f"#admin-{view}").wait_for()


async def seed_report(redis_url: str, org: str) -> None:
    """Report counters as sending and tracking leave them: today and yesterday, one template."""
    r = Redis.from_url(redis_url, decode_responses=True)
    try:
        reports = Reports(r, load_scripts(r))
        now = int(time.time() * 1000)
        for day, (sent, opened, clicked, bounced) in ((now - 86_400_000, (5, 3, 1, 1)), (now, (4, 2, 1, 0))):
            for field, n in (("sent", sent), ("opened", opened), ("clicked", clicked), ("bounced", bounced)):
                for i in range(n):
                    await reports.count_event(
                        org, "Asia/Tokyo", f"seed-{day}-{field}-{i}", field, day, template="t-news"
                    )
            await reports.count_event(org, "Asia/Tokyo", f"seed-{day}-received", "received", day)
    finally:
        await r.aclose()


async def seed_email_usage(redis_url: str, org: str) -> None:
    """Today's email counts as sends leave them: 3 individual mails, the mass cap (250) used up."""
    r = Redis.from_url(redis_url, decode_responses=True)
    try:
        usage = EmailUsage(r, load_scripts(r))
        now = datetime.now(tz=UTC)
        for bucket, n, cap in (("individual", 3, 600), ("mass", 250, 250)):
            for i in range(n):
                await usage.reserve(org, f"n-{bucket}-{i}", bucket, cap, "Asia/Tokyo", now)
    finally:
        await r.aclose()


async def seed_calls(client: httpx.AsyncClient, org: OrgCtx) -> None:
    """One answered and one missed inbound call, through the signed voice-status webhook."""
    answered = dict(call_params("completed"), CallDuration="65")
    for params in (answered, call_params("no-answer")):
        r = await post_twilio(client, org, "voice-status", params)
        assert r.status_code == 204, r.text


@pytest.mark.parametrize("lang", LANGS)
async def test_admin_reads_usage_and_changes_auto_recharge(
    browser: Browser,
    client: httpx.AsyncClient,
    gateway: Gateway,
    org: OrgCtx,
    redis_server: RedisServer,
    lang: str,
) -> None:
    """Usage shows each limit with its count and the reset time in the org's zone; credits shows the
    balance and ledger; a bad auto-recharge value gets the API's error at the field, a good one saves."""
    await make_admin(client, org)
    await seed_email_usage(redis_server.url, org.id)
    r = await client.post(f"/api/v1/orgs/{org.id}/credits/purchase", json={"amount": 120}, headers=gateway.admin)
    assert r.status_code == 201, r.text
    page = await signed_in_page(browser, gateway, org, lang)
    text = TEXT[lang]

    await open_admin(page, "usage")
    reset = await page.locator("#usage-reset").inner_text()
    assert text["reset"] in reset and "Asia/Tokyo" in reset
    assert text["usage"] in await page.locator("[data-limit='individual']").inner_text()
    assert await page.locator("[data-limit='individual'] progress").get_attribute("max") == "600"
    assert await page.locator("[data-limit='individual'] progress").get_attribute("value") == "3"
    mass = page.locator("[data-limit='mass']")
    assert TEXT[lang]["mass_full"] in await mass.inner_text() and "100%" in await mass.inner_text()
    assert "120" in await page.locator("#usage-sms-balance").inner_text()
    await check_view(page, "admin-usage", lang)

    await open_admin(page, "credits")
    await page.locator("#credits-ledger tr[data-type='purchase']").wait_for()
    assert text["purchase"] in await page.locator("#credits-ledger").inner_text()
    await page.locator("#credits-enabled").check()
    await page.locator("#credits-threshold").fill("-5")
    await page.locator("#credits-amount").fill("200")
    await page.locator("#auto-recharge-form button[type='submit']").click()
    error = page.locator("#credits-threshold-error")
    await error.wait_for()
    assert text["bad_value"] in await error.inner_text()
    assert "'threshold'" in await error.inner_text()  # the API's own detail, after the sentence
    assert await page.locator("#credits-threshold").get_attribute("aria-invalid") == "true"
    await check_view(page, "admin-credits", lang)  # with the inline error showing

    await page.locator("#credits-threshold").fill("50")
    await page.locator("#auto-recharge-form button[type='submit']").click()
    await page.locator(f"#auto-recharge-form .admin-ok:text('{text['saved']}')").wait_for()
    assert await error.count() == 0
    credits = (await client.get(f"/api/v1/orgs/{org.id}/credits", headers=gateway.admin)).json()
    assert credits["auto_recharge"] == {**credits["auto_recharge"], "enabled": True, "threshold": 50, "amount": 200}
    assert await csp_violations(page) == []


@pytest.mark.parametrize("lang", LANGS)
async def test_admin_creates_submits_and_approves_a_template(
    browser: Browser, client: httpx.AsyncClient, gateway: Gateway, org: OrgCtx, lang: str
) -> None:
    """A template made in the form is a draft; approving a draft shows the API's 409 in that row, in
    the admin's language; submit then approve moves the chip to pending, then approved."""
    await make_admin(client, org)
    page = await signed_in_page(browser, gateway, org, lang)
    await open_admin(page, "templates")
    await page.locator("#template-new").click()
    await page.locator("#tpl-name").fill("予約確認")
    await page.locator("#tpl-module").fill("Leads")
    await page.locator("#tpl-body").fill("{{ name }}様、ご予約を承りました。")
    await page.locator("#template-form button[type='submit']").click()
    row = page.locator("#templates-table tr[data-status='draft']")
    await row.wait_for()
    tid = await row.get_attribute("data-template")
    assert tid
    row = page.locator(f"#templates-table tr[data-template='{tid}']")

    await row.locator("button[data-action='approve']").click()
    alert = page.locator(f"tr[data-template-message='{tid}'] .admin-error[role='alert']")
    await alert.wait_for()
    assert await alert.get_attribute("data-code") == "invalid_transition"
    assert TEXT[lang]["bad_transition"] in await alert.inner_text()
    await check_view(page, "admin-templates", lang)

    await row.locator("button[data-action='submit']").click()
    await page.locator(f"tr[data-template='{tid}'][data-status='pending']").wait_for()
    assert TEXT[lang]["pending"] in await row.locator(".admin-chip").inner_text()
    assert await alert.count() == 0
    await row.locator("button[data-action='approve']").click()
    await page.locator(f"tr[data-template='{tid}'][data-status='approved']").wait_for()
    assert TEXT[lang]["approved"] in await row.locator(".admin-chip").inner_text()
    r = await client.get(f"/api/v1/orgs/{org.id}/templates/{tid}", headers=gateway.admin)
    assert r.json()["status"] == "approved" and r.json()["name"] == "予約確認"
    assert await csp_violations(page) == []


@pytest.mark.parametrize("lang", LANGS)
async def test_admin_reads_the_report_chart_and_downloads_the_call_log(
    browser: Browser,
    client: httpx.AsyncClient,
    gateway: Gateway,
    org: OrgCtx,
    redis_server: RedisServer,
    lang: str,
    tmp_path: Path,
) -> None:
    """The report shows a chart (an image with a label; the table is its text) and the table with
    rates and per-template rows; week grouping regroups it. The call log lists the calls, filters
    them, and its CSV downloads with a BOM, the header row, the contact's Japanese name intact and the
    org and range in its name."""
    await make_admin(client, org)
    await seed_report(redis_server.url, org.id)
    await seed_calls(client, org)
    page = await signed_in_page(browser, gateway, org, lang)

    await open_admin(page, "report")
    chart = page.locator("#report-chart")
    await chart.locator("canvas").wait_for()
    assert await chart.get_attribute("role") == "img"
    assert await page.locator("#report-from").input_value() in (await chart.get_attribute("aria-label") or "")
    total = page.locator("#report-table tr.is-total")
    assert (await total.locator("td").all_inner_texts())[:3] == ["9", "1 (11.11%)", "5 (55.56%)"]
    assert "t-news" in await page.locator("#report-templates").inner_text()
    assert await page.locator("#report-table tbody tr").count() >= 3  # 30 days + total
    await check_view(page, "admin-report", lang)
    await page.locator("#report-filters label:has(input[value='month'])").click()
    await page.wait_for_function("() => document.querySelectorAll('#report-table tbody tr').length <= 3")
    periods = await page.locator("#report-table tbody th").all_inner_texts()
    assert all(len(p) == 7 for p in periods[:-1]), periods  # 2026-11 style month rows

    await open_admin(page, "calls")
    await page.locator("#calls-table tbody tr").nth(1).wait_for()
    assert TEXT[lang]["calls"] in await page.locator("#admin-calls").inner_text()
    assert "山田 太郎" in await page.locator("#calls-table").inner_text()
    await page.locator("#calls-direction").select_option("outbound")
    await page.locator("#calls-filters button[type='submit']").click()
    await page.locator(f"#admin-calls p:text('{TEXT[lang]['no_calls']}')").wait_for()
    await page.locator("#calls-direction").select_option("")
    await page.locator("#calls-filters button[type='submit']").click()
    await page.locator("#calls-table tbody tr").nth(1).wait_for()
    await check_view(page, "admin-calls", lang)

    async with page.expect_download() as info:
        await page.locator("#calls-csv").click()
    download = await info.value
    assert download.suggested_filename == f"calls-{org.id}_all_all.csv"  # the API's name for it
    saved = tmp_path / download.suggested_filename
    await download.save_as(saved)
    raw = saved.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel opens the UTF-8 as such
    served = await client.get(f"/api/v1/orgs/{org.id}/calls?format=csv", headers=gateway.admin)
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines[0] == served.text.lstrip("\ufeff").splitlines()[0]
    assert lines[0].startswith("sid,direction,from,to,status")
    assert len(lines) == 3 and any(",no-answer," in line for line in lines)
    assert all("山田 太郎" in line for line in lines[1:])  # the contact's Japanese name, intact
    assert await page.locator("#calls-csv-link").get_attribute("download") == download.suggested_filename
    assert await csp_violations(page) == []


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    server = Dovecot()
    yield server
    server.close()


async def test_admin_sees_mailboxes_with_their_state(
    browser: Browser, dovecot: Dovecot, redis_server: RedisServer, procs: Processes
) -> None:
    """A gateway with two [[imap]] mailboxes: the working one is shown idle with its last UID, the one
    with a wrong password as a login failure with its error; in Japanese and in English. Then an API
    mailbox added with a wrong password: "Change password" with an empty one shows the API's error
    beside the field; with the right one the mailbox is idle within seconds (PATCH, no restart)."""
    good, wrong, api_user = dovecot.add_user(), dovecot.add_user(), dovecot.add_user()
    org_id = "adm-" + uuid.uuid4().hex[:10]
    env = {
        **imap_env(dovecot, good, org_id, "u1", 0),
        **imap_env(dovecot, wrong, org_id, "u2", 1, password="wrong-password"),
        **mailbox_env(),  # API mailboxes on the loopback Dovecot, with the short test timings
    }
    gw, _ = procs.serve(redis_server.url, with_router=True, **env)
    async with httpx.AsyncClient(base_url=gw.base_url, timeout=10 * FACTOR) as client:
        org = await provision_org(client, gw, org_id)
        await make_admin(client, org)
        for lang in LANGS:
            page = await signed_in_page(browser, gw, org, lang)
            await open_admin(page, "mailboxes")
            table = page.locator("#mailboxes-table")
            for _ in range(int(100 * FACTOR)):  # the listeners settle within seconds: reload until then
                states = await table.locator("tbody tr").evaluate_all("rows => rows.map(r => r.dataset.state)")
                if sorted(states) == ["auth_failed", "idle"]:
                    break
                await page.locator("#mailboxes-reload").click()
                await page.wait_for_timeout(200)
            idle = table.locator("tr[data-state='idle']")
            failed = table.locator("tr[data-state='auth_failed']")
            assert good.address in await idle.inner_text()
            assert TEXT[lang]["idle"] in await idle.inner_text()
            assert TEXT[lang]["auth_failed"] in await failed.inner_text()
            assert "LOGIN refused" in await failed.inner_text()
            assert wrong.password not in await page.content() and "wrong-password" not in await page.content()
            await check_view(page, "admin-mailboxes", lang)
            assert await csp_violations(page) == []
            await page.context.close()

        body = {"user": "u1", "host": "127.0.0.1", "port": dovecot.port, "tls": "none",
                "username": api_user.address, "password": "not-the-password"}  # fmt: skip
        r = await client.post(f"/api/v1/orgs/{org_id}/mailboxes", json=body, headers=gw.admin)
        assert r.status_code == 201, r.text
        row = f"#mailboxes-table tr[data-mailbox='{r.json()['id']}']"

        async def until_row(page: Page, state: str) -> None:
            for _ in range(int(100 * FACTOR)):
                if await page.locator(row).get_attribute("data-state") == state:
                    return
                await page.locator("#mailboxes-reload").click()
                await page.wait_for_timeout(200)
            raise AssertionError(f"{row} never {state}")

        page = await signed_in_page(browser, gw, org, "ja")
        await open_admin(page, "mailboxes")
        await until_row(page, "auth_failed")
        await page.locator(f"{row} [data-action='password']").click()
        form = page.locator("#mailbox-edit")
        assert api_user.address in await form.locator("h3").inner_text()
        await form.locator("button[type='submit']").click()  # no password: the API names the field
        await page.locator("#mailbox-edit-error").wait_for()
        assert await page.locator("#mailbox-edit-password").get_attribute("aria-invalid") == "true"
        await check_view(page, "admin-mailboxes-password", "ja")
        await page.locator("#mailbox-edit-password").fill(api_user.password)
        await form.locator("button[type='submit']").click()
        await page.locator("#mailboxes-notice", has_text=api_user.address).wait_for()
        assert await form.count() == 0
        await until_row(page, "idle")
        assert api_user.password not in await page.content() and "not-the-password" not in await page.content()
        assert await csp_violations(page) == []
        await page.context.close()


ADMIN_READS = ("/usage", "/credits", "/credits/ledger", "/templates", "/reports/email", "/calls",
               "/calls?format=csv", "/mailboxes", "/users")  # fmt: skip


async def test_member_never_sees_the_console_and_is_refused_by_its_endpoints(
    browser: Browser, client: httpx.AsyncClient, gateway: Gateway, org: OrgCtx
) -> None:
    """A member has no admin navigation; #/admin/usage shows nothing of the console (and calls none
    of its endpoints); the API answers 403 to the member's token on every endpoint the views use."""
    await make_admin(client, org, "u1")  # an admin exists in the org; u2 stays a member
    page = await signed_in_page(browser, gateway, org, "ja", user="u2")
    calls: list[str] = []
    page.on("request", lambda req: calls.append(req.url) if "/api/v1/orgs/" in req.url else None)
    assert await page.locator("#admin-link").count() == 0
    assert await page.locator(".admin-nav").count() == 0
    await page.evaluate("() => { location.hash = '#/admin/usage'; }")
    await page.wait_for_timeout(500)
    assert await page.locator(".admin-area, .admin-panel, #admin-usage, #usage-reset").count() == 0
    assert calls == []
    await page.context.close()

    member = org.user_headers("u2")
    base = f"/api/v1/orgs/{org.id}"
    for path in ADMIN_READS:
        r = await client.get(base + path, headers=member)
        assert r.status_code == 403, (path, r.status_code, r.text)
    writes = [
        ("PUT", "/credits/auto-recharge", {"enabled": False}),
        ("POST", "/templates", {"channel": "sms", "name": "x", "module": "Leads", "body": "x"}),
        ("POST", "/templates/t-any/submit", None),
        ("POST", "/templates/t-any/approve", None),
        ("POST", "/templates/t-any/reject", None),
        ("PUT", "/templates/t-any", {"name": "x"}),
    ]
    for method, path, body in writes:
        r = await client.request(method, base + path, json=body, headers=member)
        assert r.status_code == 403, (method, path, r.status_code, r.text)
    # ... while the admin's token reads them (the console's own calls).
    for path in ADMIN_READS:
        r = await client.get(base + path, headers=org.user_headers("u1"))
        assert r.status_code == 200, (path, r.status_code, r.text)
