"""并单 callers are called back too: once the master is answered, each merged caller is on 待回访 under
their own number, rates online on 进度查询, and their rating never lands on a unit that did not answer them."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from baishitong.db import utcnow
from baishitong.analytics import service as analytics
from baishitong.errors import Conflict
from baishitong.org.models import Unit
from baishitong.tickets import schemas, service
from baishitong.tickets.states import MISSED_CALLBACKS_TO_CLOSE
from tests.conftest import actor
from tests.tickets.factories import intake, make_ticket
from tests.web.test_pages import login, token

REPEAT_PHONE = "13700002222"


def merged_repeat(session, master, *, phone=REPEAT_PHONE, dispatch_to=None):
    operator = actor(session, "t_operator")
    repeat, _ = service.create_ticket(session, data=intake(content="桂洲大道东的路灯还是不亮，上周已经反映过", requester={"phone": phone}), actor=operator)
    if dispatch_to:
        service.act(session, number=repeat.number, action="dispatch", actor=operator, body=schemas.DispatchIn(version=repeat.version, lead_unit=dispatch_to))
    service.act(session, number=repeat.number, action="merge", actor=operator, body=schemas.MergeIn(version=repeat.version, into=master.number))
    return repeat


def reply(session, master, content="已更换灯具，路灯恢复照明。"):
    service.act(session, number=master.number, action="reply", actor=actor(session, "t_ronggui"), body=schemas.ContentIn(version=master.version, content=content))


def callback(session, ticket, satisfaction="满意", solved=True):
    body = schemas.CallbackIn(version=ticket.version, solved=solved, satisfaction=satisfaction)
    return service.act(session, number=ticket.number, action="callback", actor=actor(session, "t_operator"), body=body)


def test_a_merged_caller_is_called_back_once_the_master_is_answered(session):
    master = make_ticket(session, state="signed")
    repeat = merged_repeat(session, master)
    with pytest.raises(Conflict) as early:
        callback(session, repeat)
    assert early.value.code == "master_not_replied" and master.number in early.value.message
    reply(session, master)
    assert service.callback_due(repeat)
    callback(session, repeat, satisfaction="基本满意")
    assert repeat.status == "merged" and repeat.callback_satisfaction == "基本满意" and not service.callback_due(repeat)
    event = repeat.events[-1]
    assert (event.action, event.from_status, event.to_status, event.data) == ("callback", "merged", "merged", {"solved": True, "satisfaction": "基本满意"})
    with pytest.raises(Conflict) as twice:
        callback(session, repeat)
    assert twice.value.code == "already_called_back"
    # The master's own requester is still owed their call: the two callbacks are separate.
    assert master.status == "replied" and service.callback_due(master)


def test_a_redone_master_owes_its_merged_callers_a_new_callback(session):
    master = make_ticket(session, state="signed")
    repeat = merged_repeat(session, master)
    reply(session, master)
    callback(session, repeat, satisfaction="不满意", solved=False)
    callback(session, master, satisfaction="不满意", solved=False)
    service.act(session, number=master.number, action="redo", actor=actor(session, "t_operator"), body=schemas.ReasonIn(version=master.version, reason="路灯仍不亮"))
    assert not service.callback_due(repeat), "nothing new to rate until the master answers again"
    reply(session, master, content="已重新检修线路，路灯全部恢复。")
    assert service.callback_due(repeat) and repeat.reply_content == "已重新检修线路，路灯全部恢复。"


def test_the_callback_queue_lists_merged_callers_after_the_masters_reply(web, session):
    master = make_ticket(session, state="signed")
    repeat = merged_repeat(session, master)
    login(web, "t_operator")
    before = web.get("/staff/console/callback").text
    assert f'data-ticket="{repeat.number}"' not in before
    reply(session, master)
    session.flush()
    page = web.get("/staff/console/callback").text
    assert f'data-ticket="{repeat.number}"' in page and f'data-ticket="{master.number}"' in page
    assert f'data-merged-into="{master.number}"' in page and f"并入 {master.number}" in page
    badge = web.get("/staff/console/dispatch").text
    assert "待回访" in badge
    recorded = web.post(
        f"/staff/tickets/{repeat.number}/act/callback",
        data={"csrf_token": token(page), "version": str(repeat.version), "next": "/staff/console/callback", "solved": "yes", "satisfaction": "满意"},
    )
    assert recorded.status_code == 200 and f'data-ticket="{repeat.number}"' not in recorded.text
    session.refresh(repeat)
    assert repeat.status == "merged" and repeat.callback_satisfaction == "满意"


def test_a_merged_caller_nobody_reaches_leaves_the_queue_after_three_tries(web, session):
    master = make_ticket(session, state="signed")
    repeat = merged_repeat(session, master)
    reply(session, master)
    session.flush()
    login(web, "t_operator")
    page = web.get("/staff/console/callback").text
    for _ in range(MISSED_CALLBACKS_TO_CLOSE - 1):
        web.post(f"/staff/tickets/{repeat.number}/act/callback-missed", data={"csrf_token": token(page), "version": str(repeat.version), "next": "/staff/console/callback", "outcome": "无人接听"})
    page = web.get("/staff/console/callback").text
    assert f'data-ticket="{repeat.number}"' in page
    assert f'action="/staff/tickets/{repeat.number}/act/close"' not in page, "a merged order has nothing of its own to close"
    web.post(f"/staff/tickets/{repeat.number}/act/callback-missed", data={"csrf_token": token(page), "version": str(repeat.version), "next": "/staff/console/callback", "outcome": "无人接听"})
    assert f'data-ticket="{repeat.number}"' not in web.get("/staff/console/callback").text
    assert f'data-ticket="{master.number}"' in web.get("/staff/console/callback").text


def test_a_merged_caller_rates_online_under_their_own_number(web, session):
    master = make_ticket(session, state="signed")
    repeat = merged_repeat(session, master)
    page = web.get("/track")
    waiting = web.post("/track", data={"csrf_token": token(page.text), "number": repeat.number, "phone": REPEAT_PHONE})
    assert "请您评价" not in waiting.text
    reply(session, master)
    session.flush()
    shown = web.post("/track", data={"csrf_token": token(page.text), "number": repeat.number, "phone": REPEAT_PHONE})
    assert "请您评价" in shown.text and "已更换灯具" in shown.text
    # An app reading GET /api/v1/track offers the rating too.
    assert web.get("/api/v1/track", params={"number": repeat.number, "phone": REPEAT_PHONE}).json()["callback_due"] is True
    rated = web.post("/track/callback", data={"csrf_token": token(page.text), "number": repeat.number, "phone": REPEAT_PHONE, "solved": "yes", "satisfaction": "满意"})
    assert "感谢您的评价" in rated.text
    session.refresh(repeat)
    assert repeat.status == "merged" and repeat.callback_satisfaction == "满意"
    again = web.post("/track/callback", data={"csrf_token": token(page.text), "number": repeat.number, "phone": REPEAT_PHONE, "solved": "no", "satisfaction": "不满意"})
    assert "您已评价过这张工单" in again.text


def test_a_merged_callers_progress_names_the_unit_handling_it(web, session):
    """The merged order has no unit of its own: 承办单位 is the master's, the unit whose reply the caller reads."""
    master = make_ticket(session, state="signed")
    repeat = merged_repeat(session, master)
    session.flush()
    page = web.get("/track")
    shown = web.post("/track", data={"csrf_token": token(page.text), "number": repeat.number, "phone": REPEAT_PHONE})
    assert f"<th scope=\"row\">承办单位</th><td>{master.lead_unit.name}</td>" in shown.text
    tracked = web.get("/api/v1/track", params={"number": repeat.number, "phone": REPEAT_PHONE}).json()
    assert tracked["unit"] == master.lead_unit.name


def test_a_merged_order_counts_for_no_unit_in_the_league(session):
    """Dispatched to 大良 first, then found to repeat 容桂's order: 大良 did not answer it, so neither its
    dispatch, the shared reply nor the caller's rating is 大良's."""
    master = make_ticket(session, state="signed")
    repeat = merged_repeat(session, master, dispatch_to="daliang")
    reply(session, master)
    callback(session, repeat, satisfaction="不满意", solved=False)
    now = utcnow()
    daliang = session.scalar(select(Unit).where(Unit.code == "daliang"))
    rows = {r["unit"]: r for r in analytics.unit_rates(session, since=now - timedelta(days=1), until=now + timedelta(minutes=1))}
    assert repeat.lead_unit_id == daliang.id
    assert "daliang" not in rows or (rows["daliang"]["dispatched"], rows["daliang"]["callbacks"]) == (0, 0)
    assert rows["ronggui"]["replied"] >= 1


def test_a_caller_who_rang_twice_hears_the_reply_once_and_is_called_back_once(web, session):
    from baishitong.notify.models import Message
    from tests.tickets.factories import PHONE

    master = make_ticket(session, state="signed")  # its requester's phone is PHONE
    again = merged_repeat(session, master, phone=PHONE)  # the same caller, ringing again
    other = merged_repeat(session, master)  # a neighbour
    neighbour_again = merged_repeat(session, master)  # the neighbour, a second time
    reply(session, master)
    session.flush()
    texted = [m.recipient for m in session.scalars(select(Message).where(Message.template_code == "ticket_replied")) if m.ticket_id in (master.id, again.id, other.id, neighbour_again.id)]
    assert sorted(texted) == sorted([PHONE, REPEAT_PHONE])
    assert not service.callback_due(again) and service.callback_due(other)
    login(web, "t_operator")
    page = web.get("/staff/console/callback").text
    assert f'data-ticket="{master.number}"' in page and f'data-ticket="{other.number}"' in page
    assert f'data-ticket="{again.number}"' not in page and f'data-ticket="{neighbour_again.number}"' not in page


def test_calls_merged_into_an_order_follow_it_when_it_is_merged_in_turn(session):
    master = make_ticket(session, state="signed")
    middle = make_ticket(session, requester={"phone": "13700002223"})
    earliest = merged_repeat(session, middle)
    service.act(session, number=middle.number, action="merge", actor=actor(session, "t_operator"), body=schemas.MergeIn(version=middle.version, into=master.number))
    assert earliest.master is master and service.repeat_calls(session, ticket_ids=[master.id]) == {master.id: 2}
    reply(session, master)
    assert earliest.reply_content == "已更换灯具，路灯恢复照明。" and service.callback_due(earliest)
