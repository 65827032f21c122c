"""工单导出: what the staff member may see, the requester masked, refused when too large, audited."""

import csv
import io
from datetime import datetime, timedelta, timezone

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from baishitong.audit.models import AuditEntry
from baishitong.org.models import Category, Region
from baishitong.errors import InvalidInput
from baishitong.tickets import export
from tests.conftest import actor
from tests.tickets.factories import PHONE, make_ticket
from tests.web.test_pages import login


def test_a_unit_exports_only_its_own_work_with_the_requester_masked(session):
    ours = make_ticket(session, state="signed", lead="ronggui")
    theirs = make_ticket(session, state="signed", lead="daliang")
    lines = export.rows(session, actor=actor(session, "t_ronggui"), filters={})
    header, *body = lines
    numbers = [line[0] for line in body]
    assert ours.number in numbers and theirs.number not in numbers
    record = dict(zip(header, body[numbers.index(ours.number)]))
    assert record["联系电话"] == "138****5678" and record["诉求人"] == "陈先生" and record["状态"] == "办理中"
    assert PHONE not in "".join(map(str, sum(lines, [])))
    [entry] = session.scalars(select(AuditEntry).where(AuditEntry.action == "tickets.export")).all()
    assert entry.actor == "t_ronggui" and entry.data["rows"] == len(body)


def test_an_export_searched_by_a_callers_number_is_audited_with_the_number_masked(session):
    """The audit trail, kept for ever and read by every administrator, held the number typed as the search."""
    export.rows(session, actor=actor(session, "t_supervisor"), filters={"query_text": f"{PHONE} 路灯", "status": ["signed"]})
    [entry] = session.scalars(select(AuditEntry).where(AuditEntry.action == "tickets.export")).all()
    assert entry.data["filters"] == {"query_text": "138****5678 路灯", "status": "['signed']"}


def test_overdue_is_judged_by_the_reply_time_or_now(session):
    late = make_ticket(session, state="signed")
    late.reply_due = late.created_at - timedelta(hours=1)
    on_time = make_ticket(session, state="replied")
    on_time.reply_due = on_time.replied_at + timedelta(days=1)
    session.flush()
    header, *body = export.rows(session, actor=actor(session, "t_supervisor"), filters={})
    overdue = {line[0]: line[header.index("是否超期")] for line in body}
    assert overdue[late.number] == "是" and overdue[on_time.number] == "否"


def test_an_export_too_large_is_refused_not_cut_short(session, monkeypatch):
    monkeypatch.setattr(export, "MAX_ROWS", 1)
    make_ticket(session)
    make_ticket(session)
    with pytest.raises(InvalidInput, match="一次最多导出 1 件"):
        export.rows(session, actor=actor(session, "t_supervisor"), filters={})


def test_the_list_page_exports_its_filters_as_excel_and_csv(web, session):
    signed = make_ticket(session, state="signed")
    closed = make_ticket(session, state="closed")
    login(web, "t_supervisor")
    page = web.get("/staff/tickets?status=signed").text
    assert 'action="/staff/exports/tickets.xlsx"' in page and 'name="status" value="signed"' in page
    response = web.get("/staff/exports/tickets.xlsx?status=signed")
    assert response.status_code == 200 and "attachment" in response.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    numbers = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert signed.number in numbers and closed.number not in numbers
    text = web.get("/staff/exports/tickets.csv").content.decode("utf-8-sig")
    assert {signed.number, closed.number} <= {line[0] for line in csv.reader(io.StringIO(text))}


def test_a_reversed_date_range_comes_back_with_a_message(web):
    login(web, "t_supervisor")
    response = web.get("/staff/exports/tickets.csv?from=2026-12-01&to=2026-11-01", follow_redirects=True)
    assert "结束日期不能早于开始日期" in response.text


def test_a_confidential_order_hides_its_requester_from_the_unit_as_on_screen(session):
    secret = make_ticket(session, state="signed", lead="ronggui")
    secret.confidential = True
    session.flush()
    header, *body = export.rows(session, actor=actor(session, "t_ronggui"), filters={})
    record = dict(zip(header, next(line for line in body if line[0] == secret.number)))
    assert record["诉求人"] == "保密" and record["联系电话"] == ""
    header, *body = export.rows(session, actor=actor(session, "t_supervisor"), filters={})
    record = dict(zip(header, next(line for line in body if line[0] == secret.number)))
    assert record["联系电话"] == "138****5678", "the centre still sees the masked contact"


def test_a_citizens_formula_is_exported_as_text(session):
    trap = make_ticket(session, state="signed")
    trap.title = '=HYPERLINK("http://evil.example/x","点击查看")'
    trap.content = "+1+2 -3 @SUM(A1)"
    session.flush()
    lines = export.rows(session, actor=actor(session, "t_supervisor"), filters={})
    sheet = load_workbook(io.BytesIO(export.to_xlsx(lines))).active
    cells = {c.value: c.data_type for row in sheet.iter_rows() for c in row}
    assert cells[trap.title] == "s" and cells[trap.content] == "s"
    parsed = list(csv.reader(io.StringIO(export.to_csv(lines).decode("utf-8-sig"))))
    row = next(r for r in parsed if r[0] == trap.number)
    assert row[4] == "'" + trap.title and row[5] == "'" + trap.content


def test_times_are_excel_datetimes_in_local_time_while_typed_text_stays_text(session):
    """Exported as text, 受理时间 and 答复期限 could not be sorted or subtracted in the monthly report's sheet."""
    replied = make_ticket(session, state="replied", content="2026-12-01 09:00 起路灯不亮")
    replied.created_at = datetime(2026, 12, 1, 1, 30, tzinfo=timezone.utc)
    replied.reply_due = datetime(2026, 12, 3, 9, 0, tzinfo=timezone.utc)
    replied.replied_at = datetime(2026, 12, 2, 16, 45, tzinfo=timezone.utc)
    waiting = make_ticket(session, state="signed")
    session.flush()
    lines = export.rows(session, actor=actor(session, "t_supervisor"), filters={})
    sheet = load_workbook(io.BytesIO(export.to_xlsx(lines))).active
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    cells = {row[0].value: dict(zip(header, row)) for row in sheet.iter_rows(min_row=2)}
    times = {name: cells[replied.number][name] for name in ("受理时间", "答复期限", "答复时间")}
    assert {name: c.value for name, c in times.items()} == {
        "受理时间": datetime(2026, 12, 1, 9, 30), "答复期限": datetime(2026, 12, 3, 17, 0), "答复时间": datetime(2026, 12, 3, 0, 45),
    }, "Asia/Shanghai wall-clock time, not UTC"
    assert all(c.is_date and c.number_format == "yyyy-mm-dd hh:mm" for c in times.values())
    assert cells[waiting.number]["答复时间"].value is None, "not replied yet: an empty cell, not an empty text"
    typed = cells[replied.number]["诉求内容"]
    assert typed.value == replied.content and typed.data_type == "s"
    parsed = list(csv.reader(io.StringIO(export.to_csv(lines).decode("utf-8-sig"))))
    record = dict(zip(parsed[0], next(r for r in parsed if r[0] == replied.number)))
    assert (record["受理时间"], record["答复期限"], record["答复时间"]) == ("2026-12-01 09:30", "2026-12-03 17:00", "2026-12-03 00:45")
    assert dict(zip(parsed[0], next(r for r in parsed if r[0] == waiting.number)))["答复时间"] == ""


def test_an_unreadable_date_is_refused_not_ignored(web, session):
    make_ticket(session, state="signed")
    login(web, "t_supervisor")
    response = web.get("/staff/exports/tickets.csv?from=2026-13-45&to=x")
    assert "attachment" not in response.headers.get("content-disposition", "")
    assert "受理日期不存在：2026-13-45" in response.text


def test_an_unknown_filter_on_the_ticket_list_is_said_not_shown_as_no_orders(web, session):
    make_ticket(session, state="signed")
    login(web, "t_supervisor")
    page = web.get("/staff/tickets?status=bogus")
    assert page.status_code == 200 and "工单状态“bogus”无效，只能是：已受理、已派单、办理中" in page.text
    assert "registered" not in page.text.split("只能是：")[1].split("<")[0], "the page names the statuses, not their codes"
    assert "受理渠道“fax”无效，只能是：12345热线" in web.get("/staff/tickets?channel=fax").text
    assert "没有符合条件的工单" in page.text
    unknown_unit = web.get("/staff/tickets?unit=NO_SUCH")
    assert "单位 NO_SUCH 不存在" in unknown_unit.text, "said on the page asked for, not on the next one"
    assert "不存在" not in web.get("/staff/tickets").text
    exported = web.get("/staff/exports/tickets.csv?channel=fax")
    assert "attachment" not in exported.headers.get("content-disposition", "") and "受理渠道“fax”无效" in exported.text


@pytest.mark.parametrize(("query", "said"), [("channel=fax", "受理渠道“fax”无效"), ("unit=NO_SUCH", "单位 NO_SUCH 不存在")])
def test_an_export_with_an_unknown_filter_says_so_once_on_the_list(web, session, query, said):
    """The list says what is wrong with its own filters; the export's flash said it a second time above."""
    make_ticket(session, state="signed")
    login(web, "t_supervisor")
    refused = web.get(f"/staff/exports/tickets.csv?{query}")
    assert refused.url.path == "/staff/tickets" and refused.text.count(said) == 1


def test_an_export_too_large_comes_back_to_the_list_saying_why(web, session, monkeypatch):
    """The list itself has no such limit: only the export can say it."""
    monkeypatch.setattr(export, "MAX_ROWS", 1)
    make_ticket(session, state="signed")
    make_ticket(session, state="signed")
    login(web, "t_supervisor")
    refused = web.get("/staff/exports/tickets.csv")
    assert refused.url.path == "/staff/tickets" and refused.text.count("一次最多导出 1 件") == 1


def test_numbers_written_into_the_reply_and_address_are_masked_too(session):
    ticket = make_ticket(session, state="replied", address=f"容桂街道高黎社区桂洲大道东（联系 {PHONE}）")
    ticket.reply_content = f"已致电来电人 {PHONE} 核实，路灯已修复。"
    session.flush()
    header, *body = export.rows(session, actor=actor(session, "t_supervisor"), filters={})
    record = dict(zip(header, next(line for line in body if line[0] == ticket.number)))
    assert record["答复内容"] == "已致电来电人 138****5678 核实，路灯已修复。" and record["事发地址"].endswith("（联系 138****5678）")
    assert PHONE not in "".join(map(str, sum(body, [])))


def test_a_refused_export_range_comes_back_to_the_list_with_the_dates_as_typed(web):
    """An end before the start is refused on the list, once, with both dates kept in its 受理日期 filter to correct one."""
    login(web, "t_supervisor")
    response = web.get("/staff/exports/tickets.xlsx?status=signed&from=2026-11-30&to=2026-11-01")
    assert response.url.path == "/staff/tickets" and response.text.count("结束日期不能早于开始日期") == 1
    assert 'value="2026-11-30"' in response.text and 'value="2026-11-01"' in response.text


def test_the_list_filters_by_registration_day_category_and_town_and_keeps_them_across_pages(web, session, monkeypatch):
    from datetime import time

    from baishitong.tickets.service import LOCAL_TZ
    from baishitong.web import ticket as ticket_views

    day = datetime(2026, 11, 30).date()
    late, early, next_morning = (make_ticket(session, state="signed") for _ in range(3))
    late.created_at = datetime.combine(day, time(23, 50), LOCAL_TZ)
    early.created_at = datetime.combine(day, time(0, 5), LOCAL_TZ)
    next_morning.created_at = datetime.combine(day + timedelta(days=1), time(0, 10), LOCAL_TZ)
    # Filed under a community and a level-2 category: counted for their town and their level-1 category.
    community = session.scalar(select(Region).where(Region.parent_id.is_not(None)))
    category = session.scalar(select(Category).where(Category.parent_id.is_not(None)))
    for ticket in (late, early, next_morning):
        ticket.region_id, ticket.category_id = community.id, category.id
    session.flush()
    login(web, "t_supervisor")
    page = web.get("/staff/tickets?from=2026-11-30&to=2026-11-30").text
    assert late.number in page and early.number in page and next_morning.number not in page and "共 2 件" in page, "the day 'to' names is taken whole"
    top, town = session.get(Category, category.parent_id), session.get(Region, community.parent_id).code
    monkeypatch.setattr(ticket_views, "PER_PAGE", 1)
    query = f"from=2026-11-30&to=2026-11-30&region={town}&category={top.code}&matters=1"
    first = web.get(f"/staff/tickets?{query}").text
    assert "共 2 件" in first and f'name="region" value="{town}"' in first and 'name="matters" value="1"' in first
    import html
    import re
    from urllib.parse import parse_qsl, urlsplit

    next_page = html.unescape(re.search(r'href="([^"]*page=2)" rel="next"', first).group(1))
    assert dict(parse_qsl(urlsplit(next_page).query)) == dict(parse_qsl(query)) | {"page": "2"}, "the next page keeps every filter"
    assert "分类 NOPE 不存在" in web.get(f"/staff/tickets?{query.replace(top.code, 'NOPE')}").text


def test_the_list_filters_by_dispatch_day_and_by_what_an_order_lacks_and_exports_the_same(web, session):
    """派单日期 are whole local days, 至 included; 未派单, 未分类 and 未定位 are choices of their filters."""
    from datetime import time

    from baishitong.tickets.service import LOCAL_TZ

    day = datetime(2026, 11, 30).date()
    late, early, next_morning = (make_ticket(session, state="signed") for _ in range(3))
    late.dispatched_at = datetime.combine(day, time(23, 50), LOCAL_TZ)
    early.dispatched_at = datetime.combine(day, time(0, 5), LOCAL_TZ)
    next_morning.dispatched_at = datetime.combine(day + timedelta(days=1), time(0, 10), LOCAL_TZ)
    waiting, placed = make_ticket(session), make_ticket(session)
    waiting.category_id = waiting.region_id = None
    placed.category_id = session.scalar(select(Category.id).limit(1))
    placed.region_id = session.scalar(select(Region.id).limit(1))
    session.flush()
    login(web, "t_supervisor")
    page = web.get("/staff/tickets?dispatched_from=2026-11-30&dispatched_to=2026-11-30").text
    assert late.number in page and early.number in page and next_morning.number not in page and "共 2 件" in page
    assert 'name="dispatched_to" value="2026-11-30"' in page, "the export keeps the dispatch days"
    assert all(f'<option value="none">{label}</option>' in page for label in ("未派单", "未分类", "未定位"))
    text = web.get("/staff/exports/tickets.csv?dispatched_from=2026-11-30&dispatched_to=2026-11-30").content.decode("utf-8-sig")
    assert {line[0] for line in list(csv.reader(io.StringIO(text)))[1:]} == {late.number, early.number}
    unplaced = web.get("/staff/tickets?unit=none&category=none&region=none").text
    assert waiting.number in unplaced and placed.number not in unplaced and "共 1 件" in unplaced
    assert '<option value="none" selected>未派单</option>' in unplaced
    undispatched = web.get("/staff/tickets?unit=none").text
    assert waiting.number in undispatched and placed.number in undispatched and late.number not in undispatched
    reversed_days = web.get("/staff/tickets?dispatched_from=2026-11-30&dispatched_to=2026-11-01")
    assert reversed_days.status_code == 200 and "派单日期的结束日期不能早于开始日期" in reversed_days.text and "共 0 件" in reversed_days.text
    assert "派单日期不存在：2026-02-30" in web.get("/staff/tickets?dispatched_from=2026-02-30").text, "not read as no limit"
