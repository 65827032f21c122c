"""The console's 受理后 choice is the operator's: a confident router proposal must not override it."""

import re

from sqlalchemy import select

from baishitong.routing.models import RoutingDecision
from baishitong.tickets.models import Ticket
from tests.web.test_pages import login, token

CONFIDENT = "路灯不亮，井盖缺失，道路破损，希望尽快处理。"



def intake(web, phone: str, **fields) -> Ticket:
    page = web.get("/staff/console").text
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page).group(1)
    data = {"csrf_token": token(page), "idempotency_key": key, "type": "投诉", "content": CONFIDENT, "address": "容桂街道高黎社区", "phone": phone}
    response = web.post("/staff/console", data=data | fields)
    assert response.status_code == 200
    return response


def ticket_of(session, phone: str) -> Ticket:
    return session.scalar(select(Ticket).where(Ticket.requester_phone == phone))


def test_confident_intake_dispatched_by_the_router_when_the_operator_leaves_it(web, session, model):
    login(web, "t_operator")
    assert "智能分拨已自动派至" in intake(web, "13800002001", after="dispatch").text
    assert ticket_of(session, "13800002001").status == "dispatched"


def test_hold_keeps_a_confident_ticket_waiting_with_the_proposal_recorded(web, session, model):
    login(web, "t_operator")
    intake(web, "13800002002", after="none")
    ticket = ticket_of(session, "13800002002")
    assert ticket.status == "registered" and ticket.lead_unit is None
    decision = session.scalars(select(RoutingDecision).where(RoutingDecision.ticket_id == ticket.id)).one()
    assert decision.lead_unit == "ronggui" and decision.status == "review" and not decision.auto_dispatched
    assert ticket.number in web.get("/staff/console/review").text


def test_direct_answer_closes_instead_of_dispatching(web, session, model):
    login(web, "t_operator")
    response = intake(web, "13800002003", type="咨询", after="answer", answer="已告知市民报修渠道和处理时限。")
    assert "已受理并直接答复办结" in response.text
    ticket = ticket_of(session, "13800002003")
    assert ticket.lead_unit is None and ticket.status not in ("registered", "dispatched")


def test_a_unit_the_operator_picked_wins_over_the_router(web, session, model):
    login(web, "t_operator")
    assert "已受理并派至 北滘镇" in intake(web, "13800002004", after="dispatch", lead_unit="beijiao").text
    assert ticket_of(session, "13800002004").lead_unit.code == "beijiao"


def test_a_repeat_call_is_registered_and_merged_into_the_open_ticket(web, session):
    from tests.tickets.factories import make_ticket

    master = make_ticket(session, state="dispatched", lead="ronggui")
    login(web, "t_operator")
    missing = intake(web, "13800002005", after="merge")
    assert "请填写要并入的工单号" in missing.text and ticket_of(session, "13800002005") is None
    assert f"已受理并并入工单 {master.number}" in intake(web, "13800002005", after="merge", merge_into=master.number).text
    repeat = ticket_of(session, "13800002005")
    assert repeat.status == "merged" and repeat.lead_unit is None
    # The unit working the master reads what the repeat caller said.
    master_page = web.get(f"/staff/tickets/{master.number}").text
    assert f"重复件 {repeat.number}" in master_page and CONFIDENT in master_page


def test_duplicates_panel_offers_to_merge_into_each_candidate(web, session):
    from tests.tickets.factories import make_ticket

    master = make_ticket(session, state="dispatched", lead="ronggui")
    login(web, "t_operator")
    page = web.get("/staff/console").text
    panel = web.post(
        "/staff/console/suggest",
        data={"content": master.content, "address": master.address or "", "type": "投诉"},
        headers={"X-CSRF-Token": token(page), "HX-Request": "true"},
    ).text
    assert f'data-fill="#f-merge_into" data-fill-text="{master.number}" data-fill-after="merge"' in panel
    assert 'id="f-merge_into"' in page and 'value="merge"' in page


def test_the_console_shows_the_caller_s_history_from_the_number_alone(web, session):
    from tests.tickets.factories import make_ticket

    phone = "13512340001"  # a number no other test files under, so the count is this test's alone
    open_one = make_ticket(session, state="dispatched", lead="ronggui", requester={"name": "周先生", "phone": phone})
    login(web, "t_operator")
    # The telephone system pops the console with the caller's number.
    page = web.get(f"/staff/console?phone={phone}").text
    assert 'id="sg-history"' in page and "该号码共反映 <strong>1</strong> 件" in page and open_one.number in page
    assert f'data-fill-text="{open_one.number}" data-fill-after="merge"' in page
    panel = web.post("/staff/console/suggest", data={"phone": "13700009999", "content": "", "type": "投诉"}, headers={"X-CSRF-Token": token(page), "HX-Request": "true"}).text
    assert "该号码此前没有反映过诉求" in panel


def test_the_panel_warns_when_the_suggested_unit_has_no_active_account(web, session, model):
    from baishitong.org import service as org
    from baishitong.org.models import User

    login(web, "t_operator")
    page = web.get("/staff/console").text
    ask = lambda: web.post("/staff/console/suggest", data={"content": CONFIDENT, "address": "容桂街道高黎社区", "type": "投诉"}, headers={"X-CSRF-Token": token(page), "HX-Request": "true"}).text  # noqa: E731
    first = ask()
    assert "暂无在用账号" not in first
    lead = org.get_unit(session, code=re.search(r'id="suggested-lead" value="([^"]+)"', first).group(1))
    for user in session.query(User).filter(User.unit_id == lead.id, User.active.is_(True)).all():
        user.active = False
    session.flush()
    assert f"{lead.name}在系统中暂无在用账号" in ask()


def test_a_follow_up_that_cannot_be_done_is_said_at_its_field_before_the_call_is_registered(web, session):
    """A mistyped or finished order to merge into, or a direct answer to a complaint, is said while the caller is
    on the line, with the call still in the form: registered first, it waited in 待派单 for someone to find it."""
    from tests.tickets.factories import make_ticket

    login(web, "t_operator")
    page = intake(web, "13800002006", after="merge", merge_into="SD209999999999").text
    assert ticket_of(session, "13800002006") is None and "工单 SD209999999999 不存在或无权查看" in page
    assert 'name="merge_into" id="f-merge_into"' in page and CONFIDENT in page, "the call stays in the form"

    closed = make_ticket(session, state="closed", lead="ronggui")
    page = intake(web, "13800002006", after="merge", merge_into=closed.number).text
    assert ticket_of(session, "13800002006") is None and f"工单 {closed.number} 已办结，不能并入" in page
    master = make_ticket(session, state="dispatched", lead="ronggui")
    intake(web, "13800002008", after="merge", merge_into=master.number)
    earlier = ticket_of(session, "13800002008")
    page = intake(web, "13800002006", after="merge", merge_into=earlier.number).text
    assert ticket_of(session, "13800002006") is None and f"工单 {earlier.number} 已并入 {master.number}，请改为并入 {master.number}" in page

    page = intake(web, "13800002007", type="投诉", after="answer", answer="已告知市民处理渠道。").text
    assert ticket_of(session, "13800002007") is None and "只有咨询可以直接答复办结" in page
    assert "已告知市民处理渠道。" in page and 'value="投诉" checked' in page


def test_a_returned_order_is_not_suggested_back_to_the_unit_that_returned_it(web, session, model):
    from baishitong.tickets import schemas
    from baishitong.tickets import service as tickets
    from tests.conftest import actor

    login(web, "t_operator")
    intake(web, "13800002010", after="dispatch")
    ticket = ticket_of(session, "13800002010")
    assert ticket.lead_unit.code == "ronggui"
    tickets.act(session, number=ticket.number, action="return", actor=actor(session, "t_ronggui"), body=schemas.ReasonIn(version=ticket.version, reason="路段属区城管局管养"))
    tickets.act(session, number=ticket.number, action="approve-return", actor=actor(session, "t_operator"), body=schemas.ActionIn(version=ticket.version))
    queue = web.get("/staff/console/dispatch").text
    row = queue[queue.index(f'data-ticket="{ticket.number}"'):]
    row = row[: row.index("</tr>")]
    assert "容桂街道已退单：路段属区城管局管养" in row and "无建议" in row and " selected" not in row
    page = web.get(f"/staff/tickets/{ticket.number}").text
    form = page[page.index('data-action-form="dispatch"'):]
    form = form[: form.index("</form>")]
    lead = form[form.index('name="lead_unit"'):]
    lead = lead[: lead.index("</select>")]
    assert "已退单：容桂街道：路段属区城管局管养" in form and " selected" not in lead and "已按智能分拨建议预选" not in form


def test_dispatch_without_any_suggestion_says_the_order_waits_for_a_person(web, session):
    login(web, "t_operator")
    response = intake(web, "13800002011", after="dispatch", content="啊啊啊啊啊啊啊啊", address="")
    assert "智能分拨没有给出建议单位，请在待派单中选择主办单位" in response.text
    assert ticket_of(session, "13800002011").status == "registered"


def test_the_panel_also_names_a_suggested_co_handler_without_accounts(web, session, model):
    from baishitong.org.models import Unit, User
    from baishitong.routing import service as routing

    staffed = select(User.unit_id).where(User.active.is_(True), User.unit_id.is_not(None))
    idle = session.scalar(select(Unit).where(Unit.kind == "department", Unit.active.is_(True), Unit.id.not_in(staffed)).order_by(Unit.code))
    _, rules = routing.current_catalogue(session)
    edited = [{f: getattr(r, f) for f in routing.RULE_FIELDS} for r in rules]
    edited.append({"category_prefix": "01", "region_code": "440606006", "lead": "@town", "co_units": [idle.code]})
    routing.replace_catalogue(session, rules=edited, actor="test", note="协办试点")
    login(web, "t_operator")
    page = web.get("/staff/console").text
    panel = web.post("/staff/console/suggest", data={"content": CONFIDENT, "address": "容桂街道高黎社区", "type": "投诉"}, headers={"X-CSRF-Token": token(page), "HX-Request": "true"}).text
    assert "建议协办" in panel and f"{idle.name}在系统中暂无在用账号" in panel and "容桂街道在系统中" not in panel and "容桂街道、" not in panel


def test_the_console_warns_after_sending_a_call_to_units_nobody_will_see_it_in(web, session, model):
    login(web, "t_operator")
    sent = intake(web, "13800002021", after="dispatch", lead_unit="beijiao", co_units=["SJJ", "STHJ"]).text
    assert "已受理并派至 北滘镇" in sent
    assert "北滘镇、佛山市生态环境局顺德分局在系统中暂无在用账号" in sent and "市场监督管理局在系统中" not in sent
    from baishitong.org.models import Unit, User

    for user in session.scalars(select(User).join(Unit, User.unit_id == Unit.id).where(Unit.code == "ronggui")):
        user.active = False
    session.flush()
    auto = intake(web, "13800002022", after="dispatch").text
    assert "智能分拨已自动派至 容桂街道" in auto and "容桂街道在系统中暂无在用账号" in auto
