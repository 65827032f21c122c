"""day_text: the one way a citizen-facing page or SMS writes a day."""

from datetime import date, datetime, timezone

from baishitong.dates import day_text


def test_days_are_written_without_leading_zeros_in_shunde_time():
    assert day_text(date(2026, 12, 9)) == "12月9日"
    assert day_text(date(2026, 1, 5), year=True) == "2026年1月5日"
    # 17:30 UTC on the 8th is 01:30 on the 9th in Shunde.
    assert day_text(datetime(2026, 12, 8, 17, 30, tzinfo=timezone.utc), year=True, time=True) == "2026年12月9日 01:30"
    assert day_text(datetime(2026, 12, 9, 9, 5), time=True) == "12月9日 09:05"  # naive: Shunde wall-clock already
    assert day_text(date(2026, 12, 9), time=True) == "12月9日"  # a date has no time to add
    assert day_text(None) == ""


def test_auto_writes_the_year_only_when_it_is_not_this_years(monkeypatch):
    monkeypatch.setenv("BAISHITONG_FAKE_NOW", "2026-12-31T16:30:00+00:00")  # already 1 January 2027 in Shunde
    assert day_text(datetime(2027, 1, 4, 9, 0), year="auto", time=True) == "1月4日 09:00"
    assert day_text(datetime(2026, 12, 31, 9, 0), year="auto", time=True) == "2026年12月31日 09:00"
