"""Every view a rep sees, in Japanese and English, at 1280 and 390 px: screenshots into
test-output/screenshots (feed-<view>-<lang>-<width>.png) and no serious or critical axe-core
violation — inbox, a filter open, a group open, an item's menu, filtered to one contact, the reply
dialog, settings, archived, snoozed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser

from gateway.devtools.twilio_api import TwilioApi
from tests.browser.conftest import signed_in_page
from tests.browser.views import check_view
from tests.support.api import Gateway, OrgCtx, call_params, post_event, post_twilio, sms_params
from tests.support.sending import provision_sending_org, sms_template


async def seed(client: httpx.AsyncClient, org: OrgCtx) -> None:
    """A feed that shows each kind of item: a group of three, a missed call from an unknown number,
    an SMS, a bounce, a survey."""
    for title in ("プリンター故障", "ログインできない", "請求書の再発行"):
        await post_event(client, org, {"type": "desk.ticket", "contact": {"id": "c-yamada"}, "title": title})
    await post_event(
        client,
        org,
        {"type": "survey.answered", "contact": {"id": "c-suzuki"}, "title": "満足度アンケート", "body": "とても満足"},
    )
    await post_event(
        client,
        org,
        {"type": "email.bounced", "contact": {"id": "c-suzuki"}, "title": "mailbox full", "data": {"bounce": "soft"}},
    )
    await post_event(
        client, org, {"type": "chat.unattended", "contact": {"id": "c-yamada"}, "title": "料金プランについて"}
    )
    await post_twilio(client, org, "sms", sms_params("明日の打ち合わせ、15時からでお願いします。"))
    await post_twilio(client, org, "voice-status", call_params("no-answer"))


async def feed_page(browser: Browser, client: httpx.AsyncClient, gateway: Gateway, twilio: TwilioApi, lang: str) -> Any:
    """A signed-in page of a fresh org that can reply by SMS (an approved template), with the seed."""
    org = await provision_sending_org(client, gateway, twilio)
    await sms_template(client, org, "{{ name }}様、お問い合わせありがとうございました。")
    await seed(client, org.ctx)
    page = await signed_in_page(browser, gateway, org.ctx, lang=lang)
    await page.locator("li.signal[data-type='desk.ticket'] .count").wait_for()
    return org, page


@pytest.mark.parametrize("lang", ["ja", "en"])
async def test_feed_inbox_filter_group_and_menu(
    browser: Browser, client: httpx.AsyncClient, gateway: Gateway, twilio_api: TwilioApi, lang: str
) -> None:
    _, page = await feed_page(browser, client, gateway, twilio_api, lang)
    await check_view(page, "feed-inbox", lang)

    await page.locator("#filter-button").click()
    await page.locator("#filter-panel .row-count").first.wait_for()
    await check_view(page, "feed-filter", lang)
    await page.keyboard.press("Escape")

    group = page.locator("li.signal[data-type='desk.ticket']")
    await group.locator(".members-toggle").click()
    await group.locator("ol.members li.member").nth(2).wait_for()
    await check_view(page, "feed-group", lang)

    await group.locator(".more-button").click()
    await page.locator("[role=menu]").wait_for()
    await check_view(page, "feed-menu", lang)

    # "Show only this contact": the chip beside the filter, only 山田 太郎's items listed.
    await page.locator("[role=menu] [data-action='only-contact']").click()
    await page.locator("#contact-chip:has-text('山田 太郎')").wait_for()
    await page.locator("li.signal", has_text="鈴木 美咲").first.wait_for(state="detached")
    await check_view(page, "feed-contact", lang)


@pytest.mark.parametrize("lang", ["ja", "en"])
async def test_feed_reply_settings_archived_snoozed_dark(
    browser: Browser, client: httpx.AsyncClient, gateway: Gateway, twilio_api: TwilioApi, lang: str
) -> None:
    org, page = await feed_page(browser, client, gateway, twilio_api, lang)
    await page.locator("li.signal[data-type='desk.ticket'] .more-button").click()
    await page.locator("[role=menu] [data-action='reply']").click()
    await page.locator("#reply-preview").wait_for()
    await check_view(page, "feed-reply", lang)
    await page.keyboard.press("Escape")
    await page.locator("#reply-dialog").wait_for(state="detached")

    await page.locator("#settings-button").click()
    await page.locator("#settings-list input.switch").first.wait_for()
    await check_view(page, "feed-settings", lang)
    await page.keyboard.press("Escape")

    sids = await page.locator("li.signal").evaluate_all("els => els.map(e => e.dataset.id)")
    headers = org.ctx.user_headers()
    assert (await client.post("/api/v1/me/signals/archive", json={"ids": sids[:2]}, headers=headers)).status_code == 200
    until = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    r = await client.post("/api/v1/me/signals/snooze", json={"ids": sids[2:4], "until": until}, headers=headers)
    assert r.status_code == 200
    await page.locator(".tab[data-view='archived']").click()
    await page.locator(f"li.signal[data-id='{sids[0]}']").wait_for()
    await check_view(page, "feed-archived", lang)
    await page.locator(".tab[data-view='snoozed']").click()
    await page.locator(f"li.signal[data-id='{sids[2]}'] .snooze-tag").wait_for()
    await check_view(page, "feed-snoozed", lang)

    await page.emulate_media(color_scheme="dark")
    await page.locator(".tab[data-view='inbox']").click()
    await page.locator("li.signal[data-type='desk.ticket']").wait_for()
    await check_view(page, "feed-inbox-dark", lang)
