"""The pages under their Content-Security-Policy: what used to be inline script still works from app.js."""

from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import expect


def seed_server(session) -> None:
    from baishitong.knowledge import service as kb
    from baishitong.points import service as points

    kb.load_demo(session)
    points.load_demo(session)


def test_location_search_and_the_assistant_work_with_no_inline_script_allowed(server, browser):
    context = browser.new_context(bypass_csp=False, locale="zh-CN", viewport={"width": 390, "height": 844}, geolocation={"latitude": 22.7712345, "longitude": 113.2512345}, permissions=["geolocation"])
    page = context.new_page()
    refused = []
    page.on("console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None)
    page.goto(server + "/points")
    page.click("#geo-button")
    page.wait_for_selector("#point-results")
    assert parse_qs(urlsplit(page.url).query)["lat"] == ["22.771"]
    page.goto(server + "/assistant")
    page.fill("#chat-log-question", "社保卡丢了怎么补办？")
    page.click(".chat-input button[type=submit]")
    page.wait_for_selector("#chat-log .msg-bot")
    expect(page.locator("#chat-log-question")).to_have_value("")  # sent, so the box is cleared for the next question
    assert refused == []
    context.close()
