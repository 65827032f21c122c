"""统计分析: a period's cohort of orders, its rates, its breakdowns, the page and the Excel download."""

import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from baishitong.analytics import report as reports
from baishitong.tickets import schemas, service
from baishitong.tickets.service import LOCAL_TZ
from tests.conftest import actor
from tests.tickets.factories import intake, make_ticket
from tests.web.test_pages import login


def today():
    return service.utcnow().astimezone(LOCAL_TZ).date()


def test_the_period_counts_matters_and_rates_them_by_cohort(session):
    fast = make_ticket(session, state="callback")  # replied, solved, 满意
    slow = make_ticket(session, state="callback_unsatisfied")
    fast.replied_at, slow.replied_at = fast.dispatched_at + timedelta(hours=5), slow.dispatched_at + timedelta(hours=30)
    session.flush()
    make_ticket(session, state="signed")
    make_ticket(session, state="voided")
    consult, _ = service.create_ticket(session, data=intake(type="咨询", content="请问顺德区社保卡在哪里办理？需要带什么材料？"), actor=actor(session, "t_operator"))
    service.act(session, number=consult.number, action="answer", actor=actor(session, "t_operator"), body=schemas.ContentIn(version=consult.version, content="可到各镇街行政服务中心办理，携带身份证。"))
    report = reports.period_report(session, start=today() - timedelta(days=6), end=today())
    assert report.received == 4, "the voided order is not a matter"
    assert (report.direct_answers, report.dispatched, report.replied, report.callbacks) == (1, 3, 2, 2), "the direct answer is no unit reply"
    assert report.resolution_rate == 0.5 and report.satisfaction_rate == 0.5 and report.open_now == 1
    assert report.on_time_rate == 1.0 and report.median_reply_hours == pytest.approx(17.5, abs=0.01), "the mean of the middle two"
    assert sum(n for _, n in report.daily) == 4 and len(report.daily) == 7
    by_type = dict(report.breakdowns[0].rows)
    assert by_type == {"投诉": 3, "咨询": 1}
    towns = dict(report.breakdowns[3].rows)
    assert towns == {"容桂街道": 4}, "a community's orders count for its town"
    categories = report.breakdowns[2]
    assert sum(n for _, n in categories.rows) == 4


def test_the_period_breaks_down_by_lead_unit_with_the_undispatched_apart(web, session):
    """A monthly report's 各承办单位受理量 for the period chosen, summing to 受理量 (the league is fixed at 90 days)."""
    make_ticket(session, state="signed")
    make_ticket(session, state="callback")
    make_ticket(session, state="signed", lead="daliang")
    make_ticket(session, state="registered")
    report = reports.period_report(session, start=today() - timedelta(days=6), end=today())
    units = next(b for b in report.breakdowns if b.title == "主办单位")
    assert dict(units.rows) == {"容桂街道": 2, "大良街道": 1, "未派单": 1} and units.total == report.received == 4
    login(web, "t_supervisor")
    assert "主办单位" in web.get("/staff/stats").text
    workbook = load_workbook(io.BytesIO(web.get("/staff/stats.xlsx").content))
    header, *rows = ([c.value for c in row][:2] for row in workbook["主办单位"].iter_rows())
    assert header == ["主办单位", "件数"] and dict(rows) == {"容桂街道": 2, "大良街道": 1, "未派单": 1}


def test_orders_outside_the_period_are_not_counted(session):
    make_ticket(session, state="signed")
    report = reports.period_report(session, start=today() - timedelta(days=30), end=today() - timedelta(days=1))
    assert report.received == 0 and report.on_time_rate is None and report.median_reply_hours is None and report.breakdowns[0].rows == []


def test_the_page_shows_the_period_and_downloads_it_as_excel(web, session):
    make_ticket(session, state="callback")
    login(web, "t_supervisor")
    page = web.get("/staff/stats")
    assert page.status_code == 200 and "受理量" in page.text and "容桂街道" in page.text and 'href="/staff/stats"' in page.text
    start = (today() - timedelta(days=6)).isoformat()
    workbook = load_workbook(io.BytesIO(web.get(f"/staff/stats.xlsx?from={start}&to={today().isoformat()}").content))
    values = {row[0].value: row[1] for row in workbook["总体情况"].iter_rows()}
    assert values["受理量"].value == 1 and values["统计期间"].value.startswith(start)
    # Rates and shares are numbers shown as percentages, so they can be summed and charted.
    assert values["满意率"].value == 1 and values["满意率"].number_format == "0.0%"
    share = next(workbook["诉求类型"].iter_rows(min_row=2))[2]
    assert share.value == 1 and share.number_format == "0.0%"


def test_a_bad_period_falls_back_to_the_last_30_days_with_a_message(web):
    login(web, "t_supervisor")
    page = web.get("/staff/stats?from=2026-12-01&to=2026-01-01")
    assert page.status_code == 422 and "结束日期不能早于开始日期" in page.text
    assert "最长 366 天" in web.get("/staff/stats?from=2024-01-01&to=2026-01-01").text
    download = web.get("/staff/stats.xlsx?from=2026-13-45&to=x")
    assert "attachment" not in download.headers.get("content-disposition", "") and "日期不存在：2026-13-45" in download.text


def test_an_end_date_alone_shows_the_thirty_days_up_to_it(web, monkeypatch):
    monkeypatch.setenv("BAISHITONG_FAKE_NOW", "2026-12-05T10:00:00+08:00")
    login(web, "t_supervisor")
    page = web.get("/staff/stats?to=2026-10-01")
    assert page.status_code == 200 and "2026-09-02" in page.text and "2026-10-01" in page.text
    since = web.get("/staff/stats?from=2026-11-20")  # a start alone runs to today, on the app's clock
    assert since.status_code == 200 and "2026-11-20" in since.text and "2026-12-05" in since.text


def test_units_do_not_see_the_district_statistics(web):
    login(web, "t_ronggui")
    assert web.get("/staff/stats", follow_redirects=False).status_code in (303, 403)


def test_the_league_ranks_a_unit_with_few_callbacks_after_the_rest(session):
    from datetime import timedelta

    from baishitong.analytics import service as analytics
    from baishitong.db import utcnow
    from tests.tickets.factories import make_ticket

    make_ticket(session, state="callback", lead="daliang")  # one callback, 100 % satisfied
    for _ in range(analytics.RANKING_MIN_CALLBACKS - 1):
        make_ticket(session, state="callback", lead="ronggui")
    make_ticket(session, state="callback_unsatisfied", lead="ronggui")  # five callbacks, 80 %
    now = utcnow()
    order = [r["unit"] for r in analytics.unit_rates(session, since=now - timedelta(days=1), until=now + timedelta(minutes=1))]
    rates = {r["unit"]: r["satisfaction_rate"] for r in analytics.unit_rates(session, since=now - timedelta(days=1), until=now + timedelta(minutes=1))}
    assert rates["daliang"] == 1.0 and rates["ronggui"] == 0.8
    assert order.index("ronggui") < order.index("daliang")


def test_an_order_left_unanswered_past_its_deadline_counts_as_late(session):
    """A unit cannot keep its on-time rates up by not answering its late orders."""
    from baishitong.analytics import service as analytics
    from baishitong.db import utcnow

    make_ticket(session, state="replied", lead="daliang")  # answered in time
    late = make_ticket(session, state="signed", lead="daliang")
    late.reply_due = late.contact_due = utcnow() - timedelta(hours=1)
    waiting = make_ticket(session, state="dispatched", lead="daliang")
    waiting.sign_due = utcnow() - timedelta(minutes=5)
    make_ticket(session, state="signed", lead="daliang")  # not yet due: not judged
    session.flush()
    now = utcnow()
    rates = {r["unit"]: r for r in analytics.unit_rates(session, since=now - timedelta(days=1), until=now + timedelta(minutes=1))}["daliang"]
    assert rates["on_time_reply_rate"] == 0.5 and rates["on_time_sign_rate"] == 0.75 and rates["on_time_contact_rate"] == 0.0
    report = reports.period_report(session, start=today() - timedelta(days=1), end=today())
    assert report.reply_judged >= 2 and report.replied_on_time < report.reply_judged


def test_the_league_comes_after_the_desk_and_says_what_its_rates_are_taken_over(web, session):
    make_ticket(session, state="callback", lead="daliang")
    session.flush()
    login(web, "t_supervisor")
    desk = web.get("/staff/supervise").text.split('id="league"')[1]
    assert 'hx-get="/staff/supervise/league" hx-trigger="load"' in desk and 'data-unit="daliang"' not in desk, "the desk does not wait for the league"
    assert "占已办理和超时仍未办理工单的比例" in desk and 'href="/staff/supervise?league=1#league"' in desk, "a link for a browser without JavaScript"
    assert 'data-unit="daliang"' in web.get("/staff/supervise/league").text
    assert 'data-unit="daliang"' in web.get("/staff/supervise", params={"league": 1}).text.split('id="league"')[1]
    unknown = web.get("/staff/supervise", params={"league": "abc"})
    assert unknown.status_code == 200 and 'hx-get="/staff/supervise/league"' in unknown.text, "an unknown value falls back to the desk without the league"


def test_each_count_on_the_page_links_to_a_list_of_as_many_orders(web, session):
    """Whole days with `to` included, merged and voided orders left out: the list a figure opens holds that many orders."""
    import html
    import re
    from datetime import datetime, time

    from sqlalchemy import select

    from baishitong.org.models import Category, Region

    start, end = today() - timedelta(days=6), today() - timedelta(days=1)
    local = lambda day, hour, minute: datetime.combine(day, time(hour, minute), LOCAL_TZ)  # noqa: E731
    towns = session.scalars(select(Region).where(Region.parent_id.is_(None)).order_by(Region.code)).all()
    tops = session.scalars(select(Category).where(Category.parent_id.is_(None)).order_by(Category.code)).all()
    leaf = lambda top: session.scalar(select(Category).where(Category.parent_id == top.id)) or top  # noqa: E731
    seeded = [
        (make_ticket(session, state="signed"), local(end, 23, 30)),  # the last evening of the period
        (make_ticket(session, state="callback"), local(start, 0, 10)),
        (make_ticket(session, state="signed", lead="daliang"), local(start + timedelta(days=2), 9, 0)),
        (make_ticket(session, state="registered"), local(start + timedelta(days=3), 9, 0)),
        (make_ticket(session, state="voided"), local(start + timedelta(days=1), 9, 0)),
        (make_ticket(session, state="signed"), local(start + timedelta(days=1), 10, 0)),  # merged below
        (make_ticket(session, state="signed"), local(end + timedelta(days=1), 0, 5)),  # the day after
        (make_ticket(session, state="signed"), local(start - timedelta(days=1), 23, 55)),  # the day before
    ]
    for i, (ticket, at) in enumerate(seeded):
        ticket.created_at = at
        ticket.region_id = towns[i % 2].id
        ticket.category_id = leaf(tops[i % 3]).id
    seeded[5][0].status = "merged"
    # 未定位, 未分类 (and 未派单, the registered one) link to the orders without one; those outside the period,
    # or voided, are not among them.
    seeded[0][0].region_id = None
    seeded[3][0].category_id = None
    seeded[4][0].category_id = seeded[6][0].category_id = seeded[6][0].region_id = None
    session.flush()
    report = reports.period_report(session, start=start, end=end)
    assert report.received == 4

    login(web, "t_supervisor")
    page = web.get(f"/staff/stats?from={start.isoformat()}&to={end.isoformat()}").text
    links = {html.unescape(href): int(n) for href, n in re.findall(r'href="(/staff/tickets\?[^"]+)" aria-label="[^"]* (\d+) 件，查看工单"', page)}
    received = re.search(r'href="(/staff/tickets\?[^"]+)"><div class="stat">\s*<p class="stat-label">受理量', page)
    links[html.unescape(received.group(1))] = report.received
    assert len(links) >= 6 and {"region", "unit", "category"} <= {k for href in links for k in ("region", "unit", "category") if f"&{k}=" in href}
    assert {"unit=none", "category=none", "region=none"} <= {k for href in links for k in ("unit=none", "category=none", "region=none") if k in href}
    assert all(links[href] == 1 for href in links if "=none" in href)
    for href, figure in links.items():
        listed = web.get(href).text
        assert f"共 {figure} 件" in listed, href
    exported = web.get(received.group(1).replace("&amp;", "&").replace("/staff/tickets?", "/staff/exports/tickets.csv?")).content.decode("utf-8-sig")
    assert len(exported.strip().splitlines()) == 1 + report.received, "the export holds the orders the list shows"


def test_each_units_dispatch_count_in_the_league_links_to_a_list_of_as_many_orders(web, session):
    """The league counts 90 whole days of dispatches, today included; 派单数 opens 工单查询 by 派单日期 with those orders,
    and an order the unit returned, now with another unit, is said apart rather than missing from the list. 回访数 opens
    the same list narrowed to 已回访, on as many orders."""
    import html
    import re
    from datetime import datetime, time

    from baishitong.analytics import service as analytics

    local = lambda day, hour, minute: datetime.combine(day, time(hour, minute), LOCAL_TZ)  # noqa: E731
    first = today() - timedelta(days=89)
    inside, before, merged = make_ticket(session, state="signed"), make_ticket(session, state="signed"), make_ticket(session, state="signed")
    inside.dispatched_at, before.dispatched_at = local(first, 0, 5), local(first - timedelta(days=1), 23, 55)
    merged.status = "merged"
    make_ticket(session, state="replied")
    make_ticket(session, state="signed", lead="daliang")
    rated, rated_before = make_ticket(session, state="callback"), make_ticket(session, state="closed")
    rated_before.dispatched_at = local(first - timedelta(days=1), 12, 0)
    returned = make_ticket(session, state="returned")
    operator = actor(session, "t_operator")
    service.act(session, number=returned.number, action="approve-return", actor=operator, body=schemas.ActionIn(version=returned.version))
    service.act(session, number=returned.number, action="dispatch", actor=operator, body=schemas.DispatchIn(version=returned.version, lead_unit="daliang"))
    session.flush()

    login(web, "t_supervisor")
    league = web.get("/staff/supervise/league").text
    rows = dict(re.findall(r'<tr data-unit="([^"]+)">(.*?)</tr>', league, re.S))
    assert {"ronggui", "daliang"} <= set(rows)
    assert re.search(r'data-label="派单数">4<span class="sub muted">含已退单 1 件', rows["ronggui"]), "the returned order counts for the unit that returned it"
    links = {html.unescape(href): (unit, int(n)) for unit, row in rows.items() for href, n in re.findall(r'href="(/staff/tickets\?[^"]+)" aria-label="[^"]* (\d+) 件，查看工单"', row)}
    assert {unit: n for unit, n in links.values()} == {"ronggui": 3, "daliang": 2}
    called = {html.unescape(href): (unit, int(n)) for unit, row in rows.items() for href, n in re.findall(r'href="(/staff/tickets\?[^"]+)" aria-label="[^"]* 回访 (\d+) 件，查看有回访评价的工单"', row)}
    assert {unit: n for unit, n in called.values()} == {"ronggui": 1} and 'data-label="回访数">0</td>' in rows["daliang"]
    [(callbacks_href, _)] = called.items()
    assert "callback=yes" in callbacks_href and f"dispatched_from={first.isoformat()}" in callbacks_href
    listed = web.get(callbacks_href).text
    assert "共 1 件" in listed and rated.number in listed and rated_before.number not in listed
    for href, (unit, figure) in links.items():
        assert f"dispatched_from={first.isoformat()}" in href and f"dispatched_to={today().isoformat()}" in href and f"unit={unit}" in href
        assert f"共 {figure} 件" in web.get(href).text, href
    shown = {r["unit"]: (r["dispatched"], r["callbacks"]) for r in analytics.unit_rates(session, since=reports.bounds(first, today())[0], until=reports.bounds(first, today())[1])}
    assert shown["ronggui"] == (4, 1) and shown["daliang"] == (2, 0)
    assert "按派单日期统计近 90 天（含今天，不含并单）" in web.get("/staff/supervise").text


def test_the_league_reads_the_periods_orders_once(web, session):
    """The league's rates and the orders each unit still leads (its 派单数 link) come from one pass over the period's
    dispatches: a second grouped count made the league half as slow again over 100,000 orders (bench/pages.py)."""
    from sqlalchemy import event

    make_ticket(session, state="signed")
    returned = make_ticket(session, state="returned")
    operator = actor(session, "t_operator")
    service.act(session, number=returned.number, action="approve-return", actor=operator, body=schemas.ActionIn(version=returned.version))
    service.act(session, number=returned.number, action="dispatch", actor=operator, body=schemas.DispatchIn(version=returned.version, lead_unit="daliang"))
    session.flush()
    login(web, "t_supervisor")
    passes = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        # The period's orders read by dispatch time; the returns query joins them from the events instead.
        if "tickets.dispatched_at >=" in statement and "ticket_events" not in statement:
            passes.append(statement)

    event.listen(session.bind, "before_cursor_execute", seen)
    try:
        league = web.get("/staff/supervise/league").text
    finally:
        event.remove(session.bind, "before_cursor_execute", seen)
    assert len(passes) == 1, passes
    assert "含已退单 1 件" in league and "仍主办 1 件" in league, "ronggui still leads its signed order, not the returned one"


def test_the_redo_rate_is_the_leagues_over_the_period(web, session):
    """重办率: orders sent back for 重办, of those a unit answered (replied or redone), as the 督办台 league counts it."""
    from baishitong.analytics import service as analytics

    answered = make_ticket(session, state="callback")
    redone = make_ticket(session, state="signed")  # replied, called back unhappy, sent back: open again
    redone.redo_count = 1
    make_ticket(session, state="signed")  # not answered yet: not judged
    session.flush()
    report = reports.period_report(session, start=today() - timedelta(days=6), end=today())
    league = next(r for r in analytics.unit_rates(session) if r["unit"] == answered.lead_unit.code)
    assert report.redo_rate == league["redo_rate"] == 0.5
    login(web, "t_supervisor")
    assert "重办率" in web.get("/staff/stats").text
    workbook = load_workbook(io.BytesIO(web.get("/staff/stats.xlsx").content))
    values = {row[0].value: row[1] for row in workbook["总体情况"].iter_rows()}
    assert values["重办率"].value == 0.5 and values["重办率"].number_format == "0.0%"
