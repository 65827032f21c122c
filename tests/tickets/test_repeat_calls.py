"""重复来电: a call merged into an order a unit is working counts as a 催办 on that order, and the unit
desk and the order page say how many calls were merged into it."""

import re

from sqlalchemy import select

from baishitong.notify.models import Message
from baishitong.tickets import schemas, service
from tests.conftest import actor
from tests.tickets.factories import intake, make_ticket
from tests.web.test_pages import login, token


def repeat_call(session, master, content="桂洲大道东的路灯还是不亮，我上周已经打过电话"):
    operator = actor(session, "t_operator")
    repeat, _ = service.create_ticket(session, data=intake(content=content, requester={"phone": "13700003333"}), actor=operator, auto_dispatch=False)
    service.act(session, number=repeat.number, action="merge", actor=operator, body=schemas.MergeIn(version=repeat.version, into=master.number))
    return repeat


def test_a_repeat_call_into_an_order_at_a_unit_counts_once_as_an_urge_and_texts_the_unit(session):
    master = make_ticket(session, state="signed")
    version = master.version
    repeat = repeat_call(session, master)
    assert master.urge_count == 1 and master.version == version, "an urge: counted, and nobody's open form goes stale"
    last = master.events[-1]
    assert (last.action, last.data["repeat_call"], last.data["duplicate"], last.data["count"]) == ("urge", True, repeat.number, 1)
    assert "还是不亮" in last.data["content"]
    assert not [e for e in master.events if e.action == "merged-in"], "one event per call, not an urge beside a merged-in"
    texts = session.scalars(select(Message).where(Message.ticket_id == master.id, Message.template_code == "ticket_urged")).all()
    assert texts and all(m.audience == "unit" for m in texts) and repeat.number in texts[0].body
    repeat_call(session, master, content="路灯的事情怎么还没处理")
    assert master.urge_count == 2 and service.repeat_call_count(session, ticket_id=master.id) == 2


def test_a_repeat_call_before_dispatch_is_recorded_but_urges_nobody(session):
    master = make_ticket(session)
    repeat_call(session, master)
    assert master.urge_count == 0 and [e.action for e in master.events][-1] == "merged-in"
    assert service.repeat_call_count(session, ticket_id=master.id) == 1


def test_unit_desk_and_order_page_show_the_repeat_calls(web, session):
    master = make_ticket(session, state="signed")
    repeat = repeat_call(session, master)
    session.flush()
    login(web, "t_operator")
    # The second call is merged the way an operator does it, on the order page.
    second, _ = service.create_ticket(session, data=intake(content="路灯问题第三次反映", requester={"phone": "13700004444"}), actor=actor(session, "t_operator"), auto_dispatch=False)
    session.flush()
    page = web.get(f"/staff/tickets/{second.number}").text
    merged = web.post(f"/staff/tickets/{second.number}/act/merge", data={"csrf_token": token(page), "version": second.version, "into": master.number}, follow_redirects=True)
    assert "已并单" in merged.text
    login(web, "t_ronggui")
    desk = web.get("/staff/unit?tab=signed").text
    card = re.search(rf'<section class="card" data-ticket="{master.number}">.*?</section>', desk, re.S).group(0)
    assert 'data-repeat-calls="2"' in card and "重复来电 2 次" in card and "催办 2" in card
    order = web.get(f"/staff/tickets/{master.number}").text
    assert "重复来电 2 次" in order and "催办（重复来电）" in order and f"重复件 {repeat.number}" in order and "路灯问题第三次反映" in order


def test_the_api_tells_integrators_how_many_calls_were_merged(client, login, session):
    master = make_ticket(session, state="signed")
    repeat_call(session, master)
    repeat_call(session, master, content="路灯的事情怎么还没处理")
    session.flush()
    operator = login("t_operator")
    assert client.get(f"/api/v1/tickets/{master.number}", headers=operator).json()["repeat_calls"] == 2
    listed = client.get("/api/v1/tickets", params={"q": master.number}, headers=operator).json()["items"]
    assert [(t["number"], t["repeat_calls"]) for t in listed] == [(master.number, 2)]
    noted = client.post(f"/api/v1/tickets/{master.number}/actions/note", json={"version": master.version, "note": "已联系承办单位"}, headers=operator)
    assert noted.status_code == 200 and noted.json()["repeat_calls"] == 2, "an action answers with the order as it is now"
    alone = make_ticket(session, state="signed")
    session.flush()
    assert client.get(f"/api/v1/tickets/{alone.number}", headers=operator).json()["repeat_calls"] == 0


def test_the_api_masks_the_numbers_a_repeat_caller_said_as_the_unit_reads_them(client, login, session):
    master = make_ticket(session, state="signed")
    repeat_call(session, master, content="路灯还是不亮，回电13712345678，身份证440681199001011234")
    session.flush()
    seen = client.get(f"/api/v1/tickets/{master.number}", headers=login("t_ronggui")).json()
    said = seen["events"][-1]["data"]["content"]
    assert "137****5678" in said and "440681********1234" in said
    assert "13712345678" not in str(seen) and "440681199001011234" not in str(seen)


def test_a_repeat_call_while_a_return_awaits_the_centre_presses_nobody(session):
    master = make_ticket(session, state="returned")
    repeat_call(session, master)
    assert master.urge_count == 0 and [e.action for e in master.events][-1] == "merged-in", "the unit that returned it is not the one to press"
    assert service.repeat_call_count(session, ticket_id=master.id) == 1
