"""在线咨询: a citizen's handed-over conversation reaches the operators' queue, gets a reply and is handed back."""

import re

from sqlalchemy import select

from baishitong.audit.models import AuditEntry
from baishitong.org import service as org
from baishitong.web.assistant import SESSION_COOKIE
from tests.conftest import TEST_PASSWORD
from tests.web.test_pages import login, token



def test_operator_sees_replies_and_closes_a_handed_over_conversation(web):
    asked = web.post("/api/v1/assistant/ask", json={"question": "啊啵嘚呃佛咯，我的电话13800138000"}).json()
    assert asked["handover"]
    session_id = asked["session_id"]
    assert web.post(f"/api/v1/assistant/sessions/{session_id}/handover").json()["status"] == "waiting"

    login(web, "t_operator")
    queue = web.get("/staff/chat")
    assert queue.status_code == 200
    assert f'href="/staff/chat/{session_id}"' in queue.text and "啊啵嘚呃佛咯" in queue.text
    assert re.search(r'在线咨询</span><span class="nav-badge"[^>]*>1<', queue.text), "waiting count in the nav"

    page = web.get(f"/staff/chat/{session_id}")
    assert "啊啵嘚呃佛咯" in page.text and 'hx-trigger="every 5s"' in page.text
    assert "13800138000" in page.text and "/staff/console" in page.text, "ticket draft with the phone"

    reply = web.post(f"/staff/chat/{session_id}/reply", data={"csrf_token": token(page.text), "text": "您好，请问具体是什么问题？"}, headers={"HX-Request": "true"})
    assert reply.status_code == 200 and "您好，请问具体是什么问题？" in reply.text
    transcript = web.get(f"/api/v1/assistant/sessions/{session_id}", headers=bearer(web, "t_operator")).json()
    assert transcript["status"] == "open" and transcript["operator"] == "t_operator"
    assert transcript["turns"][-1] == {**transcript["turns"][-1], "role": "operator", "text": "您好，请问具体是什么问题？"}

    web.post("/api/v1/assistant/ask", json={"question": "我家门口的路灯坏了", "session_id": session_id})
    assert "我家门口的路灯坏了" in web.get(f"/staff/chat/{session_id}/log").text, "the polled log shows new citizen messages"

    closed = web.post(f"/staff/chat/{session_id}/close", data={"csrf_token": token(page.text)}, follow_redirects=False)
    assert closed.status_code == 303 and closed.headers["location"] == "/staff/chat"
    assert web.get(f"/api/v1/assistant/sessions/{session_id}").json()["status"] == "bot"
    assert f'href="/staff/chat/{session_id}"' not in web.get("/staff/chat").text
    late = web.post(f"/staff/chat/{session_id}/reply", data={"csrf_token": token(page.text), "text": "还在吗"}, headers={"HX-Request": "true"})
    assert "该会话未转人工" in late.text


def test_the_ticket_draft_keeps_the_matter_while_the_citizen_chats_with_the_operator(web):
    """就在高黎市场门口, said to the operator, adds to the street lamp instead of replacing it in 转为工单."""
    asked = web.post("/api/v1/assistant/ask", json={"question": "容桂街道高黎社区路灯坏了一个星期，电话13800138000"}).json()
    session_id = asked["session_id"]
    web.post(f"/api/v1/assistant/sessions/{session_id}/handover")
    login(web, "t_operator")
    page = web.get(f"/staff/chat/{session_id}")
    web.post(f"/staff/chat/{session_id}/reply", data={"csrf_token": token(page.text), "text": "您好，请问具体位置？"})
    web.post("/api/v1/assistant/ask", json={"question": "就在高黎市场门口", "session_id": session_id})
    draft = re.search(r'<textarea id="draft-content"[^>]*>([^<]*)</textarea>', web.get(f"/staff/chat/{session_id}").text).group(1)
    assert draft.strip() == "容桂街道高黎社区路灯坏了一个星期，电话13800138000\n就在高黎市场门口"



def test_the_ticket_draft_opens_the_console_filled_in(web):
    """转为工单 during the morning peak: the console opens with the citizen's words, number and address, not blank."""
    asked = web.post("/api/v1/assistant/ask", json={"question": "容桂桂洲大道中88号旁边的排水沟堵了，臭味很大，我电话13812345678"}).json()
    web.post(f"/api/v1/assistant/sessions/{asked['session_id']}/handover")
    login(web, "t_operator")
    page = web.get(f"/staff/chat/{asked['session_id']}").text
    assert f'href="/staff/console?chat={asked["session_id"]}"' in page
    console = web.get(f"/staff/console?chat={asked['session_id']}").text
    form = console[console.index('id="intake-form"') : console.index("</form>", console.index('id="intake-form"'))]
    assert re.search(r'<textarea name="content" id="f-content"[^>]*>容桂桂洲大道中88号旁边的排水沟堵了', form)
    assert re.search(r'name="phone" id="f-phone" value="13812345678"', form) and re.search(r'name="address" id="f-address" value="容桂桂洲大道中88号', form)
    assert 'value="投诉" checked' in form
    assert web.get("/staff/console?chat=nosuchconversation").status_code == 404

def test_chat_queue_is_for_the_call_centre(web):
    login(web, "t_ronggui")
    assert web.get("/staff/chat").status_code == 403
    login(web, "t_supervisor")
    assert web.get("/staff/chat").status_code == 200


def test_the_operators_log_gets_only_new_messages_and_the_note_only_when_it_changes(web):
    session_id = web.post("/api/v1/assistant/ask", json={"question": "我家楼下的狗天天半夜叫"}).json()["session_id"]
    web.post(f"/api/v1/assistant/sessions/{session_id}/handover")
    login(web, "t_operator")
    page = web.get(f"/staff/chat/{session_id}").text
    shown = max(int(i) for i in re.findall(r'id="staff-turn-(\d+)"', page))
    poll = f"/staff/chat/{session_id}/log"
    assert web.get(poll, params={"after": shown, "status": "waiting"}).status_code == 204, "nothing new, nothing redrawn"

    sent = web.post(f"/staff/chat/{session_id}/reply", data={"csrf_token": token(page), "text": "您好，请问在哪个小区？", "after": shown}, headers={"HX-Request": "true"}).text
    assert len(re.findall(r'id="staff-turn-(\d+)"', sent)) == 1 and "您好，请问在哪个小区？" in sent and 'id="staff-chat-log"' not in sent
    assert 'id="chat-status" class="stack" hx-swap-oob="true"' in sent and "服务中" in sent, "waiting → open: the note is redrawn"
    mine = int(re.findall(r'id="staff-turn-(\d+)"', sent)[0])

    web.post("/api/v1/assistant/ask", json={"question": "容桂的高黎社区", "session_id": session_id})
    polled = web.get(poll, params={"after": mine, "status": "open"}).text
    assert "容桂的高黎社区" in polled and "您好，请问在哪个小区" not in polled and "chat-status" not in polled

    blank = web.post(f"/staff/chat/{session_id}/reply", data={"csrf_token": token(page), "text": " ", "after": mine}, headers={"HX-Request": "true"})
    assert blank.status_code == 422, "refused, so the page keeps the box as it was"
    assert '<div id="chat-notice" hx-swap-oob="true">' in blank.text and "请输入回复内容" in blank.text


def test_a_second_operator_cannot_reply_in_a_conversation_a_colleague_took(web, session):
    """Two operators open the same waiting conversation from the queue: the first reply takes it, the second is
    refused with who has it, and the citizen gets one operator, not two answering in turn."""
    org.create_user(session, username="t_operator2", password=TEST_PASSWORD, role="operator", display_name="话务员 二号")
    session.commit()
    session_id = web.post("/api/v1/assistant/ask", json={"question": "我家楼下的狗天天半夜叫"}).json()["session_id"]
    web.post(f"/api/v1/assistant/sessions/{session_id}/handover")
    login(web, "t_operator")
    page = web.get(f"/staff/chat/{session_id}").text
    web.post(f"/staff/chat/{session_id}/reply", data={"csrf_token": token(page), "text": "您好，我是一号"}, headers={"HX-Request": "true"})

    login(web, "t_operator2")
    page = web.get(f"/staff/chat/{session_id}").text
    assert "服务中（t_operator）" in page, "an account without a name of its own goes by its login"
    refused = web.post(f"/staff/chat/{session_id}/reply", data={"csrf_token": token(page), "text": "您好，我是二号"}, headers={"HX-Request": "true"})
    assert refused.status_code == 409 and "该会话已由 t_operator 接入，您的回复未发送" in refused.text
    # Without JavaScript the page comes back with the reason and the reply still in the box, not a blank form.
    plain = web.post(f"/staff/chat/{session_id}/reply", data={"csrf_token": token(page), "text": "您好，我是二号"}, follow_redirects=False)
    assert plain.status_code == 409 and "该会话已由 t_operator 接入，您的回复未发送" in plain.text
    assert re.search(r'<textarea id="f-unsent"[^>]*>您好，我是二号</textarea>', plain.text), "to copy, in place of a box that cannot send"
    api = web.post(f"/api/v1/assistant/sessions/{session_id}/reply", json={"text": "您好，我是二号"}, headers=bearer(web, "t_operator2"))
    assert api.status_code == 409 and api.json()["error"]["code"] == "conversation_taken"

    assert web.post(f"/api/v1/assistant/sessions/{session_id}/reply", json={"text": "请问是哪个小区？"}, headers=bearer(web, "t_operator")).status_code == 200
    transcript = web.get(f"/api/v1/assistant/sessions/{session_id}", headers=bearer(web, "t_operator")).json()
    assert transcript["operator"] == "t_operator"
    assert [t["text"] for t in transcript["turns"] if t["role"] == "operator"] == ["您好，我是一号", "请问是哪个小区？"]


def test_staff_chat_pages_name_the_operator_as_a_person_and_the_citizen_sees_no_staff_name(web, session):
    """在线咨询 says 人工客服 黄小燕 and 服务中（黄小燕）, not the login operator7 (half of a sign-in, and no name a
    colleague knows); the citizen's own transcript names no one."""
    org.create_user(session, username="operator7", password=TEST_PASSWORD, role="operator", display_name="黄小燕")
    session.commit()
    session_id = web.post("/api/v1/assistant/ask", json={"question": "我家楼下的狗天天半夜叫"}).json()["session_id"]
    web.post(f"/api/v1/assistant/sessions/{session_id}/handover")
    login(web, "operator7")
    page = web.get(f"/staff/chat/{session_id}").text
    sent = web.post(f"/staff/chat/{session_id}/reply", data={"csrf_token": token(page), "text": "您好，请问在哪个小区？"}, headers={"HX-Request": "true"}).text
    assert "人工客服 黄小燕" in sent and "服务中（黄小燕）" in sent and "operator7" not in sent
    page = web.get(f"/staff/chat/{session_id}").text
    assert "人工客服 黄小燕" in page and "服务中（黄小燕）" in page and "operator7" not in page
    queue = web.get("/staff/chat").text
    assert "服务中 · 黄小燕" in queue and "人工客服 黄小燕" in queue and "operator7" not in queue

    login(web, "t_operator")
    page = web.get(f"/staff/chat/{session_id}").text
    refused = web.post(f"/staff/chat/{session_id}/reply", data={"csrf_token": token(page), "text": "我来吧"}, headers={"HX-Request": "true"}).text
    assert "该会话已由 黄小燕 接入，您的回复未发送" in refused

    public = web.get(f"/api/v1/assistant/sessions/{session_id}").json()
    assert "黄小燕" not in str(public) and "operator7" not in str(public)
    web.cookies.clear()
    web.cookies.set(SESSION_COOKIE, session_id)
    citizen = web.get("/assistant").text
    assert "您好，请问在哪个小区？" in citizen and "黄小燕" not in citizen and "operator7" not in citizen


def bearer(client, username: str) -> dict[str, str]:
    issued = client.post("/api/v1/auth/token", json={"username": username, "password": TEST_PASSWORD}).json()
    return {"Authorization": f"Bearer {issued['access_token']}"}


def test_a_colleague_cannot_end_a_conversation_another_operator_is_serving(web, session):
    """结束会话 is not offered to a colleague, and sent anyway it is refused (409) with who serves the citizen,
    instead of cutting the citizen off mid-chat with 人工客服已结束本次服务; a supervisor may still end one left open."""
    org.create_user(session, username="t_operator2", password=TEST_PASSWORD, role="operator", display_name="话务员 二号")
    session.commit()
    session_id = web.post("/api/v1/assistant/ask", json={"question": "我家楼下的狗天天半夜叫"}).json()["session_id"]
    web.post(f"/api/v1/assistant/sessions/{session_id}/handover")
    login(web, "t_operator")
    page = web.get(f"/staff/chat/{session_id}").text
    assert 'data-action="close"' in page, "a waiting conversation may be ended by whoever opens it"
    web.post(f"/staff/chat/{session_id}/reply", data={"csrf_token": token(page), "text": "您好，我是一号"}, headers={"HX-Request": "true"})

    login(web, "t_operator2")
    page = web.get(f"/staff/chat/{session_id}").text
    assert 'data-action="close"' not in page
    refused = web.post(f"/staff/chat/{session_id}/close", data={"csrf_token": token(page)}, follow_redirects=False)
    assert refused.status_code == 409 and "该会话由 t_operator 服务中，只有 t_operator 可以结束" in refused.text
    api = web.post(f"/api/v1/assistant/sessions/{session_id}/close", headers=bearer(web, "t_operator2"))
    assert api.status_code == 409 and api.json()["error"]["code"] == "conversation_taken"
    transcript = web.get(f"/api/v1/assistant/sessions/{session_id}").json()
    assert transcript["status"] == "open" and [t["text"] for t in transcript["turns"]][-1] == "您好，我是一号"

    assert web.post(f"/api/v1/assistant/sessions/{session_id}/close", headers=bearer(web, "t_supervisor")).json()["status"] == "bot"


def test_the_citizens_phone_is_shown_only_to_the_operator_serving_them(web, session):
    """The operator who took the conversation reads 13800138000 in the messages and the ticket draft; a colleague
    opening it, and everyone watching the queue, read 138****8000."""
    org.create_user(session, username="t_operator2", password=TEST_PASSWORD, role="operator", display_name="话务员 二号")
    session.commit()
    session_id = web.post("/api/v1/assistant/ask", json={"question": "容桂街道高黎社区路灯坏了，电话13800138000"}).json()["session_id"]
    web.post(f"/api/v1/assistant/sessions/{session_id}/handover")
    login(web, "t_operator")
    page = web.get(f"/staff/chat/{session_id}").text
    assert "13800138000" in page, "waiting: whoever opens it to take it reads the number"
    assert "13800138000" not in web.get("/staff/chat").text and "138****8000" in web.get("/staff/chat").text
    sent = web.post(f"/staff/chat/{session_id}/reply", data={"csrf_token": token(page), "text": "您好，我来处理"}, headers={"HX-Request": "true"})
    assert sent.status_code == 200
    assert "13800138000" in web.get(f"/staff/chat/{session_id}").text
    assert "13800138000" in web.get("/staff/chat/queue").text, "in the queue, the operator's own conversation keeps the number"
    web.post("/api/v1/assistant/ask", json={"question": "我的另一个号码13900139000", "session_id": session_id})

    login(web, "t_operator2")
    page = web.get(f"/staff/chat/{session_id}").text
    assert "13800138000" not in page and "138****8000" in page and "139****9000" in page
    assert "13800138000" not in web.get("/staff/chat/queue").text
    assert "13900139000" not in web.get(f"/staff/chat/{session_id}/log", params={"after": "1", "status": "open"}).text


def test_a_reply_over_2000_characters_is_refused_not_cut_short(web):
    """The operator's reply was cut at 2000 characters without a word, so the citizen got half of it: it is
    refused with why (422), nothing reaches the citizen, and the text stays in the box."""
    session_id = web.post("/api/v1/assistant/ask", json={"question": "路灯坏了"}).json()["session_id"]
    web.post(f"/api/v1/assistant/sessions/{session_id}/handover")
    login(web, "t_operator")
    page = web.get(f"/staff/chat/{session_id}").text
    long_reply = "请您携带身份证到窗口办理。" * 160
    sent = web.post(f"/staff/chat/{session_id}/reply", data={"csrf_token": token(page), "text": long_reply}, headers={"HX-Request": "true"})
    assert sent.status_code == 422 and "回复最多 2000 字，请分几条发送" in sent.text
    without_js = web.post(f"/staff/chat/{session_id}/reply", data={"csrf_token": token(page), "text": long_reply})
    assert without_js.status_code == 422 and "回复最多 2000 字" in without_js.text and long_reply in without_js.text
    transcript = web.get(f"/api/v1/assistant/sessions/{session_id}").json()
    assert [t["role"] for t in transcript["turns"]].count("operator") == 0


def test_a_colleague_opening_the_console_from_anothers_conversation_does_not_get_the_phone(web, session):
    """在话务受理台受理 from a conversation another operator is serving filled a colleague's console with the citizen's full
    number, which the conversation page hides from them: the colleague gets the matter without it, and who serves it."""
    org.create_user(session, username="t_operator2", password=TEST_PASSWORD, role="operator", display_name="话务员 二号")
    session.commit()
    session_id = web.post("/api/v1/assistant/ask", json={"question": "容桂桂洲大道中88号旁边的排水沟堵了，我电话13812345678"}).json()["session_id"]
    web.post(f"/api/v1/assistant/sessions/{session_id}/handover")

    login(web, "t_operator2")
    waiting = web.get(f"/staff/console?chat={session_id}").text
    assert 'name="phone" id="f-phone" value="13812345678"' in waiting, "waiting: whoever takes it gets the number"

    login(web, "t_operator")
    page = web.get(f"/staff/chat/{session_id}").text
    web.post(f"/staff/chat/{session_id}/reply", data={"csrf_token": token(page), "text": "您好，我来处理"})
    assert 'name="phone" id="f-phone" value="13812345678"' in web.get(f"/staff/console?chat={session_id}").text

    login(web, "t_operator2")
    console = web.get(f"/staff/console?chat={session_id}").text
    assert "13812345678" not in console and "138****5678" in console
    assert "该会话由t_operator接待" in console, "told who serves it, to ask them"
    assert re.search(r'<textarea name="content" id="f-content"[^>]*>容桂桂洲大道中88号旁边的排水沟堵了', console)


def _citizen(client, question: str) -> str:
    """A citizen on /assistant who asks and is handed over; returns the conversation id (in their cookie)."""
    page = client.get("/assistant").text
    client.post("/assistant/ask", data={"csrf_token": token(page), "question": question})
    client.post("/assistant/handover", data={"csrf_token": token(page)})
    return client.cookies[SESSION_COOKIE]


def test_the_operator_is_told_when_the_citizen_closes_the_chat_and_the_citizen_can_still_write(client, web):
    """The citizen closes the widget (app.js's beacon): the operator's log reads 市民已离开对话 with the time, the note
    says not to wait, the queue says 市民已离开; the citizen coming back writes on and reads the reply sent meanwhile."""
    session_id = _citizen(client, "容桂街道高黎社区路灯坏了一个星期")
    login(web, "t_operator")
    page = web.get(f"/staff/chat/{session_id}").text
    web.post(f"/staff/chat/{session_id}/reply", data={"csrf_token": token(page), "text": "您好，请问具体在哪个位置？"})
    shown = max(int(i) for i in re.findall(r'id="staff-turn-(\d+)"', web.get(f"/staff/chat/{session_id}").text))

    beacon = client.post("/assistant/leave", data={"csrf_token": token(client.get("/assistant").text)})
    assert beacon.status_code == 204
    assert client.post("/assistant/leave", data={"csrf_token": token(client.get("/assistant").text)}).status_code == 204
    polled = web.get(f"/staff/chat/{session_id}/log", params={"after": shown, "status": "open"}).text
    assert re.search(r'class="msg msg-system"[^>]*><p>市民已离开对话 · <time', polled), "the line, appended to the log"
    assert 'id="chat-status" class="stack" hx-swap-oob="true"' in polled and "离开对话，不必再等其回复" in polled
    assert web.get(f"/staff/chat/{session_id}/log", params={"after": shown + 1, "status": "open-left"}).status_code == 204
    assert "服务中 · t_operator · 市民已离开" in web.get("/staff/chat").text
    transcript = web.get(f"/api/v1/assistant/sessions/{session_id}").json()
    assert [t["text"] for t in transcript["turns"]].count("市民已离开对话") == 1, "closing twice is one line"

    # The operator may still answer; the citizen who comes back reads it and writes on, to the same operator.
    web.post(f"/staff/chat/{session_id}/reply", data={"csrf_token": token(page), "text": "看到您离开了，回来后告诉我位置即可"})
    mine = web.get(f"/api/v1/assistant/sessions/{session_id}").json()["turns"][-1]["id"]
    back = client.get("/assistant").text
    assert "看到您离开了，回来后告诉我位置即可" in back and "市民已离开对话" not in back
    client.post("/assistant/ask", data={"csrf_token": token(back), "question": "在高黎市场门口"})
    polled = web.get(f"/staff/chat/{session_id}/log", params={"after": mine, "status": "open-left"}).text
    assert "在高黎市场门口" in polled and "离开对话，不必再等" not in polled and 'hx-swap-oob="true"' in polled
    assert "服务中 · t_operator · 市民已离开" not in web.get("/staff/chat/queue").text
    assert web.get(f"/api/v1/assistant/sessions/{session_id}").json()["status"] == "open"


def test_a_citizen_who_reloads_the_chat_is_back_for_the_operator(client, web, session):
    """A reload (or the next page) sends the leave beacon, but the page polls again a moment later: the operator
    reads 市民已回到对话 and no longer that the citizen left; the citizen reads neither line. Both are audited."""
    session_id = _citizen(client, "容桂街道高黎社区路灯坏了一个星期")
    login(web, "t_operator")
    page = web.get(f"/staff/chat/{session_id}").text
    web.post(f"/staff/chat/{session_id}/reply", data={"csrf_token": token(page), "text": "您好，请问具体在哪个位置？"})
    shown = max(int(i) for i in re.findall(r'id="staff-turn-(\d+)"', web.get(f"/staff/chat/{session_id}").text))

    client.post("/assistant/leave", data={"csrf_token": token(client.get("/assistant").text)})
    assert "离开对话，不必再等其回复" in web.get(f"/staff/chat/{session_id}/log", params={"after": shown, "status": "open"}).text
    reloaded = client.get("/assistant").text
    assert client.get("/assistant/live", params={"after": shown, "status": "open"}).status_code == 204, "the citizen is shown nothing new"

    polled = web.get(f"/staff/chat/{session_id}/log", params={"after": shown + 1, "status": "open-left"}).text
    assert re.search(r'class="msg msg-system"[^>]*><p>市民已回到对话 · <time', polled), "the line, appended to the log"
    assert 'id="chat-status" class="stack" hx-swap-oob="true"' in polled and "不必再等" not in polled and "服务中" in polled
    assert "服务中 · t_operator · 市民已离开" not in web.get("/staff/chat/queue").text
    assert "市民已回到对话" not in client.get("/assistant").text and "市民已离开对话" not in reloaded

    # Writing on, or polling again, is not another return.
    client.post("/assistant/ask", data={"csrf_token": token(reloaded), "question": "在高黎市场门口"})
    client.get("/assistant/live", params={"after": shown, "status": "open"})
    turns = [t["text"] for t in client.get(f"/api/v1/assistant/sessions/{session_id}").json()["turns"]]
    assert turns[-3:] == ["市民已离开对话", "市民已回到对话", "在高黎市场门口"]
    rows = session.scalars(select(AuditEntry).where(AuditEntry.object_type == "assistant_session", AuditEntry.object_id == session_id).order_by(AuditEntry.id)).all()
    assert [(r.action, r.actor) for r in rows][-2:] == [("assistant_session.leave", "citizen"), ("assistant_session.return", "citizen")]


def test_the_reply_box_goes_on_the_next_poll_once_a_colleague_takes_the_conversation(web, session):
    """Two operators open the same waiting conversation; the colleague answers first. The other's page, at its
    next poll, says who serves the citizen instead of offering a box whose reply, or a 结束会话 the server, would refuse."""
    session_id = web.post("/api/v1/assistant/ask", json={"question": "我家楼下的狗天天半夜叫"}).json()["session_id"]
    web.post(f"/api/v1/assistant/sessions/{session_id}/handover")
    login(web, "t_operator")
    page = web.get(f"/staff/chat/{session_id}").text
    assert 'id="f-text"' in page and 'data-action="close"' in page
    shown = max(int(i) for i in re.findall(r'id="staff-turn-(\d+)"', page))

    assert web.post(f"/api/v1/assistant/sessions/{session_id}/reply", json={"text": "您好，我来处理"}, headers=bearer(web, "t_supervisor")).status_code == 200
    polled = web.get(f"/staff/chat/{session_id}/log", params={"after": shown, "status": "waiting"}).text
    assert "您好，我来处理" in polled and 'id="chat-status" class="stack" hx-swap-oob="true"' in polled
    assert '<div id="chat-reply" hx-swap-oob="true">' in polled and "由 t_supervisor 接待中，您只能查看本会话，不能回复。" in polled
    assert 'id="f-text"' not in polled
    assert '<div id="chat-close" hx-swap-oob="true" hidden>' in polled and 'data-action="close"' not in polled
    assert web.post(f"/staff/chat/{session_id}/close", data={"csrf_token": token(page)}).status_code == 409, "what 结束会话 would have met"

    # The operator's own first reply takes the conversation and keeps the box where it is.
    other = web.post("/api/v1/assistant/ask", json={"question": "小区门口的垃圾三天没人清"}).json()["session_id"]
    web.post(f"/api/v1/assistant/sessions/{other}/handover")
    page = web.get(f"/staff/chat/{other}").text
    sent = web.post(f"/staff/chat/{other}/reply", data={"csrf_token": token(page), "text": "您好，请问哪个小区？"}, headers={"HX-Request": "true"}).text
    assert "服务中" in sent and "chat-reply" not in sent


def test_closing_a_chat_no_person_has_records_nothing(client):
    page = client.get("/assistant").text
    assert client.post("/assistant/leave", data={"csrf_token": token(page)}).status_code == 204, "no conversation yet"
    client.post("/assistant/ask", data={"csrf_token": token(page), "question": "社保卡丢了怎么补办？"})
    assert client.post("/assistant/leave", data={"csrf_token": token(page)}).status_code == 204
    turns = client.get(f"/api/v1/assistant/sessions/{client.cookies[SESSION_COOKIE]}").json()["turns"]
    assert all(t["role"] != "system" for t in turns)
    assert client.post("/assistant/leave", data={}).status_code == 403, "a form like any other: CSRF-checked"


def test_the_citizen_ends_the_conversation_and_the_operator_reads_so(client, web):
    """结束对话 under the note: the operator reads 市民已结束对话, their late reply is refused saying so, and the
    citizen's next question is 政务君's again."""
    session_id = _citizen(client, "楼下大排档噪音扰民到凌晨")
    page = client.get("/assistant").text
    assert 'action="/assistant/end"' in page and "结束对话" in page
    login(web, "t_operator")
    staff_page = web.get(f"/staff/chat/{session_id}").text
    web.post(f"/staff/chat/{session_id}/reply", data={"csrf_token": token(staff_page), "text": "您好，请问是哪个小区？"})

    ended = client.post("/assistant/end", data={"csrf_token": token(page), "log_id": "chat-panel-log"}, headers={"HX-Request": "true"})
    assert ended.status_code == 200 and 'id="chat-panel-log-live"' in ended.text and "您已结束人工服务" in ended.text
    assert 'action="/assistant/end"' not in ended.text and "hidden" in ended.text, "the note and its poll are gone"

    after = web.get(f"/staff/chat/{session_id}").text
    assert "市民已结束对话，会话已交还政务君" in after and "市民已结束对话，本会话已交还政务君。" in after
    late = web.post(f"/staff/chat/{session_id}/reply", data={"csrf_token": token(staff_page), "text": "还在吗？"}, headers={"HX-Request": "true"})
    assert late.status_code == 409 and "市民已结束对话，您的回复未发送" in late.text
    assert f'href="/staff/chat/{session_id}"' not in web.get("/staff/chat").text

    client.post("/assistant/ask", data={"csrf_token": token(page), "question": "社保卡丢了怎么补办？"})
    transcript = client.get(f"/api/v1/assistant/sessions/{session_id}").json()
    assert transcript["status"] == "bot" and transcript["turns"][-1]["role"] == "assistant"


def test_a_colleague_sees_who_serves_the_conversation_instead_of_a_reply_box(web, session):
    org.create_user(session, username="t_operator2", password=TEST_PASSWORD, role="operator", display_name="话务员 二号")
    session.commit()
    session_id = web.post("/api/v1/assistant/ask", json={"question": "我家楼下的狗天天半夜叫"}).json()["session_id"]
    web.post(f"/api/v1/assistant/sessions/{session_id}/handover")
    login(web, "t_operator2")
    waiting = web.get(f"/staff/chat/{session_id}").text
    assert 'id="f-text"' in waiting, "waiting: whoever opens it may take it"
    login(web, "t_operator")
    page = web.get(f"/staff/chat/{session_id}").text
    web.post(f"/staff/chat/{session_id}/reply", data={"csrf_token": token(page), "text": "您好，我来处理"})
    assert 'id="f-text"' in web.get(f"/staff/chat/{session_id}").text, "the operator serving it keeps the box"

    for colleague in ("t_operator2", "t_supervisor"):
        login(web, colleague)
        page = web.get(f"/staff/chat/{session_id}").text
        assert 'id="f-text"' not in page and 'data-action="reply"' not in page, colleague
        assert "由 t_operator 接待中，您只能查看本会话，不能回复。" in page
        # The server still refuses a reply sent anyway (an old page, a second tab).
        refused = web.post(f"/staff/chat/{session_id}/reply", data={"csrf_token": token(page), "text": "我来吧"}, headers={"HX-Request": "true"})
        assert refused.status_code == 409


def test_the_staff_ticket_draft_leaves_out_waiting_words_but_the_transcript_keeps_them(web):
    """有人吗？ and 还在等 typed before anyone answered: the draft (and the console it fills) carries the matter and
    what the citizen added about it; the conversation still shows every message, and the card says what was left out."""
    session_id = web.post("/api/v1/assistant/ask", json={"question": "容桂街道高黎社区幸福路的路灯坏了一个星期，晚上很黑"}).json()["session_id"]
    web.post(f"/api/v1/assistant/sessions/{session_id}/handover")
    for said in ("有人吗？", "还在等……", "您好，有人在吗？？", "路灯下面还有个坑，老人差点摔倒，电话13800138000"):
        web.post("/api/v1/assistant/ask", json={"question": said, "session_id": session_id})
    login(web, "t_operator")
    page = web.get(f"/staff/chat/{session_id}").text
    draft = re.search(r'<textarea id="draft-content"[^>]*>([^<]*)</textarea>', page).group(1).strip()
    assert draft == "容桂街道高黎社区幸福路的路灯坏了一个星期，晚上很黑\n路灯下面还有个坑，老人差点摔倒，电话13800138000"
    log = page[page.index('id="staff-chat-log"') : page.index('id="ticket-draft"')]
    assert all(said in log for said in ("有人吗？", "还在等……", "您好，有人在吗？？")), "the transcript keeps them"
    assert "已略去等待和寒暄的话（“有人吗？”、“还在等……”、“您好，有人在吗？？”）" in page
    console = web.get(f"/staff/console?chat={session_id}").text
    content = re.search(r'<textarea name="content" id="f-content"[^>]*>([^<]*)</textarea>', console).group(1)
    assert "有人吗" not in content and "还在等" not in content and "老人差点摔倒" in content
