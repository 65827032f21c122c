"""督办台 stays a few screens tall: each section lists its first SECTION_ROWS (10) orders, its title counts all of
them, and the pager under it goes to the rest (a long 延期待批 list made the desk over 7,000 px tall)."""

import re

from sqlalchemy import func, select

from baishitong.tickets import schemas, service
from baishitong.tickets.models import Ticket
from baishitong.web import supervisor
from tests.conftest import actor
from tests.tickets.factories import make_ticket
from tests.web.test_pages import login


def _section(page: str, section: str) -> str:
    return re.search(rf'<section class="card card-flush" id="{section}".*?</section>', page, re.S).group(0)


def test_a_long_extension_list_shows_ten_with_the_count_and_a_pager_to_the_rest(web, session):
    assert supervisor.SECTION_ROWS == 10
    for _ in range(12):
        ticket = make_ticket(session, state="signed")
        service.act(session, number=ticket.number, action="extend", actor=actor(session, "t_ronggui"), body=schemas.ExtendIn(version=ticket.version, days=3, reason="需协调供电部门现场勘查"))
    session.commit()
    waiting = session.scalar(select(func.count()).select_from(Ticket).where(Ticket.status == "signed", Ticket.extension_days.is_not(None)))
    assert waiting >= 12

    login(web, "t_supervisor")
    first = _section(web.get("/staff/supervise").text, "extensions")
    assert f"延期审批（{waiting}）" in first
    shown = re.findall(r'<tr data-ticket="([^"]+)">', first)
    assert len(shown) == 10
    assert f"第 1–10 条，共 {waiting} 条" in first
    link = re.search(r'<a href="([^"]+)" rel="next">下一页</a>', first).group(1).replace("&amp;", "&")
    assert link == "/staff/supervise?at=extensions&page=2#extensions"

    second = _section(web.get(link).text, "extensions")
    rest = re.findall(r'<tr data-ticket="([^"]+)">', second)
    assert len(rest) == min(10, waiting - 10) and not set(rest) & set(shown)
    assert f"第 11–{10 + len(rest)} 条，共 {waiting} 条" in second


def test_a_short_section_has_its_count_and_no_pager(web, session):
    make_ticket(session, state="returned")
    session.commit()
    waiting = session.scalar(select(func.count()).select_from(Ticket).where(Ticket.status == "returned"))
    login(web, "t_supervisor")
    returns = _section(web.get("/staff/supervise").text, "returns")
    assert f"退单审核（{waiting}）" in returns and returns.count("<tr data-ticket=") == waiting
    assert "data-pager" not in returns
