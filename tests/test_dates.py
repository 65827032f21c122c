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
