"""A poll already on its way when the citizen closed the chat reaches the server after the leave beacon: it is
no return (市民已回到对话) when it comes from the page view that left, while a new view's poll still is."""

from baishitong.assistant import service as assistant
from baishitong.web.assistant import SESSION_COOKIE
from tests.web.test_pages import token

LEFT_VIEW, NEW_VIEW = "3f2a9c0d5e6b7a8c9d0e1f2a3b4c5d6e", "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b"


def _system_lines(conversation) -> list[str]:
    return [t.text for t in conversation.turns if t.role == "system"]


def test_the_view_that_left_is_not_back_but_a_new_view_is(session):
    conversation = assistant.ask(session, question="转人工").session
    assistant.leave(session, session_id=conversation.id, view=LEFT_VIEW)

    assistant.come_back(session, conversation=conversation, view=LEFT_VIEW)
    assert _system_lines(conversation) == [assistant.LEFT_TEXT], "the stale poll of the view that left"
    assert assistant.left_at(conversation) is not None, "still gone for the operator"

    assistant.come_back(session, conversation=conversation, view=NEW_VIEW)
    assistant.come_back(session, conversation=conversation, view=NEW_VIEW)
    assert _system_lines(conversation) == [assistant.LEFT_TEXT, assistant.BACK_TEXT]
    assert assistant.left_at(conversation) is None


def test_a_request_without_a_view_is_back_as_before(session):
    """Pages from before the token, and apps through the API, say nothing of their view."""
    conversation = assistant.ask(session, question="转人工").session
    assistant.leave(session, session_id=conversation.id, view=LEFT_VIEW)
    assistant.come_back(session, conversation=conversation)
    assert _system_lines(conversation) == [assistant.LEFT_TEXT, assistant.BACK_TEXT]

    assistant.leave(session, session_id=conversation.id)
    assistant.come_back(session, conversation=conversation, view=LEFT_VIEW)
    assert _system_lines(conversation) == [assistant.LEFT_TEXT, assistant.BACK_TEXT, assistant.LEFT_TEXT, assistant.BACK_TEXT], "a leave that named no view"


def test_the_widget_closed_with_a_poll_in_flight_then_opened_again(client):
    """The widget's beacon and polls carry its view (app.js): the poll that crossed the beacon leaves the operator
    reading 市民已离开对话; the widget opened again (a new view) is back, once."""
    page = client.get("/assistant").text
    client.post("/assistant/ask", data={"csrf_token": token(page), "question": "容桂街道高黎社区路灯坏了一个星期"})
    client.post("/assistant/handover", data={"csrf_token": token(page)})
    session_id = client.cookies[SESSION_COOKIE]

    def system_lines() -> list[str]:
        return [t["text"] for t in client.get(f"/api/v1/assistant/sessions/{session_id}").json()["turns"] if t["role"] == "system"]

    assert client.post("/assistant/leave", data={"csrf_token": token(page), "view": LEFT_VIEW}).status_code == 204
    stale = client.get("/assistant/live", params={"log_id": "chat-panel-log", "after": "999999", "status": "waiting", "view": LEFT_VIEW})
    assert stale.status_code == 204
    assert system_lines() == ["市民已离开对话"]

    client.get("/assistant/panel")
    client.get("/assistant/live", params={"log_id": "chat-panel-log", "after": "999999", "status": "waiting", "view": NEW_VIEW})
    client.get("/assistant/live", params={"log_id": "chat-panel-log", "after": "999999", "status": "waiting", "view": NEW_VIEW})
    assert system_lines() == ["市民已离开对话", "市民已回到对话"]


def test_a_question_that_crossed_the_beacon_is_no_return(client):
    """Sent just before the widget closed, it reaches the operator after 市民已离开对话, without a 市民已回到对话."""
    page = client.get("/assistant").text
    client.post("/assistant/ask", data={"csrf_token": token(page), "question": "转人工"})
    session_id = client.cookies[SESSION_COOKIE]
    client.post("/assistant/leave", data={"csrf_token": token(page), "view": LEFT_VIEW})
    client.post("/assistant/ask", data={"csrf_token": token(page), "question": "在高黎市场门口", "view": LEFT_VIEW})
    turns = [t["text"] for t in client.get(f"/api/v1/assistant/sessions/{session_id}").json()["turns"]]
    assert "市民已回到对话" not in turns and turns.index("市民已离开对话") == turns.index("在高黎市场门口") - 1


def test_a_citizen_back_while_waiting_is_not_told_again_that_the_message_was_passed_on(session):
    """The note follows the first message to a person; the 离开 and 回到 lines in between are no reason to repeat it."""
    conversation = assistant.ask(session, question="转人工").session
    assistant.ask(session, question="我的社保卡丢了", session_id=conversation.id)
    assistant.leave(session, session_id=conversation.id, view=LEFT_VIEW)
    again = assistant.ask(session, question="还在等吗", session_id=conversation.id, view=NEW_VIEW)
    assert again.answer.text == "" and again.answer.handover
    assert [t.text for t in conversation.turns].count(assistant.WAITING_TEXT) == 1


SECOND_VIEW = "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a"


def test_both_tabs_closed_a_stale_poll_from_the_second_is_no_return_and_no_second_leave_line(session):
    """The chat open in two tabs, both closed: the second tab's leave was ignored as a repeat, so the poll it had on
    its way read as 市民已回到对话. Its leave is kept too, without a second 市民已离开对话."""
    conversation = assistant.ask(session, question="转人工").session
    assistant.leave(session, session_id=conversation.id, view=LEFT_VIEW)
    assistant.leave(session, session_id=conversation.id, view=SECOND_VIEW)
    assistant.leave(session, session_id=conversation.id, view=SECOND_VIEW)
    assert _system_lines(conversation) == [assistant.LEFT_TEXT]

    for view in (SECOND_VIEW, LEFT_VIEW):
        assistant.come_back(session, conversation=conversation, view=view)
    assert _system_lines(conversation) == [assistant.LEFT_TEXT] and assistant.left_at(conversation) is not None

    assistant.come_back(session, conversation=conversation, view=NEW_VIEW)
    assert _system_lines(conversation) == [assistant.LEFT_TEXT, assistant.BACK_TEXT]


def test_a_view_that_left_before_the_citizen_came_back_does_not_hide_the_next_leave(session):
    """After a return, a new absence starts afresh: a tab still open that closes later is gone, and a new view is back."""
    conversation = assistant.ask(session, question="转人工").session
    assistant.leave(session, session_id=conversation.id, view=LEFT_VIEW)
    assistant.come_back(session, conversation=conversation, view=SECOND_VIEW)
    assistant.leave(session, session_id=conversation.id, view=SECOND_VIEW)
    assert _system_lines(conversation) == [assistant.LEFT_TEXT, assistant.BACK_TEXT, assistant.LEFT_TEXT]
    assistant.come_back(session, conversation=conversation, view=SECOND_VIEW)
    assert assistant.left_at(conversation) is not None
    assistant.come_back(session, conversation=conversation, view=NEW_VIEW)
    assert _system_lines(conversation)[-1] == assistant.BACK_TEXT


def test_two_tabs_send_their_beacons_and_the_second_tabs_late_poll_reaches_the_server(client):
    page = client.get("/assistant").text
    client.post("/assistant/ask", data={"csrf_token": token(page), "question": "转人工"})
    session_id = client.cookies[SESSION_COOKIE]
    for view in (LEFT_VIEW, SECOND_VIEW):
        assert client.post("/assistant/leave", data={"csrf_token": token(page), "view": view}).status_code == 204
    late = client.get("/assistant/live", params={"log_id": "chat-panel-log", "after": "999999", "status": "waiting", "view": SECOND_VIEW})
    assert late.status_code == 204
    turns = client.get(f"/api/v1/assistant/sessions/{session_id}").json()["turns"]
    assert [t["text"] for t in turns if t["role"] == "system"] == ["市民已离开对话"]
