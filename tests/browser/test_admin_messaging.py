"""The messaging admin views in real headless Chromium against a gateway, a worker, the recording
aiosmtpd and the local Twilio API: an admin imports a CSV (BOM, Japanese name, one bad row) and
sees the per-row results, builds a segment and sees its members, sends mass mail to it and watches
the progress reach done (only the members with marketing consent get mail), creates an SMS
notification and triggers it for a contact (Twilio gets one message, to the mobile) and for a segment
(the send's progress reaches finished; the member without a phone is shown skipped, and why), creates a
rule, edits an approved template into a pending version and sees both, reads the DLT copy,
reschedules and cancels a reminder, removes a suppression. An IN org's admin reads the sender
registration. Screenshots + axe for each view in ja and en. A member sees none of it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.async_api import Browser, FilePayload, Page
from redis.asyncio import Redis

from gateway.devtools.twilio_api import TwilioApi
from gateway.store.suppressions import Suppressions
from tests.browser.conftest import signed_in_page
from tests.browser.test_admin import make_admin, open_admin
from tests.browser.views import check_view
from tests.support.api import Gateway, provision_org
from tests.support.processes import Processes
from tests.support.redis import RedisServer
from tests.support.sending import (
    SendOrg,
    SmtpServer,
    buy,
    email_template,
    provision_sending_org,
    sms_template,
    start_workers,
)
from tests.support.timing import FACTOR, wait_for

CSV = (
    "\ufeffid,kind,name,company,email,phone,owner,marketing\r\n"
    "m-1,lead,山田 太郎,アクメ商事,yamada@acme.example.jp,03-1234-5678;090-1111-2222,u1,true\r\n"
    "m-2,lead,佐藤 花子,アクメ商事,sato@acme.example.jp,090-3333-4444,u1,false\r\n"
    "m-3,lead,壊れた 行,アクメ商事,bad@acme.example.jp,12,u1,true\r\n"
    "m-4,contact,Smith,アクメ商事,smith@acme.example.com,,u2,yes\r\n"
)
MOBILE = "+819011112222"


@dataclass
class Msg:
    gw: Gateway
    client: httpx.AsyncClient
    org: SendOrg
    redis_url: str
    twilio: TwilioApi
    smtp: SmtpServer
    sms_tid: str
    email_tid: str

    def path(self, rest: str) -> str:
        return f"/api/v1/orgs/{self.org.id}{rest}"

    async def get(self, rest: str) -> Any:
        r = await self.client.get(self.path(rest), headers=self.gw.admin)
        assert r.status_code == 200, r.text
        return r.json()


@pytest.fixture
async def msg(
    client: httpx.AsyncClient,
    gateway: Gateway,
    redis_server: RedisServer,
    procs: Processes,
    twilio_api: TwilioApi,
    smtp_server: SmtpServer,
) -> AsyncIterator[Msg]:
    start_workers(procs, redis_server, gateway, twilio_api, smtp_server)
    org = await provision_sending_org(client, gateway, twilio_api)
    await make_admin(client, org.ctx)
    await buy(client, org, 50)
    sms_tid = await sms_template(client, org, "{{ contact.name }}様、ご予約を承りました。")
    email_tid = await email_template(client, org, "アクメ商事のお客様へ", "<p>{{ event }}のご案内です。</p>")
    yield Msg(gateway, client, org, redis_server.url, twilio_api, smtp_server, sms_tid, email_tid)


async def seed_views(m: Msg, remind_at: datetime) -> None:
    """A reminder and a suppressed address, as the API and a hard bounce leave them."""
    r = await m.client.post(
        m.path("/reminders"),
        json={
            "id": "rem-1",
            "user": "u1",
            "activity": "call",
            "title": "折り返し電話",
            "remind_at": remind_at.isoformat(),
        },
        headers=m.gw.admin,
    )
    assert r.status_code == 202, r.text
    redis = Redis.from_url(m.redis_url, decode_responses=True)
    try:
        await Suppressions(redis).add(m.org.id, "gone@acme.example.jp", "smtp_550", "2026-01-05T01:00:00Z")
    finally:
        await redis.aclose()


async def import_csv(page: Page, m: Msg) -> None:
    await open_admin(page, "contacts")
    upload: FilePayload = {"name": "contacts.csv", "mimeType": "text/csv", "buffer": CSV.encode()}
    await page.locator("#import-file").set_input_files(files=[upload])
    await page.locator("#import-form button[type='submit']").click()
    await page.locator("#import-table").wait_for()
    statuses = {
        row: await page.locator(f"#import-table tr[data-row='{row}']").get_attribute("data-status")
        for row in (1, 2, 3, 4)
    }
    assert statuses == {1: "created", 2: "created", 3: "error", 4: "created"}
    assert "電話番号" in await page.locator("#import-table tr[data-row='3']").inner_text()
    # The list reloads: the Japanese name as imported, found by search.
    await page.locator("#contacts-q").fill("yamada@acme")
    await page.locator("#contacts-search button[type='submit']").click()
    await page.locator("#contacts-table tr[data-contact='m-1']").wait_for()
    # m-1 is also in the list before the search: wait until the rows of that list are gone.
    await page.locator("#contacts-table tbody tr").nth(1).wait_for(state="detached")
    assert "山田 太郎" in await page.locator("#contacts-table").inner_text()
    assert await page.locator("#contacts-table tbody tr").count() == 1


async def build_segment_and_send(page: Page, m: Msg) -> None:
    await open_admin(page, "segments")
    await page.locator("#segment-new").click()
    await page.locator("#segment-name").fill("アクメ商事の皆様")
    await page.locator("#segment-id").fill("acme")
    await page.locator("#match-0-kind").select_option("company")
    await page.locator("#match-0-value").fill("アクメ商事")
    await page.locator("#segment-form button[type='submit']").click()
    members = page.locator("#segment-members-table tbody tr")
    await page.locator("#segment-members-table").wait_for()
    assert sorted([str(await r.get_attribute("data-contact")) for r in await members.all()]) == ["m-1", "m-2", "m-4"]
    assert (await m.get("/segments/acme"))["match"] == {"company": "アクメ商事"}

    await page.locator("#segments-table tr[data-segment='acme'] [data-action='send']").click()
    await page.locator("#segment-send-template").select_option(m.email_tid)
    # The template reads {{ event }}: the mass mail's merge data rows give every member the value.
    await page.locator("#segment-send-data-0-name").fill("event")
    await page.locator("#segment-send-data-0-value").fill("新製品発表会")
    await page.locator("#segment-send button[type='submit']").click()
    await page.locator("#segment-send-progress[data-finished='true']").wait_for(timeout=30_000 * FACTOR)
    assert "3 / 3" in await page.locator("#segment-send-text").inner_text()
    assert await page.locator("#segment-send-bar").get_attribute("value") == "100"
    await wait_for(lambda: _mails(m, 2), timeout=20 * FACTOR, interval=0.1)
    sent_to = sorted(str(env.rcpt_tos[0]) for env, _ in m.smtp.recorder.messages)
    assert sent_to == ["smith@acme.example.com", "yamada@acme.example.jp"]  # not sato (no consent)
    for _, mail in m.smtp.recorder.messages:
        body = mail.get_body(("html", "plain"))
        assert body is not None and "新製品発表会のご案内です。" in body.get_content()


async def _mails(m: Msg, n: int) -> bool:
    return len(m.smtp.recorder.messages) >= n


async def sms_notification_and_trigger(page: Page, m: Msg) -> None:
    await open_admin(page, "sms-notifications")
    await page.locator("#smsn-new").click()
    await page.locator("#smsn-name").fill("予約確認SMS")
    await page.locator("#smsn-id").fill("booking")
    await page.locator("#smsn-module").fill("deals")
    await page.locator("#smsn-phone-field").select_option("mobile")
    assert await page.locator("#smsn-template").input_value() == m.sms_tid
    await page.locator("#smsn-form button[type='submit']").click()
    row = page.locator("#smsn-table tr[data-smsn='booking']")
    await row.wait_for()
    # The module is fixed after creation: disabled when editing.
    await row.locator("[data-action='edit']").click()
    assert await page.locator("#smsn-module").is_disabled()
    await page.locator("#smsn-form .text-button").click()

    await row.locator("[data-action='trigger']").click()
    await page.locator("#trigger-q").fill("アクメ")
    await page.locator("#trigger-search").click()
    await page.locator("#trigger-found li[data-found='m-1'] button").click()
    await page.locator("#trigger-send").click()
    result = page.locator("#trigger-table tr[data-contact='m-1']")
    await result.wait_for()
    assert await result.get_attribute("data-result") == "sent"
    sent = await wait_for(lambda: m.twilio.created_to(MOBILE) or None, timeout=20 * FACTOR, interval=0.1)
    assert len(sent) == 1 and "山田 太郎様" in sent[0]["body"]
    assert [x["to"] for x in m.twilio.created] == [MOBILE]  # not the landline

    # For the segment (m-1 and m-2 have a mobile, m-4 none): one result per member, 2 sent, 1 skipped.
    text = await trigger_for_segment(page, m, {"m-1": "sent", "m-2": "sent", "m-4": "no_phone_in_field"})
    assert "指定した種類の電話番号がありません。" in text, text
    assert sorted(x["to"] for x in m.twilio.created) == sorted([MOBILE, MOBILE, "+819033334444"])


async def trigger_for_segment(page: Page, m: Msg, results: dict[str, str]) -> str:
    """Trigger the open SMS notification for segment ``acme`` (a few members): answered at once,
    one result per member (contact → ``sent`` or the reason). → the counts line and the skipped rows."""
    await page.locator("#trigger-target-segment").check()
    await page.locator("#trigger-segment").select_option("acme")
    await page.locator("#trigger-send").click()
    rows = page.locator("#trigger-table tbody tr")
    for contact in results:  # the table of an earlier trigger may still show until this answer
        await page.locator(f"#trigger-table tr[data-contact='{contact}']").wait_for()
    shown = {
        str(await r.get_attribute("data-contact")): str(await r.get_attribute("data-result")) for r in await rows.all()
    }
    assert shown == results
    skipped = page.locator("#trigger-table tr[data-result='no_phone_in_field']")
    return f"{await page.locator('#trigger-counts').inner_text()}\n{await skipped.inner_text()}"


async def trigger_for_big_segment(page: Page, m: Msg) -> str:
    """Over 1,000 members (1,000 without a phone, m-1 with a mobile): the trigger is a segment send;
    its progress reaches finished at 100 %, then its per-member results show (a page of them).
    → the progress line and the first skipped row."""
    bulk = [{"id": f"b-{i:04d}", "name": f"会員{i}", "fields": {"tier": "bulk"}} for i in range(1000)]
    r = await m.client.post(m.path("/contacts:import"), json={"contacts": bulk}, headers=m.gw.admin)
    assert r.status_code == 200 and r.json()["created"] == 1000, r.text[:300]
    r = await m.client.put(m.path("/contacts/m-1"), json={"fields": {"tier": "bulk"}}, headers=m.gw.admin)
    assert r.status_code == 200, r.text
    r = await m.client.put(m.path("/segments/bulk"), json={"match": {"fields.tier": "bulk"}}, headers=m.gw.admin)
    assert r.status_code == 201, r.text
    await open_admin(page, "segments")  # away and back: the trigger form lists the segments it loaded
    await page.locator("#segments-table tr[data-segment='bulk']").wait_for()
    await open_admin(page, "sms-notifications")
    await page.locator("#smsn-table tr[data-smsn='booking'] [data-action='trigger']").click()
    await page.locator("#trigger-target-segment").check()
    await page.locator("#trigger-segment").select_option("bulk")
    await page.locator("#trigger-send").click()
    await page.locator("#trigger-fanout-progress[data-finished='true']").wait_for(timeout=30_000 * FACTOR)
    assert await page.locator("#trigger-fanout-bar").get_attribute("value") == "100"
    rows = page.locator("#trigger-fanout-results-table tbody tr")
    await rows.first.wait_for()
    assert await rows.count() == 25  # a page of the 1,001
    assert await rows.first.get_attribute("data-contact") == "b-0000"
    assert await rows.first.get_attribute("data-result") == "no_phone_in_field"
    # Each row names its contact (from the results API), with the id as secondary text.
    assert await rows.first.locator("[data-contact-name]").inner_text() == "会員0"
    assert await rows.first.locator("[data-contact-id]").inner_text() == "b-0000"
    return f"{await page.locator('#trigger-fanout-text').inner_text()}\n{await rows.first.inner_text()}"


async def create_rule(page: Page, m: Msg) -> None:
    await open_admin(page, "rules")
    await page.locator("#rule-new").click()
    await page.locator("#rule-name").fill("不在着信フォロー")
    await page.locator("#rule-id").fill("missed")
    await page.locator("#rule-on").select_option("call.missed")
    await page.locator("#rule-unread").fill("10")
    await page.locator("#rule-to").select_option("owner")
    await page.locator("#rule-form button[type='submit']").click()
    await page.locator("#rules-table tr[data-rule='missed']").wait_for()
    rule = await m.get("/rules/missed")
    assert (rule["on"], rule["unread_for"], rule["enabled"]) == ("call.missed", 600, True)
    assert rule["action"] == {"channel": "sms", "template": m.sms_tid, "to": "owner"}


async def version_and_dlt(page: Page, m: Msg, lang: str) -> None:
    await open_admin(page, "templates")
    row = page.locator(f"#templates-table tr[data-template='{m.sms_tid}']")
    await row.locator("[data-action='edit']").click()
    await page.locator("#tpl-body").fill("{{ contact.name }}様、ご予約ありがとうございます。")
    await page.locator("#sms-preview-facts[data-encoding='UCS-2']").wait_for()
    await page.locator("#tpl-save-submit").click()
    await page.locator("#template-form").wait_for(state="detached")
    await row.locator("[data-status='pending']").wait_for()
    chips = await row.locator(".admin-chips").inner_text()
    assert "v1" in chips and "v2" in chips, chips
    await row.locator("[data-action='versions']").click()
    await page.locator("#template-versions-table tr[data-version='2'][data-status='pending']").wait_for()
    assert await page.locator("#template-versions-table tr[data-version='1']").get_attribute("data-live") == "true"
    await check_view(page, "admin-templates-versions", lang)
    await row.locator("[data-action='dlt']").click()
    # The copy of the version being registered (v2, pending) first; the live one on request.
    text = page.locator("#template-dlt [data-version='2'] #template-dlt-text")
    await text.wait_for()
    assert await text.input_value() == "{#var#}様、ご予約ありがとうございます。"
    assert await text.get_attribute("readonly") is not None
    await page.locator("#template-dlt-version").select_option("1")
    live = page.locator("#template-dlt [data-version='1'] #template-dlt-text")
    await live.wait_for()
    assert await live.input_value() == "{#var#}様、ご予約を承りました。"  # the live (approved) version


async def reschedule_and_cancel(page: Page, m: Msg) -> None:
    await open_admin(page, "reminders")
    row = page.locator("#reminders-table tr[data-reminder='rem-1']")
    await row.locator("[data-action='reschedule']").click()
    await page.locator("#reminder-rem-1-at").fill("2030-04-01T09:30")
    await row.locator("form button[type='submit']").click()
    await page.locator("#reminders-status-text:has-text('2030')").wait_for()
    # 09:30 on the org's wall clock (Asia/Tokyo), sent with its offset: 00:30 UTC.
    stored = (await m.get("/reminders/rem-1"))["remind_at"]
    assert datetime.fromisoformat(stored) == datetime(2030, 4, 1, 0, 30, tzinfo=UTC), stored
    await row.locator("[data-action='cancel']").click()
    await row.locator("[data-confirm='yes']").click()
    await page.locator("#reminders-table tr[data-reminder='rem-1'][data-status='cancelled']").wait_for()
    assert (await m.get("/reminders/rem-1"))["status"] == "cancelled"


async def remove_suppression(page: Page, m: Msg) -> None:
    await open_admin(page, "suppressions")
    row = page.locator("#suppressions-table tr[data-address='gone@acme.example.jp']")
    await row.locator("[data-action='remove']").click()
    await row.locator("[data-confirm='yes']").click()
    await page.locator("#suppressions-none").wait_for()
    assert (await m.get("/suppressions"))["suppressions"] == []


async def test_admin_runs_messaging_from_the_console(browser: Browser, msg: Msg) -> None:
    """The whole flow in Japanese, with each view's screenshots and axe (ja)."""
    await seed_views(msg, datetime.now(tz=UTC) + timedelta(days=2))
    page = await signed_in_page(browser, msg.gw, msg.org.ctx, "ja")
    await import_csv(page, msg)
    await check_view(page, "admin-contacts", "ja")
    await build_segment_and_send(page, msg)
    await check_view(page, "admin-segments", "ja")
    await sms_notification_and_trigger(page, msg)
    await check_view(page, "admin-sms-notifications", "ja")
    await create_rule(page, msg)
    await check_view(page, "admin-rules", "ja")
    await version_and_dlt(page, msg, "ja")
    await open_admin(page, "reminders")
    await check_view(page, "admin-reminders", "ja")
    await reschedule_and_cancel(page, msg)
    await open_admin(page, "suppressions")
    await check_view(page, "admin-suppressions", "ja")
    await remove_suppression(page, msg)
    # Credits show today's top-ups beside the auto-recharge cap.
    await open_admin(page, "credits")
    assert "0 / 10" in await page.locator("#credits-today").inner_text()


async def test_admin_messaging_views_in_english_and_the_phone_menu(browser: Browser, msg: Msg) -> None:
    """Each view in English with data in it (screenshots + axe), an API error in English where the
    admin acted, and the admin menu as a grouped select at phone width."""
    m = msg
    tokyo = ZoneInfo("Asia/Tokyo")
    await seed_views(m, datetime(2030, 5, 1, 10, 0, tzinfo=tokyo))
    r = await m.client.post(m.path("/contacts:import"), content=CSV.encode(),
                            headers={**m.gw.admin, "content-type": "text/csv"})  # fmt: skip
    assert r.status_code == 200, r.text
    for rest, body in (
        ("/segments/acme", {"name": "Acme", "match": {"company": "アクメ商事", "marketing": True}}),
        ("/sms-notifications/booking",
         {"name": "Booking", "module": "deals", "phone_field": "any", "template": m.sms_tid}),
        ("/rules/missed", {"on": "call.missed", "action": {"channel": "sms", "template": m.sms_tid, "to": "contact"},
                           "enabled": False, "name": "Missed call"}),
    ):  # fmt: skip
        r = await m.client.put(m.path(rest), json=body, headers=m.gw.admin)
        assert r.status_code == 201, r.text
    page = await signed_in_page(browser, m.gw, m.org.ctx, "en")

    await open_admin(page, "contacts")
    await page.locator("#contacts-table").wait_for()
    await page.locator("#import-text").fill("id,phone\nx-1,12\n")
    await page.locator("#import-form button[type='submit']").click()
    assert "Error" in await page.locator("#import-table tr[data-row='1']").inner_text()
    await check_view(page, "admin-contacts", "en")

    await open_admin(page, "segments")
    await page.locator("#segments-table tr[data-segment='acme'] [data-action='members']").click()
    await page.locator("#segment-members-table").wait_for()
    assert await page.locator("#segment-members-table tbody tr").count() == 2  # m-1, m-4 (consent)
    await check_view(page, "admin-segments", "en")

    await open_admin(page, "sms-notifications")
    await page.locator("#smsn-table tr[data-smsn='booking'] [data-action='edit']").click()
    assert await page.locator("#smsn-module").is_disabled()
    # A module without an approved template: the API's refusal, in English, in the form.
    await page.locator("#smsn-form .text-button").click()
    await page.locator("#smsn-new").click()
    await page.locator("#smsn-name").fill("Lead follow-up")
    await page.locator("#smsn-module").fill("leads")
    await page.locator("#smsn-form button[type='submit']").click()
    alert = page.locator("#smsn-form-error")
    await alert.wait_for()
    assert await alert.get_attribute("data-code") in ("invalid_field", "template_not_approved")
    assert await alert.locator("span").first.inner_text() in (
        "A value is not valid.",
        "That is not an approved SMS template (pick an approved template of this module).",
    )
    # Triggered for a segment with one member with a mobile (m-1) and one without any phone (m-4).
    await page.locator("#smsn-table tr[data-smsn='booking'] [data-action='trigger']").click()
    text = await trigger_for_segment(page, m, {"m-1": "sent", "m-4": "no_phone_in_field"})
    assert "No phone number of that type." in text, text
    assert [x["to"] for x in m.twilio.created] == [MOBILE]  # exactly one message
    await check_view(page, "admin-sms-notifications", "en")
    # Over 1,000 members: a segment send with its progress and paged results.
    text = await trigger_for_big_segment(page, m)
    assert text.startswith("Done: 1 of 1 sent · 1,000 skipped (no phone number)\n"), text
    assert "Skipped" in text and "No phone number of that type." in text, text
    sent = await wait_for(lambda: len(m.twilio.created) == 2 or None, timeout=20 * FACTOR, interval=0.1)
    assert sent and [x["to"] for x in m.twilio.created] == [MOBILE, MOBILE]

    await open_admin(page, "rules")
    row = page.locator("#rules-table tr[data-rule='missed']")
    assert "Off" in await row.inner_text() and "Missed call" in await row.inner_text()
    # A bad escalation time is said at its field, before anything is sent.
    await page.locator("#rule-new").click()
    await page.locator("#rule-unread").fill("ten")
    await page.locator("#rule-form button[type='submit']").click()
    assert "positive number" in await page.locator("#rule-unread-error").inner_text()
    await page.locator("#rule-form .text-button").click()
    await check_view(page, "admin-rules", "en")

    await open_admin(page, "reminders")
    at = page.locator("#reminders-table tr[data-reminder='rem-1'] td[data-remind-at]")
    assert "2030" in await at.inner_text()
    await page.locator("#reminders-status").select_option("cancelled")
    await page.locator("#reminders-none").wait_for()
    await page.locator("#reminders-status").select_option("")
    await check_view(page, "admin-reminders", "en")

    await open_admin(page, "suppressions")
    await page.locator("#suppressions-table").wait_for()
    await check_view(page, "admin-suppressions", "en")

    await open_admin(page, "templates")
    # Draft version of the approved template, saved without submitting.
    row = page.locator(f"#templates-table tr[data-template='{m.sms_tid}']")
    await row.locator("[data-action='edit']").click()
    await page.locator("#tpl-body").fill("Hello {{ contact.name }}, see you soon.")
    facts = page.locator("#sms-preview-facts[data-encoding='GSM-7']")
    await facts.wait_for()
    assert await facts.get_attribute("data-segments") == "1"
    await page.locator("#tpl-save").click()
    await row.locator("[data-status='draft']").wait_for()
    await row.locator("[data-action='versions']").click()
    await page.locator("#template-versions-table tr[data-version='2'][data-status='draft']").wait_for()
    await check_view(page, "admin-templates-versions", "en")

    # At phone width the menu is one grouped select; choosing a view goes there.
    await page.set_viewport_size({"width": 390, "height": 900})
    menu = page.locator("#admin-nav-select")
    assert await menu.is_visible()
    assert await page.locator(".admin-nav ul").is_hidden()
    assert await menu.locator("optgroup[label='Messaging'] option").count() == 8
    await menu.select_option("segments")
    await page.locator("#admin-segments").wait_for()


async def test_sender_registration_for_an_in_org_and_nothing_for_a_member(
    browser: Browser, client: httpx.AsyncClient, gateway: Gateway
) -> None:
    """An IN org's admin reads what is registered and what is missing (read-only, ja and en); a
    member has no console, and the API refuses the member's token on the new endpoints."""
    org = await provision_org(client, gateway, "snd-in")
    r = await client.put(
        f"/api/v1/orgs/{org.id}",
        json={"country": "IN", "timezone": "Asia/Kolkata",
              "sender": {"sender_id": "ACMEIN", "entity_id": "1201159100000000001", "operator": "jio"},
              "profile": {"legal_name": "Acme India Pvt Ltd"}},
        headers=gateway.admin,
    )  # fmt: skip
    assert r.status_code == 200, r.text
    await make_admin(client, org)
    for lang in ("ja", "en"):
        page = await signed_in_page(browser, gateway, org, lang)
        await open_admin(page, "sender")
        await page.locator("#sender-table").wait_for()
        assert await page.locator("#sender-table tr[data-field='sender.sender_id'][data-missing='false']").count() == 1
        assert "ACMEIN" in await page.locator("#sender-table").inner_text()
        missing = await page.locator("#sender-missing li").evaluate_all("els => els.map(e => e.dataset.missing)")
        assert "sender.entity_name" in missing and "profile.city" in missing and "sender.sender_id" not in missing
        assert await page.locator("#admin-sender input, #admin-sender button").count() == 0  # read-only
        await check_view(page, "admin-sender", lang)
        await page.context.close()

    member = await signed_in_page(browser, gateway, org, "ja", user="u2")
    assert await member.locator("#admin-link").count() == 0
    await member.goto(f"{gateway.base_url}/#/admin/contacts")
    await member.wait_for_timeout(300)
    assert await member.locator("#admin-contacts").count() == 0
    headers = org.user_headers("u2")
    for path in ("/contacts", "/segments", "/suppressions", "/sms-notifications", "/rules", "/reminders"):
        r = await client.get(f"/api/v1/orgs/{org.id}{path}", headers=headers)
        assert r.status_code == 403, (path, r.text)
