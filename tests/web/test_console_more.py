"""The console's 更多: a title, a 问题分类 chosen over the classifier's (kept as routing evidence), and a 派单说明 and
协办单位 sent with the dispatch, which the units read on the order."""

import re

from sqlalchemy import select

from baishitong.routing.models import RoutingDecision
from baishitong.tickets.models import TicketEvent
from tests.web.test_console_after import CONFIDENT, intake, ticket_of
from tests.web.test_pages import login, token

NOTE = "来电人下午三点后在家，请先电话联系再上门"


def _dispatch_event(session, ticket) -> TicketEvent:
    return session.scalar(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id, TicketEvent.action == "dispatch"))


def test_more_is_folded_away_and_the_panel_shows_the_chosen_category_beside_the_classifiers(web, session, model):
    login(web, "t_operator")
    page = web.get("/staff/console").text
    more = re.search(r'<details class="intake-more">.*?</details>', page, re.S).group(0)
    for name in ("title", "category_code", "dispatch_note", "co_units"):
        assert f'name="{name}"' in more
    assert '<option value="050102">环境保护 › 大气污染 › 餐饮油烟</option>' in more
    form = {"csrf_token": token(page), "type": "投诉", "content": CONFIDENT, "address": "容桂街道高黎社区"}
    plain = web.post("/staff/console/suggest", data=form).text
    assert "城乡建设" in plain and "已改选" not in plain
    chosen = web.post("/staff/console/suggest", data=form | {"category_code": "050102"}).text
    assert "环境保护 › 大气污染 › 餐饮油烟（已改选；智能分类建议：城乡建设）" in chosen
    # A code that is not in the list is not a choice: the classifier's stands.
    assert "已改选" not in web.post("/staff/console/suggest", data=form | {"category_code": "99"}).text


def test_title_category_note_and_co_handlers_reach_the_order_and_the_units_read_them(web, session, model):
    login(web, "t_operator")
    response = intake(web, "13800004001", after="dispatch", lead_unit="ronggui", title="桂洲大道东路灯不亮", category_code="050102", dispatch_note=NOTE, co_units=["SJJ", "ronggui"])
    ticket = ticket_of(session, "13800004001")
    assert f"工单 {ticket.number} 已受理并派至 容桂街道" in response.text
    assert ticket.title == "桂洲大道东路灯不亮" and ticket.category.code == "050102"
    assert [c.unit.code for c in ticket.co_units] == ["SJJ"]  # the lead is not its own co-handler
    event = _dispatch_event(session, ticket)
    assert event.note == NOTE and event.actor == "t_operator"
    decision = session.scalar(select(RoutingDecision).where(RoutingDecision.ticket_id == ticket.id))
    assert decision.category_code == "050102" and decision.evidence["category_source"] == "request"
    assert decision.evidence["category_suggested"]["code"] == "01"
    routing = re.search(r'id="routing".*?</section>', web.get(f"/staff/tickets/{ticket.number}").text, re.S).group(0)
    assert "受理时选定，智能分类建议为城乡建设" in routing

    for unit_user in ("t_ronggui", "t_sjj"):
        login(web, unit_user)
        order = web.get(f"/staff/tickets/{ticket.number}").text
        assert "桂洲大道东路灯不亮" in order and "环境保护 › 大气污染 › 餐饮油烟" in order
        timeline = re.search(r'id="timeline".*?</section>', order, re.S).group(0)
        assert NOTE in timeline and "协办：顺德区市场监督管理局" in timeline


def test_a_note_for_the_unit_is_sent_by_the_operator_not_overtaken_by_the_routers_own_dispatch(web, session, model):
    login(web, "t_operator")
    plain = intake(web, "13800004002", after="dispatch")
    assert "智能分拨已自动派至" in plain.text and _dispatch_event(session, ticket_of(session, "13800004002")).note == "智能分拨自动派单"
    response = intake(web, "13800004003", after="dispatch", dispatch_note=NOTE)
    ticket = ticket_of(session, "13800004003")
    assert f"工单 {ticket.number} 已受理并派至 容桂街道" in response.text
    event = _dispatch_event(session, ticket)
    assert event.note == NOTE and event.actor == "t_operator"


def test_a_note_without_a_dispatch_or_an_unknown_category_is_refused_with_the_more_fields_open(web, session, model):
    login(web, "t_operator")
    held = intake(web, "13800004004", after="none", dispatch_note=NOTE, co_units="SJJ").text
    assert ticket_of(session, "13800004004") is None
    assert "派单说明和协办单位随派单发出，请选择“立即派单”，或清空这两项" in held
    more = re.search(r'<details class="intake-more" open>.*?</details>', held, re.S).group(0)
    assert NOTE in more and re.search(r'<textarea[^>]*name="dispatch_note"[^>]*autofocus', more)
    assert re.search(r'<option value="SJJ" selected>', more)
    unknown = intake(web, "13800004005", after="none", category_code="99").text
    assert ticket_of(session, "13800004005") is None and "请从列表中选择问题分类" in unknown
