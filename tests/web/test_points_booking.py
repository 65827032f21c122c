"""预约查询 once the slot has begun, 改约 showing the slot already held, and a 24-hour kiosk's hours."""

import re

from sqlalchemy import select

from baishitong.points.models import Appointment, ServicePoint
from tests.web.test_public_services import DAY, PHONE, _book_page, _booking_form, results, token


def _booked(client, session, monkeypatch) -> tuple[str, str]:
    """A booking for DAY's first slot, made on the Monday before; (number, slot)."""
    point, page = _book_page(client, session, monkeypatch, capacity=3)
    slot = re.search(r'name="slot" id="slot-1" value="([^"]+)"', page.text).group(1)
    done = client.post(f"/points/{point.code}/book", data=_booking_form(page.text, slot))
    return re.search(r'id="booking-number">(YY\d+)<', done.text).group(1), slot


def _look_up(client, number: str, **extra):
    csrf = token(client.get("/booking", params={"number": number}).text)
    return csrf, client.post("/booking", data={"csrf_token": csrf, "number": number, "phone": PHONE, **extra})


def test_once_the_slot_has_begun_the_lookup_offers_no_cancel_or_reschedule_and_a_late_cancel_is_told_why(client, session, demo, monkeypatch):
    number, slot = _booked(client, session, monkeypatch)
    _, before = _look_up(client, number)
    assert "取消预约" in before.text and 'id="reschedule-card"' in before.text
    monkeypatch.setenv("BAISHITONG_FAKE_NOW", f"{DAY}T00:35:00+00:00")  # 08:35 on the day, before the no-show job
    csrf, shown = _look_up(client, number)
    assert slot.endswith("T08:30:00+08:00") and "已预约" in shown.text
    assert "/booking/cancel" not in shown.text and 'id="reschedule-card"' not in shown.text
    assert "预约时段已开始或已过，不能再取消或改约" in shown.text
    # A page left open from before still sends 取消预约 or 确认改约: refused, said on the page, the booking kept.
    late = client.post("/booking/cancel", data={"csrf_token": csrf, "number": number, "phone": PHONE})
    assert late.status_code == 200 and "预约时段已开始或已过，无法取消或改约" in results(late.text) and "预约已取消" not in late.text
    moved = client.post("/booking/reschedule", data={"csrf_token": csrf, "number": number, "phone": PHONE, "slot": f"{DAY}T14:00:00+08:00"})
    assert moved.status_code == 200 and "预约时段已开始或已过，无法取消或改约" in results(moved.text)
    assert session.scalar(select(Appointment.status).where(Appointment.number == number)) == "booked"


def test_reschedule_marks_the_slot_held_as_current_and_refuses_it_as_the_new_one(client, session, demo, monkeypatch):
    number, slot = _booked(client, session, monkeypatch)
    csrf, shown = _look_up(client, number, date=DAY)
    held = re.search(rf'<label class="current" for="slot-\d+">\s*<input [^>]*value="{re.escape(slot)}"[^>]*>(.*?)</label>', shown.text, re.S)
    assert held and " disabled" in held.group(0) and "当前预约" in held.group(1)
    assert shown.text.count("当前预约") == 1
    # A form sent with that slot anyway (an old page, a crafted post) is told so.
    same = client.post("/booking/reschedule", data={"csrf_token": csrf, "number": number, "phone": PHONE, "slot": slot})
    assert "您当前预约的就是这个时段，请选择其他时段改约" in results(same.text) and "已改约到" not in same.text


def test_a_24_hour_kiosk_says_it_opens_on_holidays_too_and_is_open_then(client, session, demo, monkeypatch):
    """法定节假日休息 under 24小时 told citizens a kiosk that never closes was shut on holidays."""
    monkeypatch.setenv("BAISHITONG_FAKE_NOW", "2026-10-01T18:00:00+00:00")  # 国庆 night, 02:00 on 10月2日 in Shunde
    kiosk = session.scalar(select(ServicePoint).where(ServicePoint.hours == "24小时").order_by(ServicePoint.code))
    centre = session.scalar(select(ServicePoint).where(ServicePoint.kind == "town_centre").order_by(ServicePoint.code))
    page = client.get(f"/points/{kiosk.code}").text
    hours = page[page.index('id="point-hours"') :]
    assert "全天 24 小时开放，节假日照常" in hours and "法定节假日休息" not in hours and "营业中" in page
    assert "法定节假日休息" in client.get(f"/points/{centre.code}").text
    found = client.get("/points", params={"lat": kiosk.lat, "lon": kiosk.lon}).text
    assert "时间：全天 24 小时开放，节假日照常" in found and "时间：24小时" not in found


def test_booking_pages_write_days_one_way_without_leading_zeros(client, session, demo, monkeypatch):
    """12月09日 on one page and 12月9日 on the next: the booking, its confirmation, 预约查询 and 改约 now agree."""
    point, page = _book_page(client, session, monkeypatch, capacity=3)
    assert "（11月3日）" in page.text and ">11月4日<" in page.text
    slot = re.search(r'name="slot" id="slot-1" value="([^"]+)"', page.text).group(1)
    done = client.post(f"/points/{point.code}/book", data=_booking_form(page.text, slot))
    assert "2026年11月3日 08:30–09:00" in done.text
    number = re.search(r'id="booking-number">(YY\d+)<', done.text).group(1)
    csrf, shown = _look_up(client, number, date=DAY)
    assert "2026年11月3日 08:30–09:00" in shown.text
    later = re.findall(r'name="slot" id="slot-\d+" value="([^"]+)"', shown.text)[2]
    moved = client.post("/booking/reschedule", data={"csrf_token": csrf, "number": number, "phone": PHONE, "slot": later})
    assert "已改约到 11月3日 09:30，请按时前往办理。" in results(moved.text)
    for text in (page.text, done.text, shown.text, moved.text):
        assert not re.search(r"\d月0\d日", text)
