import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from baishitong.assistant import core
from baishitong.assistant import service as assistant
from baishitong.audit.models import AuditEntry
from baishitong.knowledge import service as kb
from tests.conftest import actor

ASK = "/api/v1/assistant/ask"


@pytest.fixture
def knowledge(session):
    admin = actor(session, "t_admin")
    kb.create_article(
        session, actor=admin, external_id="SB01", title="社会保险卡丢了怎么补办", status="published",
        body="社会保险卡遗失后，可到镇街社保窗口或通过粤省事申请补办。办理时需要携带本人居民身份证原件。新卡一般10个工作日内制作完成。",
    )  # fmt: skip
    kb.create_article(session, actor=admin, external_id="GJJ01", title="住房公积金提取指南", status="published", body="职工购买自住住房，可以申请提取住房公积金。")
    kb.save_item(
        session, code="GA001", name="居民身份证换领", department="GAJ", channels=["窗口", "自助办"],
        materials=["居民户口簿", "原居民身份证"], fee="20元", time_limit_days=60, promised_days=20, online_url="/items/GA001",
        description="居民身份证有效期满或证件损坏，可到户政窗口换领。",
    )  # fmt: skip


def test_answers_with_citation_and_follow_up_uses_the_session(client, knowledge):
    first = client.post(ASK, json={"question": "社保卡丢了怎么办"}).json()
    assert not first["handover"] and first["confidence"] >= 0.35
    assert first["citations"][0]["id"] == "SB01" and first["citations"][0]["url"] == "/kb/SB01"
    follow = client.post(ASK, json={"question": "需要带什么材料？", "session_id": first["session_id"]}).json()
    assert follow["session_id"] == first["session_id"]
    assert follow["citations"][0]["id"] == "SB01" and "身份证" in follow["answer"]
    transcript = client.get(f"/api/v1/assistant/sessions/{first['session_id']}").json()
    assert [t["role"] for t in transcript["turns"]] == ["user", "assistant", "user", "assistant"]


def test_cites_service_item_materials(client, knowledge):
    reply = client.post(ASK, json={"question": "办理身份证换领需要带什么材料"}).json()
    assert reply["citations"][0] == {"id": "GA001", "kind": "item", "title": "居民身份证换领", "score": reply["citations"][0]["score"], "url": "/items/GA001"}
    assert "居民户口簿" in reply["answer"]


def test_unknown_question_offers_handover_and_prefilled_ticket(client, knowledge):
    reply = client.post(ASK, json={"question": "容桂街道高黎社区路灯坏了一个星期，电话13800138000"}).json()
    assert reply["handover"] and reply["citations"] == []
    actions = {a["type"]: a for a in reply["actions"]}
    assert set(actions) == {"handover", "ticket"}
    prefill = actions["ticket"]["prefill"]
    assert prefill["region_code"] == "440606006023" and prefill["requester"]["phone"] == "13800138000"
    assert "高黎社区" in actions["ticket"]["region_name"]
    created = client.post("/api/v1/tickets", json=dict(prefill, type="求助"))
    assert created.status_code == 201, created.text


def test_a_bare_phone_number_is_asked_for_the_matter_with_the_handover_offers(client, knowledge, login):
    first = client.post(ASK, json={"question": "社保卡丢了怎么办"}).json()
    reply = client.post(ASK, json={"question": "13800138000", "session_id": first["session_id"]}).json()
    assert reply["answer"].startswith("请问您想咨询或反映什么事情？") and reply["citations"] == [] and reply["handover"]
    actions = {a["type"]: a for a in reply["actions"]}
    assert set(actions) == {"handover", "ticket"}
    assert actions["ticket"]["prefill"]["content"] == "社保卡丢了怎么办\n13800138000"
    assert actions["ticket"]["prefill"]["requester"]["phone"] == "13800138000"
    again = client.post(ASK, json={"question": "1", "session_id": first["session_id"]}).json()
    assert again["answer"] == reply["answer"] and again["citations"] == [], "10个工作日 holds a 1, which names no matter"
    groups = client.get("/api/v1/assistant/unanswered", headers=login("t_supervisor")).json()
    assert not [q for g in groups for q in g["questions"] if q in ("1", "138****8000", "13800138000")], "no gap in the KB"


@pytest.mark.parametrize("question", ["社保卡丢了怎么办", "容桂街道高黎社区路灯坏了一个星期，电话13800138000", "帮我转个工单"])
def test_a_retried_question_gets_the_first_answer_and_is_stored_once(client, knowledge, question):
    first = client.post(ASK, json={"question": question}, headers={"Idempotency-Key": "ask-1"})
    again = client.post(ASK, json={"question": question}, headers={"Idempotency-Key": "ask-1"})
    assert first.status_code == again.status_code == 200, again.text
    assert again.json() == first.json()
    transcript = client.get(f"/api/v1/assistant/sessions/{first.json()['session_id']}").json()
    assert [t["role"] for t in transcript["turns"]] == ["user", "assistant"]
    reused = client.post(ASK, json={"question": "公积金怎么提取"}, headers={"Idempotency-Key": "ask-1"})
    assert reused.status_code == 409 and reused.json()["error"]["code"] == "idempotency_key_reused"


def test_another_client_with_the_same_key_and_question_gets_its_own_conversation(app, client, knowledge):
    first = client.post(ASK, json={"question": "社保卡丢了怎么办"}, headers={"Idempotency-Key": "1"}).json()
    with TestClient(app, client=("203.0.113.9", 50000)) as other:
        theirs = other.post(ASK, json={"question": "社保卡丢了怎么办"}, headers={"Idempotency-Key": "1"}).json()
    assert theirs["session_id"] != first["session_id"], "a replay would hand them the first asker's transcript"


def test_a_retried_follow_up_answers_within_its_conversation(client, knowledge):
    first = client.post(ASK, json={"question": "社保卡丢了怎么办"}).json()
    follow = {"question": "需要带什么材料？", "session_id": first["session_id"]}
    answers = [client.post(ASK, json=follow, headers={"Idempotency-Key": "ask-2"}).json() for _ in range(2)]
    assert answers[0] == answers[1] and "身份证" in answers[1]["answer"]
    transcript = client.get(f"/api/v1/assistant/sessions/{first['session_id']}").json()
    assert len(transcript["turns"]) == 4


def test_a_retried_operator_reply_is_sent_once(client, knowledge, login):
    session_id = client.post(ASK, json={"question": "我家楼下的狗天天半夜叫"}).json()["session_id"]
    client.post(f"/api/v1/assistant/sessions/{session_id}/handover")
    operator = {**login("t_operator"), "Idempotency-Key": "reply-1"}
    for _ in range(2):
        answered = client.post(f"/api/v1/assistant/sessions/{session_id}/reply", json={"text": "您好，已为您联系社区民警。"}, headers=operator)
        assert answered.status_code == 200, answered.text
    assert [t["role"] for t in answered.json()["turns"]].count("operator") == 1


def test_handover_queue_and_operator_reply(client, knowledge, login):
    reply = client.post(ASK, json={"question": "我家楼下的狗天天半夜叫"}).json()
    session_id = reply["session_id"]
    assert client.post(f"/api/v1/assistant/sessions/{session_id}/handover").json()["status"] == "waiting"
    assert client.get("/api/v1/assistant/queue").status_code == 401
    queue = client.get("/api/v1/assistant/queue", headers=login("t_operator")).json()
    assert [(q["session_id"], q["last_question"]) for q in queue] == [(session_id, "我家楼下的狗天天半夜叫")]
    waiting = client.post(ASK, json={"question": "有人吗", "session_id": session_id}).json()
    assert waiting["handover"] and waiting["citations"] == []
    answered = client.post(f"/api/v1/assistant/sessions/{session_id}/reply", json={"text": "您好，已为您联系社区民警。"}, headers=login("t_operator"))
    assert answered.status_code == 200
    transcript = client.get(f"/api/v1/assistant/sessions/{session_id}", headers=login("t_operator")).json()
    assert transcript["status"] == "open" and transcript["operator"] == "t_operator"
    # The citizen holding the session id reads 人工客服, not the account name that is half of a staff sign-in.
    seen = client.get(f"/api/v1/assistant/sessions/{session_id}").json()
    assert seen["operator"] is None and seen["turns"][-1]["author"] is None and seen["turns"][-1]["text"] == "您好，已为您联系社区民警。"
    assert transcript["turns"][-1]["role"] == "operator" and transcript["turns"][-1]["text"] == "您好，已为您联系社区民警。"
    closed = client.post(f"/api/v1/assistant/sessions/{session_id}/close", headers=login("t_operator")).json()
    assert closed["status"] == "bot"
    assert client.get("/api/v1/assistant/queue", headers=login("t_operator")).json() == []


def test_rating_logs_and_unanswered_groups(client, knowledge, login):
    good = client.post(ASK, json={"question": "公积金怎么提取"}).json()
    assert client.post(f"/api/v1/assistant/turns/{good['turn_id']}/rate", json={"helpful": False}).json() == {"turn_id": good["turn_id"], "helpful": False}
    for question in ("小区停车位被占怎么办", "小区停车位总被占用", "消防通道被占用怎么投诉", "你好", "谢谢"):
        client.post(ASK, json={"question": question})
    assert client.get("/api/v1/assistant/unanswered", headers=login("t_operator")).status_code == 403
    groups = client.get("/api/v1/assistant/unanswered", headers=login("t_supervisor")).json()
    questions = [q for g in groups for q in g["questions"]]
    assert "公积金怎么提取" in questions and "你好" not in questions and "谢谢" not in questions
    parking = next(g for g in groups if "小区停车位被占怎么办" in g["questions"])
    assert "小区停车位总被占用" in parking["questions"] and parking["size"] >= 2
    assert client.post("/api/v1/assistant/turns/999999/rate", json={"helpful": True}).status_code == 404


def test_request_for_a_person_hands_over_at_once_and_logs_the_matter(client, session, knowledge, login):
    from sqlalchemy import select

    from baishitong.assistant.models import UnansweredQuestion

    first = client.post(ASK, json={"question": "社保卡丢了怎么办"}).json()
    reply = client.post(ASK, json={"question": "我要找人工客服", "session_id": first["session_id"]}).json()
    assert reply["handover"] and reply["citations"] == [] and "转接人工客服" in reply["answer"]
    assert [a["type"] for a in reply["actions"]] == ["ticket"]
    assert reply["actions"][0]["prefill"]["content"] == "社保卡丢了怎么办"
    assert client.get(f"/api/v1/assistant/sessions/{first['session_id']}").json()["status"] == "waiting"
    queue = client.get("/api/v1/assistant/queue", headers=login("t_operator")).json()
    assert [q["last_question"] for q in queue] == ["社保卡丢了怎么办"]
    logged = session.execute(select(UnansweredQuestion.question, UnansweredQuestion.reason).where(UnansweredQuestion.session_id == first["session_id"])).all()
    assert logged == [("社保卡丢了怎么办", "handover")]
    alone = client.post(ASK, json={"question": "转人工"}).json()
    assert alone["handover"] and client.get(f"/api/v1/assistant/sessions/{alone['session_id']}").json()["status"] == "waiting"
    assert session.scalar(select(UnansweredQuestion.reason).where(UnansweredQuestion.session_id == alone["session_id"])) == "handover"


def test_messages_passed_on_to_a_person_get_one_note_while_waiting_and_none_while_chatting(client, knowledge, login):
    session_id = client.post("/api/v1/assistant/ask", json={"question": "我家楼下的狗天天半夜叫"}).json()["session_id"]
    client.post(f"/api/v1/assistant/sessions/{session_id}/handover")
    ask = lambda text: client.post("/api/v1/assistant/ask", json={"question": text, "session_id": session_id}).json()  # noqa: E731
    first, second = ask("在容桂高黎社区"), ask("晚上十点以后最吵")
    assert "已转给人工客服" in first["answer"] and second["answer"] == "" and second["handover"]
    client.post(f"/api/v1/assistant/sessions/{session_id}/reply", json={"text": "您好，我来跟进。"}, headers=login("t_operator"))
    chatting = ask("好的谢谢")
    assert chatting["answer"] == ""
    retried = client.post("/api/v1/assistant/ask", json={"question": "还有一件事", "session_id": session_id}, headers={"Idempotency-Key": "k-1"}).json()
    again = client.post("/api/v1/assistant/ask", json={"question": "还有一件事", "session_id": session_id}, headers={"Idempotency-Key": "k-1"}).json()
    assert retried == again and again["answer"] == ""
    turns = client.get(f"/api/v1/assistant/sessions/{session_id}").json()["turns"]
    assert [t["text"] for t in turns if "已转给人工客服" in t["text"]] == [first["answer"]], "one note, not one per message"
    assert [t["text"] for t in turns][-4:] == ["晚上十点以后最吵", "您好，我来跟进。", "好的谢谢", "还有一件事"]


def test_the_language_model_is_not_sent_the_numbers_a_citizen_typed(session, knowledge, monkeypatch):
    sent = []
    monkeypatch.setattr(core, "phrase_with_llm", lambda question, articles, **kwargs: sent.append(question) or "社保卡遗失后可到社保窗口补办。")
    reply = assistant.ask(session, question="社保卡丢了怎么办？我的电话13800138000，身份证440681199001015671", llm_base_url="http://llm.local/v1", llm_model="m")
    assert reply.turn.text == "社保卡遗失后可到社保窗口补办。"
    assert sent and "13800138000" not in sent[0] and "440681199001015671" not in sent[0] and "138****8000" in sent[0]


def test_leaving_and_ending_a_handed_over_conversation_through_the_api(client, knowledge, login):
    """An app's chat says when the citizen closed it (市民已离开对话, once, only while a person has the conversation)
    and when they ended it (handed back to 政务君, whose answer the next question gets); an unknown id is a 404."""
    session_id = client.post(ASK, json={"question": "我家楼下的狗天天半夜叫"}).json()["session_id"]
    assert [t["role"] for t in client.post(f"/api/v1/assistant/sessions/{session_id}/leave").json()["turns"]] == ["user", "assistant"], "nobody waits on 政务君"
    client.post(f"/api/v1/assistant/sessions/{session_id}/handover")
    client.post(f"/api/v1/assistant/sessions/{session_id}/reply", json={"text": "您好，请问哪个小区？"}, headers=login("t_operator"))
    left = client.post(f"/api/v1/assistant/sessions/{session_id}/leave").json()
    again = client.post(f"/api/v1/assistant/sessions/{session_id}/leave").json()
    assert left["status"] == again["status"] == "open" and [t["text"] for t in again["turns"]].count(assistant.LEFT_TEXT) == 1
    assert again["turns"][-1]["role"] == "system" and again["turns"][-1]["author"] is None

    client.post(ASK, json={"question": "容桂的高黎社区", "session_id": session_id})
    assert [t["text"] for t in client.post(f"/api/v1/assistant/sessions/{session_id}/leave").json()["turns"]].count(assistant.LEFT_TEXT) == 2, "back and gone again"
    ended = client.post(f"/api/v1/assistant/sessions/{session_id}/end").json()
    assert ended["status"] == "bot" and ended["turns"][-1]["text"] == assistant.ENDED_TEXT
    refused = client.post(f"/api/v1/assistant/sessions/{session_id}/reply", json={"text": "还在吗？"}, headers=login("t_operator"))
    assert refused.status_code == 409 and refused.json()["error"]["message"] == "市民已结束对话，您的回复未发送"
    answer = client.post(ASK, json={"question": "社保卡丢了怎么办", "session_id": session_id}).json()
    assert answer["citations"][0]["id"] == "SB01", "政务君 answers again, its history without the system lines"
    assert client.post("/api/v1/assistant/sessions/nosuch/leave").status_code == 404
    assert client.post("/api/v1/assistant/sessions/nosuch/end").json()["error"]["code"] == "assistant_session_not_found"


def test_a_citizen_who_writes_after_leaving_is_back_for_the_operator(client, session, knowledge, login):
    """An app that closed its chat and then sends a message: the operator reads 市民已回到对话 before it, the
    transcript no longer says the citizen left, and the return is audited like the leave."""
    session_id = client.post(ASK, json={"question": "转人工"}).json()["session_id"]
    sessions = f"/api/v1/assistant/sessions/{session_id}"
    client.post(f"{sessions}/reply", json={"text": "您好，请问哪个小区？"}, headers=login("t_operator"))
    client.post(f"{sessions}/leave")
    client.post(ASK, json={"question": "容桂的高黎社区", "session_id": session_id})
    client.post(ASK, json={"question": "就在市场门口", "session_id": session_id})

    turns = client.get(sessions).json()["turns"]
    assert [(t["role"], t["text"]) for t in turns][-4:] == [
        ("system", assistant.LEFT_TEXT), ("system", assistant.BACK_TEXT), ("user", "容桂的高黎社区"), ("user", "就在市场门口")
    ]
    assert assistant.left_at(assistant.get_session(session, session_id=session_id)) is None
    rows = session.scalars(select(AuditEntry).where(AuditEntry.object_type == "assistant_session", AuditEntry.object_id == session_id).order_by(AuditEntry.id)).all()
    assert [(r.action, r.actor, r.data["from"], r.data["to"]) for r in rows][-2:] == [
        ("assistant_session.leave", "citizen", "open", "open"), ("assistant_session.return", "citizen", "open", "open")
    ]


def test_each_change_of_who_holds_a_conversation_is_audited_without_what_the_citizen_wrote(client, session, knowledge, login):
    """Who asked for a person, which operator took the conversation, who handed it back or left and when, is in
    the audit trail: one row per change, none per message, and no phone or ID number the citizen typed."""
    said = "转人工，我电话13800138000，身份证440681199001015671"
    session_id = client.post(ASK, json={"question": said}).json()["session_id"]
    sessions = f"/api/v1/assistant/sessions/{session_id}"
    client.post(f"{sessions}/handover")  # asked twice: still one row
    client.post(f"{sessions}/reply", json={"text": "您好，请问哪个小区？"}, headers=login("t_operator"))
    client.post(f"{sessions}/reply", json={"text": "请把地址发给我。"}, headers=login("t_operator"))
    client.post(ASK, json={"question": "容桂的高黎社区", "session_id": session_id})
    client.post(f"{sessions}/leave")
    client.post(f"{sessions}/leave")
    client.post(f"{sessions}/end")
    client.post(f"{sessions}/end")
    client.post(ASK, json={"question": "还是转人工吧", "session_id": session_id})
    client.post(f"{sessions}/reply", json={"text": "您好。"}, headers=login("t_operator"))
    assert client.post(f"{sessions}/close", headers=login("t_supervisor")).json()["status"] == "bot"

    rows = session.scalars(select(AuditEntry).where(AuditEntry.object_type == "assistant_session", AuditEntry.object_id == session_id).order_by(AuditEntry.id)).all()
    assert [(r.action, r.actor, r.data["from"], r.data["to"]) for r in rows] == [
        ("assistant_session.handover", "citizen", "bot", "waiting"),
        ("assistant_session.take", "t_operator", "waiting", "open"),
        ("assistant_session.leave", "citizen", "open", "open"),
        ("assistant_session.end", "citizen", "open", "bot"),
        ("assistant_session.handover", "citizen", "bot", "waiting"),
        ("assistant_session.take", "t_operator", "waiting", "open"),
        ("assistant_session.close", "t_supervisor", "open", "bot"),
    ]
    assert rows[-1].data["operator"] == "t_operator", "a supervisor closing a colleague's conversation says whose it was"
    written = json.dumps([r.data for r in rows], ensure_ascii=False)
    assert "13800138000" not in written and "440681199001015671" not in written and "高黎" not in written
