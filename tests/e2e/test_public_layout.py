"""Citizen pages on small phones: the 问政务君 button leaves the page readable, and everything tappable is big enough."""

import httpx
import pytest

from tests.e2e.conftest import open_chat_widget

pytestmark = pytest.mark.e2e

PHONES = [{"width": 390, "height": 844}, {"width": 360, "height": 640}]
MIN_TAP = 44
# Every checkbox and radio label too, however it is styled (.choice, .checkbox, .slot-grid label, ...); a result's
# title in a list, the header's 12345 (tap to call) and its logo.
TAPPABLE = ".btn, .chip, .choice, a.tag, .pagination a, .day-picker a, .slot-grid label, .chat-fab, .chat-panel-close, .chat-panel-full, label:has(> input[type=checkbox]), label:has(> input[type=radio]), .list-title, .gov-strip a, .brand"

# Everything the button would hide: each line of text (per line, from Range.getClientRects) and each
# link, button or field whose box lies under it.
COVERED_BY_FAB = """() => {
  const fab = document.querySelector('.chat-fab').getBoundingClientRect();
  const under = [];
  const hit = (r) => r.width && r.height && r.right > fab.left && r.left < fab.right && r.bottom > fab.top && r.top < fab.bottom;
  const ignored = (e) => e.closest('.chat-fab, .chat-panel, style, script');
  for (const e of document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea')) {
    if (!ignored(e) && hit(e.getBoundingClientRect())) under.push(`<${e.tagName.toLowerCase()}> ${e.textContent.trim()}`);
  }
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.textContent.trim() || ignored(node.parentElement)) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    for (const r of range.getClientRects()) {
      if (hit(r)) under.push(node.textContent.trim());
    }
  }
  return under;
}"""

# Whether a citizen can see the button at all (app.js fades it out rather than moving it).
FAB_SHOWN = """() => {
  const fab = document.querySelector('.chat-fab');
  const style = getComputedStyle(fab), r = fab.getBoundingClientRect();
  return style.visibility === 'visible' && parseFloat(style.opacity) > 0 && r.bottom > 0 && r.top < innerHeight;
}"""

# Jump there and return once the browser has drawn it (scroll events are handled before that frame).
SCROLL_TO = "(y) => new Promise(done => { window.scrollTo(0, y); requestAnimationFrame(() => requestAnimationFrame(done)); })"
AT_REST_MS = 400

SMALL_TARGETS = """(selector) => [...document.querySelectorAll(selector)]
  .map(e => [e, e.getBoundingClientRect()])
  .filter(([e, r]) => r.width && r.height && (r.height < %d || r.width < %d))
  .map(([e, r]) => `${e.className} “${e.innerText.trim()}” ${Math.round(r.width)}×${Math.round(r.height)}`)""" % (MIN_TAP, MIN_TAP)


def seed_server(session) -> None:
    from baishitong.enterprise import service as enterprise
    from baishitong.knowledge import service as kb
    from baishitong.points import service as points

    kb.load_demo(session)
    points.load_demo(session)
    enterprise.load_demo(session)


def phone_page(browser, viewport):
    context = browser.new_context(locale="zh-CN", viewport=viewport, device_scale_factor=2, is_mobile=True, has_touch=True)
    return context, context.new_page()


@pytest.mark.parametrize("viewport", PHONES, ids=lambda v: f"{v['width']}x{v['height']}")
@pytest.mark.parametrize("path", ["/", "/kb/KB001", "/items/GA001", "/points"])
def test_chat_button_covers_no_text_at_the_end_of_the_page(server, browser, viewport, path):
    context, page = phone_page(browser, viewport)
    page.goto(server + path)
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    fab = page.locator(".chat-fab").bounding_box()
    assert fab["width"] * fab["height"] <= 64 * 64, "on a phone the button is the compact round one"
    assert page.evaluate(COVERED_BY_FAB) == []
    footer_end = page.locator(".footer-bottom").bounding_box()
    assert footer_end["y"] + footer_end["height"] <= fab["y"]
    context.close()


@pytest.mark.parametrize("viewport", PHONES, ids=lambda v: f"{v['width']}x{v['height']}")
@pytest.mark.parametrize("path", ["/", "/items", "/items/GA001", "/kb/KB001"])
def test_chat_button_never_covers_content_while_scrolling(server, browser, viewport, path):
    """Down the page and back up in steps: while it moves and once it rests, a shown button has nothing under it."""
    context, page = phone_page(browser, viewport)
    page.goto(server + path)
    end = page.evaluate("document.documentElement.scrollHeight - innerHeight")
    stops = [*range(0, end, viewport["height"] // 2), end]
    for y in stops + stops[-2::-1]:
        page.evaluate(SCROLL_TO, y)
        assert not page.evaluate(FAB_SHOWN) or page.evaluate(COVERED_BY_FAB) == [], f"scrolling, at {y}px"
        page.wait_for_timeout(AT_REST_MS)
        assert not page.evaluate(FAB_SHOWN) or page.evaluate(COVERED_BY_FAB) == [], f"at rest, at {y}px"
        if y == end:
            page.wait_for_function(FAB_SHOWN)  # at the end of the page the button is back
    context.close()


def test_chat_button_tucked_away_still_shows_for_the_keyboard_and_without_javascript(server, browser):
    context, page = phone_page(browser, PHONES[1])
    page.goto(server + "/")
    page.evaluate(SCROLL_TO, 300)
    page.wait_for_timeout(AT_REST_MS)
    assert page.locator(".chat-fab.is-tucked").count() == 1, "mid-page on the home page it would cover the tiles"
    page.focus(".chat-fab")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.matches('.chat-fab')") and page.evaluate(FAB_SHOWN)
    context.close()
    context = browser.new_context(locale="zh-CN", viewport=PHONES[1], java_script_enabled=False)
    page = context.new_page()
    page.goto(server + "/")
    page.evaluate("window.scrollTo(0, 300)")
    assert page.evaluate(FAB_SHOWN), "a plain link to /assistant"
    context.close()


@pytest.mark.parametrize(
    "path",
    ["/", "/kb/KB001", "/kb?q=社保", "/items", "/items/GA001", "/points?near=容桂高黎社区&service=GA001", "/points/ZX-RG/book", "/submit", "/track", "/booking", "/assistant", "/enterprise", "/staff/login"],
)
def test_public_tap_targets_are_at_least_44_px(server, browser, path):
    context, page = phone_page(browser, PHONES[0])
    page.goto(server + path)
    assert page.locator(TAPPABLE).count() > 0
    assert page.evaluate(SMALL_TARGETS, TAPPABLE) == []
    context.close()


def test_open_chat_panel_controls_are_44_px_and_above_the_nav(server, browser):
    context, page = phone_page(browser, PHONES[1])
    page.goto(server + "/")
    open_chat_widget(page)
    page.wait_for_selector("#chat-panel .chat-panel-close")
    assert page.evaluate(SMALL_TARGETS, "#chat-panel " + TAPPABLE.replace(", ", ", #chat-panel ")) == []
    head = page.locator(".chat-panel-head").bounding_box()
    topmost = page.evaluate("([x, y]) => document.elementFromPoint(x, y).closest('.chat-panel') !== null", [head["x"] + 20, head["y"] + head["height"] / 2])
    assert topmost, "the panel's header is not hidden under the sticky nav"
    context.close()


@pytest.mark.parametrize("path", ["/kb", "/items"])
def test_a_long_unbroken_search_query_wraps_in_the_results_heading_on_a_phone(server, browser, path):
    context, page = phone_page(browser, PHONES[1])
    page.goto(server + path + "?q=" + "a" * 120)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONES[1]["width"]
    context.close()



def test_a_pasted_link_the_points_search_cannot_place_wraps_in_its_warning_on_a_phone(server, browser):
    """A map link pasted as the address is quoted in 未能识别位置: it wraps there instead of widening the page."""
    context, page = phone_page(browser, PHONES[1])
    page.goto(server + "/points?near=https://surl.amap.com/" + "a" * 80)
    assert page.locator("#results .alert-warning").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONES[1]["width"]
    context.close()

# The lines each “预计 … 前” date of the 办理时限 table is drawn on: the distinct tops of its characters.
DUE_DATE_LINES = r"""() => [...document.querySelectorAll('td .muted')].map(e => {
  const tops = new Set(), walker = document.createTreeWalker(e, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (let i = 0; i < node.length; i++) {
      if (!/[\d:-]/.test(node.textContent[i])) continue;
      const range = document.createRange();
      range.setStart(node, i);
      range.setEnd(node, i + 1);
      tops.add(Math.round(range.getBoundingClientRect().top));
    }
  }
  return tops.size;
})"""


def test_the_deadlines_after_submitting_keep_each_date_on_one_line(server, browser):
    """A date broken as 2026-12- / 28 08:30 is hard to read: on a small phone it moves to the next line whole."""
    number = httpx.post(server + "/api/v1/tickets", json={"type": "投诉", "content": "容桂街道高黎社区桂洲大道东路灯不亮。", "requester": {"phone": "13800138222"}}).json()["number"]
    for viewport in PHONES:
        context, page = phone_page(browser, viewport)
        page.goto(f"{server}/submit/done/{number}")
        lines = page.evaluate(DUE_DATE_LINES)
        assert lines and all(n == 1 for n in lines), (viewport, lines)
        context.close()


# Each date on a page, as the distinct lines its characters are drawn on.
DATE_LINES = r"""(selector) => [...document.querySelectorAll(selector)].flatMap(e => {
  const found = [], walker = document.createTreeWalker(e, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (const m of node.textContent.matchAll(/\d{4}年\d{1,2}月\d{1,2}日/g)) {
      const range = document.createRange();
      range.setStart(node, m.index);
      range.setEnd(node, m.index + m[0].length);
      found.push([m[0], new Set([...range.getClientRects()].filter(r => r.width).map(r => Math.round(r.top))).size]);
    }
  }
  return found;
})"""


@pytest.mark.parametrize("path", ["/enterprise", "/enterprise?industry=appliances&size=small&town=440606005&year=2019"], ids=["all", "matched"])
def test_the_application_window_of_a_policy_keeps_each_date_on_one_line(server, browser, path):
    """申报时间 2026年12月3日 至 2026年12月\\n31日 on a phone: the end of the window is what an enterprise reads it for."""
    for viewport in PHONES:
        context, page = phone_page(browser, viewport)
        page.goto(server + path)
        dates = page.evaluate(DATE_LINES, ".offer-meta")
        assert dates and [d for d, lines in dates if lines != 1] == [], viewport
        context.close()
