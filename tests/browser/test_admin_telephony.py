"""The telephony admin views in real headless Chromium against a gateway whose Twilio is the local
Twilio API: an admin searches and buys a number (Twilio is asked to point its VoiceUrl here),
enables a user for telephony with it as caller ID, makes a group, builds a call flow (say, hours
with a closed branch, ring the group, voicemail), sees the API's validation error on the step it
names, saves, publishes, switches the flow off and on, sees draft vs published differ after an
edit, and is refused the release of the number the live flow answers on (naming the flow). In
Japanese and English, with screenshots and axe at 1280 and 390 px. A member sees none of it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from playwright.async_api import Browser, Dialog, Page

from gateway.devtools.twilio_api import TwilioApi
from tests.browser.conftest import csp_violations, signed_in_page
from tests.browser.test_admin import make_admin, open_admin
from tests.browser.views import check_view
from tests.support.api import call_params, post_twilio
from tests.support.processes import Processes
from tests.support.redis import RedisServer
from tests.support.telephony import Tel, telephony_org
from tests.support.timing import wait_for

NUMBER = "+815011110001"
TEXT = {
    "ja": {
        "bought": f"{NUMBER} を購入しました",
        "saved_user": "の電話設定を保存しました",
        "group": "営業チーム",
        "flow": "代表番号",
        "welcome": "お電話ありがとうございます。",
        "closed": "本日の営業は終了しました。",
        "prompt": "発信音の後にメッセージをどうぞ。",
        "invalid_flow": "着信フローの内容に誤りがあります。",
        "saved": "下書きを保存しました。",
        "published": "v1 を公開しました。",
        "on": "オン",
        "off": "オフ",
        "changed": "変更",
        "differs": "未公開の変更あり",
        "in_use": "解約できません",
    },
    "en": {
        "bought": f"Bought {NUMBER}",
        "saved_user": "Saved the phone settings of",
        "group": "Sales team",
        "flow": "Main line",
        "welcome": "Thank you for calling.",
        "closed": "We are closed for today.",
        "prompt": "Please leave a message after the tone.",
        "invalid_flow": "The call flow has a mistake.",
        "saved": "Draft saved.",
        "published": "Published v1.",
        "on": "On",
        "off": "Off",
        "changed": "Changed",
        "differs": "Unpublished changes",
        "in_use": "cannot be released",
    },
}


@pytest.fixture
async def tel(procs: Processes, redis_server: RedisServer, twilio_api: TwilioApi) -> AsyncIterator[Tel]:
    """A gateway (+ router) whose Twilio is the local Twilio API; an org with an account there, u1 its admin."""
    async with telephony_org(procs, redis_server, twilio_api, "tadm-") as t:
        await make_admin(t.client, t.org)
        yield t


def step(page: Page, path: str) -> Any:
    return page.locator(f"li[data-step='{path}']")


async def add_step(page: Page, kind: str, list_id: str = "top") -> None:
    await page.locator(f"#add-{list_id}-kind").select_option(kind)
    await page.locator(f"#add-{list_id}-button").click()


async def buy_number(page: Page, tel: Tel, lang: str) -> None:
    await page.locator("#numbers-none").wait_for()
    assert await page.locator("#numbers-country").input_value() == "JP"  # the org's country
    await page.locator("#numbers-contains").fill("1111")
    await page.locator("#numbers-search button[type='submit']").click()
    row = page.locator(f"#numbers-available tr[data-available='{NUMBER}']")
    await row.wait_for()
    assert await page.locator("#numbers-available tbody tr").count() == 1  # "contains" reached Twilio
    await row.locator("button[data-action='buy']").click()
    confirm = row.locator("button[data-action='confirm-buy']")
    await confirm.wait_for()
    assert await confirm.evaluate("el => el === document.activeElement")  # the keyboard lands on it
    assert tel.api.requests_to("POST", "/IncomingPhoneNumbers.json") == []  # nothing bought before confirming
    await page.keyboard.press("Enter")
    await page.locator(f"#numbers-table tr[data-number='{NUMBER}']").wait_for()
    assert TEXT[lang]["bought"] in await page.locator("#numbers-bought").inner_text()
    [create] = tel.api.requests_to("POST", "/IncomingPhoneNumbers.json")
    assert create.form["PhoneNumber"] == NUMBER
    assert create.form["VoiceUrl"] == f"{tel.gw.base_url}/webhooks/twilio/{tel.org.id}/voice"
    assert [n["phone_number"] for n in (await tel.get("/numbers"))["numbers"]] == [NUMBER]


async def set_up_user_and_group(page: Page, tel: Tel, lang: str) -> str:
    row = page.locator("#tel-users-table tr[data-user='u1']")
    await row.wait_for()
    await row.locator("input[data-flag='enabled']").check()
    await row.locator("input[data-flag='outbound']").check()
    await row.locator("select[data-field='caller_id']").select_option(NUMBER)
    await row.locator("button[data-action='save-user']").click()
    await page.locator(f"tr[data-user-message='u1'] .admin-ok:has-text('{TEXT[lang]['saved_user']}')").wait_for()
    user = await tel.get("/users/u1")
    assert user["telephony"] == {"enabled": True, "outbound": True, "record_outbound": False, "caller_id": NUMBER}
    assert user["name"] == "佐藤 花子" and user["role"] == "admin"  # the other fields kept

    await page.locator("#group-new").click()
    await page.locator("#group-name").fill(TEXT[lang]["group"])
    await page.locator("#group-form input[data-member='u1']").check()
    await page.locator("#group-form input[data-member='u2']").check()
    await page.locator("#group-form button[type='submit']").click()
    row = page.locator("#groups-table tbody tr[data-group]")
    await row.wait_for()
    group_id = await row.get_attribute("data-group")
    assert group_id
    assert "田中 一郎" in await row.inner_text()
    group = await tel.get(f"/groups/{group_id}")
    assert group["name"] == TEXT[lang]["group"] and group["members"] == ["u1", "u2"]
    return group_id


async def build_flow(page: Page, lang: str, group_id: str) -> None:
    text = TEXT[lang]
    await page.locator("#flow-new").click()
    await page.locator("#admin-flow-editor").wait_for()
    await page.locator("#flow-name").fill(text["flow"])
    assert await page.locator("#flow-number").input_value() == NUMBER
    await add_step(page, "say")
    await page.locator("#step-0-say").fill(text["welcome"])
    await add_step(page, "hours")
    await add_step(page, "say", "1")  # into the hours step's closed branch
    await page.locator("#step-1-0-say").fill(text["closed"])
    await add_step(page, "voicemail")
    await add_step(page, "ring")
    # the ring belongs before the voicemail: move it up by keyboard
    up = step(page, "steps[3]").locator("button[data-move='up']")
    await up.focus()
    await page.keyboard.press("Enter")
    await page.locator("li[data-step='steps[2]'][data-kind='ring']").wait_for()
    assert await page.evaluate("() => document.activeElement.closest('li').dataset.step") == "steps[2]"
    ring = step(page, "steps[2]")
    await ring.locator("label:has(input[data-who='group'])").click()
    await ring.locator("select[data-field='group']").select_option(group_id)
    await ring.locator("select[data-field='strategy']").select_option("sequential")
    vm = step(page, "steps[3]")
    await vm.locator("select[data-field='user']").select_option("u1")
    await vm.locator("textarea[data-field='prompt']").fill(text["prompt"])


@pytest.mark.parametrize("lang", ["ja", "en"])
async def test_admin_buys_a_number_and_builds_a_call_flow(browser: Browser, tel: Tel, lang: str) -> None:
    text = TEXT[lang]
    tel.api.offer_number(NUMBER, kind="Local", locality="東京")
    tel.api.offer_number("+815099990000", kind="Local")
    page = await signed_in_page(browser, tel.gw, tel.org, lang, path="&/admin/numbers")
    await page.locator("#admin-numbers").wait_for()
    await buy_number(page, tel, lang)
    await check_view(page, "admin-numbers", lang)

    await open_admin(page, "telephony-users")
    group_id = await set_up_user_and_group(page, tel, lang)
    await check_view(page, "admin-telephony-users", lang)

    await open_admin(page, "call-flows")
    await page.locator("#flows-none").wait_for()
    await build_flow(page, lang, group_id)

    # The group goes away before the save: the API's 400 names steps[2].ring.group → step 3.
    r = await tel.client.delete(tel.path(f"/groups/{group_id}"), headers=tel.gw.admin)
    assert r.status_code == 204
    await page.locator("#flow-save").click()
    error = step(page, "steps[2]").locator(".admin-error[role='alert']")
    await error.wait_for()
    assert await error.get_attribute("data-code") == "invalid_flow"
    assert text["invalid_flow"] in await error.inner_text() and "steps[2].ring.group" in await error.inner_text()
    assert await step(page, "steps[2]").get_attribute("aria-invalid") == "true"
    assert await page.locator("li.flow-step.is-invalid").count() == 1
    assert await page.evaluate("() => document.activeElement.closest('li')?.dataset.step") == "steps[2]"
    assert (await tel.get("/call-flows"))["flows"] == []
    await check_view(page, "admin-flow-editor-error", lang)  # with the error on its step

    r = await tel.client.put(tel.path(f"/groups/{group_id}"), json={"name": text["group"], "members": ["u1", "u2"]},
                             headers=tel.gw.admin)  # fmt: skip
    assert r.status_code == 201, r.text
    await page.locator("#flow-save").click()
    await page.locator(f"#flow-done:has-text('{text['saved']}')").wait_for()
    assert await page.locator(".flow-step .admin-error").count() == 0
    [flow] = (await tel.get("/call-flows"))["flows"]
    assert [next(iter(s)) for s in flow["draft"]["steps"]] == ["say", "hours", "ring", "voicemail"]
    assert flow["draft"]["steps"][0] == {"say": text["welcome"], "language": "ja-JP" if lang == "ja" else "en-US"}
    assert flow["draft"]["steps"][1]["hours"]["closed"][0]["say"] == text["closed"]
    assert flow["draft"]["steps"][2] == {"ring": {"group": group_id}, "strategy": "sequential", "timeout": 20}
    assert flow["draft"]["steps"][3]["voicemail"]["prompt"] == text["prompt"]
    assert flow["published"] is None and flow["enabled"] is False

    await page.locator("#flow-publish").click()
    await page.locator(f"#flow-done:has-text('{text['published']}')").wait_for()
    assert await page.locator("#flow-compare-table tr.is-changed").count() == 0
    switch = page.locator("#flow-editor-switch")
    for want in (True, False, True):
        await switch.click()
        await page.locator(f"#flow-live .admin-switch:has-text('{text['on' if want else 'off']}')").wait_for()
        assert (await tel.get(f"/call-flows/{flow['id']}"))["enabled"] is want
    live = await tel.get(f"/call-flows/{flow['id']}")
    assert live["version"] == 1 and live["draft_differs"] is False

    # An edit saved as a draft: the comparison marks step 1, the badge says the draft differs.
    await page.locator("#step-0-say").fill(text["welcome"] + "!")
    await page.locator("#flow-save").click()
    changed = page.locator("#flow-compare-table tr[data-row='step-1'][data-change='changed']")
    await changed.wait_for()
    assert text["changed"] in await changed.inner_text()
    assert text["welcome"] + "!" in await changed.inner_text()
    assert await page.locator("#flow-compare-table tr[data-row='step-2']").get_attribute("data-change") == "same"
    assert text["differs"] in await page.locator("#flow-live").inner_text()
    await check_view(page, "admin-flow-editor", lang)  # live switch, draft vs published with a difference
    await page.locator("#flow-back").click()
    row = page.locator(f"#flows-table tr[data-flow='{flow['id']}']")
    await row.wait_for()
    assert text["differs"] in await row.inner_text() and "v1" in await row.inner_text()
    assert await row.get_attribute("data-enabled") == "true"
    await check_view(page, "admin-flows", lang)

    # The live flow answers on the number: releasing it is refused, in the row, naming the flow.
    await open_admin(page, "numbers")
    owned = page.locator(f"#numbers-table tr[data-number='{NUMBER}']")
    await owned.locator("button[data-action='release']").click()
    await owned.locator("button[data-action='confirm-release']").click()
    alert = page.locator(f"tr[data-number-message='{NUMBER}'] .admin-error[role='alert']")
    await alert.wait_for()
    assert await alert.get_attribute("data-code") == "number_in_use"
    assert text["in_use"] in await alert.inner_text()
    await page.locator(
        f"tr[data-number-message='{NUMBER}'] [data-flows-on-number]:has-text('{text['flow']}')"
    ).wait_for()
    assert [n["phone_number"] for n in tel.api.numbers] == [NUMBER]
    assert await csp_violations(page) == []


RELEASING = {"ja": ("解約中", "{n} を解約しました。"), "en": ("Releasing", "Released {n}.")}


@pytest.fixture
async def tel_impatient(procs: Processes, redis_server: RedisServer, twilio_api: TwilioApi) -> AsyncIterator[Tel]:
    """As ``tel``, with a gateway that waits one second for Twilio (so a held answer is no answer)."""
    async with telephony_org(procs, redis_server, twilio_api, "tadr-", SIGNALGATE_TWILIO_TIMEOUT="1") as t:
        await make_admin(t.client, t.org)
        yield t


@pytest.mark.parametrize("lang", ["ja", "en"])
async def test_a_number_whose_release_went_unanswered_shows_releasing_and_finishes_on_a_click(
    browser: Browser, tel_impatient: Tel, lang: str
) -> None:
    """A release Twilio did not answer: the numbers view shows the number with a "releasing" chip
    and a "Finish release" button; the click sends the DELETE again and the number is gone."""
    tel = tel_impatient
    tel.api.offer_number(NUMBER, kind="Local")
    r = await tel.client.post(tel.path("/numbers"), json={"phone_number": NUMBER}, headers=tel.gw.admin)
    assert r.status_code == 201, r.text
    tel.api.hold_next_telephony(5)
    r = await tel.client.delete(tel.path(f"/numbers/{NUMBER}"), headers=tel.gw.admin)
    assert (r.status_code, r.json()["error"]) == (502, "twilio_unavailable"), r.text
    page = await signed_in_page(browser, tel.gw, tel.org, lang, path="&/admin/numbers")
    row = page.locator(f"#numbers-table tr[data-number='{NUMBER}'][data-status='releasing']")
    await row.wait_for()
    chip, released = RELEASING[lang]
    assert await row.locator("[data-chip='releasing']").inner_text() == chip
    assert await row.locator("button[data-action='release']").count() == 0
    await check_view(page, "admin-numbers-releasing", lang)
    await row.locator("button[data-action='finish-release']").click()
    await page.locator("#numbers-none").wait_for()
    assert released.format(n=NUMBER) in await page.locator("#numbers-released").inner_text()
    assert (await tel.get("/numbers"))["numbers"] == []
    assert await csp_violations(page) == []


async def test_switching_on_a_second_flow_on_the_same_number_shows_the_409_in_its_row(
    browser: Browser, tel: Tel
) -> None:
    """Two flows on one number, the first published and on: switching on the second (published)
    shows the API's 409 number_has_flow in that row, in Japanese; the switch stays off. The call
    log marks a missed inbound call as missed."""
    tel.api.offer_number(NUMBER, kind="Local")
    r = await tel.client.post(tel.path("/numbers"), json={"phone_number": NUMBER}, headers=tel.gw.admin)
    assert r.status_code == 201, r.text
    draft = {"name": "", "number": NUMBER, "steps": [{"say": "こんにちは"}, {"hangup": True}]}
    for flow, name, enabled in (("f-a", "一番目", True), ("f-b", "二番目", False)):
        r = await tel.client.put(tel.path(f"/call-flows/{flow}"), json={**draft, "name": name}, headers=tel.gw.admin)
        assert r.status_code == 201, r.text
        r = await tel.client.post(tel.path(f"/call-flows/{flow}/publish"), headers=tel.gw.admin)
        assert r.status_code == 200, r.text
        if enabled:
            r = await tel.client.put(tel.path(f"/call-flows/{flow}"), json={**draft, "name": name, "enabled": True},
                                     headers=tel.gw.admin)  # fmt: skip
            assert r.status_code == 200, r.text
    page = await signed_in_page(browser, tel.gw, tel.org, "ja", path="&/admin/call-flows")
    second = page.locator("#flows-table tr[data-flow='f-b']")
    await second.wait_for()
    await second.locator("input[data-action='switch']").click()
    alert = second.locator(".admin-error[role='alert']")
    await alert.wait_for()
    assert await alert.get_attribute("data-code") == "number_has_flow"
    assert "別の着信フロー" in await alert.inner_text()
    assert not await second.locator("input[data-action='switch']").is_checked()
    assert (await tel.get("/call-flows/f-b"))["enabled"] is False

    r = await post_twilio(tel.client, tel.org, "voice-status", call_params("no-answer"))
    assert r.status_code == 204, r.text

    async def logged() -> bool:
        return bool((await tel.get("/calls"))["calls"])

    await wait_for(logged)
    await open_admin(page, "calls")
    missed = page.locator("#calls-table td[data-missed='true']")
    await missed.wait_for()
    assert await missed.inner_text() == "不在"
    assert "不在着信" in await page.locator("#calls-table thead").inner_text()


TELEPHONY_READS = ("/numbers", "/numbers/available?country=JP", "/groups", "/call-flows", "/users/u1")


async def test_member_sees_no_telephony_admin_and_is_refused(browser: Browser, tel: Tel) -> None:
    """A member opening #/admin/numbers gets no console (and no request to the org API); the API
    refuses the member's token on every telephony endpoint the views use."""
    page = await signed_in_page(browser, tel.gw, tel.org, "ja", user="u2", path="&/admin/numbers")
    calls: list[str] = []
    page.on("request", lambda req: calls.append(req.url) if "/api/v1/orgs/" in req.url else None)
    for view in ("numbers", "telephony-users", "call-flows"):
        await page.evaluate(f"() => {{ location.hash = '#/admin/{view}'; }}")
        await page.wait_for_timeout(300)
        assert await page.locator(".admin-area, .admin-panel, #admin-numbers, #flow-new, #group-new").count() == 0
    assert calls == []
    await page.context.close()

    member = tel.org.user_headers("u2")
    for path in TELEPHONY_READS:
        r = await tel.client.get(tel.path(path), headers=member)
        assert r.status_code == 403, (path, r.status_code, r.text)
    writes = [
        ("POST", "/numbers", {"phone_number": NUMBER}),
        ("DELETE", f"/numbers/{NUMBER}", None),
        ("PUT", "/users/u2", {"telephony": {"enabled": True}}),
        ("PUT", "/groups/g1", {"name": "x", "members": []}),
        ("DELETE", "/groups/g1", None),
        ("PUT", "/call-flows/f1", {"name": "x", "number": NUMBER, "steps": [{"hangup": True}]}),
        ("POST", "/call-flows/f1/publish", None),
    ]
    for method, path, body in writes:
        r = await tel.client.request(method, tel.path(path), json=body, headers=member)
        assert r.status_code == 403, (method, path, r.status_code, r.text)
    assert tel.api.requests_to("POST", "/IncomingPhoneNumbers.json") == []


async def test_admin_adds_a_wait_queue_step(browser: Browser, tel: Tel) -> None:
    """The editor offers the queue step (in Japanese): group, longest wait, hold music; the API's
    400 on a too short wait is shown at the step; the saved draft holds the queue step."""
    tel.api.offer_number(NUMBER, kind="Local")
    r = await tel.client.post(tel.path("/numbers"), json={"phone_number": NUMBER}, headers=tel.gw.admin)
    assert r.status_code == 201, r.text
    r = await tel.client.put(tel.path("/groups/sales"), json={"name": "営業", "members": ["u1", "u2"]},
                             headers=tel.gw.admin)  # fmt: skip
    assert r.status_code == 201, r.text
    page = await signed_in_page(browser, tel.gw, tel.org, "ja", path="&/admin/call-flows")
    await page.locator("#flows-none").wait_for()
    await page.locator("#flow-new").click()
    await page.locator("#admin-flow-editor").wait_for()
    await page.locator("#flow-name").fill("待ち行列")
    assert "待ち行列（保留）" in await page.locator("#add-top-kind option[value='queue']").inner_text()
    await add_step(page, "queue")
    queue = page.locator("li[data-step='steps[0]'][data-kind='queue']")
    await queue.wait_for()
    await queue.locator("select[data-field='group']").select_option("sales")
    await queue.locator("input[data-field='max_wait']").fill("5")
    await queue.locator("input[data-field='hold_music']").fill("https://music.example.jp/hold.mp3")
    whisper = queue.locator("input[data-field='whisper']")
    assert "1を押す前" in await queue.locator(f"label[for='{await whisper.get_attribute('id')}']").inner_text()
    await whisper.fill("営業部へのお電話です。1を押してください。")

    # Unsaved: leaving for another admin view asks first (in Japanese); "stay" keeps the editor as it was.
    asked: list[tuple[str, str]] = []

    async def stay(dialog: Dialog) -> None:
        asked.append((dialog.type, dialog.message))
        await dialog.dismiss()

    page.on("dialog", stay)
    await page.locator("#flow-unsaved").wait_for()
    await page.locator(".admin-nav a[href='#/admin/numbers']").click()
    await wait_for(lambda: asked, timeout=5)
    assert asked == [("confirm", "保存していない変更があります。移動すると変更は失われます。よろしいですか？")]
    assert await page.locator("#admin-numbers").count() == 0
    assert page.url.endswith("#/admin/call-flows")
    assert await queue.locator("input[data-field='max_wait']").input_value() == "5"
    unload = (
        "() => { const e = new Event('beforeunload', {cancelable: true});"
        " window.dispatchEvent(e); return e.defaultPrevented; }"
    )
    assert await page.evaluate(unload) is True  # closing the tab asks too

    await page.locator("#flow-save").click()
    error = step(page, "steps[0]").locator(".admin-error[role='alert']")
    await error.wait_for()
    assert "steps[0].queue.max_wait" in await error.inner_text()
    await check_view(page, "admin-flow-editor-queue", "ja")

    await queue.locator("input[data-field='max_wait']").fill("90")
    await page.locator("#flow-save").click()
    await page.locator(f"#flow-done:has-text('{TEXT['ja']['saved']}')").wait_for()
    [flow] = (await tel.get("/call-flows"))["flows"]
    assert flow["draft"]["steps"] == [
        {
            "queue": {
                "group": "sales",
                "hold_music": "https://music.example.jp/hold.mp3",
                "max_wait": 90,
                "timeout": 20,
                "whisper": "営業部へのお電話です。1を押してください。",
                "language": "ja-JP",
            }
        }
    ]
    # Saved: nothing to lose; an edit discarded (asked once more) is the saved draft again.
    await page.locator("#flow-unsaved").wait_for(state="detached")
    await queue.locator("input[data-field='max_wait']").fill("91")
    await page.locator("#flow-discard").click()
    await page.locator(".flow-save [data-confirm='yes']").click()
    await page.locator("#flow-unsaved").wait_for(state="detached")
    assert await queue.locator("input[data-field='max_wait']").input_value() == "90"
    assert await page.evaluate(unload) is False
    await open_admin(page, "numbers")
    assert len(asked) == 1
    assert await csp_violations(page) == []
