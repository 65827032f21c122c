"""What QA asked of the desks: urgent and long-waiting orders stand out in 待派单, a 重办 says why to the unit,
the unit desk pages, and the 督办台 pages each section and returns to the section (and page) acted on."""

import re
from datetime import timedelta

from sqlalchemy import select

from baishitong.db import utcnow
from baishitong.tickets import schemas, service
from baishitong.tickets.models import Ticket
from baishitong.web import supervisor, unit
from tests.conftest import actor
from tests.tickets.factories import make_ticket
from tests.web.test_pages import login as sign_in, token


def _section(page: str, section: str) -> str:
    return re.search(rf'<section class="card card-flush" id="{section}".*?</section>', page, re.S).group(0)


def test_dispatch_queue_lists_urgent_orders_first_then_the_longest_waiting_and_says_how_long(web, session):
    recent, old, urgent = (make_ticket(session) for _ in range(3))
    now = utcnow()
    old.created_at = now - timedelta(days=2, hours=3)
    recent.created_at = now - timedelta(hours=5)
    urgent.created_at, urgent.urgency = now - timedelta(minutes=40), "urgent"
    session.flush()
    sign_in(web, "t_operator")
    page = web.get("/staff/console/dispatch").text
    mine = {urgent.number, old.number, recent.number}
    assert [n for n in re.findall(r'<tr data-ticket="([^"]+)"', page) if n in mine] == [urgent.number, old.number, recent.number]
    rows = {n: re.search(rf'<tr data-ticket="{n}".*?</tr>', page, re.S).group(0) for n in (urgent.number, old.number, recent.number)}
    assert "紧急" in rows[urgent.number] and "已等待 40 分钟" in rows[urgent.number]
    assert "紧急" not in rows[old.number] and "已等待 2 天 3 小时" in rows[old.number]
    assert "已等待 5 小时" in rows[recent.number]
    contact = re.search(r'<td data-label="联系时限">(.*?)</td>', rows[old.number], re.S).group(1)
    assert "data-deadline" in contact


def test_redo_asks_the_supervisor_why_and_the_unit_reads_it_with_the_callback(web, client, login, session):
    ticket = make_ticket(session, state="replied")
    service.act(session, number=ticket.number, action="callback", actor=actor(session, "t_operator"), body=schemas.CallbackIn(version=ticket.version, solved=False, satisfaction="不满意", note="路灯仍不亮，可打13900001111找他"))
    session.commit()
    refused = client.post(f"/api/v1/tickets/{ticket.number}/actions/redo", json={"version": ticket.version}, headers=login("t_supervisor"))
    assert refused.status_code == 422

    sign_in(web, "t_supervisor")
    desk = web.get("/staff/supervise").text
    row = re.search(rf'<tr data-ticket="{ticket.number}">.*?</tr>', _section(desk, "unhappy"), re.S).group(0)
    assert "答复：已安排维修，路灯已恢复。" in row and "回访：未解决，不满意；路灯仍不亮" in row
    assert re.search(r'<input type="text" name="reason"[^>]*required', row)
    form = {"csrf_token": token(desk), "version": str(ticket.version), "next": "/staff/supervise?at=unhappy#unhappy"}
    blank = web.post(f"/staff/tickets/{ticket.number}/act/redo", data=form, follow_redirects=True)
    assert "“重办”未完成：原因至少 2 个字" in _section(blank.text, "unhappy")
    assert ticket.status == "callback"
    done = web.post(f"/staff/tickets/{ticket.number}/act/redo", data=form | {"reason": "现场核实路灯仍未修复，请更换灯具"}, follow_redirects=False)
    assert done.headers["location"] == "/staff/supervise?at=unhappy#unhappy"
    assert f"工单 {ticket.number} 已重办" in _section(web.get(done.headers["location"]).text, "unhappy")

    sign_in(web, "t_ronggui")
    card = re.search(rf'<section class="card" data-ticket="{ticket.number}">.*?</section>', web.get("/staff/unit?tab=signed").text, re.S).group(0)
    order = web.get(f"/staff/tickets/{ticket.number}").text
    for seen in (card, order):
        assert "重办 1 次" in seen and "现场核实路灯仍未修复，请更换灯具" in seen
        assert "回访结果：未解决，不满意；回访记录：路灯仍不亮" in seen and "13900001111" not in seen.split("重办原因")[1].split("</div>")[0]


def test_urge_and_supervise_on_the_desk_take_an_optional_note_the_unit_reads(web, session):
    ticket = make_ticket(session, state="signed")
    ticket.reply_due = utcnow() - timedelta(hours=1)
    session.commit()
    sign_in(web, "t_supervisor")
    desk = web.get("/staff/supervise").text
    row = re.search(rf'<tr data-ticket="{ticket.number}">.*?</tr>', _section(desk, "overdue"), re.S).group(0)
    assert 'name="note"' in row and f'formaction="/staff/tickets/{ticket.number}/act/supervise"' in row
    form = {"csrf_token": token(desk), "version": str(ticket.version), "next": "/staff/supervise?at=overdue#overdue", "note": "请本周五前答复诉求人"}
    web.post(f"/staff/tickets/{ticket.number}/act/supervise", data=form)
    assert ticket.supervised
    web.post(f"/staff/tickets/{ticket.number}/act/urge", data=form | {"note": ""})
    assert ticket.urge_count == 1
    row = re.search(rf'<tr data-ticket="{ticket.number}">.*?</tr>', _section(web.get("/staff/supervise").text, "overdue"), re.S).group(0)
    assert '<span class="tag tag-accent">督办</span>' in row and 'data-urges="1">催办 1</span>' in row, "the desk shows the pressure already put on the unit"
    sign_in(web, "t_ronggui")
    timeline = re.search(r'id="timeline".*?</section>', web.get(f"/staff/tickets/{ticket.number}").text, re.S).group(0)
    assert "请本周五前答复诉求人" in timeline


def test_supervise_desk_returns_to_the_section_acted_on_with_the_outcome_there(web, session):
    ticket = make_ticket(session, state="returned")
    session.commit()
    sign_in(web, "t_supervisor")
    desk = web.get("/staff/supervise").text
    approve = re.search(rf'<form[^>]*action="/staff/tickets/{ticket.number}/act/approve-return".*?</form>', desk, re.S).group(0)
    back = re.search(r'name="next" value="([^"]+)"', approve).group(1).replace("&amp;", "&")
    # The only order in the section: the outcome takes its place at the top of the emptied section, focused by the anchor.
    assert back == f"/staff/supervise?at=returns&row={ticket.number}#returns-{ticket.number}"
    response = web.post(f"/staff/tickets/{ticket.number}/act/approve-return", data={"csrf_token": token(desk), "version": str(ticket.version), "next": back}, follow_redirects=False)
    assert response.headers["location"] == back
    page = web.get(back).text
    assert re.search(rf'<div id="returns-{ticket.number}" tabindex="-1">.*?工单 {ticket.number} 已同意退单', _section(page, "returns"), re.S)
    assert page.count('id="flash"') == 1


def test_a_decision_on_the_supervise_desk_lands_on_the_next_order_and_a_refused_one_on_its_own(web, session):
    first, second = make_ticket(session, state="returned"), make_ticket(session, state="returned")
    session.commit()
    sign_in(web, "t_supervisor")
    desk = web.get("/staff/supervise").text
    listed = re.findall(r'<tr data-ticket="([^"]+)">', _section(desk, "returns"))
    acted, following = listed
    reject = re.search(rf'<form[^>]*action="/staff/tickets/{acted}/act/reject-return".*?</form>', desk, re.S).group(0)
    fields = dict(re.findall(r'name="(next|next_failed)" value="([^"]+)"', reject))
    assert fields["next"].replace("&amp;", "&") == f"/staff/supervise?at=returns&row={following}#returns-{following}"
    assert fields["next_failed"].replace("&amp;", "&") == f"/staff/supervise?at=returns&row={acted}#returns-{acted}"
    ticket = first if first.number == acted else second
    form = {"csrf_token": token(desk), "version": str(ticket.version), "next": fields["next"].replace("&amp;", "&"), "next_failed": fields["next_failed"].replace("&amp;", "&")}
    blank = web.post(f"/staff/tickets/{acted}/act/reject-return", data=form, follow_redirects=False)
    assert blank.headers["location"] == form["next_failed"], "a refused decision stays on its own row"
    row = re.search(rf'<tr data-ticket="{acted}">.*?</tr>', _section(web.get(blank.headers["location"]).text, "returns"), re.S).group(0)
    assert f'<div id="returns-{acted}" tabindex="-1">' in row and "“驳回退单”未完成" in row
    done = web.post(f"/staff/tickets/{acted}/act/reject-return", data=form | {"reason": "属于本单位职责，请继续办理"}, follow_redirects=False)
    assert done.headers["location"] == form["next"]
    row = re.search(rf'<tr data-ticket="{following}">.*?</tr>', _section(web.get(done.headers["location"]).text, "returns"), re.S).group(0)
    assert f'<div id="returns-{following}" tabindex="-1">' in row and f"工单 {acted} 已驳回退单" in row


def test_unit_desk_pages_through_a_tab_longer_than_one_page(web, session, monkeypatch):
    monkeypatch.setattr(unit, "PER_TAB", 2)
    tickets = [make_ticket(session, state="dispatched") for _ in range(3)]
    session.commit()
    sign_in(web, "t_ronggui")
    first = web.get("/staff/unit").text
    assert "待签收（3）" in first and first.count('<section class="card" data-ticket=') == 2
    assert 'href="/staff/unit?tab=dispatched&amp;page=2"' in first
    second = web.get("/staff/unit?tab=dispatched&page=2").text
    shown = re.findall(r'<section class="card" data-ticket="([^"]+)"', first + second)
    assert sorted(shown) == sorted(t.number for t in tickets)
    third = re.findall(r'<section class="card" data-ticket="([^"]+)"', second)[0]
    assert f'name="next" value="/staff/unit?tab=dispatched&amp;page=2&amp;row={third}#t-{third}"' in second
    # Past the end (the last order there was just signed) shows the last page, not an empty tab.
    assert re.findall(r'<section class="card" data-ticket="([^"]+)"', web.get("/staff/unit?tab=dispatched&page=9").text) == re.findall(r'<section class="card" data-ticket="([^"]+)"', second)


def test_supervise_desk_pages_a_long_section_and_an_action_there_returns_to_that_page(web, session, monkeypatch):
    monkeypatch.setattr(supervisor, "SECTION_ROWS", 2)
    for _ in range(3):
        make_ticket(session, state="returned")
    for _ in range(3):
        make_ticket(session, state="signed").reply_due = utcnow() - timedelta(hours=1)
    session.commit()
    waiting = set(session.scalars(select(Ticket.number).where(Ticket.status == "returned")))
    sign_in(web, "t_supervisor")
    first = web.get("/staff/supervise").text
    returns = _section(first, "returns")
    assert f"第 1–2 条，共 {len(waiting)} 条" in returns and 'href="/staff/supervise?at=returns&amp;page=2#returns"' in returns
    last = -(-len(waiting) // 2)
    listed = []
    for n in range(1, last + 1):
        page = web.get(f"/staff/supervise?at=returns&page={n}").text
        listed += re.findall(r'<tr data-ticket="([^"]+)">', _section(page, "returns"))
        # The other sections stay on their first page.
        assert _section(page, "overdue") == _section(first, "overdue")
    assert len(listed) == len(waiting) and set(listed) == waiting

    second = web.get("/staff/supervise?at=returns&page=2").text
    assert f"第 3–{min(4, len(waiting))} 条，共 {len(waiting)} 条" in _section(second, "returns")
    number = re.search(r'<tr data-ticket="([^"]+)">', _section(second, "returns")).group(1)
    approve = re.search(rf'<form[^>]*action="/staff/tickets/{number}/act/approve-return".*?</form>', second, re.S).group(0)
    back = re.search(r'name="next" value="([^"]+)"', approve).group(1)
    assert back == f"/staff/supervise?at=returns&amp;page=2&amp;row={number}#returns-{number}"
    ticket = session.scalar(select(Ticket).where(Ticket.number == number))
    done = web.post(f"/staff/tickets/{number}/act/approve-return", data={"csrf_token": token(second), "version": str(ticket.version), "next": back.replace("&amp;", "&")}, follow_redirects=False)
    assert done.headers["location"] == f"/staff/supervise?at=returns&page=2&row={number}#returns-{number}"
    assert f"工单 {number} 已同意退单" in _section(web.get(done.headers["location"]).text, "returns")
    # Past the last page (its last order was just approved) shows the new last page.
    beyond = web.get("/staff/supervise?at=returns&page=99").text
    assert re.findall(r'<tr data-ticket="([^"]+)">', _section(beyond, "returns")) == re.findall(r'<tr data-ticket="([^"]+)">', _section(web.get(f"/staff/supervise?at=returns&page={-(-(len(waiting) - 1) // 2)}").text, "returns"))
