"""The unit hears what the centre asks of it: a 重办 is texted with its reason and new deadline, and the
latest 催办 / 督办 note is on the order's card on the unit desk."""

import re

from sqlalchemy import select

from baishitong.actors import SYSTEM as SYSTEM_ACTOR
from baishitong.notify.models import Message
from baishitong.notify.service import _local
from baishitong.tickets import schemas, service
from tests.conftest import actor
from tests.tickets.factories import make_ticket
from tests.web.test_pages import login, token

REASON = "市民反映路灯仍然不亮，请重新检修"


def unit_texts(session, ticket, code):
    return session.scalars(select(Message).where(Message.ticket_id == ticket.id, Message.template_code == code, Message.audience == "unit")).all()


def test_a_redo_texts_the_unit_why_and_by_when(session):
    ticket = make_ticket(session, state="callback_unsatisfied")
    service.act(session, number=ticket.number, action="redo", actor=actor(session, "t_operator"), body=schemas.ReasonIn(version=ticket.version, reason=REASON))
    texts = unit_texts(session, ticket, "ticket_redone")
    assert texts and {m.unit_id for m in texts} == {ticket.lead_unit_id}
    assert REASON in texts[0].body and _local(ticket.reply_due) in texts[0].body


def test_a_redo_sent_from_the_order_page_reaches_the_unit(web, session):
    ticket = make_ticket(session, state="callback_unsatisfied")
    session.flush()
    login(web, "t_supervisor")
    page = web.get(f"/staff/tickets/{ticket.number}").text
    web.post(f"/staff/tickets/{ticket.number}/act/redo", data={"csrf_token": token(page), "version": ticket.version, "reason": REASON}, follow_redirects=True)
    assert ticket.status == "signed" and any(REASON in m.body for m in unit_texts(session, ticket, "ticket_redone"))


def _card(page, number):
    return re.search(rf'<section class="card" data-ticket="{number}">.*?</section>', page, re.S).group(0)


def test_unit_card_shows_the_latest_urge_or_supervise_note(web, session):
    ticket = make_ticket(session, state="signed")
    plain = make_ticket(session, state="signed")
    service.act(session, number=plain.number, action="urge", actor=actor(session, "t_operator"), body=schemas.ActionIn())
    session.flush()
    login(web, "t_operator")
    page = web.get(f"/staff/tickets/{ticket.number}").text
    web.post(f"/staff/tickets/{ticket.number}/act/urge", data={"csrf_token": token(page), "version": ticket.version, "note": "市民今天第三次来电，请尽快联系"}, follow_redirects=True)
    login(web, "t_ronggui")
    card = _card(web.get("/staff/unit?tab=signed").text, ticket.number)
    assert 'data-centre-note="催办"' in card and "市民今天第三次来电，请尽快联系" in card
    assert "data-centre-note" not in _card(web.get("/staff/unit?tab=signed").text, plain.number), "an urge without a note shows only its count"
    service.act(session, number=ticket.number, action="supervise", actor=actor(session, "t_supervisor"), body=schemas.ActionIn(note="区领导关注，限期答复"))
    session.flush()
    card = _card(web.get("/staff/unit?tab=signed").text, ticket.number)
    assert 'data-centre-note="督办"' in card and "区领导关注，限期答复" in card and "第三次来电" not in card


def test_unit_card_shows_the_operators_dispatch_note_but_not_the_routers(web, session):
    told = make_ticket(session)
    service.act(session, number=told.number, action="dispatch", actor=actor(session, "t_operator"), body=schemas.DispatchIn(version=told.version, lead_unit="ronggui", note="来电人白天上班，请晚上六点后联系"))
    routed = make_ticket(session)
    service.dispatch_to(session, routed, actor=SYSTEM_ACTOR, lead_code="ronggui", co_codes=[], note="智能分拨自动派单")
    session.flush()
    login(web, "t_ronggui")
    page = web.get("/staff/unit?tab=dispatched").text
    assert "派单说明：</strong>来电人白天上班，请晚上六点后联系" in _card(page, told.number)
    assert "data-dispatch-note" not in _card(page, routed.number), "the router's own note tells the unit nothing"


def test_a_note_written_for_an_earlier_unit_is_not_shown_after_a_re_dispatch(web, session):
    ticket = make_ticket(session)
    operator = actor(session, "t_operator")
    service.act(session, number=ticket.number, action="dispatch", actor=operator, body=schemas.DispatchIn(version=ticket.version, lead_unit="daliang", note="请大良街道核实现场"))
    service.act(session, number=ticket.number, action="dispatch", actor=operator, body=schemas.DispatchIn(version=ticket.version, lead_unit="ronggui"))
    session.flush()
    login(web, "t_ronggui")
    assert "data-dispatch-note" not in _card(web.get("/staff/unit?tab=dispatched").text, ticket.number)
