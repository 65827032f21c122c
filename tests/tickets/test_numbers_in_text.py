"""Phone and ID numbers a caller says in the message are masked like the requester fields: in the title,
the content, exports and the assistant's question log; only the audited reveal shows them."""

import csv
import io

from sqlalchemy import select

from baishitong.audit.models import AuditEntry
from baishitong.security import mask_numbers_in_text, mask_phone
from tests.web.test_pages import login as web_login
from tests.web.test_pages import token

SAID = "本人周九，身份证440681199001015671，手机139 8765 4321，小区门口的路灯坏了一个月。"
INTAKE = {"type": "求助", "content": SAID, "address": "容桂街道高黎社区", "requester": {"name": "周九", "phone": "13987654321"}}


def test_numbers_in_free_text_are_masked_and_other_numbers_kept():
    masked = mask_numbers_in_text("身份证44068119900101567X，电话138-1234-5678，工单SD202612050327，座机0757-22334455")
    assert masked == "身份证440681********567X，电话138****5678，工单SD202612050327，座机0757-22334455"
    assert mask_numbers_in_text("订单号 202612050327123456789") == "订单号 202612050327123456789"


def test_a_requesters_number_of_any_length_has_at_least_four_digits_hidden():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("0757-22334455") == "075****4455"
    assert mask_phone("22334455") == "****4455"
    assert mask_phone("2233445") == "****"
    assert mask_phone("138****5678") == "138****5678"


def test_a_mobile_number_with_the_country_code_is_masked():
    assert mask_numbers_in_text("手机+8613812345678，或 86 138 1234 5678") == "手机+86138****5678，或 86 138****5678"


def test_units_read_the_message_masked_until_they_reveal_it(client, login):
    operator, handler = login("t_operator"), login("t_ronggui")
    created = client.post("/api/v1/tickets", json=INTAKE, headers=operator).json()
    number = created["number"]
    # Masked before the title is cut to length: a cut number would escape the mask.
    assert created["title"].startswith("本人周九，身份证440681********5671，手机139****432") and "8765" not in created["title"]
    client.post(f"/api/v1/tickets/{number}/actions/dispatch", json={"version": 1, "lead_unit": "ronggui"}, headers=operator)
    seen = client.get(f"/api/v1/tickets/{number}", headers=handler).json()
    assert "440681********5671" in seen["content"] and "139****4321" in seen["content"]
    assert "440681199001015671" not in str(seen) and "139 8765 4321" not in str(seen)
    revealed = client.post(f"/api/v1/tickets/{number}/requester", json={"purpose": "联系核实"}, headers=handler).json()
    assert revealed["content"] == SAID and revealed["phone"] == "13987654321"


def test_the_order_page_unmasks_the_message_on_reveal_and_records_it(web, session, client, login):
    operator = login("t_operator")
    number = client.post("/api/v1/tickets", json=INTAKE, headers=operator).json()["number"]
    client.post(f"/api/v1/tickets/{number}/actions/dispatch", json={"version": 1, "lead_unit": "ronggui"}, headers=operator)
    web_login(web, "t_ronggui")
    page = web.get(f"/staff/tickets/{number}").text
    assert "440681********5671" in page and "440681199001015671" not in page
    shown = web.post(f"/staff/tickets/{number}/reveal", data={"csrf_token": token(page), "purpose": "联系核实"}, headers={"HX-Request": "true"}).text
    assert 'id="ticket-content" hx-swap-oob="true"' in shown and "440681199001015671" in shown and "13987654321" in shown
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "personal_data.view", AuditEntry.object_id == number)).one()
    assert "content" in entry.data["fields"] and entry.actor == "t_ronggui"
    exported = web.get("/staff/exports/tickets.csv").content.decode("utf-8-sig")
    rows = {r["工单编号"]: r for r in csv.DictReader(io.StringIO(exported))}
    assert "139****4321" in rows[number]["诉求内容"] and "440681199001015671" not in exported


def test_the_assistants_question_log_keeps_no_numbers(client, login):
    client.post("/api/v1/assistant/ask", json={"question": "我叫陈大文，身份证440681199001011234，电话13812345678，邻居养的鸽子太吵了怎么办"})
    groups = client.get("/api/v1/assistant/unanswered", headers=login("t_supervisor")).json()
    questions = [q for g in groups for q in g["questions"]]
    assert any("138****5678" in q and "440681********1234" in q for q in questions)
    assert not any("13812345678" in q or "440681199001011234" in q for q in questions)


def test_a_reply_naming_the_number_the_unit_rang_is_masked_for_staff_but_read_in_full_by_the_requester(web, client, login):
    operator, handler = login("t_operator"), login("t_ronggui")
    number = client.post("/api/v1/tickets", json=INTAKE, headers=operator).json()["number"]
    client.post(f"/api/v1/tickets/{number}/actions/dispatch", json={"version": 1, "lead_unit": "ronggui"}, headers=operator)
    client.post(f"/api/v1/tickets/{number}/actions/sign", json={"version": 2}, headers=handler)
    reply = "已致电13987654321与周先生核实，路灯已于当日修复。"
    answered = client.post(f"/api/v1/tickets/{number}/actions/reply", json={"version": 3, "content": reply}, headers=handler)
    assert answered.status_code == 200, answered.text
    assert client.get(f"/api/v1/tickets/{number}", headers=operator).json()["reply"] == "已致电139****4321与周先生核实，路灯已于当日修复。"
    web_login(web, "t_operator")
    for page in (f"/staff/tickets/{number}", "/staff/console/callback"):
        shown = web.get(page).text
        assert "139****4321与周先生" in shown and "13987654321" not in shown, page
    tracked = client.post("/api/v1/track", json={"number": number, "phone": "13987654321"}).json()
    assert tracked["reply"] == reply
