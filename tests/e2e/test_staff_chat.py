"""在线咨询 in headless Chromium, the operator's side: the citizen's messages are appended to the live log,
never redrawn, so a screen reader reads out just the new one; the operator's own reply is appended once."""

import httpx
import pytest

from baishitong.web.assistant import SESSION_COOKIE
from tests.e2e.conftest import PASSWORD, open_chat_widget
from tests.e2e.test_story import staff_page

pytestmark = pytest.mark.e2e


def test_the_operators_log_appends_new_messages_instead_of_redrawing(server, browser, shot):
    asked = httpx.post(server + "/api/v1/assistant/ask", json={"question": "我家楼下的狗天天半夜叫"}).json()
    session_id = asked["session_id"]
    assert httpx.post(f"{server}/api/v1/assistant/sessions/{session_id}/handover").status_code == 200
    page = staff_page(browser, server, "operator1", shot)
    page.goto(f"{server}/staff/chat/{session_id}")
    page.evaluate("window.shown = [document.getElementById('staff-chat-log'), ...document.querySelectorAll('#staff-chat-log .msg')]")
    before = page.locator("#staff-chat-log .msg").count()

    page.fill("#f-text", "您好，请问在哪个小区？")
    page.click("button[data-action=reply]")
    page.wait_for_selector("#chat-status >> text=服务中")
    assert page.locator("#f-text").input_value() == "", "the form is cleared once the reply is sent"
    # Sent from the keyboard, the focus is back in the box for the next message (Ctrl+Enter presses 发送).
    page.fill("#f-text", "请留下门牌号")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("#staff-chat-log >> text=请留下门牌号")
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'f-text'", timeout=5_000)

    citizen = httpx.post(server + "/api/v1/assistant/ask", json={"question": "容桂的高黎社区", "session_id": session_id})
    assert citizen.status_code == 200
    page.wait_for_function("() => [...document.querySelectorAll('#staff-chat-log .msg')].some(m => m.textContent.includes('高黎社区'))", timeout=12_000)
    page.wait_for_timeout(5_500)  # one more poll: nothing new, nothing added
    kept = page.evaluate("window.shown.every(el => el.isConnected) && window.shown[0] === document.getElementById('staff-chat-log')")
    assert kept, "the log and the messages already shown were redrawn"
    texts = page.locator("#staff-chat-log .msg").all_inner_texts()
    # The operator's two replies and the citizen's message, each once; 政务君 adds nothing while a person chats.
    assert len(texts) == before + 3 and sum("请问在哪个小区" in t for t in texts) == 1 and "高黎社区" in texts[-1]
    page.context.close()


def test_a_refused_reply_keeps_the_typed_text_and_says_why(server, browser, shot):
    """The operator types a long answer while a colleague takes the conversation: 发送 is refused (409), the
    page says who has it, and the answer is still in the box to copy, not wiped as if it had been sent. At the
    next poll the box gives way to who serves the citizen, and the answer moves to 您未发送的回复 with it."""
    session_id = httpx.post(server + "/api/v1/assistant/ask", json={"question": "我家楼下的狗天天半夜叫"}).json()["session_id"]
    httpx.post(f"{server}/api/v1/assistant/sessions/{session_id}/handover")
    page = staff_page(browser, server, "operator1", shot)
    page.goto(f"{server}/staff/chat/{session_id}")
    page.fill("#f-text", "   ")  # spaces pass the browser's required check; the server refuses them
    page.click("button[data-action=reply]")
    page.wait_for_selector("#chat-notice >> text=请输入回复内容")
    assert page.locator("#f-text").input_value() == "   "

    page.reload()  # the poll's 5 s start again: the colleague's reply is not noticed before 发送
    colleague = httpx.post(server + "/api/v1/auth/token", json={"username": "supervisor", "password": PASSWORD}).json()["access_token"]
    taken = httpx.post(f"{server}/api/v1/assistant/sessions/{session_id}/reply", json={"text": "您好，我来处理"}, headers={"Authorization": f"Bearer {colleague}"})
    assert taken.status_code == 200
    answer = "您好，夜间犬吠可以向所在社区居委会反映，我这边也可以帮您登记工单。"
    page.fill("#f-text", answer)
    page.click("button[data-action=reply]")
    page.wait_for_selector("#chat-notice >> text=该会话已由 督办员 罗建华 接入，您的回复未发送")
    assert page.locator("#f-text").input_value() == answer
    assert page.locator("#staff-chat-log .msg", has_text=answer).count() == 0
    shot(page, "staff-chat-refused-reply")

    page.wait_for_selector("#chat-readonly >> text=由 督办员 罗建华 接待中", timeout=12_000)
    assert page.locator("#f-text").count() == 0 and page.locator("button[data-action=reply]").count() == 0
    assert page.locator("#f-unsent").input_value() == answer
    page.context.close()


def test_the_reply_box_gives_way_when_a_colleague_takes_the_conversation(server, browser, shot):
    """Two operators have the same waiting conversation open; the colleague answers first. The other's page,
    without a reload, says who serves the citizen and offers no box whose reply would be refused."""
    session_id = httpx.post(server + "/api/v1/assistant/ask", json={"question": "小区门口的垃圾三天没人清"}).json()["session_id"]
    httpx.post(f"{server}/api/v1/assistant/sessions/{session_id}/handover")
    page = staff_page(browser, server, "operator1", shot)
    page.goto(f"{server}/staff/chat/{session_id}")
    assert page.locator("#f-text").count() == 1
    colleague = staff_page(browser, server, "supervisor", shot)
    colleague.goto(f"{server}/staff/chat/{session_id}")
    colleague.fill("#f-text", "您好，我来处理")
    colleague.click("button[data-action=reply]")
    colleague.wait_for_selector("#chat-status >> text=服务中")
    colleague.context.close()

    page.wait_for_selector("#chat-readonly >> text=由 督办员 罗建华 接待中，您只能查看本会话，不能回复。", timeout=12_000)
    page.wait_for_selector("#staff-chat-log >> text=您好，我来处理")
    assert page.locator("#f-text").count() == 0 and "服务中（督办员 罗建华）" in page.inner_text("#chat-status")
    page.context.close()


def served_by_operator1(citizen, log: str, server, browser, shot):
    """The citizen asks for a person in the chat `log` shown on their page; operator1 answers and so serves them.
    Returns operator1's page on that conversation, and the conversation's id."""
    citizen.fill(f"#{log}-question", "容桂街道高黎社区路灯坏了一个星期，我要找人工客服")
    citizen.keyboard.press("Enter")
    citizen.wait_for_selector(f"#{log}-status >> text=已为您转接人工客服")
    session_id = next(c["value"] for c in citizen.context.cookies() if c["name"] == SESSION_COOKIE)
    operator = staff_page(browser, server, "operator1", shot)
    operator.goto(f"{server}/staff/chat/{session_id}")
    operator.fill("#f-text", "您好，请问路灯具体在哪个位置？")
    operator.click("button[data-action=reply]")
    operator.wait_for_selector("#chat-status >> text=服务中")
    return operator, session_id


def test_a_citizen_who_reloads_the_chat_is_back_for_the_operator(server, browser, shot):
    """The citizen reloads /assistant while the operator serves them: the reload sends the leave beacon, but the
    page is back at once, and the operator reads 市民已回到对话 instead of being told to stop waiting."""
    citizen = browser.new_context(locale="zh-CN").new_page()
    citizen.goto(server + "/assistant")
    operator, _ = served_by_operator1(citizen, "chat-log", server, browser, shot)

    citizen.reload()
    citizen.wait_for_selector("#chat-log >> text=请问路灯具体在哪个位置")
    operator.wait_for_selector("#staff-chat-log .msg-system >> text=市民已回到对话", timeout=15_000)
    operator.wait_for_function("() => !document.getElementById('chat-status').textContent.includes('不必再等')", timeout=12_000)
    assert "市民已离开对话" in operator.inner_text("#staff-chat-log"), "the reload's beacon, kept in the transcript"
    assert "市民已" not in citizen.inner_text("#chat-log")
    citizen.context.close()
    operator.context.close()


def test_the_operator_sees_the_citizen_leave_come_back_and_end_the_chat(server, browser, shot):
    """The citizen closes the 问政务君 widget while the operator serves them: the operator's log reads 市民已离开对话
    (sent by a beacon as the widget closes) and the note says not to wait; the citizen opens it again, reads the
    reply sent meanwhile and writes on; 结束对话 then tells the operator the citizen ended it. A colleague opening
    the conversation reads who serves it instead of a reply box."""
    citizen = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}).new_page()
    citizen.goto(server + "/")
    open_chat_widget(citizen)
    citizen.wait_for_selector("#chat-panel-log-question")
    operator, session_id = served_by_operator1(citizen, "chat-panel-log", server, browser, shot)
    citizen.wait_for_selector("#chat-panel-log >> text=请问路灯具体在哪个位置", timeout=12_000)

    citizen.click(".chat-panel-close")
    operator.wait_for_selector("#staff-chat-log .msg-system >> text=市民已离开对话", timeout=12_000)
    operator.wait_for_selector("#chat-status >> text=不必再等其回复")
    shot(operator, "staff-chat-citizen-left")

    colleague = staff_page(browser, server, "supervisor", shot)
    colleague.goto(f"{server}/staff/chat/{session_id}")
    assert colleague.locator("#f-text").count() == 0
    assert "由 话务员 黄小燕 接待中" in colleague.inner_text("#chat-readonly")
    colleague.context.close()

    operator.fill("#f-text", "您回来后告诉我位置就行")
    operator.click("button[data-action=reply]")
    operator.wait_for_selector("#staff-chat-log >> text=您回来后告诉我位置就行")
    open_chat_widget(citizen)
    citizen.wait_for_selector("#chat-panel-log >> text=您回来后告诉我位置就行")
    assert "市民已离开对话" not in citizen.inner_text("#chat-panel")
    citizen.fill("#chat-panel-log-question", "在高黎市场门口")
    citizen.keyboard.press("Enter")
    operator.wait_for_selector("#staff-chat-log >> text=在高黎市场门口", timeout=12_000)
    operator.wait_for_function("() => !document.getElementById('chat-status').textContent.includes('不必再等')", timeout=12_000)

    citizen.click("#chat-panel button[data-action=end-chat]")
    citizen.wait_for_selector("#chat-panel-log >> text=您已结束人工服务")
    shot(citizen, "citizen-chat-ended")
    operator.wait_for_selector("#staff-chat-log .msg-system >> text=市民已结束对话", timeout=12_000)
    operator.wait_for_selector("#chat-status >> text=市民已结束对话，本会话已交还政务君")
    citizen.context.close()
    operator.context.close()
