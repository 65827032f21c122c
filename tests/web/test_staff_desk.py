"""Staff desk pages say things by name: channels, suggested units, router candidates, merges; finished orders show no running clock."""

import re


from baishitong.routing import service as routing
from baishitong.tickets import schemas, service
from tests.conftest import actor
from tests.tickets.factories import make_ticket
from tests.web.test_pages import login



def test_dispatch_queue_names_the_channel_and_the_suggested_unit(web, session):
    ticket = make_ticket(session)
    decision = routing.latest_decision(session, ticket_id=ticket.id)
    decision.lead_unit = "SJJ"
    session.flush()
    login(web, "t_operator")
    row = re.search(rf'<tr data-ticket="{ticket.number}".*?</tr>', web.get("/staff/console/dispatch").text, re.S).group(0)
    assert "· 网站" in row and "· web" not in row
    suggestion = re.search(r'<td data-label="建议">(.*?)</td>', row, re.S).group(1)
    assert "顺德区市场监督管理局" in suggestion and "SJJ" not in suggestion


def test_ticket_page_lists_router_candidates_by_category_name(web, session):
    ticket = make_ticket(session, state="dispatched")
    decision = routing.latest_decision(session, ticket_id=ticket.id)
    category = routing.reference(session).by_label["01"]
    decision.top3 = [{"label": "01", "score": 0.9}]
    session.flush()
    login(web, "t_operator")
    evidence = re.search(r'id="routing".*?</section>', web.get(f"/staff/tickets/{ticket.number}").text, re.S).group(0)
    assert f'<td><span class="nowrap">{category.name}</span></td>' in evidence
    # A model of sub-categories names them with the categories above, or 市政设施 and 住房管理 read alike.
    decision.top3 = [{"label": "0101", "score": 0.7}, {"label": "0102", "score": 0.2}, {"label": "02", "score": 0.1}]
    session.flush()
    evidence = re.search(r'id="routing".*?</section>', web.get(f"/staff/tickets/{ticket.number}").text, re.S).group(0)
    shown = re.search(r"<th[^>]*>候选</th>\s*<td>(.*?)</td>", evidence, re.S).group(1)
    assert re.sub(r"<[^>]+>", "", shown) == "城乡建设 › 市政设施 / 城乡建设 › 住房管理 / 劳动和社会保障"
    assert '<span class="nowrap">市政设施</span>' in shown, "a path breaks only at its ›"
    # 城乡建设 beside one of its own sub-categories is the model's class for the rest of it.
    decision.top3 = [{"label": "0101", "score": 0.7}, {"label": "01", "score": 0.2}, {"label": "02", "score": 0.1}]
    session.flush()
    evidence = re.search(r'id="routing".*?</section>', web.get(f"/staff/tickets/{ticket.number}").text, re.S).group(0)
    shown = re.search(r"<th[^>]*>候选</th>\s*<td>(.*?)</td>", evidence, re.S).group(1)
    assert re.sub(r"<[^>]+>", "", shown) == "城乡建设 › 市政设施 / 城乡建设（其他） / 劳动和社会保障"


def test_merge_names_both_tickets_and_stops_the_duplicates_clock(web, session):
    master = make_ticket(session, state="dispatched")
    duplicate = make_ticket(session, state="dispatched")
    service.act(session, number=duplicate.number, action="merge", actor=actor(session, "t_operator"), body=schemas.MergeIn(version=duplicate.version, into=master.number))
    login(web, "t_operator")
    page = web.get(f"/staff/tickets/{duplicate.number}").text
    assert f"并入主工单 {master.number}" in page
    deadlines = re.search(r'id="deadlines".*?</section>', page, re.S).group(0)
    assert deadlines.count("data-deadline") == deadlines.count("data-done") >= 3  # every clock stopped
    assert f"重复件 {duplicate.number}" in web.get(f"/staff/tickets/{master.number}").text


def test_reply_and_extension_forms_ask_for_two_characters_before_sending(web, session):
    ticket = make_ticket(session, state="signed")
    login(web, "t_ronggui")
    page = web.get(f"/staff/tickets/{ticket.number}").text
    for action, field in (("reply", "content"), ("extend", "reason")):
        form = re.search(rf'<form[^>]*data-action-form="{action}".*?</form>', page, re.S).group(0)
        assert re.search(rf'<textarea[^>]*name="{field}"[^>]*minlength="2"', form), action
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    short = web.post(f"/staff/tickets/{ticket.number}/act/reply", data={"csrf_token": csrf, "version": ticket.version, "content": "好"})
    assert "内容至少 2 个字" in short.text


def test_outbox_names_channel_and_audience_in_chinese(web, session):
    make_ticket(session, state="dispatched")
    login(web, "t_admin")
    page = web.get("/staff/admin/outbox").text
    assert '<td data-label="渠道">站内发件箱</td>' in page and '<td data-label="渠道">outbox</td>' not in page
    assert '<td data-label="对象">诉求人 · ' in page and '<td data-label="对象">承办单位 · ' in page


def test_the_supervisors_figures_count_every_order_not_just_those_listed(web, session, monkeypatch):
    from baishitong.web import supervisor

    from sqlalchemy import func, select

    from baishitong.tickets.models import Ticket

    monkeypatch.setattr(supervisor, "SECTION_ROWS", 1)
    for _ in range(2):
        make_ticket(session, state="returned")
    session.flush()
    waiting = session.scalar(select(func.count()).select_from(Ticket).where(Ticket.status == "returned"))
    login(web, "t_supervisor")
    page = web.get("/staff/supervise").text
    figure = re.search(r'<p class="stat-label">退单待审</p>\s*<p class="stat-value">(\d+)</p>', page).group(1)
    section = page[page.index('id="returns"'):page.index('id="extensions"')]
    assert int(figure) == waiting >= 2 and section.count("<tr data-ticket=") == 1


def test_a_unit_card_without_a_place_leaves_no_empty_gap_in_its_line(web, session):
    ticket = make_ticket(session, state="signed", address=None, content="人行道砖块松动，老人容易绊倒，希望尽快修复。")
    assert ticket.region is None
    login(web, "t_ronggui")
    card = re.search(rf'data-ticket="{ticket.number}">.*?</section>', web.get("/staff/unit?tab=signed").text, re.S).group(0)
    meta = re.search(r"<p class=\"muted\">(.*?)</p>", card, re.S).group(1).split("\n")[0]
    assert meta.startswith("投诉 · 受理 "), meta


def test_a_unit_card_shows_how_the_first_contact_went(web, session):
    handler = actor(session, "t_ronggui")
    missed, declined, untried = (make_ticket(session, state="signed") for _ in range(3))
    for outcome in ("号码错误", "未接通"):
        service.act(session, number=missed.number, action="contact", actor=handler, body=schemas.ContactIn(version=missed.version, outcome=outcome))
    service.act(session, number=declined.number, action="contact", actor=handler, body=schemas.ContactIn(version=declined.version, outcome="诉求人拒绝沟通"))
    session.commit()
    login(web, "t_ronggui")
    page = web.get("/staff/unit?tab=signed").text
    tags = lambda t: re.findall(r"<span [^>]*data-contact[^>]*>(.*?)</span>", re.search(rf'data-ticket="{t.number}">.*?</section>', page, re.S).group(0))  # noqa: E731
    assert tags(missed) == ["首次联系：未接通（第 2 次）"], "the latest try, with how many there were"
    assert tags(declined) == ["首次联系：诉求人拒绝沟通"]
    assert tags(untried) == []
