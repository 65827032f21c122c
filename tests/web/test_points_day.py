"""The day in a booking page's address (?date=) is read as every typed date is."""

import re

from sqlalchemy import select

from baishitong.points.models import ServicePoint

NOW = "2026-11-02T01:00:00+00:00"  # Monday 09:00 in Shunde


def test_the_booking_page_reads_its_day_like_any_date_and_falls_back_to_the_first_open_day(client, session, demo, monkeypatch):
    monkeypatch.setenv("BAISHITONG_FAKE_NOW", NOW)
    point = session.scalar(select(ServicePoint).where(ServicePoint.kind == "town_centre").order_by(ServicePoint.code))

    def shown(day: str) -> str:
        page = client.get(f"/points/{point.code}/book", params={"date": day})
        assert page.status_code == 200
        return re.search(r'book\?date=([\d-]+)[^>]*aria-current="date"', page.text).group(1)

    first = shown("")
    assert shown(" 2026-11-04 ") == "2026-11-04"  # a link copied with a space around it
    for day in ("2026-02-30", "9999-01-01", "明天", "2026-11-04T09:00"):
        assert shown(day) == first


def test_today_after_its_last_slot_has_started_says_booking_has_closed_not_that_the_point_rests(client, session, demo, monkeypatch):
    """Monday 17:10: the centre is still open till 17:30, so 今天 · 休息 told the citizen it was shut all day."""
    monkeypatch.setenv("BAISHITONG_FAKE_NOW", "2026-11-02T09:10:00+00:00")
    point = session.scalar(select(ServicePoint).where(ServicePoint.kind == "town_centre").order_by(ServicePoint.code))
    page = client.get(f"/points/{point.code}/book").text
    today = re.search(r"<small>今天 · ([^<]+)</small>", page).group(1)
    assert today == "已截止"
    assert "<small>周六 · 休息</small>" in page  # a day it does not open still rests
