"""类案参考: answered orders about the same matter, with their replies, for whoever drafts a reply."""

from baishitong.tickets import cases, schemas, service
from baishitong.tickets.models import Ticket
from tests.conftest import actor
from tests.tickets.factories import make_ticket
from tests.web.test_pages import login

WATER = "伦教街道某小区二次供水水箱长期不清洗，自来水有明显异味，请相关部门检查水质。"
WATER_REPLY = "经核查，该小区二次供水设施由物业管理，我局已责令物业于三日内完成水箱清洗消毒并送检水质，检测合格。"


def answered(session, *, content: str, reply: str, lead: str = "ronggui") -> Ticket:
    ticket = make_ticket(session, state="signed", lead=lead, content=content)
    handler = {"ronggui": "t_ronggui", "daliang": "t_daliang"}[lead]
    service.act(session, number=ticket.number, action="reply", actor=actor(session, handler), body=schemas.ContentIn(version=ticket.version, content=reply))
    return ticket


def test_an_answered_order_about_the_same_matter_comes_first_with_its_reply(session):
    past = answered(session, content=WATER, reply=WATER_REPLY)
    answered(session, content="容桂街道桂洲大道路灯不亮，晚上很黑。", reply="已安排维修，路灯已恢复。")
    unanswered = make_ticket(session, state="signed", content=WATER)
    new = make_ticket(session, state="signed", content="我家小区的水箱好久没洗了，自来水一股异味，二次供水谁来管？")
    found = cases.similar_cases(session, ticket=new, actor=actor(session, "t_operator"))
    assert found[0].number == past.number and found[0].reply == WATER_REPLY
    assert all(c.number not in (new.number, unanswered.number) for c in found), "only answered orders, never itself"
    assert [c.similarity for c in found] == sorted((c.similarity for c in found), reverse=True)


def test_a_unit_sees_only_its_own_past_cases(session):
    theirs = answered(session, content=WATER, reply=WATER_REPLY, lead="daliang")
    ours = answered(session, content=WATER.replace("伦教", "容桂"), reply="我街道已督促物业清洗水箱。")
    new = make_ticket(session, state="signed", content=WATER)
    for_unit = [c.number for c in cases.similar_cases(session, ticket=new, actor=actor(session, "t_ronggui"))]
    assert ours.number in for_unit and theirs.number not in for_unit
    for_centre = [c.number for c in cases.similar_cases(session, ticket=new, actor=actor(session, "t_operator"))]
    assert {ours.number, theirs.number} <= set(for_centre)


def test_the_api_lists_similar_cases_and_hides_other_units_orders(client, login, session):
    past = answered(session, content=WATER, reply=WATER_REPLY)
    new = make_ticket(session, state="signed", content=WATER)
    session.commit()
    listed = client.get(f"/api/v1/tickets/{new.number}/similar-cases", headers=login("t_ronggui"))
    assert listed.status_code == 200 and listed.json()[0]["number"] == past.number and listed.json()[0]["reply"] == WATER_REPLY
    assert client.get(f"/api/v1/tickets/{new.number}/similar-cases", headers=login("t_daliang")).status_code == 404


def test_the_ticket_page_loads_the_cases_with_a_quote_button_into_the_reply_form(web, session):
    past = answered(session, content=WATER, reply=WATER_REPLY)
    new = make_ticket(session, state="signed", content=WATER)
    login(web, "t_ronggui")
    page = web.get(f"/staff/tickets/{new.number}").text
    assert f'hx-get="/staff/tickets/{new.number}/cases"' in page and f'id="a-{new.number}-reply-content"' in page
    panel = web.get(f"/staff/tickets/{new.number}/cases", headers={"HX-Request": "true"}).text
    assert past.number in panel and WATER_REPLY in panel and f'data-quote-into="a-{new.number}-reply-content"' in panel
    # Without JavaScript the link shows the whole page with the cases in it.
    inline = web.get(f"/staff/tickets/{new.number}/cases").text
    assert "办理过程" in inline and past.number in inline and "正在查找" not in inline
    # The operator of a 投诉 has no reply form of their own: nothing to quote into.
    login(web, "t_operator")
    assert "data-quote-into" not in web.get(f"/staff/tickets/{new.number}/cases", headers={"HX-Request": "true"}).text
