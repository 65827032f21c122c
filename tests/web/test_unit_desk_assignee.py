"""单位工作台 for a unit with several handlers: who works each order (指派承办人, 我来办) and the 我的 / 全部 / 未指派
filter; 下派 preselects the order's own community; co-handled orders count under 协办 until the opinion is in."""

import re

from baishitong.tickets import schemas, service
from tests.conftest import actor
from tests.tickets.factories import make_ticket
from tests.web.test_pages import login, token


def cards(page: str) -> list[str]:
    return re.findall(r'<section class="card" data-ticket="([^"]+)"', page)


def card(page: str, number: str) -> str:
    found = re.search(rf'<section class="card" data-ticket="{number}">.*?</section>', page, re.S)
    assert found, number
    return found.group(0)


def stat(page: str, label: str) -> tuple[int, str]:
    """A tile's figure and its class (stat-warning …)."""
    found = re.search(rf'<div class="(stat[^"]*)">\s*<p class="stat-label">{label}</p>\s*<p class="stat-value">(\d+)</p>', page)
    return int(found.group(2)), found.group(1)


def give(session, ticket, username: str) -> None:
    service.act(session, number=ticket.number, action="assign", actor=actor(session, "t_ronggui_admin"), body=schemas.AssignIn(version=ticket.version, assignee=username))


def test_the_desk_names_each_orders_handler_and_filters_mine_and_unassigned(web, session):
    own, colleagues, nobodys = (make_ticket(session, state="dispatched") for _ in range(3))
    give(session, own, "t_ronggui")
    give(session, colleagues, "t_ronggui2")
    login(web, "t_ronggui")
    everything = web.get("/staff/unit?tab=dispatched").text
    assert {own.number, colleagues.number, nobodys.number} <= set(cards(everything))
    assert 'data-assignee="t_ronggui2">承办人：t_ronggui2' in card(everything, colleagues.number)
    assert '<span class="tag tag-accent" data-assignee="">未指派</span>' in card(everything, nobodys.number)

    mine = web.get("/staff/unit?tab=dispatched&who=mine").text
    assert cards(mine) == [own.number] and "待签收（1）" in mine and stat(mine, "待签收")[0] == 1
    assert re.search(r'<a href="/staff/unit\?tab=dispatched&amp;who=mine" aria-current="page" data-who="mine">我的</a>', mine)
    # The filter stays with the other tabs, and an action on a card comes back to the filtered tab.
    assert 'href="/staff/unit?tab=signed&amp;who=mine"' in mine
    assert f'name="next" value="/staff/unit?tab=dispatched&amp;who=mine&amp;row={own.number}#t-{own.number}"' in mine
    unassigned = web.get("/staff/unit?tab=dispatched&who=none").text
    assert cards(unassigned) == [nobodys.number]
    login(web, "t_ronggui2")
    assert cards(web.get("/staff/unit?tab=dispatched&who=mine").text) == [colleagues.number]


def test_a_handler_takes_an_order_with_one_button_and_the_timeline_says_who(web, session):
    ticket = make_ticket(session, state="signed")
    login(web, "t_ronggui")
    desk = web.get("/staff/unit?tab=signed").text
    form = re.search(rf'<form class="inline-form" method="post" action="/staff/tickets/{ticket.number}/act/assign">.*?</form>', card(desk, ticket.number), re.S)
    assert form and ">我来办<" in form.group(0) and 'name="assignee"' not in form.group(0)
    landing = f"/staff/unit?tab=signed&row={ticket.number}#t-{ticket.number}"
    taken = web.post(f"/staff/tickets/{ticket.number}/act/assign", data={"csrf_token": token(desk), "version": ticket.version, "next": landing}, follow_redirects=True).text
    assert f"工单 {ticket.number} 已由您承办" in taken
    mine = card(taken, ticket.number)
    assert "承办人：t_ronggui" in mine and "/act/assign" not in mine, "taken: no 我来办 any more"
    login(web, "t_ronggui2")
    assert "/act/assign" not in card(web.get("/staff/unit?tab=signed").text, ticket.number), "a colleague's order is the admin's to hand over"
    page = web.get(f"/staff/tickets/{ticket.number}").text
    assert re.search(r"指派承办人.*?承办人：t_ronggui", page, re.S)


def test_the_unit_admin_picks_from_the_units_active_staff_and_reassigns(web, session):
    ticket = make_ticket(session, state="signed")
    give(session, ticket, "t_ronggui")
    login(web, "t_ronggui_admin")
    desk = web.get("/staff/unit?tab=signed").text
    select = re.search(r'<select name="assignee".*?</select>', card(desk, ticket.number), re.S).group(0)
    offered = re.findall(r'<option value="([^"]+)"', select)
    assert sorted(offered) == ["t_ronggui", "t_ronggui2", "t_ronggui_admin"], "the unit's own staff only"
    assert '<option value="t_ronggui" selected>' in select
    moved = web.post(f"/staff/tickets/{ticket.number}/act/assign", data={"csrf_token": token(desk), "version": ticket.version, "assignee": "t_ronggui2", "next": "/staff/unit?tab=signed"}, follow_redirects=True).text
    assert f"工单 {ticket.number} 已指派给t_ronggui2承办" in moved and "承办人：t_ronggui2" in card(moved, ticket.number)
    page = web.get(f"/staff/tickets/{ticket.number}").text
    assert "承办人：t_ronggui2（原承办人：t_ronggui）" in page
    assert re.search(r"<th[^>]*>承办人</th>\s*<td[^>]*>t_ronggui2</td>", page)
    stale = web.post(f"/staff/tickets/{ticket.number}/act/assign", data={"csrf_token": token(desk), "version": ticket.version - 1, "assignee": "t_ronggui", "next": "/staff/unit?tab=signed"}, follow_redirects=True).text
    assert "“指派承办人”未完成" in stale and "承办人：t_ronggui2" in card(stale, ticket.number)


def test_send_down_preselects_the_community_the_order_is_in(web, session):
    located = make_ticket(session, state="signed")  # 容桂街道高黎社区…
    elsewhere = make_ticket(session, state="signed", address=None, content="容桂街道某处路灯连续一周不亮，晚上行人很不安全。")
    assert located.region is not None and located.region.short_name == "高黎社区"
    login(web, "t_ronggui")
    desk = web.get("/staff/unit?tab=signed").text
    chosen = re.search(r'<select name="unit".*?</select>', card(desk, located.number), re.S).group(0)
    assert re.findall(r'<option value="([^"]*)" selected>', chosen) == ["440606006023"]
    assert "已按工单所在村（社区）预选" in card(desk, located.number)
    other = re.search(r'<select name="unit".*?</select>', card(desk, elsewhere.number), re.S).group(0)
    assert re.findall(r'<option value="([^"]*)" selected>', other) == [""], "no community known: 请选择"


def test_co_handled_orders_count_under_co_handling_until_the_units_opinion_is_in(web, session):
    first, second = (make_ticket(session, state="dispatched") for _ in range(2))  # 容桂街道 leads, 区市场监管局 co-handles
    login(web, "t_sjj")
    desk = web.get("/staff/unit").text
    assert stat(desk, "待签收") == (0, "stat") and "待签收（0）" in desk, "nothing for this unit to sign"
    assert first.number not in cards(desk)
    assert stat(desk, "协办")[0] == 2
    service.act(session, number=first.number, action="contribute", actor=actor(session, "t_sjj"), body=schemas.ContentIn(version=first.version, content="经核查，该路段无违规占道经营。"))
    co = web.get("/staff/unit?tab=co").text
    assert stat(co, "协办")[0] == 1 and "协办（1）" in co
    # Still listed, to revise the opinion, after the ones that still owe it.
    assert cards(co) == [second.number, first.number] and "已提交协办意见" in card(co, first.number)
    login(web, "t_ronggui")
    lead = web.get("/staff/unit").text
    assert stat(lead, "待签收") == (2, "stat stat-warning") and stat(lead, "协办")[0] == 0
