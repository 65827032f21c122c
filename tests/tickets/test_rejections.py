"""驳回退单 / 驳回延期 carry a reason, which the unit sees in the timeline and is texted."""

from sqlalchemy import select

from baishitong.notify.models import Message
from baishitong.tickets import schemas, service
from tests.conftest import actor
from tests.tickets.factories import make_ticket
from tests.web.test_pages import login, token


def unit_texts(session, ticket) -> list[str]:
    return list(session.scalars(select(Message.body).where(Message.ticket_id == ticket.id, Message.audience == "unit").order_by(Message.id)))


def test_a_refused_return_needs_a_reason_and_the_unit_is_told_it(client, login, session):
    ticket = make_ticket(session, state="returned")
    headers = login("t_operator")
    bare = client.post(f"/api/v1/tickets/{ticket.number}/actions/reject-return", json={"version": ticket.version}, headers=headers)
    assert bare.status_code == 422 and bare.json()["error"]["code"] == "invalid_body"
    done = client.post(f"/api/v1/tickets/{ticket.number}/actions/reject-return", json={"version": ticket.version, "reason": "该路段属容桂街道管辖"}, headers=headers)
    assert done.status_code == 200 and done.json()["status"] == "dispatched"
    event = ticket.events[-1]
    assert event.data == {"reason": "该路段属容桂街道管辖", "return_reason": "不属于本单位职责"}
    assert "退单申请未获同意，原因：该路段属容桂街道管辖" in unit_texts(session, ticket)[-1]


def test_a_refused_extension_is_explained_to_the_unit(session):
    ticket = make_ticket(session, state="signed")
    service.act(session, number=ticket.number, action="extend", actor=actor(session, "t_ronggui"), body=schemas.ExtendIn(version=ticket.version, days=5, reason="需要现场核查"))
    service.act(session, number=ticket.number, action="reject-extension", actor=actor(session, "t_supervisor"), body=schemas.ReasonIn(version=ticket.version, reason="现有时限足够办理"))
    assert ticket.extension_days is None and ticket.events[-1].data["reason"] == "现有时限足够办理"
    assert "延期申请未获同意，原因：现有时限足够办理" in unit_texts(session, ticket)[-1]
    assert "前答复" in unit_texts(session, ticket)[-1]


def test_a_refusal_of_a_return_made_after_the_deadline_says_it_has_passed(session, monkeypatch):
    from tests.sla.test_service import at

    at(monkeypatch, "2026-12-07 09:00")  # a 咨询 is due on Wednesday the 9th
    ticket = make_ticket(session, state="signed", type="咨询")
    at(monkeypatch, "2026-12-10 09:00")
    service.act(session, number=ticket.number, action="return", actor=actor(session, "t_ronggui"), body=schemas.ReasonIn(version=ticket.version, reason="不属于本单位职责"))
    at(monkeypatch, "2026-12-10 11:00")
    service.act(session, number=ticket.number, action="reject-return", actor=actor(session, "t_operator"), body=schemas.ReasonIn(version=ticket.version, reason="属于本单位职责"))
    text = unit_texts(session, ticket)[-1]
    assert "已过，请尽快答复" in text and "前答复" not in text


def test_the_review_queue_asks_for_the_reason_in_the_row(web, session):
    ticket = make_ticket(session, state="returned")
    login(web, "t_operator")
    page = web.get("/staff/console/review").text
    row = page[page.index(f'action="/staff/tickets/{ticket.number}/act/reject-return"'):]
    assert 'name="reason"' in row[: row.index("</form>")] and "required" in row[: row.index("</form>")]
    refused = web.post(f"/staff/tickets/{ticket.number}/act/reject-return", data={"csrf_token": token(page), "version": str(ticket.version), "next": "/staff/console/review", "reason": ""}, follow_redirects=True)
    assert ticket.status == "returned" and "原因" in refused.text
    web.post(f"/staff/tickets/{ticket.number}/act/reject-return", data={"csrf_token": token(page), "version": str(ticket.version), "next": "/staff/console/review", "reason": "属于本单位职责"})
    assert ticket.status == "dispatched"
    timeline = web.get(f"/staff/tickets/{ticket.number}").text
    assert "驳回退单" in timeline and "原因：属于本单位职责" in timeline


def test_a_granted_extension_is_texted_to_the_unit_with_the_new_deadline(session):
    from baishitong.notify.service import _local

    ticket = make_ticket(session, state="signed")
    service.act(session, number=ticket.number, action="extend", actor=actor(session, "t_ronggui"), body=schemas.ExtendIn(version=ticket.version, days=5, reason="需要现场核查"))
    service.act(session, number=ticket.number, action="approve-extension", actor=actor(session, "t_supervisor"), body=schemas.ActionIn(version=ticket.version))
    text = unit_texts(session, ticket)[-1]
    assert "延期申请已同意" in text and _local(ticket.reply_due) in text
