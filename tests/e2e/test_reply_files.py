"""A handler answers with a photo of the repaired lamp; the requester, having proved the phone, sees it on 进度查询."""

import pytest

from tests.attachments.files import png
from tests.e2e.test_action_drafts import signed_ticket
from tests.e2e.test_story import open_action, staff_page

pytestmark = pytest.mark.e2e

CALLER = "13900139111"  # outside signed_ticket's own callers: the citizen proves this phone on 进度查询
REPLY = "您好，路灯控制器已更换，照明已恢复正常，修复后的现场照片见附件。"


def test_a_reply_with_a_photo_is_seen_on_the_citizens_progress_page(server, browser, shot):
    number = signed_ticket(server, CALLER)
    handler = staff_page(browser, server, "ronggui", shot)
    handler.goto(f"{server}/staff/tickets/{number}")
    form = open_action(handler, "reply")
    form.locator("textarea[name=content]").fill(REPLY)
    files = form.locator("input[name=files]")
    # Four photos: the browser says so at once, nothing is sent, and the typed reply stays.
    files.set_input_files([{"name": f"{i}.png", "mimeType": "image/png", "buffer": png()} for i in range(4)])
    form.locator("button[data-action=reply]").click()
    assert files.evaluate("input => input.validationMessage") == "最多上传 3 个附件"
    assert handler.url.endswith(f"/staff/tickets/{number}") and form.locator("textarea[name=content]").input_value() == REPLY
    # Taken with the phone turned: 40×30 pixels that its EXIF orientation (6) says to show turned upright, 30×40.
    turned = png(width=40, height=30, rgb=(30, 160, 60), orientation=6)
    files.set_input_files([{"name": "修复后.png", "mimeType": "image/png", "buffer": turned}])
    with handler.expect_navigation():
        form.locator("button[data-action=reply]").click()
    assert "已答复（附件 1 个）" in handler.inner_text("#flash")
    assert handler.locator("#timeline .reply-files img").evaluate("img => [img.naturalWidth, img.naturalHeight]") == [30, 40]
    shot(handler, "reply-with-photo")

    citizen = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True).new_page()
    citizen.goto(server + "/track")
    citizen.fill("#f-number", number)
    citizen.fill("#f-phone", CALLER)
    with citizen.expect_navigation():
        citizen.click("button:has-text('查询')")
    reply = citizen.locator("#reply")
    assert REPLY in reply.inner_text()
    photo = reply.locator(".reply-files img")
    assert photo.get_attribute("alt") == "答复附件：修复后.png"
    assert photo.evaluate("img => img.complete && [img.naturalWidth, img.naturalHeight]") == [30, 40]
    assert photo.get_attribute("src").startswith("/track/files/")
    shot(citizen, "track-reply-photo")
