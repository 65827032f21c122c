"""单位工作台 tells the unit what became of its requests and where its orders are, and an action comes back to
the card acted on (or the one after it, when the order has left the tab) with its outcome there."""

import re

from baishitong.tickets import schemas, service
from tests.conftest import actor
from tests.tickets.factories import make_ticket
from tests.web.test_pages import login, token


def card(page: str, number: str) -> str:
    found = re.search(rf'<section class="card" data-ticket="{number}">.*?</section>', page, re.S)
    assert found, number
    return found.group(0)


def test_a_refused_return_shows_its_reason_on_the_order_back_on_the_desk(web, session):
    ticket = make_ticket(session, state="returned")
    service.act(session, number=ticket.number, action="reject-return", actor=actor(session, "t_supervisor"), body=schemas.ReasonIn(version=ticket.version, reason="属于本单位属地管理职责，请继续办理"))
    login(web, "t_ronggui")
    back = card(web.get("/staff/unit?tab=dispatched").text, ticket.number)
    assert 'data-refusal="驳回退单"' in back and "属于本单位属地管理职责，请继续办理" in back

    # Returned again: the desk shows the new reason, not the old refusal.
    service.act(session, number=ticket.number, action="return", actor=actor(session, "t_ronggui"), body=schemas.ReasonIn(version=ticket.version, reason="涉及供电线路，建议转供电局"))
    again = card(web.get("/staff/unit?tab=returned").text, ticket.number)
    assert "涉及供电线路" in again and "data-refusal" not in again


def test_a_refused_extension_shows_until_the_unit_asks_again_and_not_to_the_co_handler(web, session):
    ticket = make_ticket(session, state="signed")  # 容桂街道 leads, 区市场监管局 co-handles
    handler = actor(session, "t_ronggui")
    service.act(session, number=ticket.number, action="extend", actor=handler, body=schemas.ExtendIn(version=ticket.version, days=5, reason="需协调供电部门"))
    service.act(session, number=ticket.number, action="reject-extension", actor=actor(session, "t_supervisor"), body=schemas.ReasonIn(version=ticket.version, reason="现有时限足够，请按期答复"))
    login(web, "t_ronggui")
    refused = card(web.get("/staff/unit?tab=signed").text, ticket.number)
    assert 'data-refusal="驳回延期"' in refused and "现有时限足够，请按期答复" in refused
    login(web, "t_sjj")
    assert "data-refusal" not in card(web.get("/staff/unit?tab=co").text, ticket.number)

    service.act(session, number=ticket.number, action="extend", actor=handler, body=schemas.ExtendIn(version=ticket.version, days=3, reason="诉求人出差，约定下周上门"))
    login(web, "t_ronggui")
    assert "data-refusal" not in card(web.get("/staff/unit?tab=signed").text, ticket.number)


def test_a_card_names_the_community_the_order_was_sent_down_to(web, session):
    ticket = make_ticket(session, state="signed")
    service.act(session, number=ticket.number, action="subdispatch", actor=actor(session, "t_ronggui"), body=schemas.UnitIn(version=ticket.version, unit="440606006023"))
    login(web, "t_ronggui")
    assert re.search(r"<strong data-sub-unit>已下派：高黎社区</strong>", card(web.get("/staff/unit?tab=signed").text, ticket.number))


def test_an_action_comes_back_to_its_card_or_to_the_next_one_when_the_order_left_the_tab(web, session):
    first, second, third = (make_ticket(session, state="dispatched") for _ in range(3))
    login(web, "t_ronggui")
    desk = web.get("/staff/unit?tab=dispatched").text
    listed = re.findall(r'<section class="card" data-ticket="([^"]+)"', desk)
    assert listed == [first.number, second.number, third.number]
    form = re.search(rf'<form[^>]*action="/staff/tickets/{second.number}/act/note".*?</form>', desk, re.S).group(0)
    landing = re.search(r'name="next" value="([^"]+)"', form).group(1).replace("&amp;", "&")
    assert landing == f"/staff/unit?tab=dispatched&row={second.number}&then={third.number}#t-{second.number}"

    # 办理进展 keeps the order on the tab: the outcome stands above its own card, and not at the top of the page.
    noted = web.post(f"/staff/tickets/{second.number}/act/note", data={"csrf_token": token(desk), "version": second.version, "note": "已联系社区核实", "next": landing}).text
    outcome = re.search(rf'<div id="t-{second.number}" class="desk-landing" tabindex="-1">(.*?)</div>\s*</div>\s*<section class="card" data-ticket="([^"]+)"', noted, re.S)
    assert outcome and f"工单 {second.number} 已记录办理进展" in outcome.group(1) and outcome.group(2) == second.number
    assert noted.count('id="flash"') == 1

    # 签收 takes it off 待签收: the outcome stands above the card that followed it, where the anchor lands.
    signed = web.post(f"/staff/tickets/{second.number}/act/sign", data={"csrf_token": token(desk), "version": second.version, "next": landing}).text
    outcome = re.search(rf'<div id="t-{second.number}" class="desk-landing" tabindex="-1">(.*?)</div>\s*</div>\s*<section class="card" data-ticket="([^"]+)"', signed, re.S)
    assert outcome and f"工单 {second.number} 已签收" in outcome.group(1) and outcome.group(2) == third.number
