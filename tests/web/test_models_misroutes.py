"""分拨模型's 误派统计 by 问题分类: the demo's ~160 categories, listed by code, made the page 8,000 px tall on a
desktop (28,000 on a phone) with the few corrected ones anywhere in it."""

import re

from sqlalchemy import select

from baishitong.actors import REQUESTER
from baishitong.org.models import Category
from baishitong.routing.models import RoutingDecision
from baishitong.tickets import service as tickets
from tests.tickets.factories import intake
from tests.web.test_pages import login


def category_names(html: str) -> list[str]:
    return re.findall(r'<td data-label="分类"><span>([^<]+?) <span', html)


def test_the_corrected_categories_come_first_and_the_rest_waits_behind_show_all(web, session):
    ticket, _ = tickets.create_ticket(session, data=intake(), actor=REQUESTER, auto_dispatch=False)
    cats = session.scalars(select(Category).order_by(Category.code).limit(30)).all()
    # Each category proposed as often as its place in the list (the last most often); the last but one and the
    # first were corrected, the first only re-filed under another category.
    for i, cat in enumerate(cats):
        for _ in range(i + 1):
            session.add(RoutingDecision(ticket_id=ticket.id, category_code=cat.code, lead_unit="CGZF", status="auto"))
    session.add(RoutingDecision(ticket_id=ticket.id, category_code=cats[-2].code, lead_unit="CGZF", status="corrected", corrected_to="RSJ"))
    session.add(RoutingDecision(ticket_id=ticket.id, category_code=cats[0].code, lead_unit="CGZF", status="auto", corrected_category="020101"))
    session.commit()

    login(web, "t_admin")
    page = web.get("/staff/admin/models").text
    card = page.split("按问题分类", 1)[1]
    first, rest = card.split('<details class="table-more">', 1)
    rest = rest.split("</details>", 1)[0]
    assert "显示全部 30 个分类" in rest and "<summary>" in rest
    shown = category_names(first)
    assert shown[:3] == [cats[-2].path, cats[0].path, cats[-1].path], "corrected first, then the most proposed"
    assert shown[3:] == [c.path for c in reversed(cats[-19:-2])]
    assert category_names(rest) == [c.path for c in reversed(cats[1:-19])]
    # The figures of a row behind 显示全部 are labelled as those above them (a phone stacks both tables).
    assert 'data-label="分类纠正率"' in rest and ">分类纠正率</th>" in rest


def test_a_short_list_is_shown_whole(web, session):
    ticket, _ = tickets.create_ticket(session, data=intake(), actor=REQUESTER, auto_dispatch=False)
    cats = session.scalars(select(Category).order_by(Category.code).limit(22)).all()
    for cat in cats:
        session.add(RoutingDecision(ticket_id=ticket.id, category_code=cat.code, lead_unit="CGZF", status="auto"))
    session.commit()

    login(web, "t_admin")
    page = web.get("/staff/admin/models").text
    assert "显示全部" not in page
    assert sorted(category_names(page.split("按问题分类", 1)[1])) == sorted(c.path for c in cats)
