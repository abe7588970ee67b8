"""What a rep does on the page, in real Chromium against real gateway processes: archive, snooze
(and the server waking it), page back through history, filter by type through the server, open a
group's members, reply by SMS, another tab following, desktop notifications asked on a click, show
only one contact (live signals respecting it), item menus opening upward at the viewport's bottom."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
from playwright.async_api import Browser, Page

from gateway.devtools.twilio_api import TwilioApi
from tests.browser.conftest import WAIT_MS, signed_in_page
from tests.browser.views import SHOTS
from tests.support.api import (
    YAMADA_PHONE,
    Gateway,
    OrgCtx,
    call_params,
    post_event,
    post_twilio,
    provision_org,
    signals_of,
)
from tests.support.processes import Processes
from tests.support.redis import RedisServer
from tests.support.sending import SmtpServer, buy, provision_sending_org, sms_template, start_workers
from tests.support.timing import FACTOR, wait_for

SECOND_MS = int(1000 * FACTOR)  # "within a second", stretched on slow machines like every wait
CALLER_ID = "+815011110001"  # the org's number, bought through the local Twilio API
REP_PHONE = "+819087654321"  # the rep's own phone, rung first by click-to-call


def item(page: Page, type_: str = "", title: str = "") -> Any:
    sel = f"li.signal[data-type='{type_}']" if type_ else "li.signal"
    loc = page.locator(sel)
    return loc.filter(has_text=title) if title else loc


async def menu_action(page: Page, li: Any, action: str) -> None:
    """Open the item's ⋯ menu and choose ``action`` (data-action)."""
    await li.locator(".more-button").click()
    await page.locator(f"[role=menu] [data-action='{action}']").click()


async def ticket(client: httpx.AsyncClient, org: OrgCtx, title: str, contact: str = "c-yamada", **kw: Any) -> None:
    r = await post_event(
        client, org, {"type": kw.get("type", "desk.ticket"), "contact": {"id": contact}, "title": title}
    )
    assert r.status_code in (200, 202), r.text


async def add_contacts(client: httpx.AsyncClient, org: OrgCtx, n: int) -> list[str]:
    """``n`` more contacts owned by u1 (different contacts never group together)."""

    async def put(i: int) -> str:
        cid = f"c-h{i:03d}"
        r = await client.put(
            f"/api/v1/orgs/{org.id}/contacts/{cid}",
            json={"kind": "lead", "name": f"見込み客 {i:03d}", "emails": [f"h{i}@example.jp"], "owner": "u1"},
            headers=org.gateway.admin,
        )
        assert r.status_code in (200, 201), r.text
        return cid

    return list(await asyncio.gather(*(put(i) for i in range(n))))


async def test_archive_and_read_reach_another_tab(
    browser: Browser, client: httpx.AsyncClient, gateway: Gateway, org: OrgCtx
) -> None:
    """Archive in one tab: it leaves the inbox of both tabs within a second and shows under
    "archived"; reading in one tab shows read in the other; unarchive brings it back."""
    await ticket(client, org, "請求書の件")
    await ticket(client, org, "見積もり依頼", contact="c-suzuki")
    one = await signed_in_page(browser, gateway, org)
    two = await signed_in_page(browser, gateway, org)
    for page in (one, two):
        await item(page, title="請求書の件").wait_for()
        await item(page, title="見積もり依頼").wait_for()

    await menu_action(one, item(one, title="請求書の件"), "archive")
    await item(one, title="請求書の件").wait_for(state="detached", timeout=SECOND_MS)
    await item(two, title="請求書の件").wait_for(state="detached", timeout=SECOND_MS)
    archived = (await signals_of(client, org, view="archived"))["signals"]
    assert [s["title"] for s in archived] == ["請求書の件"] and archived[0]["archived"] is True

    await menu_action(one, item(one, title="見積もり依頼"), "read")
    await two.locator("li.signal[data-read='true']", has_text="見積もり依頼").wait_for(timeout=SECOND_MS)

    await one.locator(".tab[data-view='archived']").click()
    await item(one, title="請求書の件").wait_for()
    assert await item(one).count() == 1
    await menu_action(one, item(one, title="請求書の件"), "unarchive")
    await item(one, title="請求書の件").wait_for(state="detached")
    await item(two, title="請求書の件").wait_for(timeout=SECOND_MS)  # back in the other tab's inbox


async def test_snooze_a_preset_and_the_server_wakes_it(
    browser: Browser, client: httpx.AsyncClient, gateway: Gateway, org: OrgCtx
) -> None:
    """ "Tomorrow morning" snoozes until 09:00 in the org's zone (Asia/Tokyo); a snooze that ends
    brings the signal back to the inbox, unread, once."""
    await ticket(client, org, "明日でいい件")
    await ticket(client, org, "すぐ戻る件", contact="c-suzuki")
    page = await signed_in_page(browser, gateway, org)
    await menu_action(page, item(page, title="明日でいい件"), "snooze-tomorrow")
    await item(page, title="明日でいい件").wait_for(state="detached")
    [snoozed] = (await signals_of(client, org, view="snoozed"))["signals"]
    until = datetime.fromisoformat(snoozed["snoozed_until"].replace("Z", "+00:00"))
    assert until > datetime.now(UTC) and until.astimezone(timezone(timedelta(hours=9))).strftime("%H:%M") == "09:00"
    await page.locator(".tab[data-view='snoozed']").click()
    await item(page, title="明日でいい件").locator(".snooze-tag").wait_for()

    # Back in the inbox; the server snoozes the other one for a moment and wakes it.
    await page.locator(".tab[data-view='inbox']").click()
    back = item(page, title="すぐ戻る件")
    await back.wait_for()
    sid = (await back.get_attribute("data-id")) or ""
    soon = (datetime.now(UTC) + timedelta(seconds=2)).isoformat()
    r = await client.post("/api/v1/me/signals/snooze", json={"ids": [sid], "until": soon}, headers=org.user_headers())
    assert r.status_code == 200, r.text
    await back.wait_for(state="detached", timeout=SECOND_MS)
    await page.locator(f"li.signal[data-id='{sid}'][data-read='false']").wait_for(timeout=WAIT_MS)
    assert await page.locator(f"li.signal[data-id='{sid}']").count() == 1


async def test_type_filter_asks_the_server_and_history_pages_back_once(
    browser: Browser, client: httpx.AsyncClient, gateway: Gateway, org: OrgCtx
) -> None:
    """120 signals: the page shows the newest, a type filter finds the oldest one through the server
    (not by hiding loaded items), and scrolling back reaches the oldest with none shown twice."""
    contacts = await add_contacts(client, org, 40)
    await ticket(client, org, "いちばん古い", contact=contacts[0], type="sms.received")
    kinds = ("desk.ticket", "survey.answered", "chat.unattended")
    events = [(c, k) for k in kinds for c in contacts][: 120 - 1]
    for batch in range(0, len(events), 20):
        await asyncio.gather(
            *(ticket(client, org, f"{k} {c}", contact=c, type=k) for c, k in events[batch : batch + 20])
        )
    await wait_for(lambda: _count(client, org, 120), timeout=20 * FACTOR)

    page = await signed_in_page(browser, gateway, org)
    await item(page).first.wait_for()
    assert await item(page, "sms.received").count() == 0
    asked: list[str] = []
    page.on("request", lambda req: asked.append(req.url) if "/api/v1/me/signals?" in req.url else None)
    await page.locator("#filter-button").click()
    await page.locator("input.type-check[data-type='sms.received']").check()
    await item(page, "sms.received").wait_for()
    assert any("type=sms.received" in url for url in asked), asked
    await page.keyboard.press("Escape")
    assert await page.locator("#filter-panel").count() == 0
    await page.locator("#filter-button").click()
    await page.locator("input.type-check[data-type='sms.received']").uncheck()
    await page.keyboard.press("Escape")

    oldest = page.locator("li.signal", has_text="いちばん古い")
    for _ in range(20):
        if await oldest.count():
            break
        await page.locator(".older").scroll_into_view_if_needed()
        await page.wait_for_timeout(200)
    await oldest.wait_for()
    ids = await page.locator("li.signal").evaluate_all("els => els.map(e => e.dataset.id)")
    assert len(ids) == 120 and len(set(ids)) == 120
    await page.locator(".end-of-list").wait_for()


async def _count(client: httpx.AsyncClient, org: OrgCtx, n: int) -> bool:
    return len((await signals_of(client, org, limit=500))["signals"]) >= n


async def test_a_group_opens_to_its_members(
    browser: Browser, client: httpx.AsyncClient, gateway: Gateway, org: OrgCtx
) -> None:
    """Three tickets from one contact group into one item; its members list each, newest first."""
    page = await signed_in_page(browser, gateway, org)
    for title in ("プリンター故障", "ログインできない", "請求書の再発行"):
        await ticket(client, org, title)
    li = item(page, "desk.ticket")
    await li.locator(".count:text('3')").wait_for()
    assert await li.count() == 1
    await li.locator(".members-toggle").click()
    members = li.locator("ol.members li.member")
    await members.nth(2).wait_for()
    texts = await members.all_inner_texts()
    assert ["請求書の再発行" in texts[0], "ログインできない" in texts[1], "プリンター故障" in texts[2]] == [True] * 3
    await li.locator(".members-toggle").click()
    await li.locator("ol.members").wait_for(state="detached")


async def test_reply_by_sms_sends_exactly_one_message(
    browser: Browser,
    client: httpx.AsyncClient,
    gateway: Gateway,
    redis_server: RedisServer,
    procs: Processes,
    twilio_api: TwilioApi,
    smtp_server: SmtpServer,
) -> None:
    """Reply to a signal with an approved template: to a contact without a phone the API's 409
    shows in the dialog in Japanese; to one with a phone exactly one SMS reaches it and the item
    shows it was acted on (and is read)."""
    start_workers(procs, redis_server, gateway, twilio_api, smtp_server)
    org = await provision_sending_org(client, gateway, twilio_api)
    await sms_template(client, org, "{{ name }}様、お電話ありがとうございました。折り返しご連絡します。")
    await buy(client, org, 5)
    r = await client.put(
        f"/api/v1/orgs/{org.id}/contacts/c-nophone",
        json={"kind": "lead", "name": "番号 なし", "emails": ["nophone@example.jp"], "owner": "u1"},
        headers=gateway.admin,
    )
    assert r.status_code in (200, 201), r.text
    await ticket(client, org.ctx, "番号のない人", contact="c-nophone")
    await ticket(client, org.ctx, "電話がほしい")
    page = await signed_in_page(browser, gateway, org.ctx)
    dialog = page.locator("#reply-dialog")

    await menu_action(page, item(page, title="番号のない人"), "reply")
    await dialog.locator("#reply-preview:text('番号 なし様')").wait_for()
    await dialog.locator("#reply-send").click()
    error = dialog.locator("#reply-error")
    await error.wait_for()
    assert await error.inner_text() == "この連絡先には電話番号がありません。"
    await page.keyboard.press("Escape")
    await dialog.wait_for(state="detached")

    li = item(page, title="電話がほしい")
    await menu_action(page, li, "reply")
    await dialog.locator("#reply-preview:text('山田 太郎様')").wait_for()
    await dialog.locator("#reply-send").click()
    await dialog.wait_for(state="detached")
    await li.locator(".acted-tag").wait_for()
    assert await li.get_attribute("data-read") == "true"
    await wait_for(lambda: _sent(twilio_api), timeout=10 * FACTOR)
    await page.wait_for_timeout(500)
    [msg] = twilio_api.created_to(YAMADA_PHONE)
    assert msg["body"].startswith("山田 太郎様")


async def _sent(twilio: TwilioApi) -> bool:
    return len(twilio.created_to(YAMADA_PHONE)) >= 1


NOTIFICATION_RECORDER = """
(() => {
  const Real = window.Notification;
  window.__asked = 0; window.__notes = []; window.__hidden = false;
  class Recorded {
    constructor(title, opts) { window.__notes.push({ title, body: opts && opts.body }); window.__last = this; }
    close() {}
  }
  Object.defineProperty(Recorded, 'permission', { get: () => Real.permission });
  Recorded.requestPermission = (...a) => { window.__asked++; return Real.requestPermission(...a); };
  window.Notification = Recorded;
  Object.defineProperty(document, 'visibilityState', { get: () => (window.__hidden ? 'hidden' : 'visible') });
})();
"""


async def test_desktop_notifications_asked_on_click_shown_when_hidden(
    browser: Browser, client: httpx.AsyncClient, gateway: Gateway, org: OrgCtx
) -> None:
    """Loading never asks for permission; the settings button does; a signal arriving while the
    page is hidden makes one desktop notification naming the contact, and none while visible. One
    the view hides (filtered to another contact) notifies too; its click drops that filter and
    focuses the signal."""
    page = await signed_in_page(browser, gateway, org)
    await page.context.grant_permissions(["notifications"])
    await page.context.add_init_script(NOTIFICATION_RECORDER)
    await page.reload()
    await page.wait_for_selector("#status[data-state='live']")
    assert await page.evaluate("() => window.__asked") == 0
    await page.locator("#settings-button").click()
    await page.locator("#notify-button").click()
    await page.locator("#notify-switch").wait_for()
    assert await page.evaluate("() => window.__asked") == 1
    await page.keyboard.press("Escape")
    await page.locator("#settings-dialog").wait_for(state="detached")

    await ticket(client, org, "見えている間")
    await item(page, title="見えている間").wait_for()
    await page.evaluate("() => { window.__hidden = true; }")
    await ticket(client, org, "裏にいる間", contact="c-suzuki")
    await item(page, title="裏にいる間").wait_for()
    await page.wait_for_function("() => window.__notes.length > 0")
    notes = await page.evaluate("() => window.__notes")
    assert len(notes) == 1 and "鈴木 美咲" in notes[0]["title"] and "裏にいる間" in notes[0]["body"], notes

    await page.evaluate("() => { window.__hidden = false; }")
    await menu_action(page, item(page, title="裏にいる間"), "only-contact")
    await page.locator("#contact-chip[data-contact='c-suzuki']").wait_for()
    await page.evaluate("() => { window.__hidden = true; }")
    await ticket(client, org, "絞り込みの外")
    await page.wait_for_function("() => window.__notes.length > 1")
    notes = await page.evaluate("() => window.__notes")
    assert len(notes) == 2 and "山田 太郎" in notes[1]["title"] and "絞り込みの外" in notes[1]["body"], notes
    assert await item(page, title="絞り込みの外").count() == 0  # the view still hides it
    await page.evaluate("() => { window.__hidden = false; window.__last.onclick(); }")
    await page.locator("#contact-chip").wait_for(state="detached")
    await page.locator("li.signal:has-text('絞り込みの外') .signal-main:focus").wait_for()


async def test_a_click_opens_the_crm_record_and_marks_it_read(
    browser: Browser, client: httpx.AsyncClient, gateway: Gateway, org: OrgCtx
) -> None:
    """With the org's record_url_template the item is a link to the contact's CRM record: a click
    opens it in a new tab (no opener) and marks the signal read."""
    r = await client.put(
        f"/api/v1/orgs/{org.id}",
        json={"record_url_template": "https://crm.example.jp/{kind}s/{contact_id}"},
        headers=gateway.admin,
    )
    assert r.status_code == 200, r.text
    await ticket(client, org, "CRMで見る")
    page = await signed_in_page(browser, gateway, org)
    await page.context.route("https://crm.example.jp/**", lambda route: route.fulfill(body="crm", status=200))
    link = item(page, title="CRMで見る").locator("a.signal-main")
    assert await link.get_attribute("href") == "https://crm.example.jp/leads/c-yamada"
    assert "noopener" in (await link.get_attribute("rel") or "")
    async with page.context.expect_page() as opened:
        await link.click()
    crm = await opened.value
    assert crm.url == "https://crm.example.jp/leads/c-yamada"
    assert await crm.evaluate("() => window.opener") is None
    await page.locator("li.signal[data-read='true']", has_text="CRMで見る").wait_for()
    assert (await signals_of(client, org))["unread"] == 0


async def test_item_menu_by_keyboard(
    browser: Browser, client: httpx.AsyncClient, gateway: Gateway, org: OrgCtx
) -> None:
    """The ⋯ menu opens with Enter on its first item, arrows move, Escape closes it and gives the
    focus back to its button; Enter on an item acts (here: mark read)."""
    await ticket(client, org, "キーボードで")
    page = await signed_in_page(browser, gateway, org)
    button = item(page, title="キーボードで").locator(".more-button")
    await button.focus()
    await page.keyboard.press("Enter")
    await page.locator("[role=menu] [data-action='read']:focus").wait_for()
    await page.keyboard.press("ArrowDown")
    await page.locator("[role=menu] [data-action='archive']:focus").wait_for()
    await page.keyboard.press("Escape")
    await page.locator("[role=menu]").wait_for(state="detached")
    assert await button.evaluate("b => b === document.activeElement")
    await page.keyboard.press("Enter")
    await page.locator("[role=menu] [data-action='read']:focus").wait_for()
    await page.keyboard.press("Enter")
    await page.locator("li.signal[data-read='true']", has_text="キーボードで").wait_for()


async def test_show_only_one_contact_and_menus_open_upward_at_the_bottom(
    browser: Browser, client: httpx.AsyncClient, gateway: Gateway, org: OrgCtx
) -> None:
    """At 390 x 700 the ⋯ menu of the last visible item opens upward, all of it inside the viewport.
    "Show only this contact" asks the server for that contact (with the type filter too) and shows a
    removable chip; a live signal of another contact stays out of the list but counts in the badge,
    one of the contact's comes in; the chip's × (by keyboard) brings everyone back."""
    kinds = ("desk.ticket", "survey.answered", "chat.unattended", "email.opened", "webinar.registered")
    for who, contact in (("山田", "c-yamada"), ("鈴木", "c-suzuki")):
        await asyncio.gather(*(ticket(client, org, f"{who} {k}", contact=contact, type=k) for k in kinds))
    page = await signed_in_page(browser, gateway, org, width=390)
    await page.set_viewport_size({"width": 390, "height": 700})
    await item(page).nth(9).wait_for()

    last = await page.evaluate(
        "() => [...document.querySelectorAll('li.signal')].filter(li => li.getBoundingClientRect().bottom"
        " <= window.innerHeight).pop().dataset.id"
    )
    await page.locator(f"li.signal[data-id='{last}'] .more-button").click()
    menu = page.locator("[role=menu]")
    await menu.wait_for()
    box = await menu.bounding_box()
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 700, box
    assert await menu.get_attribute("data-placement") == "up"
    await page.screenshot(path=str(SHOTS / "feed-menu-up-ja-390.png"))
    await page.keyboard.press("Escape")
    await menu.wait_for(state="detached")

    asked: list[str] = []
    page.on("request", lambda req: asked.append(req.url) if "/api/v1/me/signals?" in req.url else None)
    await menu_action(page, item(page, title="山田 desk.ticket"), "only-contact")
    chip = page.locator("#contact-chip")
    await chip.wait_for()
    assert "山田 太郎" in await chip.inner_text()
    await item(page, title="鈴木").first.wait_for(state="detached")
    assert await item(page).count() == 5
    assert any("contact=c-yamada" in url for url in asked), asked
    assert await page.evaluate("() => document.activeElement.id") == "contact-chip-remove"

    await page.locator("#filter-button").click()
    await page.locator("input.type-check[data-type='desk.ticket']").check()
    await page.wait_for_function("() => document.querySelectorAll('li.signal').length === 1")
    assert any("type=desk.ticket" in url and "contact=c-yamada" in url for url in asked), asked
    await page.locator("input.type-check[data-type='desk.ticket']").uncheck()
    await page.keyboard.press("Escape")
    await item(page).nth(4).wait_for()

    await page.locator("#bell-count:text('10')").wait_for()
    await ticket(client, org, "鈴木 desk.escalated", contact="c-suzuki", type="desk.escalated")
    await page.locator("#bell-count:text('11')").wait_for(timeout=SECOND_MS * 3)
    await ticket(client, org, "山田 desk.escalated", type="desk.escalated")
    await item(page, title="山田 desk.escalated").wait_for(timeout=SECOND_MS * 3)
    await page.locator("#bell-count:text('12')").wait_for()
    assert await item(page, title="鈴木").count() == 0 and await item(page).count() == 6

    await page.locator("#contact-chip-remove").focus()
    await page.keyboard.press("Enter")
    await chip.wait_for(state="detached")
    await item(page, title="鈴木 desk.escalated").wait_for()
    await item(page).nth(11).wait_for()
    assert await page.evaluate("() => document.activeElement.id") == "filter-button"
    assert not any("contact=" in url for url in asked[-1:]), asked


async def test_call_back_rings_the_rep_then_the_contact(
    browser: Browser, procs: Processes, redis_server: RedisServer, twilio_api: TwilioApi
) -> None:
    """ "Call back" on a missed call: without outbound telephony the API's 403 shows on the item in
    Japanese and nothing is dialled; once enabled, Twilio is asked once to ring the rep's phone."""
    gw, _ = procs.serve(redis_server.url, SIGNALGATE_TWILIO_API_BASE=twilio_api.base_url)
    procs.router(redis_server.url)
    async with httpx.AsyncClient(base_url=gw.base_url, timeout=10 * FACTOR) as client:
        org = await provision_org(client, gw, "cb-" + uuid.uuid4().hex[:10])
        account = "AC" + secrets.token_hex(16)
        twilio_api.add_account(account, org.auth_token)
        twilio = {"account_sid": account, "auth_token": org.auth_token}
        assert (
            await client.put(f"/api/v1/orgs/{org.id}", json={"twilio": twilio}, headers=gw.admin)
        ).status_code == 200
        twilio_api.offer_number(CALLER_ID, kind="Local", locality="東京")
        r = await client.post(f"/api/v1/orgs/{org.id}/numbers", json={"phone_number": CALLER_ID}, headers=gw.admin)
        assert r.status_code == 201, r.text
        assert (await post_twilio(client, org, "voice-status", call_params("no-answer"))).status_code in (200, 204)
        page = await signed_in_page(browser, gw, org)
        li = item(page, "call.missed")
        await menu_action(page, li, "call")
        error = li.locator(".item-error")
        await error.wait_for()
        assert "発信が許可されていません" in await error.inner_text()
        assert twilio_api.requests_to("POST", "/Calls.json") == []

        telephony = {"enabled": True, "outbound": True, "caller_id": CALLER_ID}
        r = await client.put(
            f"/api/v1/orgs/{org.id}/users/u1", json={"phone": REP_PHONE, "telephony": telephony}, headers=gw.admin
        )
        assert r.status_code == 200, r.text
        await menu_action(page, li, "call")
        await page.locator(".toast").wait_for()
        await error.wait_for(state="detached")
        [create] = twilio_api.requests_to("POST", "/Calls.json")
        assert create.form["To"] == REP_PHONE and create.form["From"] == CALLER_ID
        await page.locator("li.signal[data-type='call.missed'][data-read='true']").wait_for()
