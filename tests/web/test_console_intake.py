"""The console's 标记 (紧急, 保密, 匿名, 企业诉求) reach the order, and a refused call points the operator at the field to fix."""

import re
from datetime import timedelta

from tests.web.test_console_after import intake, ticket_of
from tests.web.test_pages import login, token


def test_console_flags_make_an_urgent_confidential_anonymous_enterprise_order(web, session):
    login(web, "t_operator")
    page = web.get("/staff/console").text
    for name, value in (("urgency", "urgent"), ("confidential", "1"), ("anonymous", "1"), ("channel", "enterprise")):
        assert f'name="{name}" id="f-{name}" value="{value}"' in page
    response = intake(web, "13800003001", name="周先生", after="dispatch", lead_unit="ronggui", urgency="urgent", confidential="1", anonymous="1", channel="enterprise")
    ticket = ticket_of(session, "13800003001")
    assert f"紧急、保密、匿名、企业诉求工单 {ticket.number} 已受理并派至 容桂街道" in response.text
    assert (ticket.urgency, ticket.confidential, ticket.anonymous, ticket.channel, ticket.requester_name) == ("urgent", True, True, "enterprise", None)
    # Urgent wins over enterprise: the 紧急工单 rule's 4 clock hours to reply.
    assert abs(ticket.reply_due - ticket.created_at - timedelta(hours=4)) < timedelta(minutes=1)
    order = web.get(f"/staff/tickets/{ticket.number}").text
    assert "投诉（紧急）" in order and "企业服务平台" in order and "保密件 匿名" in order


def test_an_enterprise_call_gets_the_enterprise_time_limit(web, session):
    login(web, "t_operator")
    intake(web, "13800003002", after="none", channel="enterprise")
    ticket = ticket_of(session, "13800003002")
    assert ticket.channel == "enterprise" and ticket.urgency == "normal" and not ticket.confidential
    assert abs(ticket.reply_due - ticket.created_at - timedelta(hours=24)) < timedelta(minutes=1)


def test_unticked_boxes_leave_an_ordinary_hotline_call(web, session):
    login(web, "t_operator")
    response = intake(web, "13800003003", name="周先生", after="none")
    ticket = ticket_of(session, "13800003003")
    assert f'<div class="alert-body">工单 {ticket.number} 已受理' in response.text
    assert (ticket.urgency, ticket.confidential, ticket.anonymous, ticket.channel, ticket.requester_name) == ("normal", False, False, "hotline", "周先生")


def test_a_confidential_call_hides_the_caller_from_the_unit(web, session):
    login(web, "t_operator")
    intake(web, "13800003004", name="周先生", after="dispatch", lead_unit="ronggui", confidential="1")
    number = ticket_of(session, "13800003004").number
    login(web, "t_ronggui")
    order = web.get(f"/staff/tickets/{number}").text
    box = order[order.index('id="requester-box"'):order.index("保密件：承办单位不显示诉求人身份。")]
    assert "保密" in box and "周" not in box and "3004" not in box
    assert f'action="/staff/tickets/{number}/reveal"' not in order
    refused = web.post(f"/staff/tickets/{number}/reveal", data={"csrf_token": token(order)})
    assert refused.status_code == 403 and "该工单为保密件，承办单位不能查看诉求人身份" in refused.text


def test_a_missing_number_is_asked_for_as_the_console_names_it_and_gets_the_cursor(web, session):
    login(web, "t_operator")
    page = intake(web, "", urgency="urgent").text
    assert "请填写来电号码" in page and "请填写联系电话" not in page
    assert re.search(r'<input type="tel" name="phone" id="f-phone"[^>]* autofocus', page)
    assert len(re.findall(r"\bautofocus\b", page)) == 1
    # What was ticked is still ticked on the page sent back.
    assert re.search(r'id="f-urgency" value="urgent" checked', page) and not re.search(r'id="f-confidential" value="1" checked', page)


def test_without_errors_the_cursor_starts_in_the_content(web, session):
    login(web, "t_operator")
    page = web.get("/staff/console").text
    assert re.search(r'<textarea name="content" id="f-content"[^>]* autofocus', page) and len(re.findall(r"\bautofocus\b", page)) == 1
    refused = intake(web, "13800003005", content="短").text
    assert re.search(r'<textarea name="content" id="f-content"[^>]* autofocus', refused) and len(re.findall(r"\bautofocus\b", refused)) == 1
