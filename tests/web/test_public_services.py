"""Public service pages without JavaScript: 问政务君, 知识库, 办事指南, 办事网点 and 预约."""

import html
import re

import pytest
from sqlalchemy import select

from baishitong.assistant import service as assistant
from baishitong.points.models import Appointment, ServicePoint

NOW = "2026-11-02T01:00:00+00:00"  # Monday 09:00 in Shunde
DAY = "2026-11-03"
PHONE = "13800138000"


def token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def results(page: str) -> str:
    """What the page opens at (its #results), where an outcome belongs rather than in the flash area up top."""
    return page[page.index('<div id="results"') :]


def ask(client, question: str, **headers):
    page = client.get("/assistant")
    return client.post("/assistant/ask", data={"csrf_token": token(page.text), "question": question}, headers=headers)


def test_assistant_answers_with_citation_and_follow_ups(client, demo):
    page = ask(client, "社保卡丢了怎么补办？")
    assert page.status_code == 200
    assert 'href="/kb/KB001"' in page.text and "《社保卡丢了怎么补办？》" in page.text
    assert "匹配度" in page.text and "有帮助" in page.text and "没帮助" in page.text
    assert "需要带什么材料？" in page.text  # a follow-up chip
    follow = ask(client, "需要带什么材料？", **{"HX-Request": "true"})
    assert "<html" not in follow.text and "身份证" in follow.text
    # The appended answer's chips replace the earlier answer's (out of band), instead of adding a second row.
    assert re.search(r'<div id="chat-log-follow-ups" class="chips"[^>]* hx-swap-oob="true">', follow.text)
    transcript = client.get("/assistant").text
    assert transcript.count('class="msg msg-user"') == 2
    assert transcript.count('aria-label="您可能还想问"') == 1


def test_low_confidence_offers_handover_and_prefilled_ticket(client, demo):
    page = ask(client, "容桂街道高黎社区路灯坏了一个星期，电话13800138000")
    assert "转人工" in page.text and "转为工单" in page.text
    link = re.search(r'href="(/submit\?[^"]+)"', page.text).group(1).replace("&amp;", "&")
    # Nothing the citizen said travels in the address (access logs, history, Referer keep it).
    assert link == "/submit?from=assistant" and PHONE not in link
    form = client.get(link).text
    assert 'value="13800138000"' in form and 'value="440606006" selected' in form and 'value="440606006023" selected' in form
    assert "路灯坏了一个星期" in form
    client.cookies.clear()  # another visitor following the same address gets an empty form
    stranger = client.get(link).text
    assert "13800138000" not in stranger and "路灯坏了一个星期" not in stranger


def test_a_bare_phone_number_is_asked_for_the_matter_with_both_offers(client, demo):
    page = ask(client, "13812345678").text
    answer = page[page.rindex('class="msg msg-bot') :]
    answer = answer[: answer.index("\n</div>")]  # the message, up to its own closing tag
    assert "请问您想咨询或反映什么事情？" in answer and "依据" not in answer and "仅供参考" not in answer
    assert "转人工" in answer and 'href="/submit?from=assistant"' in answer


def test_handover_then_operator_reply_visible(client, session, demo):
    ask(client, "我家楼下的狗天天半夜叫")
    page = client.get("/assistant")
    handed = client.post("/assistant/handover", data={"csrf_token": token(page.text)}, follow_redirects=True)
    assert "已为您转接人工客服，请稍候" in handed.text and 'hx-trigger="every 5s"' in handed.text
    # The notice comes after the conversation, where the citizen is looking, and the work order stays on offer.
    assert handed.text.index("我家楼下的狗天天半夜叫") < handed.text.index("已为您转接人工客服") and "转为工单" in handed.text
    session_id = client.cookies.get("bst_assistant")
    assistant.operator_reply(session, session_id=session_id, text="您好，已记录，我们联系社区处理。", operator="话务员 黄小燕")
    session.commit()
    live = client.get("/assistant/live")
    assert "您好，已记录，我们联系社区处理。" in live.text and "人工客服" in live.text and "every 5s" in live.text
    assistant.close(session, session_id=session_id, operator="话务员 黄小燕")
    session.commit()
    assert "every 5s" not in client.get("/assistant/live").text


def test_the_question_box_asks_for_words_to_the_operator_while_a_person_has_the_chat(client, session, demo):
    box = lambda text: re.search(r'<textarea name="question"[^>]*placeholder="([^"]*)"', text).group(1)  # noqa: E731
    status = lambda text: re.search(r'id="chat-log-status"[^>]* data-question-placeholder="([^"]*)"', text).group(1)  # noqa: E731
    ask(client, "我家楼下的狗天天半夜叫")
    page = client.get("/assistant")
    assert box(page.text) == status(page.text) == "请输入您的问题，如：社保卡丢了怎么补办？"
    handed = client.post("/assistant/handover", data={"csrf_token": token(page.text)}, follow_redirects=True)
    assert box(handed.text) == status(handed.text) == "请输入您要对人工客服说的话…"
    swapped = client.post("/assistant/handover", data={"csrf_token": token(page.text), "log_id": "chat-log"}, headers={"HX-Request": "true"})
    assert status(swapped.text) == "请输入您要对人工客服说的话…", "the note swapped in tells the page's question box"
    session_id = client.cookies.get("bst_assistant")
    assistant.close(session, session_id=session_id, operator="话务员 黄小燕")
    session.commit()
    back = client.get("/assistant/live", params={"after": "0", "status": "waiting"}, headers={"HX-Request": "true"})
    assert status(back.text) == "请输入您的问题，如：社保卡丢了怎么补办？"
    assert box(client.get("/assistant").text) == "请输入您的问题，如：社保卡丢了怎么补办？"


def test_the_live_poll_returns_only_newer_messages_and_the_note_only_when_it_changes(client, session, demo):
    ask(client, "我家楼下的狗天天半夜叫")
    client.post("/assistant/handover", data={"csrf_token": token(client.get("/assistant").text)})
    session_id = client.cookies.get("bst_assistant")
    last = max(int(i) for i in re.findall(r'id="chat-log-turn-(\d+)"', client.get("/assistant").text))
    poll = lambda after, status: client.get("/assistant/live", params={"after": after, "status": status}, headers={"HX-Request": "true"})  # noqa: E731
    assert poll(last, "waiting").status_code == 204, "nothing new: the page keeps what it shows"

    first = assistant.operator_reply(session, session_id=session_id, text="您好，我是客服小燕。", operator="话务员 黄小燕")
    session.commit()
    taken = poll(last, "waiting").text
    assert re.findall(r'id="chat-log-turn-(\d+)"', taken) == [str(first.id)] and 'class="chat-log"' not in taken
    assert 'id="chat-log-status" hx-swap-oob="true"' in taken and "人工客服正在为您服务" in taken
    second = assistant.operator_reply(session, session_id=session_id, text="已联系社区民警。", operator="话务员 黄小燕")
    session.commit()
    again = poll(first.id, "open").text
    assert re.findall(r'id="chat-log-turn-(\d+)"', again) == [str(second.id)] and "chat-log-status" not in again

    assistant.close(session, session_id=session_id, operator="话务员 黄小燕")
    session.commit()
    closed = poll(second.id, "open").text
    assert "人工客服已结束本次服务" in closed and "every 5s" not in closed
    assert re.search(r'<div id="chat-log-status" hx-swap-oob="true" hidden data-question-placeholder="请输入您的问题，如：社保卡丢了怎么补办？">\s*</div>', closed)


def test_a_screen_reader_hears_who_wrote_an_operators_message_once(client, session, demo):
    ask(client, "我家楼下的狗天天半夜叫")
    client.post("/assistant/handover", data={"csrf_token": token(client.get("/assistant").text)})
    assistant.operator_reply(session, session_id=client.cookies.get("bst_assistant"), text="您好，我是客服小燕。", operator="话务员 黄小燕")
    session.commit()
    page = client.get("/assistant").text
    turn = re.search(r'<div class="msg msg-bot msg-operator".*?</p>\s*</div>', page, re.S).group(0)
    heard = re.sub(r"<[^>]+>|\s", "", re.sub(r'<[^>]*aria-hidden="true"[^>]*>.*?</[^>]+>', "", turn))
    assert heard == "人工客服：您好，我是客服小燕。"


def test_rating_only_own_answers(client, session, demo):
    page = ask(client, "社保卡丢了怎么补办？")
    turn_id = int(re.search(r'/assistant/rate/(\d+)', page.text).group(1))
    sent = client.post(f"/assistant/rate/{turn_id}", data={"csrf_token": token(page.text), "helpful": "0"}, follow_redirects=False)
    assert sent.status_code == 303 and sent.headers["location"] == f"/assistant#chat-log-turn-{turn_id}", "back at the answer rated"
    rated = client.get("/assistant")
    assert "感谢您的评价" in rated.text and f'id="chat-log-turn-{turn_id}"' in rated.text
    client.cookies.delete("bst_assistant")
    other = client.post(f"/assistant/rate/{turn_id}", data={"csrf_token": token(page.text), "helpful": "1"})
    assert other.status_code == 404


def test_kb_search_category_and_article(client, demo):
    found = client.get("/kb", params={"q": "社保卡补办"})
    assert 'href="/kb/KB001"' in found.text and "<mark>" in found.text
    filtered = client.get("/kb", params={"q": "社保卡补办", "category": "08"})
    assert 'href="/kb/KB001"' not in filtered.text
    listing = client.get("/kb", params={"category": "02"})
    assert 'href="/kb/KB001"' in listing.text and 'href="/kb/KB016"' not in listing.text
    article = client.get("/kb/KB001")
    assert "<strong>挂失</strong>" in article.text and "发布单位" in article.text and "相关文章" in article.text
    assert client.get("/kb/NOPE").status_code == 404


def test_kb_search_lists_the_close_articles_not_the_long_tail(client, demo):
    page = client.get("/kb", params={"q": "社保卡丢了怎么补办"}).text
    listed = re.findall(r'<a class="list-title" href="/kb/(KB\d+)"', page)
    assert listed[0] == "KB001" and 1 <= len(listed) <= 8, listed  # 30 of the demo's 41 before
    api = client.get("/api/v1/kb/search", params={"q": "社保卡丢了怎么补办", "top": 50}).json()
    assert [h["id"] for h in api] == listed
    items = client.get("/api/v1/items", params={"q": "身份证丢了怎么补办", "top": 50}).json()
    assert "GA002" in [h["id"] for h in items] and len(items) <= 8
    # An article's 相关文章 are its nearest others, however far below the article itself they score.
    related = client.get("/kb/KB001").text.split("相关文章")[1]
    assert len(re.findall(r'href="/kb/KB\d+"', related)) == 4


@pytest.mark.parametrize("nonsense", ["啊啊啊啊", "asdfgh", "火星移民签证"])
def test_kb_search_for_nonsense_finds_nothing_and_points_to_the_assistant_and_submit(client, demo, nonsense):
    page = client.get("/kb", params={"q": nonsense}).text
    assert 'href="/kb/KB' not in page and "（0）" in page
    assert f"未找到与“{nonsense}”相关的文章" in page
    assert 'href="/assistant">问政务君</a>' in page and 'href="/submit">提交诉求</a>' in page


@pytest.mark.parametrize("nonsense", ["啊啊啊啊", "asdfgh", "火星移民签证"])
def test_item_search_for_nonsense_finds_nothing(client, demo, nonsense):
    page = client.get("/items", params={"q": nonsense}).text
    assert 'href="/items/' not in page.split('id="main"')[1] and f"未找到与“{nonsense}”相关的事项。可以换个说法再搜，或者问问政务君。" in page
    assert "没有找到" not in page, "worded as 知识库 words it"
    assert client.get("/api/v1/items", params={"q": nonsense}).json() == []
    assert client.get("/items", params={"q": "身份证换领"}).text.count('href="/items/') >= 1


def test_an_empty_filter_says_so_alike_on_the_kb_and_the_items(client, demo):
    assert "未找到相关事项。可以换个说法再搜，或者问问政务君。" in client.get("/items", params={"department": "NOPE"}).text
    assert "未找到相关文章。可以换个说法再搜，或者问问政务君。" in client.get("/kb", params={"category": "99"}).text


def test_markdown_escapes_html():
    from baishitong.web.kb import markdown

    html = str(markdown("# 标题\n<script>alert(1)</script>\n\n- **甲**\n- [乙](javascript:alert(1))\n- [丙](https://example.org)"))
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<h2>标题</h2>" in html and "<li><strong>甲</strong></li>" in html
    assert "javascript:" not in html and '<a href="https://example.org"' in html


def test_items_list_and_detail_with_materials(client, demo):
    listing = client.get("/items", params={"q": "身份证"})
    assert 'href="/items/GA001"' in listing.text and "代送件" in listing.text
    detail = client.get("/items/GA001")
    assert "居民户口簿" in detail.text and "20元" in detail.text and "60 个工作日" in detail.text and "20 个工作日" in detail.text
    assert 'name="service" value="GA001"' in detail.text and "查找可办理网点" in detail.text


def test_item_booking_button_leads_to_bookable_points_with_their_booking_links(client, demo, monkeypatch):
    """预约办理 on 办事指南 submits bookable=1: only points taking appointments, each linking to its booking form."""
    monkeypatch.setenv("BAISHITONG_FAKE_NOW", NOW)
    detail = client.get("/items/GA001").text
    assert re.search(r'<button[^>]* name="bookable" value="1">预约办理</button>', detail)
    every = client.get("/points", params={"service": "GA001", "near": "容桂高黎社区"}).text
    bookable = client.get("/points", params={"service": "GA001", "near": "容桂高黎社区", "bookable": "1"}).text
    point_links = r'<a class="list-title" href="/points/([^"/]+)"'
    assert len(re.findall(point_links, every)) > len(re.findall(r'/points/[^"/]+/book\?item=GA001', every)), "the nearest ten include a kiosk"
    codes = re.findall(point_links, bookable)
    assert codes and re.findall(r'href="/points/([^"/]+)/book\?item=GA001"', bookable) == codes
    assert "最近的可预约网点" in bookable and re.search(r'name="bookable" id="[^"]+" value="1" checked', bookable)
    assert "查找离您最近的可网上预约办理“居民身份证换领”的网点" in client.get("/points", params={"service": "GA001", "bookable": "1"}).text


def test_points_nearest_by_community_name(client, demo, monkeypatch):
    monkeypatch.setenv("BAISHITONG_FAKE_NOW", NOW)
    page = client.get("/points", params={"near": "容桂高黎社区", "service": "GA001"})
    assert page.status_code == 200
    assert re.search(r"\d+ 米|\d+\.\d 公里", page.text) and "预约" in page.text and "营业中" in page.text
    unknown = client.get("/points", params={"near": "火星基地"})
    assert "未能识别位置" in unknown.text
    code = re.search(r'href="/points/([^"/]+)"', page.text).group(1)
    detail = client.get(f"/points/{code}")
    assert "办公时间" in detail.text and "居民身份证换领" in detail.text


def test_each_booking_link_says_what_it_books_to_a_screen_reader(client, demo, monkeypatch):
    """A screen reader's list of links read 预约, 预约, 预约…: each names the item, or the point, it books."""
    monkeypatch.setenv("BAISHITONG_FAKE_NOW", NOW)

    def text(fragment: str) -> str:
        return html.unescape(re.sub(r"<[^>]+>", "", fragment))

    detail = client.get("/points/ZX-RG").text
    items = dict(re.findall(r'<a href="/items/(\w+)">([^<]+)</a>', detail))
    links = re.findall(r'<a href="/points/ZX-RG/book\?item=(\w+)"[^>]*>(.*?)</a>', detail)
    assert links and [text(label) for _, label in links] == [f"预约{items[code]}" for code, _ in links]
    found = client.get("/points", params={"near": "容桂高黎社区"}).text
    names = dict(re.findall(r'<a class="list-title" href="/points/([^"/]+)">([^<]+)</a>', found))
    buttons = re.findall(r'<a class="btn[^"]*" href="/points/([^"/?]+)/book"[^>]*>(.*?)</a>', found)
    assert buttons and [text(label) for _, label in buttons] == [f"预约{names[code]}" for code, _ in buttons]


def _book_page(client, session, monkeypatch, capacity: int):
    monkeypatch.setenv("BAISHITONG_FAKE_NOW", NOW)
    point = session.scalar(select(ServicePoint).where(ServicePoint.kind == "town_centre").order_by(ServicePoint.code))
    point.slot_capacity = capacity
    session.commit()
    return point, client.get(f"/points/{point.code}/book", params={"date": DAY, "item": "GA001"})


def _booking_form(page_text: str, slot: str, phone: str = PHONE) -> dict:
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page_text).group(1)
    return {"csrf_token": token(page_text), "idempotency_key": key, "slot": slot, "name": "陈先生", "phone": phone, "item": "GA001", "date": DAY}


def test_booking_creates_appointment_and_full_slot_says_so(client, session, demo, monkeypatch):
    point, page = _book_page(client, session, monkeypatch, capacity=1)
    assert "休息" in page.text  # the coming weekend
    slot = re.search(r'name="slot" id="slot-1" value="([^"]+)"', page.text).group(1)
    assert slot.startswith(DAY)
    data = _booking_form(page.text, slot)
    done = client.post(f"/points/{point.code}/book", data=data)
    number = re.search(r'id="booking-number">(YY\d+)<', done.text).group(1)
    assert client.post(f"/points/{point.code}/book", data=data).text.count(number) >= 1  # same key, same booking
    assert session.scalar(select(Appointment).where(Appointment.number == number)).item_code == "GA001"
    again = client.get(f"/points/{point.code}/book", params={"date": DAY})
    full = client.post(f"/points/{point.code}/book", data={**_booking_form(again.text, slot, phone="13900000001")})
    assert full.status_code == 409 and "约满" in full.text and 'name="slot"' in full.text


def test_the_booking_page_promises_a_day_before_reminder_only_when_one_will_be_sent(client, session, demo, monkeypatch):
    """Booked for tomorrow, the confirmation SMS stands for the reminder, so the page must not promise another."""
    point, page = _book_page(client, session, monkeypatch, capacity=3)
    tomorrow = re.search(r'name="slot" id="slot-1" value="([^"]+)"', page.text).group(1)
    done = client.post(f"/points/{point.code}/book", data=_booking_form(page.text, tomorrow))
    assert "预约成功" in done.text and "短信提醒" not in done.text
    later = client.get(f"/points/{point.code}/book", params={"date": "2026-11-05"})
    slot = re.search(r'name="slot" id="slot-1" value="([^"]+)"', later.text).group(1)
    done = client.post(f"/points/{point.code}/book", data=_booking_form(later.text, slot, phone="13900000002") | {"date": "2026-11-05"})
    assert "办理前一天会短信提醒您" in done.text


def test_a_booking_form_with_a_slot_in_the_year_9999_asks_for_a_slot_again(client, session, demo, monkeypatch):
    point, page = _book_page(client, session, monkeypatch, capacity=1)
    refused = client.post(f"/points/{point.code}/book", data=_booking_form(page.text, "9999-12-31T23:59:59-14:00"))
    assert refused.status_code == 422 and "请选择预约时段" in refused.text


NOT_A_MOBILE = "请填写 11 位手机号码，预约确认和提醒以短信发送"


@pytest.mark.parametrize(("phone", "message"), [("", "请填写手机号码"), ("12345", NOT_A_MOBILE), ("-------", NOT_A_MOBILE), ("0757-22223333", NOT_A_MOBILE)])
def test_booking_phone_error_says_whether_it_is_missing_or_wrong(client, session, demo, monkeypatch, phone, message):
    """A landline is refused too: the confirmation and the reminder go by SMS. What was typed stays in the form."""
    point, page = _book_page(client, session, monkeypatch, capacity=1)
    slot = re.search(r'name="slot" id="slot-1" value="([^"]+)"', page.text).group(1)
    refused = client.post(f"/points/{point.code}/book", data=_booking_form(page.text, slot, phone=phone))
    assert refused.status_code == 422
    assert re.search(r'<p class="error-text" id="f-phone-error"[^>]*>([^<]+)</p>', refused.text).group(1) == message
    typed = re.search(r'<input[^>]*name="phone"[^>]*>', refused.text).group()
    assert f'value="{phone}"' in typed and 'value="陈先生"' in refused.text and f'value="{slot}" checked' in refused.text
    assert session.scalar(select(Appointment).where(Appointment.name == "陈先生")) is None


@pytest.mark.parametrize(("name", "message"), [("", "请填写姓名"), ("\u200b\u200b", "请填写姓名"), ("陈" * 65, "姓名不能超过 64 字")])
def test_booking_name_error_says_whether_it_is_missing_or_too_long(client, session, demo, monkeypatch, name, message):
    point, page = _book_page(client, session, monkeypatch, capacity=1)
    slot = re.search(r'name="slot" id="slot-1" value="([^"]+)"', page.text).group(1)
    refused = client.post(f"/points/{point.code}/book", data=_booking_form(page.text, slot) | {"name": name})
    assert refused.status_code == 422
    assert re.search(r'<p class="error-text" id="f-name-error"[^>]*>([^<]+)</p>', refused.text).group(1) == message


def test_booking_lookup_cancel_needs_the_right_phone(client, session, demo, monkeypatch):
    point, page = _book_page(client, session, monkeypatch, capacity=3)
    slot = re.search(r'name="slot" id="slot-1" value="([^"]+)"', page.text).group(1)
    done = client.post(f"/points/{point.code}/book", data=_booking_form(page.text, slot))
    number = re.search(r'id="booking-number">(YY\d+)<', done.text).group(1)
    lookup = client.get("/booking", params={"number": number})
    csrf = token(lookup.text)
    shown = client.post("/booking", data={"csrf_token": csrf, "number": number, "phone": PHONE})
    assert "已预约" in shown.text and "<td>138****8000</td>" in shown.text
    wrong = client.post("/booking/cancel", data={"csrf_token": csrf, "number": number, "phone": "13000000000"})
    assert "预约不存在或手机号不匹配" in wrong.text
    assert session.scalar(select(Appointment.status).where(Appointment.number == number)) == "booked"
    slots = client.post("/booking", data={"csrf_token": csrf, "number": number, "phone": PHONE, "date": DAY})
    later = re.findall(r'name="slot" id="slot-\d+" value="([^"]+)"', slots.text)[1]
    assert 'action="/booking/reschedule#results"' in slots.text and 'action="/booking/cancel#results"' in slots.text
    moved = client.post("/booking/reschedule", data={"csrf_token": csrf, "number": number, "phone": PHONE, "slot": later})
    assert "已改约到" in results(moved.text)
    cancelled = client.post("/booking/cancel", data={"csrf_token": csrf, "number": number, "phone": PHONE})
    assert "预约已取消" in results(cancelled.text) and "已取消" in cancelled.text
    assert session.scalar(select(Appointment.status).where(Appointment.number == number)) == "cancelled"
    # Refreshing the page sends 取消预约 again: the booking is cancelled, as asked, and no error says otherwise.
    again = client.post("/booking/cancel", data={"csrf_token": csrf, "number": number, "phone": PHONE})
    assert "预约已取消" in results(again.text) and "无法取消" not in again.text and "alert-error" not in again.text


@pytest.mark.parametrize("path", ["/booking", "/booking/cancel", "/booking/reschedule"])
def test_a_booking_not_found_keeps_the_phone_typed(client, session, demo, monkeypatch, path):
    """One digit wrong in the number: 未查询到 with both fields as typed, as 进度查询 does, not the phone to type again."""
    monkeypatch.setenv("BAISHITONG_FAKE_NOW", NOW)
    lookup = client.get("/booking")
    missed = client.post(path, data={"csrf_token": token(lookup.text), "number": "YY202611020099", "phone": PHONE})
    assert "预约不存在或手机号不匹配" in missed.text
    typed = re.search(r'<input[^>]*name="phone"[^>]*>', missed.text).group()
    assert f'value="{PHONE}"' in typed and 'value="YY202611020099"' in missed.text


def test_the_reschedule_day_starts_at_the_day_booked(client, session, demo, monkeypatch):
    """改约 opened at the first open day, whatever the booking's: another time on the same day meant finding it first."""
    point, page = _book_page(client, session, monkeypatch, capacity=3)
    later = client.get(f"/points/{point.code}/book", params={"date": "2026-11-05"})
    slot = re.search(r'name="slot" id="slot-1" value="([^"]+)"', later.text).group(1)
    done = client.post(f"/points/{point.code}/book", data=_booking_form(later.text, slot) | {"date": "2026-11-05"})
    number = re.search(r'id="booking-number">(YY\d+)<', done.text).group(1)
    lookup = client.get("/booking", params={"number": number})
    shown = client.post("/booking", data={"csrf_token": token(lookup.text), "number": number, "phone": PHONE})
    assert re.findall(r'<option value="([\d-]+)" selected>', shown.text) == ["2026-11-05"]
    assert 'class="slot-grid"' not in shown.text, "the times are still asked for with 查看时段"


@pytest.mark.parametrize(
    "path",
    ["/assistant/ask", "/assistant/handover", "/assistant/rate/1", "/points/X/book", "/booking", "/booking/cancel", "/booking/reschedule"],
)
def test_every_post_needs_csrf(client, path):
    response = client.post(path, data={"question": "社保卡", "number": "YY1", "phone": PHONE})
    assert response.status_code == 403 and "页面已过期" in response.text and "错误代码" not in response.text


def test_nav_and_widget_show_the_new_pages(client):
    home = client.get("/")
    for href in ("/assistant", "/kb", "/items", "/points"):
        assert f'href="{href}"' in home.text
    assert 'class="chat-fab" href="/assistant"' in home.text and 'hx-get="/assistant/panel"' in home.text
    panel = client.get("/assistant/panel", headers={"HX-Request": "true"})
    assert "<html" not in panel.text and 'id="chat-panel-log"' in panel.text


def test_points_without_a_place_asks_for_one(client, demo):
    """From 办事指南's 查找可办理网点 (service only) or an empty 查找网点, the page says what is missing."""
    from_item = client.get("/points", params={"service": "GA001"})
    assert "请输入所在社区或地址" in from_item.text and "居民身份证换领" in from_item.text
    empty_search = client.get("/points", params={"near": "", "service": ""})
    assert "请输入所在社区或地址" in empty_search.text
    assert "请输入所在社区或地址" not in client.get("/points").text


def test_asking_without_javascript_redirects_so_a_refresh_does_not_ask_again(client, demo):
    posted = client.post("/assistant/ask", data={"csrf_token": token(client.get("/assistant").text), "question": "社保卡丢了怎么补办？"}, follow_redirects=False)
    assert posted.status_code == 303 and re.fullmatch(r"/assistant#chat-log-turn-\d+", posted.headers["location"])
    page = client.get("/assistant").text
    assert page.count('class="msg msg-user"') == 1 and "《社保卡丢了怎么补办？》" in page
    assert "需要带什么材料？" in page and "您可以这样问" not in page  # next questions, no starters
    assert client.get("/assistant").text.count('class="msg msg-user"') == 1


def test_a_resent_question_is_answered_once_and_each_answer_brings_a_new_key(client, demo):
    page = client.get("/assistant").text
    key = re.search(r'name="idempotency_key" id="chat-log-key" value="([^"]+)"', page).group(1)
    form = {"csrf_token": token(page), "question": "社保卡丢了怎么补办？", "log_id": "chat-log", "idempotency_key": key}
    answers = [client.post("/assistant/ask", data=form, headers={"HX-Request": "true"}).text for _ in range(2)]
    turn_ids = [re.findall(r'id="chat-log-turn-(\d+)"', a) for a in answers]
    assert turn_ids[0] == turn_ids[1] and len(turn_ids[0]) == 2
    assert client.get("/assistant").text.count('class="msg msg-user"') == 1
    new_key = re.search(r'name="idempotency_key" id="chat-log-key" value="([^"]+)" hx-swap-oob="true"', answers[1]).group(1)
    chip_keys = re.findall(r'name="idempotency_key" value="([^"]+)"', answers[1])
    assert new_key != key and chip_keys and key not in "".join(chip_keys)
    # Without JavaScript the resent form is redirected to the first answer.
    resent = client.post("/assistant/ask", data=form, follow_redirects=False)
    assert resent.headers["location"] == f"/assistant#chat-log-turn-{turn_ids[0][1]}"
    assert client.get("/assistant").text.count('class="msg msg-user"') == 1


def test_another_question_from_a_page_older_than_its_last_answer_is_answered(client, demo):
    """Back to 问政务君 showed the page as first loaded, whose key had gone with the first question: the next
    question was refused 409 and nothing appeared. The page is no longer kept, and such a question is answered."""
    page = client.get("/assistant")
    assert page.headers["cache-control"] == "no-store"
    key = re.search(r'name="idempotency_key" id="chat-log-key" value="([^"]+)"', page.text).group(1)
    form = {"csrf_token": token(page.text), "log_id": "chat-log", "idempotency_key": key}
    client.post("/assistant/ask", data={**form, "question": "社保卡丢了怎么补办？"}, headers={"HX-Request": "true"})
    later = client.post("/assistant/ask", data={**form, "question": "新生儿怎么入户？"}, headers={"HX-Request": "true"})
    assert later.status_code == 200 and "新生儿怎么入户？" in later.text
    assert client.get("/assistant").text.count('class="msg msg-user"') == 2


def prefilled_content(client, page_text: str) -> str:
    """What 转为工单 puts into 我要反映's text box for this visitor."""
    link = re.search(r'href="(/submit\?[^"]+)"', page_text).group(1).replace("&amp;", "&")
    form = client.get(link).text
    return html.unescape(re.search(r'<textarea[^>]*name="content"[^>]*>([^<]*)</textarea>', form).group(1)).strip()


def test_request_for_a_person_starts_the_live_transcript(client, demo):
    first = ask(client, "社保卡丢了怎么补办？", **{"HX-Request": "true"})
    assert 'id="chat-log-starters" hx-swap-oob="delete"' in first.text
    live = ask(client, "我要找人工客服", **{"HX-Request": "true"})
    assert live.headers["HX-Retarget"] == "#chat-log-live" and live.headers["HX-Reswap"] == "outerHTML"
    assert 'hx-trigger="every 5s"' in live.text and "starters" not in live.text
    assert "转为工单" in live.text and "/assistant/handover" not in live.text
    assert prefilled_content(client, live.text) == "社保卡丢了怎么补办？"


def test_work_order_from_the_chat_leaves_earlier_matters_out(client, demo):
    ask(client, "社保怎么转移？")
    page = ask(client, "容桂街道高黎社区路灯坏了一个星期，电话13800138000")
    assert prefilled_content(client, page.text) == "容桂街道高黎社区路灯坏了一个星期，电话13800138000"


def test_work_order_after_handover_keeps_the_matter_handed_over(client, demo):
    """有人吗？ typed while waiting for a person is no new matter, and no part of it: 转为工单 still carries the
    street lamp and the phone, without the 有人吗？."""
    ask(client, "容桂街道高黎社区路灯坏了一个星期，晚上很黑")
    ask(client, "我的电话是13800138000")
    client.post("/assistant/handover", data={"csrf_token": token(client.get("/assistant").text)})
    page = ask(client, "有人吗？")
    # No operator may be free yet: the work order stays on offer under the note that the message was passed on.
    assert 'href="/submit?from=assistant"' in page.text
    content = prefilled_content(client, page.text)
    assert content.startswith("容桂街道高黎社区路灯坏了一个星期") and "有人吗" not in content
    form = client.get("/submit?from=assistant").text
    assert 'value="13800138000"' in form and 'value="440606006023" selected' in form


def test_a_second_booking_the_same_day_names_the_first(client, session, demo, monkeypatch):
    point, page = _book_page(client, session, monkeypatch, capacity=3)
    first_slot, second_slot = re.findall(r'name="slot" id="slot-\d+" value="([^"]+)"', page.text)[:2]
    done = client.post(f"/points/{point.code}/book", data=_booking_form(page.text, first_slot))
    number = re.search(r'id="booking-number">(YY\d+)<', done.text).group(1)
    again = client.get(f"/points/{point.code}/book", params={"date": DAY})  # a fresh form, a fresh key
    refused = client.post(f"/points/{point.code}/book", data=_booking_form(again.text, second_slot))
    assert refused.status_code == 409 and f"预约号 {number}" in refused.text and "同一天只能预约一次" in refused.text


def test_points_say_when_none_is_within_two_km_or_the_place_is_not_in_shunde(client, demo, monkeypatch):
    monkeypatch.setenv("BAISHITONG_FAKE_NOW", NOW)
    beijing = client.get("/points", params={"lat": "39.9", "lon": "116.4"})
    assert beijing.status_code == 200 and "不在顺德区内" in beijing.text and "公里" in beijing.text
    assert "2 公里内没有" not in beijing.text
    nearby = client.get("/points", params={"near": "容桂高黎社区", "within": "1"})
    distances = re.findall(r'class="point-distance">([^<]+)<', nearby.text)
    assert distances and all(d.endswith(" 米") or float(d.split()[0]) <= 2.0 for d in distances)
    assert 'name="within"' in nearby.text and re.search(r'name="within"[^>]*checked', nearby.text)
    far_sea = client.get("/points", params={"lat": "22.55", "lon": "113.45", "within": "1"})  # open water east of Shunde
    assert "2 公里内没有符合条件的网点" in far_sea.text


def test_no_point_nearby_suggests_unticking_only_the_filters_ticked(client, demo, monkeypatch):
    """Only 只看 2 公里内 ticked: the way out is to untick it, not 只看现在营业 or 更换事项, which the citizen never chose."""
    monkeypatch.setenv("BAISHITONG_FAKE_NOW", NOW)
    sea = {"lat": "22.55", "lon": "113.45", "within": "1"}  # open water east of Shunde
    only_within = client.get("/points", params=sea).text
    assert "2 公里内没有符合条件的网点，可取消“只看 2 公里内”再试。" in only_within
    assert "只看现在营业”“" not in only_within and "更换事项" not in only_within
    every = client.get("/points", params=sea | {"open_now": "1", "bookable": "1", "service": "GA001"}).text
    assert "可取消“只看现在营业”“只看可网上预约”“只看 2 公里内”或更换事项再试。" in every


def test_a_filter_changed_after_using_my_position_searches_around_it_again(client, demo):
    """使用我的位置, then 只看 2 公里内 and 查找网点: the form still holds the position, instead of asking for an address."""
    page = client.get("/points", params={"lat": "22.770", "lon": "113.280", "near": "", "service": ""}).text
    assert "离您的位置最近的网点" in page
    form = page[page.index('id="points-form"') : page.index("</form>")]
    fields = dict(re.findall(r'<input type="hidden" name="(lat|lon)" id="f-\w+" value="([^"]*)"', form))
    assert fields == {"lat": "22.770", "lon": "113.280"}
    narrowed = client.get("/points", params={**fields, "near": "", "service": "", "within": "1"}).text
    assert "离您的位置最近的网点" in narrowed and "请输入所在社区或地址" not in narrowed
    # An address typed in afterwards is where the citizen now wants to look.
    typed = client.get("/points", params={**fields, "near": "大良新桂路", "service": ""}).text
    assert "离您的位置最近" not in typed and "大良" in typed[typed.index('id="results"'):]


def test_an_answer_only_for_reference_still_offers_a_person_and_a_work_order(client, demo):
    page = ask(client, "公积金能贷款多少").text
    assert "仅供参考" in page
    assert "转人工" in page and 'href="/submit?from=assistant"' in page


def test_asking_for_a_work_order_gets_the_prefilled_form(client, demo):
    page = ask(client, "楼下烧烤店每天晚上11点还很吵，电话13800138000，帮我转工单").text
    assert "请点“转为工单”" in page and 'href="/submit?from=assistant"' in page
    assert prefilled_content(client, page).startswith("楼下烧烤店每天晚上11点还很吵")
    answered = client.post("/api/v1/assistant/ask", json={"question": "帮我转个工单"}).json()
    assert [a["type"] for a in answered["actions"]] == ["ticket"]


def test_while_no_operator_takes_the_chat_the_waiting_note_offers_the_work_order(client, demo):
    """转人工 at night with no operator on duty: the note the citizen waits under says they may leave a work order
    instead, and links to the form filled in from the conversation, not only "请稍候" for ever."""
    ask(client, "我家楼下的狗天天半夜叫")
    page = client.get("/assistant")
    handed = client.post("/assistant/handover", data={"csrf_token": token(page.text)}, headers={"HX-Request": "true"}).text
    note = handed[handed.index('id="chat-log-status"') :]
    note = note[: note.index("</div></div>")]
    assert "已为您转接人工客服，请稍候" in note and "如暂时无人接入" in note and 'href="/submit?from=assistant"' in note


def test_a_question_over_500_characters_is_refused_with_why_and_kept_not_cut_short(client, demo):
    """The 501st character on was dropped without a word: now nothing is sent, the citizen is told 消息最多 500 字,
    and the text stays in the box. A line break counts once, as the box counts it (the browser sends it as two)."""
    long_question = "社保卡丢了怎么补办？" * 50 + "第二段"
    refused = ask(client, long_question, **{"HX-Request": "true"})
    assert refused.status_code == 422 and "消息最多 500 字，请分几条发送" in refused.text
    assert 'class="msg msg-user"' not in refused.text
    page = client.get("/assistant")
    assert 'class="msg msg-user"' not in page.text and 'maxlength="500"' in page.text and "data-count" in page.text

    without_js = ask(client, long_question)
    assert without_js.status_code == 422 and "消息最多 500 字，请分几条发送" in without_js.text
    assert long_question in html.unescape(re.search(r'<textarea name="question"[^>]*>([^<]*)</textarea>', without_js.text).group(1))
    assert 'class="msg msg-user"' not in client.get("/assistant").text

    lines = "\r\n".join(["路灯坏了"] * 100)  # 499 characters in the box
    assert ask(client, lines, **{"HX-Request": "true"}).status_code == 200
    assert client.get("/assistant").text.count('class="msg msg-user"') == 1
