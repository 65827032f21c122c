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
