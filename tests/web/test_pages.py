"""Pages without JavaScript: forms, CSRF, role access, masking and the staff session timeout."""

import html
import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from baishitong.audit.models import AuditEntry
from baishitong.deps import get_db_session
from baishitong.org import service as org
from baishitong.tickets.models import Ticket
from tests.attachments import files
from tests.conftest import TEST_PASSWORD
from tests.tickets.factories import PHONE, make_ticket



def token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def login(client, username: str) -> None:
    client.cookies.clear()
    page = client.get("/staff/login")
    response = client.post("/staff/login", data={"csrf_token": token(page.text), "username": username, "password": TEST_PASSWORD}, follow_redirects=False)
    assert response.status_code == 303, response.text


def submit_form(client, **overrides):
    page = client.get("/submit")
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page.text).group(1)
    data = {
        "csrf_token": token(page.text),
        "idempotency_key": key,
        "type": "投诉",
        "content": "容桂街道高黎社区桂洲大道东路段路灯连续一周不亮，晚上行人很不安全。",
        "town": "440606006",
        "community": "",
        "address": "桂洲大道东",
        "name": "陈先生",
        "phone": PHONE,
        "consent": "1",
    }
    data.update(overrides)
    return data


def test_public_submit_without_js_creates_one_ticket_and_shows_number(web, session):
    data = submit_form(web)
    first = web.post("/submit", data=data, follow_redirects=False)
    assert first.status_code == 303
    number = first.headers["location"].rsplit("/", 1)[-1]
    again = web.post("/submit", data=data, follow_redirects=False)
    assert again.headers["location"].endswith(number + "?again=1"), "the order already registered, said so"
    assert session.scalar(select(Ticket).where(Ticket.number == number)).channel == "web"
    done = web.get(first.headers["location"])
    assert number in done.text and "答复" in done.text and "/track?number=" + number in done.text


def test_photo_upload_checked_by_content(web, session):
    data = submit_form(web)
    fake = web.post("/submit", data=data, files={"photos": ("a.jpg", b"not an image at all", "image/jpeg")})
    assert "不是 JPEG、PNG 或 WebP 图片" in fake.text
    png = files.png()  # without metadata, so stored as sent
    ok = web.post("/submit", data=data, files={"photos": ("a.png", png, "image/png")}, follow_redirects=False)
    assert ok.status_code == 303
    number = ok.headers["location"].rsplit("/", 1)[-1]
    login(web, "t_operator")
    page = web.get(f"/staff/tickets/{number}")
    attachment = re.search(r'/staff/attachments/(\d+)', page.text).group(0)
    assert web.get(attachment).content == png
    web.cookies.clear()
    assert web.get(attachment, follow_redirects=False).status_code == 303


def test_bad_phone_rerenders_form_with_message(web, session):
    response = web.post("/submit", data=submit_form(web, phone="12345"))
    assert response.status_code == 200
    assert "请填写正确的手机号码" in response.text
    assert "路灯连续一周不亮" in response.text  # what was typed is kept
    assert 'aria-invalid="true"' in response.text


@pytest.mark.parametrize(("phone", "message"), [("", "请填写联系电话"), ("  ", "请填写联系电话"), ("12345", "请填写正确的手机号码")])
def test_phone_error_says_whether_it_is_missing_or_wrong(web, session, phone, message):
    page = web.post("/submit", data=submit_form(web, phone=phone)).text
    error = re.search(r'<p class="error-text" id="f-phone-error"[^>]*>([^<]+)</p>', page).group(1)
    assert error.startswith(message)
    assert ("正确的手机号码" in error) == (message != "请填写联系电话")


def test_missing_or_wrong_csrf_is_refused(web):
    data = submit_form(web)
    data.pop("csrf_token")
    assert web.post("/submit", data=data).status_code == 403
    assert web.post("/submit", data={**data, "csrf_token": "forged"}).status_code == 403
    assert "页面已过期" in web.post("/track", data={"number": "x", "phone": "y"}).text


def test_expired_form_page_explains_and_links_back_to_the_form_without_an_error_code(web):
    data = {**submit_form(web), "csrf_token": "expired"}
    page = web.post("/submit", data=data, headers={"Referer": "http://testserver/submit?type=%E6%8A%95%E8%AF%89"})
    assert page.status_code == 403
    assert "<h1>页面已过期</h1>" in page.text and "<title>页面已过期" in page.text and "无权访问" not in page.text
    assert "错误代码" not in page.text and "还没有提交" in page.text
    assert re.search(r'<a class="btn btn-primary" href="/submit\?type=%E6%8A%95%E8%AF%89">返回填写页面</a>', page.text)
    # Sent from another site, or with no Referer at all: back to the form at the address it was posted to.
    for elsewhere in ("https://example.org/submit", "http://testserver//example.org/x", ""):
        refused = web.post("/submit", data=data, headers={"Referer": elsewhere} if elsewhere else {})
        assert refused.status_code == 403 and "页面已过期" in refused.text
        assert '<a class="btn btn-primary" href="/submit">返回填写页面</a>' in refused.text and "example.org" not in refused.text
    no_page_there = web.post("/booking/cancel", data={"csrf_token": "expired", "number": "x", "phone": "y"})
    assert no_page_there.status_code == 403 and ">返回填写页面</a>" not in no_page_there.text and 'href="/"' in no_page_there.text
    assert "错误代码 404" in web.get("/no-such-page").text, "other error pages keep their code"


def test_track_wrong_phone_looks_like_missing_number(web, session):
    ticket = make_ticket(session, state="dispatched")
    page = web.get("/track")
    wrong = web.post("/track", data={"csrf_token": token(page.text), "number": ticket.number, "phone": "13900000000"})
    missing = web.post("/track", data={"csrf_token": token(page.text), "number": "SD000000000000", "phone": PHONE})
    assert "未查询到该工单" in wrong.text and "未查询到该工单" in missing.text
    assert ticket.title not in wrong.text
    right = web.post("/track", data={"csrf_token": token(page.text), "number": ticket.number, "phone": PHONE})
    assert ticket.title in right.text and "已转交" in right.text


def test_a_number_typed_in_full_width_is_the_same_number(web, session):
    """A Chinese keyboard in full-width mode types １３８…: 我要反映 refused it as 请填写正确的手机号码, and 进度查询
    found nothing for ＳＤ２０２６… or a phone typed that way."""
    wide = PHONE.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    sent = web.post("/submit", data=submit_form(web, phone="＋８６ " + wide), follow_redirects=False)
    assert sent.status_code == 303, sent.text
    number = sent.headers["location"].rsplit("/", 1)[-1]
    assert session.scalar(select(Ticket).where(Ticket.number == number)).requester_phone == PHONE
    page = web.get("/track")
    wide_number = number.lower().translate(str.maketrans("sd0123456789", "ｓｄ０１２３４５６７８９"))
    found = web.post("/track", data={"csrf_token": token(page.text), "number": wide_number, "phone": wide})
    assert number in found.text and "未查询到" not in found.text


def test_requester_callback_form(web, session):
    ticket = make_ticket(session, state="replied")
    page = web.get("/track")
    shown = web.post("/track", data={"csrf_token": token(page.text), "number": ticket.number, "phone": PHONE})
    assert "请您评价" in shown.text
    rated = web.post("/track/callback", data={"csrf_token": token(page.text), "number": ticket.number, "phone": PHONE, "solved": "yes", "satisfaction": "基本满意"})
    assert "感谢您的评价" in rated.text
    session.refresh(ticket)
    assert ticket.status == "callback" and ticket.callback_satisfaction == "基本满意"
    again = web.post("/track/callback", data={"csrf_token": token(page.text), "number": ticket.number, "phone": PHONE, "solved": "no", "satisfaction": "不满意"})
    assert "您已评价过这张工单，感谢您的反馈" in again.text and "不能执行" not in again.text
    session.refresh(ticket)
    assert ticket.callback_satisfaction == "基本满意"


def test_staff_login_logout(web, session):
    page = web.get("/staff/login")
    bad = web.post("/staff/login", data={"csrf_token": token(page.text), "username": "t_operator", "password": "wrong-password"})
    assert "用户名或密码错误" in bad.text
    login(web, "t_operator")
    console = web.get("/staff/console")
    assert console.status_code == 200 and "话务受理台" in console.text
    cookie = web.cookies.get("bst_staff")
    assert cookie
    out = web.post("/staff/logout", data={"csrf_token": token(console.text)}, follow_redirects=False)
    assert out.status_code == 303
    assert web.get("/staff/console", follow_redirects=False).headers["location"].startswith("/staff/login")
    actions = session.scalars(select(AuditEntry.action).where(AuditEntry.object_id == "t_operator")).all()
    assert "auth.login" in actions and "auth.logout" in actions and "auth.login_failed" in actions


def test_a_disabled_account_is_told_to_ask_the_administrator(web, client, session):
    org.disable_user(session, username="t_operator")
    page = web.get("/staff/login")
    wrong = web.post("/staff/login", data={"csrf_token": token(page.text), "username": "t_operator", "password": "wrong-password"})
    assert "用户名或密码错误" in wrong.text
    refused = web.post("/staff/login", data={"csrf_token": token(page.text), "username": "t_operator", "password": TEST_PASSWORD})
    assert refused.status_code == 403 and "该账号已停用，请联系系统管理员" in refused.text
    assert web.get("/staff/console", follow_redirects=False).headers["location"].startswith("/staff/login")
    api = client.post("/api/v1/auth/token", json={"username": "t_operator", "password": TEST_PASSWORD})
    assert api.status_code == 403 and api.json()["error"]["code"] == "account_disabled"


def test_error_pages_survive_the_closed_transaction(app, web, session):
    """In production the request's session is rolled back and closed before the error page renders."""

    def closing():
        try:
            yield session
        except BaseException:
            session.rollback()
            session.close()
            raise

    app.dependency_overrides[get_db_session] = closing
    login(web, "t_ronggui")
    forbidden = web.get("/staff/admin/users")
    assert forbidden.status_code == 403 and "返回工作台" in forbidden.text
    assert web.get("/staff/tickets/SD000000000000").status_code == 404


def test_a_malformed_page_address_and_a_crash_get_pages_not_json(app, monkeypatch):
    from fastapi.testclient import TestClient

    from baishitong.web import stats

    with TestClient(app, raise_server_exceptions=False) as browser:
        missing = browser.get("/enterprise/policies/abc")
        assert missing.status_code == 404 and "页面不存在" in missing.text and missing.headers["content-type"].startswith("text/html")
        login(browser, "t_admin")

        def broken(*args, **kwargs):
            raise RuntimeError("boom")

        monkeypatch.setattr(stats.reports, "period_report", broken)
        crashed = browser.get("/staff/stats")
        assert crashed.status_code == 500 and "系统繁忙" in crashed.text and crashed.headers["content-type"].startswith("text/html")
        api = browser.get("/api/v1/tickets/SD1")
        assert api.headers["content-type"].startswith("application/json")


def test_handler_sees_own_unit_only_and_no_admin(web, session):
    own = make_ticket(session, state="dispatched", lead="ronggui")
    other = make_ticket(session, state="dispatched", lead="daliang")
    login(web, "t_ronggui")
    assert web.get(f"/staff/tickets/{own.number}").status_code == 200
    assert web.get(f"/staff/tickets/{other.number}").status_code == 404
    assert web.get("/staff/admin/users").status_code == 403
    assert web.get("/staff/console").status_code == 403
    unit = web.get("/staff/unit")
    assert own.number in unit.text and other.number not in unit.text


def test_unit_signs_and_replies_with_forms(web, session):
    ticket = make_ticket(session, state="dispatched", lead="ronggui")
    login(web, "t_ronggui")
    page = web.get(f"/staff/tickets/{ticket.number}")
    csrf = token(page.text)
    web.post(f"/staff/tickets/{ticket.number}/act/sign", data={"csrf_token": csrf, "version": ticket.version})
    session.refresh(ticket)
    assert ticket.status == "signed"
    stale = web.post(f"/staff/tickets/{ticket.number}/act/reply", data={"csrf_token": csrf, "version": ticket.version - 1, "content": "已修复"})
    # The same person's own earlier action (签收, as from another tab) is not blamed on someone else.
    assert "工单刚刚已被更新（可能是您在其他窗口的操作或他人的操作），下方已是最新状态" in stale.text and "他人更新" not in stale.text
    web.post(f"/staff/tickets/{ticket.number}/act/reply", data={"csrf_token": csrf, "version": ticket.version, "content": "已安排维修，路灯已恢复。"})
    session.refresh(ticket)
    assert ticket.status == "replied"


def test_a_supervisors_urge_while_the_handler_types_the_reply_does_not_make_it_stale(web, client, session):
    ticket = make_ticket(session, state="signed", lead="ronggui")
    login(web, "t_ronggui")
    page = web.get(f"/staff/tickets/{ticket.number}").text
    reply_form = re.search(r'<form[^>]*data-action-form="reply".*?</form>', page, re.S).group(0)
    seen = re.search(r'name="version" value="(\d+)"', reply_form).group(1)

    login(client, "t_supervisor")
    desk = client.get(f"/staff/tickets/{ticket.number}").text
    urged = client.post(f"/staff/tickets/{ticket.number}/act/urge", data={"csrf_token": token(desk), "version": ticket.version})
    assert "已催办" in urged.text
    session.refresh(ticket)
    assert ticket.urge_count == 1

    replied = web.post(f"/staff/tickets/{ticket.number}/act/reply", data={"csrf_token": token(page), "version": seen, "content": "已安排维修，路灯已恢复。"})
    assert "已答复" in replied.text and "工单刚刚已被更新" not in replied.text
    session.refresh(ticket)
    assert ticket.status == "replied" and ticket.reply_content == "已安排维修，路灯已恢复。"


def test_phone_masked_and_reveal_is_audited(web, session):
    ticket = make_ticket(session, state="replied")
    login(web, "t_operator")
    page = web.get(f"/staff/tickets/{ticket.number}")
    assert "138****5678" in page.text and PHONE not in page.text
    revealed = web.post(f"/staff/tickets/{ticket.number}/reveal", data={"csrf_token": token(page.text), "purpose": "回访"})
    assert PHONE in revealed.text
    views = session.scalars(select(AuditEntry).where(AuditEntry.action == "personal_data.view", AuditEntry.object_id == ticket.number)).all()
    assert len(views) == 1 and views[0].actor == "t_operator"
    assert "t_operator" in web.get(f"/staff/tickets/{ticket.number}").text.split("个人信息查看记录")[1]


def test_staff_session_idle_timeout(web, monkeypatch):
    start = datetime(2026, 12, 4, 2, 0, tzinfo=timezone.utc)
    monkeypatch.setenv("BAISHITONG_FAKE_NOW", start.isoformat())
    login(web, "t_supervisor")
    assert web.get("/staff/supervise").status_code == 200
    monkeypatch.setenv("BAISHITONG_FAKE_NOW", (start + timedelta(minutes=20)).isoformat())
    assert web.get("/staff/supervise").status_code == 200  # activity keeps the session alive
    monkeypatch.setenv("BAISHITONG_FAKE_NOW", (start + timedelta(minutes=45)).isoformat())
    assert web.get("/staff/supervise").status_code == 200
    monkeypatch.setenv("BAISHITONG_FAKE_NOW", (start + timedelta(minutes=80)).isoformat())
    expired = web.get("/staff/supervise", follow_redirects=False)
    assert expired.status_code == 303 and expired.headers["location"].startswith("/staff/login")
    assert "登录已超时" in web.get(expired.headers["location"]).text


def test_operator_console_intake_dispatches(web, session):
    login(web, "t_operator")
    page = web.get("/staff/console")
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page.text).group(1)
    panel = web.post("/staff/console/suggest", data={"content": "容桂街道高黎社区路灯不亮", "address": "容桂高黎社区", "type": "投诉"}, headers={"X-CSRF-Token": token(page.text), "HX-Request": "true"})
    assert panel.status_code == 200 and "智能分拨建议" in panel.text
    response = web.post(
        "/staff/console",
        data={"csrf_token": token(page.text), "idempotency_key": key, "type": "投诉", "content": "容桂街道高黎社区桂洲大道路灯不亮一周了", "address": "容桂街道高黎社区", "phone": "13800001111", "after": "dispatch", "lead_unit": "ronggui"},
    )
    assert "已受理" in response.text
    ticket = session.scalar(select(Ticket).where(Ticket.requester_phone == "13800001111"))
    assert ticket.channel == "hotline" and ticket.status == "dispatched" and ticket.lead_unit.code == "ronggui"


def test_pages_render_for_each_role(web, session):
    make_ticket(session, state="returned")
    make_ticket(session, state="callback_unsatisfied")
    for username, paths in {
        "t_operator": ["/staff/console/dispatch", "/staff/console/review", "/staff/console/callback", "/staff/tickets?status=returned&q=路灯"],
        "t_supervisor": ["/staff/supervise"],
        "t_admin": ["/staff/admin/units", "/staff/admin/users", "/staff/admin/categories", "/staff/admin/routing", "/staff/admin/sla", "/staff/admin/calendar", "/staff/admin/templates", "/staff/admin/outbox"],
        "t_ronggui": ["/staff/unit?tab=returned", "/staff/unit?tab=signed"],
    }.items():
        login(web, username)
        for path in paths:
            assert web.get(path).status_code == 200, (username, path)


def test_api_docs_load_without_any_cdn(client):
    import re

    html = client.get("/docs").text
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets and all(a.startswith("/static/") for a in assets)
    assert all(client.get(a).status_code == 200 for a in assets)


def test_track_keeps_the_phone_typed_when_nothing_is_found(web, session):
    ticket = make_ticket(session, state="dispatched")
    page = web.get("/track")
    wrong = web.post("/track", data={"csrf_token": token(page.text), "number": ticket.number, "phone": "13900000000"})
    assert re.search(r'name="phone"[^>]*value="13900000000"', wrong.text)


def test_callback_missing_answer_is_refused_with_422_and_keeps_the_other_choice(web, session):
    ticket = make_ticket(session, state="replied")
    page = web.get("/track")
    half = web.post("/track/callback", data={"csrf_token": token(page.text), "number": ticket.number, "phone": PHONE, "solved": "no"})
    assert half.status_code == 422 and "请选择满意程度" in half.text
    assert re.search(r'name="solved"[^>]*value="no" checked', half.text)
    session.refresh(ticket)
    assert ticket.status == "replied"


def test_photos_must_be_chosen_again_after_another_error(web, session):
    data = submit_form(web, consent="")
    png = files.png()
    page = web.post("/submit", data=data, files={"photos": ("a.png", png, "image/png")})
    assert "请阅读并同意" in page.text and "请重新选择照片" in page.text
    assert "请重新选择照片" not in web.post("/submit", data=data).text


def test_staff_login_page_shows_no_citizen_chat_button(web):
    assert 'class="chat-fab"' in web.get("/").text
    assert 'class="chat-fab"' not in web.get("/staff/login").text


def test_first_contact_is_offered_until_it_is_recorded(web, session):
    ticket = make_ticket(session, state="signed")
    login(web, "t_ronggui")
    page = web.get(f"/staff/tickets/{ticket.number}").text
    assert f'action="/staff/tickets/{ticket.number}/act/contact"' in page and "首次联系" in page
    done = web.post(f"/staff/tickets/{ticket.number}/act/contact", data={"csrf_token": token(page), "version": str(ticket.version), "outcome": "已联系", "next": f"/staff/tickets/{ticket.number}"})
    assert done.status_code == 200 and ticket.contacted_at is not None
    assert f'action="/staff/tickets/{ticket.number}/act/contact"' not in done.text


def test_console_knowledge_answer_fills_a_reply_a_citizen_can_read(web, session):
    from baishitong.actors import SYSTEM
    from baishitong.knowledge import service as knowledge

    knowledge.create_article(session, actor=SYSTEM, external_id="JZZ01", title="居住证怎么办理？", body="在本地居住满半年并有合法稳定住所的，可以申领居住证。", status="published")
    session.commit()
    login(web, "t_operator")
    page = web.get("/staff/console")
    panel = web.post("/staff/console/suggest", data={"content": "请问居住证怎么办理", "address": "", "type": "咨询"}, headers={"X-CSRF-Token": token(page.text), "HX-Request": "true"}).text
    fill = re.search(r'data-fill="#f-answer" data-fill-text="([^"]*)"', panel).group(1)
    assert fill.startswith("在本地居住满半年") and fill.endswith("（依据知识库《居住证怎么办理？》）")


def test_a_unit_s_own_pause_is_on_the_supervisors_desk_and_can_be_undone(web, session):
    from baishitong.tickets import schemas, service
    from tests.conftest import actor

    ticket = make_ticket(session, state="signed")
    service.act(session, number=ticket.number, action="pause", actor=actor(session, "t_ronggui"), body=schemas.ReasonIn(version=ticket.version, reason="等待诉求人补充现场照片"))
    login(web, "t_supervisor")
    desk = web.get("/staff/supervise").text
    row = desk[desk.index('id="paused"'):]
    row = row[: row.index("</section>")] if "</section>" in row else row
    assert ticket.number in row and "等待诉求人补充现场照片" in row and "恢复计时" in row
    resumed = web.post(f"/staff/tickets/{ticket.number}/act/resume", data={"csrf_token": token(desk), "version": str(ticket.version), "next": "/staff/supervise"}, follow_redirects=True)
    assert resumed.status_code == 200
    session.refresh(ticket)
    assert not ticket.paused


def test_console_files_the_whole_article_not_the_matched_passage(web, session):
    from baishitong.actors import SYSTEM
    from baishitong.knowledge import service as knowledge

    body = "## 参保条件\n\n无雇工的个体工商户、灵活就业人员可以灵活就业人员身份参保。\n\n## 办理方式\n\n携带**身份证**到镇街社保窗口登记，或通过粤省事办理。\n\n## 缴费\n\n按月缴费，可选择缴费档次。"
    knowledge.create_article(session, actor=SYSTEM, external_id="LH01", title="灵活就业人员怎么参加社保？", body=body, status="published")
    session.commit()
    login(web, "t_operator")
    page = web.get("/staff/console")
    panel = web.post("/staff/console/suggest", data={"content": "灵活就业人员怎么参加社保，需要什么材料？", "address": "", "type": "咨询"}, headers={"X-CSRF-Token": token(page.text), "HX-Request": "true"}).text
    fill = html.unescape(re.search(r'data-fill="#f-answer" data-fill-text="([^"]*)"', panel).group(1))
    assert "可以灵活就业人员身份参保" in fill and "携带身份证到镇街社保窗口登记" in fill and "按月缴费" in fill
    assert "##" not in fill and "**" not in fill and 'href="/kb/LH01"' in panel


def test_a_phone_number_searched_in_the_order_list_points_to_the_console_s_caller_history(web, session):
    """An operator asked for a caller's progress types the number into 工单查询, which searches no numbers: the
    empty list says where a caller's orders are found instead of leaving them to think the caller has none."""
    make_ticket(session, requester={"name": "周先生", "phone": "13512340002"})
    login(web, "t_operator")
    page = web.get("/staff/tickets", params={"q": "135 1234 0002"}).text
    assert "工单查询不按来电号码查找" in page and 'href="/staff/console?phone=13512340002"' in page
    assert "工单查询不按来电号码查找" not in web.get("/staff/tickets", params={"q": "路灯"}).text
    login(web, "t_ronggui")
    assert "工单查询不按来电号码查找" not in web.get("/staff/tickets", params={"q": "13512340002"}).text, "a unit has no console"
