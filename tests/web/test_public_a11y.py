"""Public pages for phones and screen readers, without a browser: the page opens at the outcome of a
form, errors are summed up with links to their fields, notices are announced, assets are revalidated."""

import re

from sqlalchemy import select

from baishitong.points.models import ServicePoint
from tests.tickets.factories import PHONE, make_ticket
from tests.web.test_pages import token
from tests.web.test_public_services import DAY, NOW


def summary_links(page: str) -> list[tuple[str, str]]:
    summary = re.search(r'<div class="alert alert-error error-summary" role="alert" id="error-summary" tabindex="-1" autofocus>(.*?)</div>\s*</div>', page, re.S)
    assert summary, "an error summary that takes focus when the page opens"
    return re.findall(r'<a href="#([^"]+)">([^<]+)</a>', summary.group(1))


def test_submit_errors_are_listed_with_links_to_their_fields(web):
    page = web.get("/submit")
    refused = web.post("/submit", data={"csrf_token": token(page.text), "type": "投诉", "content": "短", "phone": ""})
    links = summary_links(refused.text)
    assert [target for target, _ in links] == ["f-content", "f-town", "f-phone", "f-consent"]
    assert ("f-phone", "手机号码：请填写联系电话") in links
    for target, _ in links:
        assert f'id="{target}"' in refused.text, "each link leads to a field on the page"


def test_booking_errors_are_listed_and_the_slot_error_not_twice(client, session, demo, monkeypatch):
    monkeypatch.setenv("BAISHITONG_FAKE_NOW", NOW)
    point = session.scalar(select(ServicePoint).where(ServicePoint.kind == "town_centre").order_by(ServicePoint.code))
    page = client.get(f"/points/{point.code}/book", params={"date": DAY})
    refused = client.post(f"/points/{point.code}/book", data={"csrf_token": token(page.text), "date": DAY, "name": "", "phone": "123"})
    assert refused.status_code == 422
    links = summary_links(refused.text)
    assert [target for target, _ in links] == ["book-slots", "f-name", "f-phone"]
    assert 'id="book-slots"' in refused.text and '<input type="text" name="name" id="f-name"' in refused.text
    assert refused.text.count("请选择预约时段") == 2, "in the summary and at the slots"


def test_track_opens_at_the_result_or_at_why_there_is_none(web, session):
    page = web.get("/track")
    assert 'action="/track#results"' in page.text and 'id="results"' not in page.text
    missing = web.post("/track", data={"csrf_token": token(page.text), "number": "SD000000000000", "phone": PHONE})
    assert re.search(r'<div id="results"[^>]*>\s*<div class="alert alert-warning" role="status">', missing.text), "announced, not silent"
    ticket = make_ticket(session, state="replied")
    found = web.post("/track", data={"csrf_token": token(page.text), "number": ticket.number, "phone": PHONE})
    assert re.search(r'<div id="results"[^>]*>\s*<section class="card" id="track-result"', found.text)
    assert 'action="/track/callback#callback"' in found.text


def test_a_rating_sent_half_done_opens_at_a_focusable_section_that_reads_out_what_is_missing(web, session):
    """The rating form posts to #callback: a section that cannot take focus leaves a screen reader at the top."""
    ticket = make_ticket(session, state="replied")
    page = web.post("/track", data={"csrf_token": token(web.get("/track").text), "number": ticket.number, "phone": PHONE})
    opened = re.search(r'<section class="card card-accent" id="callback"[^>]*>', page.text).group()
    assert 'tabindex="-1"' in opened and 'aria-labelledby="callback-title"' in opened and "aria-describedby" not in opened
    half = web.post("/track/callback", data={"csrf_token": token(page.text), "number": ticket.number, "phone": PHONE, "solved": "no"})
    opened = re.search(r'<section class="card card-accent" id="callback"[^>]*>', half.text).group()
    assert 'tabindex="-1"' in opened and 'aria-describedby="f-satisfaction-error"' in opened
    assert re.search(r'<h2 class="card-title" id="callback-title">请您评价</h2>', half.text)
    assert re.search(r'<p class="error-text" id="f-satisfaction-error">请选择满意程度</p>', half.text)


def test_points_search_opens_at_the_results_and_the_unknown_place_is_announced(client, demo):
    assert 'action="/points#results"' in client.get("/points").text
    unknown = client.get("/points", params={"near": "火星基地"})
    assert re.search(r'<div id="results"[^>]*>\s*<div class="alert alert-warning" role="status">', unknown.text)
    asked = client.get("/points", params={"near": ""})
    assert re.search(r'<div id="results"[^>]*>\s*<div class="alert alert-info" role="status">', asked.text)
    found = client.get("/points", params={"near": "容桂高黎社区"})
    assert re.search(r'<div id="results"[^>]*>\s*<section class="card" id="point-results"', found.text)


def test_booking_look_up_opens_at_the_result_and_new_times_at_the_reschedule_card(client):
    page = client.get("/booking")
    assert 'action="/booking#results"' in page.text
    missing = client.post("/booking", data={"csrf_token": token(page.text), "number": "YY000", "phone": PHONE})
    assert re.search(r'<div id="results"[^>]*>\s*<div class="alert alert-warning" role="status">', missing.text)


def test_notices_in_the_flash_region_are_not_a_second_live_region(web, session):
    """#flash is aria-live itself: an alert inside it with role=status would be read twice."""
    ticket = make_ticket(session, state="replied")
    page = web.post("/track", data={"csrf_token": token(web.get("/track").text), "number": ticket.number, "phone": PHONE})
    rated = web.post("/track/callback", data={"csrf_token": token(page.text), "number": ticket.number, "phone": PHONE, "solved": "yes", "satisfaction": "满意"})
    flash = re.search(r'<div id="flash" class="flash-region" aria-live="polite" aria-atomic="false">(.*?)</main>', rated.text, re.S).group(1)
    assert '<div class="alert alert-success">' in flash and "感谢您的评价" in flash


def test_chat_button_says_whether_its_panel_is_open_and_only_the_log_is_live(client, demo):
    home = client.get("/")
    assert re.search(r'<a class="chat-fab"[^>]*aria-controls="chat-panel" aria-expanded="false"', home.text)
    assert '<div id="chat-panel" class="chat-panel"></div>' in home.text
    panel = client.get("/assistant/panel", headers={"HX-Request": "true"})
    assert 'role="dialog" aria-labelledby="chat-panel-title" tabindex="-1"' in panel.text
    assert panel.text.count("aria-live") == 1 and 'id="chat-panel-log" aria-live="polite"' in panel.text
    assert "onclick" not in panel.text
