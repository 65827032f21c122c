"""下派 and 派单 to a unit without an active account say so, so the sender phones the unit as well."""

import re

from sqlalchemy import select

from baishitong.org.models import Unit, User
from tests.tickets.factories import make_ticket
from tests.web.test_pages import login, token

WARNING = "在系统中暂无在用账号，无人会在系统中看到这张工单，请电话通知"


def idle_community(session) -> Unit:
    """A community under 容桂街道 nobody has an account in (高黎社区 has t_gaoli)."""
    ronggui = session.scalar(select(Unit).where(Unit.code == "ronggui"))
    staffed = select(User.unit_id).where(User.active.is_(True), User.unit_id.is_not(None))
    return session.scalars(select(Unit).where(Unit.parent_id == ronggui.id, Unit.active.is_(True), Unit.id.not_in(staffed)).order_by(Unit.code)).first()


def test_the_sub_dispatch_form_marks_communities_without_accounts_and_warns_after_sending(web, session):
    ticket = make_ticket(session, state="signed")
    idle = idle_community(session)
    login(web, "t_ronggui")
    page = web.get(f"/staff/tickets/{ticket.number}").text
    form = re.search(r'<form[^>]*data-action-form="subdispatch".*?</form>', page, re.S).group(0)
    assert f">{idle.name}（暂无在用账号）</option>" in form and ">高黎社区</option>" in form
    assert "下派后请电话通知" in form
    sent = web.post(f"/staff/tickets/{ticket.number}/act/subdispatch", data={"csrf_token": token(page), "version": str(ticket.version), "unit": idle.code, "next": f"/staff/tickets/{ticket.number}"}).text
    assert f"工单 {ticket.number} 已下派" in sent and f"{idle.name}{WARNING}" in sent


def test_sub_dispatch_to_a_staffed_community_gives_no_warning(web, session):
    ticket = make_ticket(session, state="signed")
    login(web, "t_ronggui")
    page = web.get(f"/staff/tickets/{ticket.number}").text
    sent = web.post(f"/staff/tickets/{ticket.number}/act/subdispatch", data={"csrf_token": token(page), "version": str(ticket.version), "unit": "440606006023", "next": f"/staff/tickets/{ticket.number}"}).text
    assert f"工单 {ticket.number} 已下派" in sent and WARNING not in sent


def test_a_dispatch_names_the_co_handler_nobody_could_see_it_in(web, session):
    ticket = make_ticket(session)
    idle = session.scalar(select(Unit).where(Unit.kind == "department", Unit.active.is_(True), Unit.id.not_in(select(User.unit_id).where(User.active.is_(True), User.unit_id.is_not(None)))).order_by(Unit.code))
    login(web, "t_operator")
    page = web.get(f"/staff/tickets/{ticket.number}").text
    data = {"csrf_token": token(page), "version": str(ticket.version), "lead_unit": "ronggui", "co_units": ["SJJ", idle.code], "next": f"/staff/tickets/{ticket.number}"}
    sent = web.post(f"/staff/tickets/{ticket.number}/act/dispatch", data=data).text
    assert f"{idle.name}{WARNING}" in sent and "区市场监管局" not in re.search(r'id="flash".*?</div>\s*</div>', sent, re.S).group(0)
