"""A rating sent again (a refresh, a double tap, a second try) is not recorded, and says so by its status too: 409
with the JSON error from the API, and on 进度查询 409 with the message and the rating that stands, not 200."""

from tests.tickets.factories import PHONE, make_ticket
from tests.web.test_pages import token


def test_the_page_answers_a_second_rating_with_409_and_the_rating_that_stands(web, session):
    ticket = make_ticket(session, state="replied")
    session.commit()
    page = web.get("/track")
    form = {"csrf_token": token(page.text), "number": ticket.number, "phone": PHONE}
    rated = web.post("/track/callback", data=form | {"solved": "yes", "satisfaction": "基本满意"})
    assert rated.status_code == 200 and "感谢您的评价" in rated.text

    again = web.post("/track/callback", data=form | {"solved": "no", "satisfaction": "不满意"})
    assert again.status_code == 409
    assert "您已评价过这张工单，感谢您的反馈" in again.text and "您的评价：已解决，基本满意" in again.text
    assert 'action="/track/callback' not in again.text, "no rating form offered again"
    session.refresh(ticket)
    assert ticket.callback_solved is True and ticket.callback_satisfaction == "基本满意"


def test_a_rating_of_an_order_not_yet_answered_is_refused_with_its_status(web, session):
    ticket = make_ticket(session, state="signed")
    session.commit()
    page = web.get("/track")
    refused = web.post("/track/callback", data={"csrf_token": token(page.text), "number": ticket.number, "phone": PHONE, "solved": "yes", "satisfaction": "满意"})
    assert refused.status_code == 409 and "alert-error" in refused.text
    session.refresh(ticket)
    assert ticket.callback_at is None


def test_the_api_answers_a_second_rating_with_409_and_the_error(client, session):
    ticket = make_ticket(session, state="replied")
    session.commit()
    body = {"number": ticket.number, "phone": PHONE, "solved": True, "satisfaction": "满意"}
    assert client.post("/api/v1/track/callback", json=body).status_code == 200
    again = client.post("/api/v1/track/callback", json=body | {"solved": False, "satisfaction": "不满意"})
    assert again.status_code == 409
    error = again.json()["error"]
    assert error["code"] == "already_rated" and error["message"] == "您已评价过这张工单，感谢您的反馈"
    session.refresh(ticket)
    assert ticket.callback_satisfaction == "满意"
