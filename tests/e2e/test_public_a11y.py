"""Citizen pages in Chromium on small phones, with the keyboard and with larger text: a form opens at its
outcome, errors take focus, the 问政务君 panel acts like a dialog, text follows the reader's font size."""

import math
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.e2e.conftest import SCREENSHOTS, open_chat_widget

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
SMALL_PHONE = {"width": 360, "height": 640}


def seed_server(session) -> None:
    from baishitong.enterprise import service as enterprise
    from baishitong.knowledge import service as kb
    from baishitong.points import service as points

    kb.load_demo(session)
    points.load_demo(session)
    enterprise.load_demo(session)


@pytest.fixture
def phone(browser):
    context = browser.new_context(locale="zh-CN", viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    yield context.new_page()
    context.close()


IN_VIEW = """(sel) => { const r = document.querySelector(sel).getBoundingClientRect(); return r.top >= 0 && r.top < innerHeight - 40; }"""
FOCUSED = "() => { const a = document.activeElement; return a === document.body ? 'body' : (a.id || a.className); }"


def test_booking_errors_take_focus_and_each_leads_to_its_field(server, phone):
    page = phone
    page.goto(server + "/points/ZX-RG/book")
    page.fill("#f-phone", "123")
    page.click("button:has-text('确认预约')")
    page.wait_for_selector("#error-summary")
    assert page.evaluate(FOCUSED) == "error-summary" and page.evaluate(IN_VIEW, "#error-summary")
    assert page.locator("#error-summary a").all_inner_texts() == ["预约时段：请选择预约时段", "姓名：请填写姓名", "手机号码：请填写 11 位手机号码，预约确认和提醒以短信发送"]
    page.click("#error-summary a:has-text('手机号码')")
    assert page.evaluate(FOCUSED) == "f-phone" and page.evaluate(IN_VIEW, "#f-phone")


def test_submit_errors_take_focus_and_lead_to_their_fields(server, phone):
    page = phone
    page.goto(server + "/submit")
    page.fill("#f-content", "路灯不亮了好几天")
    page.click("button:has-text('提交反映')")
    page.wait_for_selector("#error-summary")
    assert page.evaluate(FOCUSED) == "error-summary" and page.evaluate(IN_VIEW, "#error-summary")
    assert "请选择事发地所在镇街" in page.inner_text("#error-summary")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    assert page.evaluate(FOCUSED) == "f-town" and page.evaluate(IN_VIEW, "#f-town")


@pytest.mark.parametrize(
    "path, fill, button, landing",
    [
        ("/track", {"#f-number": "SD000000000000", "#f-phone": "13800138000"}, "查询", "#results .alert-warning"),
        ("/points", {"#f-near": "火星基地"}, "查找网点", "#results .alert-warning"),
        ("/points", {"#f-near": "容桂高黎社区"}, "查找网点", "#point-results"),
        ("/booking", {"#f-number": "YY000000000000", "#f-phone": "13800138000"}, "查询", "#results .alert-warning"),
    ],
    ids=["track-not-found", "points-unknown-place", "points-found", "booking-not-found"],
)
def test_a_search_opens_the_page_at_its_outcome(server, phone, path, fill, button, landing):
    page = phone
    page.goto(server + path)
    for selector, value in fill.items():
        page.fill(selector, value)
    page.click(f"main button:has-text('{button}')")
    page.wait_for_selector(landing)
    # The browser scrolls to the #fragment after the page has loaded, a moment after the element exists.
    page.wait_for_function(f"(sel) => scrollY > 0 && ({IN_VIEW})(sel)", arg=landing, timeout=5_000)
    assert page.evaluate(FOCUSED) == "results", "a screen reader continues from the outcome"


def book_and_look_up(page, server: str, phone_number: str) -> None:
    """Books the first free slot at 容桂 and opens that booking on 预约查询."""
    page.goto(server + "/points/ZX-RG/book")
    page.locator(".slot-grid label:not(.full)").first.click()
    page.fill("#f-name", "陈先生")
    page.fill("#f-phone", phone_number)
    page.click("button:has-text('确认预约')")
    number = page.inner_text("#booking-number").strip()
    page.goto(server + "/booking?number=" + number)
    page.fill("#f-phone", phone_number)
    page.click("main button:has-text('查询')")
    page.wait_for_selector("#booking-result")


def test_the_confirmation_pages_open_with_their_heading(server, phone):
    """After 提交反映 or 确认预约 a screen reader lands on a page whose one heading says it went through."""
    page = phone
    page.goto(server + "/submit")
    page.check("input[name=type][value=投诉]")
    page.fill("#f-content", "容桂街道高黎社区桂洲大道东路段路灯连续一周不亮。")
    page.select_option("#f-town", "440606006")
    page.wait_for_function("document.querySelector('#f-community optgroup') === null")
    page.select_option("#f-community", index=1)
    page.fill("#f-phone", "13800138003")
    page.check("#f-consent")
    with page.expect_navigation():
        page.click("button:has-text('提交反映')")
    assert page.locator("h1").all_inner_texts() == ["您的诉求已受理"]
    page.goto(server + "/points/ZX-RG/book")
    page.locator(".slot-grid label:not(.full)").first.click()
    page.fill("#f-name", "陈先生")
    page.fill("#f-phone", "13800138004")
    with page.expect_navigation():
        page.click("button:has-text('确认预约')")
    assert page.locator("h1").all_inner_texts() == ["预约成功"]


def test_booking_look_up_then_other_times_open_at_the_reschedule_card(server, phone):
    page = phone
    book_and_look_up(page, server, "13800138001")
    page.wait_for_function(IN_VIEW, arg="#booking-result", timeout=5_000)
    page.select_option("#f-date", index=1)
    page.click("button:has-text('查看时段')")
    page.wait_for_selector("#reschedule .slot-grid")
    page.wait_for_function(IN_VIEW, arg="#reschedule", timeout=5_000)
    assert page.evaluate(FOCUSED) == "reschedule", "a screen reader goes on from the new times, not from the top"


def test_the_reschedule_day_is_picked_from_a_field_as_large_as_the_others(server, phone):
    """改约's day list was a 36 px grey box beside its label, unlike every other field and hard to hit on a phone."""
    page = phone
    book_and_look_up(page, server, "13800138005")
    day, number = page.locator("#f-date").bounding_box(), page.locator("#f-number").bounding_box()
    assert day["height"] >= 44 and day["height"] == number["height"] and day["width"] == number["width"]
    assert page.evaluate("document.querySelector('#f-date').labels[0].textContent.trim()") == "新日期"


def test_reschedule_and_cancel_move_focus_to_their_outcome(server, phone):
    page = phone
    page.on("dialog", lambda dialog: dialog.accept())  # 确定取消该预约吗？
    book_and_look_up(page, server, "13800138002")
    page.select_option("#f-date", index=1)
    page.click("button:has-text('查看时段')")
    page.locator("#reschedule .slot-grid label:not(.full)").first.click()
    page.click("button:has-text('确认改约')")
    page.wait_for_selector("#results .alert-success:has-text('已改约到')")
    page.wait_for_function(IN_VIEW, arg="#results", timeout=5_000)
    assert page.evaluate(FOCUSED) == "results", "a screen reader goes on from 已改约到"
    page.click("button:has-text('取消预约')")
    page.wait_for_selector("#results .alert-success:has-text('预约已取消')")
    page.wait_for_function(IN_VIEW, arg="#results", timeout=5_000)
    assert page.evaluate(FOCUSED) == "results", "a screen reader goes on from 预约已取消"


def test_enterprise_errors_take_focus_and_each_leads_to_its_field(server, phone):
    page = phone
    page.goto(server + "/enterprise")
    page.select_option("#f-industry", index=1)
    page.fill("#f-year", "18")
    page.click("main button:has-text('查找适合的政策')")
    page.wait_for_selector("#error-summary")
    assert page.evaluate(FOCUSED) == "error-summary" and page.evaluate(IN_VIEW, "#error-summary")
    links = page.locator("#error-summary a").all_inner_texts()
    assert [t.split("：")[0] for t in links] == ["企业规模", "所在镇街", "成立年份"], links
    page.click("#error-summary a:has-text('成立年份')")
    assert page.evaluate(FOCUSED) == "f-year" and page.evaluate(IN_VIEW, "#f-year")


def test_a_refused_alert_phone_takes_the_focus_with_its_reason(server, phone):
    """新政策提醒 takes mobiles only, which the browser cannot know: the refusal must be heard, not only seen."""
    page = phone
    page.goto(server + "/enterprise?industry=appliances&size=small&town=440606005&year=2019")
    page.fill("#alert-signup input[name=phone]", "0757-22223333")
    page.click("#alert-signup button:has-text('订阅提醒')")
    page.wait_for_selector("#alert-signup .error-text")
    assert page.evaluate(FOCUSED) == "alert-signup" and page.evaluate(IN_VIEW, "#alert-signup .error-text")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('#alert-signup') !== null && document.activeElement.name") == "phone"
    assert page.input_value("#alert-signup input[name=phone]") == "0757-22223333"
    described = page.evaluate("document.activeElement.getAttribute('aria-describedby').split(' ').map(i => document.getElementById(i).textContent).join(' ')")
    assert "手机号码" in described and page.evaluate(IN_VIEW, "#alert-signup input[name=phone]")


# --- 问政务君 panel -------------------------------------------------------------


def test_chat_panel_opens_and_closes_like_a_dialog_with_the_keyboard(server, phone):
    page = phone
    page.goto(server + "/")
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    page.focus(".chat-fab")
    page.keyboard.press("Enter")
    page.wait_for_selector("#chat-panel [role=dialog]")
    assert page.get_attribute(".chat-fab", "aria-expanded") == "true"
    assert page.evaluate("document.activeElement.matches('#chat-panel [role=dialog][aria-labelledby] textarea')"), "focus lands in the question box, inside the named dialog"
    page.keyboard.type("社保卡")
    assert page.input_value("#chat-panel-log-question") == "社保卡", "the citizen types at once"
    assert page.locator("#chat-panel[aria-live], #chat-panel [aria-live]").count() == 1, "one live region: the log"
    assert page.evaluate(FONT_PX, "#chat-panel-log-question") >= 16, "the question box is as legible as the form fields"
    page.keyboard.press("Tab")
    page.keyboard.press("Escape")
    assert page.locator("#chat-panel > *").count() == 0
    assert page.evaluate("document.activeElement.matches('.chat-fab')") and page.get_attribute(".chat-fab", "aria-expanded") == "false"
    page.keyboard.press("Enter")
    page.wait_for_selector("#chat-panel [role=dialog]")
    page.click(".chat-panel-close")
    assert page.locator("#chat-panel > *").count() == 0 and page.evaluate("document.activeElement.matches('.chat-fab')")
    open_chat_widget(page)
    page.wait_for_selector("#chat-panel [role=dialog]")
    page.click(".chat-fab")
    assert page.locator("#chat-panel > *").count() == 0, "the button again closes the panel"


def test_a_next_question_or_a_rating_chosen_from_the_keyboard_keeps_the_focus_in_the_chat_panel(server, phone):
    page = phone
    page.goto(server + "/")
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    page.focus(".chat-fab")
    page.keyboard.press("Enter")
    page.wait_for_selector("#chat-panel-log-question:focus")
    page.keyboard.type("社保卡丢了怎么补办")
    page.keyboard.press("Enter")
    page.wait_for_selector("#chat-panel-log-follow-ups button.chip")
    page.focus("#chat-panel-log-follow-ups button.chip >> nth=0")
    page.keyboard.press("Enter")
    page.wait_for_function("document.querySelectorAll('#chat-panel-log .msg-bot').length === 2")
    page.wait_for_timeout(100)
    assert page.evaluate("document.activeElement === [...document.querySelectorAll('#chat-panel-log .msg-bot')].pop()"), "on to the answer the question brought, not back to the top of the page"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('.msg-bot') === [...document.querySelectorAll('#chat-panel-log .msg-bot')].pop()"), "Tab goes on through that answer"
    page.focus(".msg-bot:last-child .msg-rate button >> nth=0")
    page.keyboard.press("Enter")
    page.wait_for_selector(".msg-bot:last-child .msg-rated")
    assert page.evaluate("document.activeElement.matches('#chat-panel .msg-rated')"), "the thanks takes the place of the buttons, and the focus"
    page.keyboard.press("Escape")
    assert page.locator("#chat-panel > *").count() == 0 and page.evaluate("document.activeElement.matches('.chat-fab')"), "Esc still closes the panel"


ANSWER_START_SHOWN = """() => {
  const box = document.querySelector('.chat-panel-body').getBoundingClientRect();
  const question = [...document.querySelectorAll('#chat-panel-log .msg-user')].pop().getBoundingClientRect();
  const answer = [...document.querySelectorAll('#chat-panel-log .msg-bot')].pop().querySelector('.pre-line').getBoundingClientRect();
  return [question.top >= box.top - 1, answer.top + 24 <= box.bottom];
}"""


@pytest.mark.parametrize("viewport", [PHONE, SMALL_PHONE], ids=["390x844", "360x640"])
def test_chat_panel_shows_the_question_and_the_start_of_a_long_answer(server, browser, viewport):
    context = browser.new_context(locale="zh-CN", viewport=viewport, device_scale_factor=2, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(server + "/")
    open_chat_widget(page)
    page.wait_for_selector("#chat-panel-log-question")
    for count, question in enumerate(("社保卡丢了怎么补办？", "公积金租房提取需要什么材料？"), 1):
        page.fill("#chat-panel-log-question", question)
        page.click("#chat-panel-log-question ~ button[type=submit]")
        page.wait_for_function(f"document.querySelectorAll('#chat-panel-log .msg-bot').length >= {count}")
        page.wait_for_timeout(100)
        assert page.evaluate(ANSWER_START_SHOWN) == [True, True], question
    scrolled = page.evaluate("[document.querySelector('.chat-panel-body').scrollTop, scrollY]")
    assert scrolled[0] > 0 and scrolled[1] == page.evaluate("document.documentElement.scrollHeight - innerHeight"), "the page itself did not move"
    page.screenshot(path=str(SCREENSHOTS / f"a11y-chat-answer-{viewport['width']}.png"))
    context.close()


# --- larger text ------------------------------------------------------------------

LARGER_TEXT = "html { font-size: 125% !important; }"  # what a reader's 125% font-size setting does to rem
FONT_PX = "(sel) => parseFloat(getComputedStyle(document.querySelector(sel)).fontSize)"
SMALLEST_TEXT = """(sel) => Math.min(...[...document.querySelectorAll(sel)].filter(e => e.getClientRects().length).map(e => parseFloat(getComputedStyle(e).fontSize)))"""
OVERFLOW = """() => [...document.querySelectorAll('body *')].filter(e => { const r = e.getBoundingClientRect();
  return r.width && r.right > innerWidth + 1 && !e.closest('.site-nav ul, .steps, .chat-fab, .chat-panel'); }).map(e => e.tagName + '.' + e.className).slice(0, 5)"""


@pytest.mark.parametrize("path, small", [
    ("/points/ZX-RG/book", ".day-picker small, .slot-grid small, .help, .breadcrumb"),
    ("/points?near=容桂高黎社区", ".point-facts, .badge, .tag, .help"),
    ("/submit", ".help, .label, .choice"),
    ("/track", ".help, .breadcrumb"),
    ("/", ".tile-desc, .gov-strip, .chat-fab, .footer-bottom"),
    ("/enterprise?industry=appliances&size=small&town=440606005&year=2019", ".offer-meta, .reason, .badge"),
], ids=["book", "points", "submit", "track", "home", "enterprise"])
def test_text_follows_a_larger_font_setting_at_360_px(server, browser, path, small):
    context = browser.new_context(locale="zh-CN", viewport=SMALL_PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(server + path)
    at_default = page.evaluate(SMALLEST_TEXT, small)
    assert math.isfinite(at_default), f"none of {small} on {path}"
    assert at_default >= 13, f"small print on {path} is {at_default}px"
    page.add_style_tag(content=LARGER_TEXT)
    assert page.evaluate(FONT_PX, "body") == 20
    if page.locator("main input:not([type=hidden]):not([type=checkbox]):not([type=radio])").count():
        assert page.evaluate(FONT_PX, "main input:not([type=hidden]):not([type=checkbox]):not([type=radio])") == 20
    assert page.evaluate(SMALLEST_TEXT, small) >= at_default * 1.25 - 0.5, "small print grows too"
    assert page.evaluate(OVERFLOW) == [] and page.evaluate("document.documentElement.scrollWidth") <= SMALL_PHONE["width"]
    name = re.sub(r"[^a-z]+", "-", urlsplit(path).path).strip("-") or "home"
    page.screenshot(path=str(SCREENSHOTS / f"a11y-125pct-360-{name}.png"), full_page=True)
    context.close()


CONTRAST = """(sel) => {
  const rgb = (c) => c.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const lum = (c) => { const [r, g, b] = rgb(c).map(v => { v /= 255; return v <= .03928 ? v / 12.92 : ((v + .055) / 1.055) ** 2.4; }); return .2126 * r + .7152 * g + .0722 * b; };
  const e = document.querySelector(sel), s = getComputedStyle(e);
  let bg = e; while (getComputedStyle(bg).backgroundColor === 'rgba(0, 0, 0, 0)') bg = bg.parentElement;
  const [a, b] = [lum(s.color), lum(getComputedStyle(bg).backgroundColor)].sort((x, y) => y - x);
  return [(a + .05) / (b + .05), parseFloat(s.opacity)];
}"""


def test_closed_days_and_full_slots_are_still_readable(server, phone):
    page = phone
    page.goto(server + "/points/ZX-RG/book")
    for selector in (".day-picker .closed small", ".day-picker a small", ".day-picker [aria-current] small"):
        if page.locator(selector).count():
            ratio, opacity = page.evaluate(CONTRAST, selector)
            assert ratio >= 4.5 and opacity == 1, selector


# --- 使用我的位置, tap targets ---------------------------------------------------------


def test_my_location_goes_into_the_url_to_about_100_m(server, browser):
    context = browser.new_context(locale="zh-CN", viewport=PHONE, geolocation={"latitude": 22.7712345, "longitude": 113.2512345}, permissions=["geolocation"])
    page = context.new_page()
    page.goto(server + "/points")
    page.click("#geo-button")
    page.wait_for_selector("#point-results")
    query = parse_qs(urlsplit(page.url).query)
    assert (query["lat"], query["lon"]) == (["22.771"], ["113.251"])
    assert urlsplit(page.url).fragment == "results"
    context.close()


SMALL_TARGETS = """(sel) => [...document.querySelectorAll(sel)].map(e => [e, e.getBoundingClientRect()])
  .filter(([e, r]) => r.width && (r.height < 44 || r.width < 44)).map(([e, r]) => `“${e.innerText.trim()}” ${Math.round(r.width)}×${Math.round(r.height)}`)"""


@pytest.mark.parametrize("path", ["/points/ZX-RG", "/points?near=容桂高黎社区", "/track"])
def test_links_in_text_footer_and_breadcrumb_are_44_px(server, phone, path):
    page = phone
    page.goto(server + path)
    links = ".site-footer a, .breadcrumb a, .point-facts a, #point-services .list a, .error-summary a"
    assert page.locator(links).count() > 0
    assert page.evaluate(SMALL_TARGETS, links) == []
