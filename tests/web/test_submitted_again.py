"""我要反映 sent again — Back after 提交成功 refills the form under a new key — is the order already registered,
said so, not a second order; the anonymous API and Open311 answer the same way. Anything changed is a new request."""

import re
from datetime import timedelta

from sqlalchemy import func, select

from baishitong.db import utcnow
from baishitong.tickets.models import Ticket
from tests.attachments import files
from tests.tickets.factories import PHONE
from tests.web.test_pages import login, submit_form


def orders(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Ticket).where(Ticket.requester_phone == PHONE))


def number_of(response) -> str:
    assert response.status_code == 303, response.text
    return re.search(r"/submit/done/(SD\d+)", response.headers["location"]).group(1)


def test_the_form_sent_again_under_a_new_key_is_the_order_already_registered(web, session):
    first = web.post("/submit", data=submit_form(web), follow_redirects=False)
    number = number_of(first)
    assert first.headers["location"] == f"/submit/done/{number}"
    assert "您刚才已提交过相同的诉求" not in web.get(first.headers["location"]).text
    # Back: the form comes again with a fresh key; the browser puts back what was typed (spacing may differ).
    resent = submit_form(web, content="容桂街道高黎社区桂洲大道东路段路灯连续一周不亮，\n晚上行人很不安全。 ")
    again = web.post("/submit", data=resent, follow_redirects=False)
    assert number_of(again) == number and again.headers["location"] == f"/submit/done/{number}?again=1"
    done = web.get(again.headers["location"])
    assert f"您刚才已提交过相同的诉求，工单号 {number}" in done.text and number in done.text
    assert orders(session) == 1
    # That key now answers with the same order too (a double tap on the resent form).
    assert number_of(web.post("/submit", data=resent, follow_redirects=False)) == number
    assert orders(session) == 1


def test_a_changed_request_another_phone_or_one_sent_later_is_a_new_order(web, session):
    number = number_of(web.post("/submit", data=submit_form(web), follow_redirects=False))
    changed = [
        {"content": "容桂街道高黎社区桂洲大道东路段路灯连续两周不亮，晚上行人很不安全。"},
        {"type": "求助"},
        {"address": "桂洲大道西"},
        {"town": "440606004"},
        {"confidential": "1"},
    ]
    numbers = {number}
    for change in changed:
        numbers.add(number_of(web.post("/submit", data=submit_form(web, **change), follow_redirects=False)))
    assert len(numbers) == 1 + len(changed)
    # Another person reporting the same matter is 并单's business (a new order it may merge), not this.
    other = number_of(web.post("/submit", data=submit_form(web, phone="13900001111"), follow_redirects=False))
    assert other not in numbers
    # Past the window the same words are a new report (the lamp is still out).
    session.execute(Ticket.__table__.update().values(created_at=utcnow() - timedelta(minutes=11)))
    session.commit()
    later = web.post("/submit", data=submit_form(web), follow_redirects=False)
    assert number_of(later) not in numbers and "again" not in later.headers["location"]


def test_photos_added_when_sending_again_join_the_order(web, session):
    number = number_of(web.post("/submit", data=submit_form(web), follow_redirects=False))
    png = files.png()
    again = web.post("/submit", data=submit_form(web), files={"photos": ("路灯.png", png, "image/png")}, follow_redirects=False)
    assert number_of(again) == number and orders(session) == 1
    login(web, "t_operator")
    page = web.get(f"/staff/tickets/{number}").text
    assert len(set(re.findall(r"/staff/attachments/(\d+)", page))) == 1


def test_the_anonymous_api_answers_a_resent_request_with_the_first_order(client, login, session):
    call = {"type": "投诉", "content": "鉴海北路18号附近餐馆油烟直排，影响居民生活。", "address": "鉴海北路18号", "requester": {"phone": PHONE}}
    first = client.post("/api/v1/tickets", json=call, headers={"Idempotency-Key": "app-1"})
    again = client.post("/api/v1/tickets", json=call, headers={"Idempotency-Key": "app-2"})
    assert (first.status_code, again.status_code) == (201, 200) and again.json()["number"] == first.json()["number"]
    assert client.post("/api/v1/tickets", json=call).json()["number"] == first.json()["number"]
    # The Idempotency-Key keeps its meaning: a key reused for other words is still refused.
    reused = client.post("/api/v1/tickets", json={**call, "content": "鉴海北路20号餐馆油烟直排，影响居民生活。"}, headers={"Idempotency-Key": "app-1"})
    assert reused.status_code == 409 and reused.json()["error"]["code"] == "idempotency_key_reused"
    # An operator registering the call (a repeat caller) is theirs to judge, with 来电历史 and 并单.
    operator = client.post("/api/v1/tickets", json=call, headers=login("t_operator"))
    assert operator.status_code == 201 and operator.json()["number"] != first.json()["number"]
