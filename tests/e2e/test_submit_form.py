"""我要反映 on a phone: what the citizen has put in is not lost to a stray tap or a refused upload."""

import pytest

from baishitong.config import Settings

pytestmark = pytest.mark.e2e

PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c63f8cfc0f00f0004850180848a8c210000000049454e44ae426082")


def test_too_many_or_too_large_photos_are_refused_before_anything_is_sent(server, browser, tmp_path):
    """On a phone's data four photos, or one too large, were uploaded in full only to be refused, and the form came
    back asking for them all again."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    posts = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    page.goto(server + "/submit")
    small = tmp_path / "路灯.png"
    small.write_bytes(PNG)
    page.set_input_files("#f-photos", [small] * 4)
    assert page.evaluate("document.querySelector('#f-photos').validationMessage") == "最多上传 3 张照片"
    max_mb = Settings().upload_max_bytes // (1024 * 1024)
    large = tmp_path / "现场.png"
    large.write_bytes(PNG + b"\0" * (max_mb * 1024 * 1024))
    page.set_input_files("#f-photos", [small, large])
    assert page.evaluate("document.querySelector('#f-photos').validationMessage") == f"照片“现场.png”超过 {max_mb} MB，请压缩后再上传"
    page.fill("#f-content", "桂洲大道中段路灯坏了一个星期，晚上很黑")
    page.click("button:has-text('提交反映')")
    page.wait_for_timeout(300)
    assert posts == [] and page.url == server + "/submit", "nothing was uploaded"
    page.set_input_files("#f-photos", [small])
    assert page.evaluate("document.querySelector('#f-photos').validationMessage") == ""
    context.close()


def test_cancel_asks_before_dropping_what_was_typed(server, browser):
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    asked = []

    def answer(dialog):
        asked.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", answer)
    page.goto(server + "/submit")
    page.fill("#f-content", "桂洲大道中段路灯坏了一个星期，晚上很黑")
    page.click("a:has-text('取消')")
    assert asked == ["已填写的内容还没有提交，确定放弃吗？"]
    assert page.url == server + "/submit" and page.input_value("#f-content") == "桂洲大道中段路灯坏了一个星期，晚上很黑"
    page.fill("#f-content", "")
    with page.expect_navigation():
        page.click("a:has-text('取消')")
    assert len(asked) == 1 and page.url == server + "/", "nothing typed, nothing to ask"
    context.close()


def test_with_photos_chosen_a_missing_field_is_pointed_out_before_they_are_sent(server, browser, tmp_path):
    """Photos sent with 同意 unticked (or no phone) were uploaded in full, refused, and had to be chosen again."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    posts = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    page.goto(server + "/submit")
    photo = tmp_path / "路灯.png"
    photo.write_bytes(PNG)
    page.set_input_files("#f-photos", [photo])
    page.fill("#f-content", "桂洲大道中段路灯坏了一个星期，晚上很黑")
    page.select_option("#f-town", index=1)
    page.click("button:has-text('提交反映')")
    page.wait_for_timeout(300)
    assert posts == [] and page.evaluate("document.activeElement.id") == "f-phone"
    assert page.evaluate("document.querySelector('#f-phone').validationMessage") == "请填写联系电话"
    page.fill("#f-phone", "13800138000")
    page.click("button:has-text('提交反映')")
    page.wait_for_timeout(300)
    assert posts == [] and page.evaluate("document.activeElement.id") == "f-consent"
    assert page.evaluate("document.querySelector('#f-consent').validationMessage") == "请阅读并同意个人信息保护说明"
    page.check("#f-consent")
    with page.expect_navigation():
        page.click("button:has-text('提交反映')")
    assert "/submit/done/" in page.url and len(posts) == 1, "sent once, photo and all"
    context.close()


def test_without_photos_the_form_is_sent_and_the_server_lists_what_is_missing(server, browser):
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(server + "/submit")
    with page.expect_navigation():
        page.click("button:has-text('提交反映')")
    summary = page.inner_text("#error-summary")
    assert "请填写联系电话" in summary and "请阅读并同意个人信息保护说明" in summary
    context.close()


def test_with_photos_chosen_a_wrongly_written_phone_is_pointed_out_in_the_servers_words(server, browser, tmp_path):
    """A phone one digit short still uploaded the photos, only for the form to come back refusing the number."""
    from baishitong.tickets.validation import normalise_phone

    with pytest.raises(ValueError) as refused:
        normalise_phone("1380013800")
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    posts = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    photo = tmp_path / "路灯.png"
    photo.write_bytes(PNG)

    def fill_in(phone: str) -> None:
        page.goto(server + "/submit")
        page.set_input_files("#f-photos", [photo])
        page.fill("#f-content", "桂洲大道中段路灯坏了一个星期，晚上很黑")
        page.select_option("#f-town", index=1)
        page.check("#f-consent")
        page.fill("#f-phone", phone)

    fill_in("1380013800")
    for wrong in ("1380013800", "138001380001", "12345678", "0757-123"):
        page.fill("#f-phone", wrong)
        page.click("button:has-text('提交反映')")
        page.wait_for_timeout(200)
        assert posts == [] and page.evaluate("document.activeElement.id") == "f-phone", wrong
        assert page.evaluate("document.querySelector('#f-phone').validationMessage") == str(refused.value), wrong
    page.fill("#f-phone", "13800138000")
    assert page.evaluate("document.querySelector('#f-phone').validationMessage") == "", "typing again clears it"
    # What the server takes goes out at once, photo and all: a landline with its area code, a mobile in full width.
    for phone in ("（０７５７）２２３３４４５５", "＋８６ １３８－００１３－８０００"):
        fill_in(phone)
        with page.expect_navigation():
            page.click("button:has-text('提交反映')")
        assert "/submit/done/" in page.url and len(posts) == 1, phone
        posts.clear()
    context.close()
