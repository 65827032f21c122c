"""Dates on the public pages read as a citizen says them (12月9日 14:30, 2026年12月9日), never 2026-12-09."""

import re
from datetime import date

from baishitong.knowledge import service as kb
from tests.conftest import actor
from tests.enterprise.factories import make_policy
from tests.tickets.factories import PHONE, make_ticket
from tests.web.test_mine import CALLER, verify
from tests.web.test_pages import submit_form, token

# 14:30 on 9 December in Shunde.
RECEIVED = "2026-12-09T06:30:00+00:00"


def shown_text(page: str) -> str:
    """What a reader sees: the page without its tags and attributes."""
    return re.sub(r"<[^>]+>", "", page)


def track(web, ticket) -> str:
    form = web.get("/track")
    return web.post("/track", data={"csrf_token": token(form.text), "number": ticket.number, "phone": PHONE}).text


def test_progress_lookup_gives_this_years_times_without_the_year_and_last_years_with_it(web, session, monkeypatch):
    monkeypatch.setenv("BAISHITONG_FAKE_NOW", RECEIVED)
    ticket = make_ticket(session, state="replied")
    page = track(web, ticket)
    text = shown_text(page)
    assert re.search(r"受理时间\s*12月9日 14:30", text) and "答复时间：12月9日 14:30" in text
    assert '<time class="timeline-time" datetime="2026-12-09T14:30:00+08:00">12月9日 14:30</time>' in page
    assert "2026-12-09" not in text and "12月09日" not in text

    monkeypatch.setenv("BAISHITONG_FAKE_NOW", "2027-01-05T02:00:00+00:00")
    text = shown_text(track(web, ticket))
    assert re.search(r"受理时间\s*2026年12月9日 14:30", text) and "答复时间：2026年12月9日 14:30" in text


def test_my_orders_list_reads_the_received_time_in_words(client, session, monkeypatch):
    monkeypatch.setenv("BAISHITONG_FAKE_NOW", RECEIVED)
    ticket = make_ticket(session, state="dispatched", requester=CALLER)
    found = verify(client, session).text
    assert ticket.number in found and '<time datetime="2026-12-09T14:30:00+08:00">12月9日 14:30</time>' in found


def test_a_knowledge_article_gives_its_dates_with_the_year_in_words(web, session, monkeypatch):
    monkeypatch.setenv("BAISHITONG_FAKE_NOW", "2026-03-04T02:00:00+00:00")
    fields = {"title": "犬只登记怎么办理", "body": "携带犬只免疫证明到所在社区办理犬只登记。", "valid_to": date(2027, 6, 30)}
    kb.create_article(session, actor=actor(session, "t_admin"), external_id="dog-01", status="published", **fields)
    session.flush()
    page = web.get("/kb/dog-01").text
    assert '更新日期：<time datetime="2026-03-04T10:00:00+08:00">2026年3月4日</time>' in page
    assert '有效期至 <time datetime="2027-06-30">2027年6月30日</time>' in page
    found = web.get("/kb?q=犬只登记").text
    assert '更新于 <time datetime="2026-03-04T10:00:00+08:00">2026年3月4日</time>' in found


def test_a_policys_application_window_is_written_with_years_in_words(web, session, monkeypatch):
    monkeypatch.setenv("BAISHITONG_FAKE_NOW", RECEIVED)
    policy = make_policy(session, title="跨年申报的政策", apply_from=date(2026, 12, 1), apply_to=date(2027, 1, 9))
    expected = '<time class="nowrap" datetime="2026-12-01">2026年12月1日</time> 至 <time class="nowrap" datetime="2027-01-09">2027年1月9日</time>'
    assert f"申报时间：{expected}" in web.get(f"/enterprise/policies/{policy.id}").text
    assert f"申报时间：{expected}" in web.get("/enterprise").text


def test_the_submitted_page_gives_each_expected_deadline_in_words(web, monkeypatch):
    monkeypatch.setenv("BAISHITONG_FAKE_NOW", RECEIVED)
    sent = web.post("/submit", data=submit_form(web), follow_redirects=False)
    page = web.get(sent.headers["location"]).text
    dues = re.findall(r'预计 <time class="nowrap" datetime="[^"]+">([^<]+)</time> 前', page)
    assert dues and all(re.fullmatch(r"(2027年)?\d{1,2}月\d{1,2}日 \d\d:\d\d", due) and "月0" not in due for due in dues), dues
