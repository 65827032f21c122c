from datetime import date, datetime, timedelta, timezone

import pytest

from baishitong.points.hours import (
    OpeningHours,
    always_open,
    day_intervals,
    format_hours,
    is_open,
    parse_hours,
    slots,
)

OFFICE = "周一至周五 09:00-12:00,14:00-17:30; 周六 09:00-12:00"
MONDAY = date(2024, 6, 3)
SATURDAY = date(2024, 6, 8)
SUNDAY = date(2024, 6, 9)


def no_holidays(_: date) -> bool:
    return False


def test_parse_basic() -> None:
    h = parse_hours("周一至周五 09:00-17:00; 周六 09:00-12:00")
    assert h.intervals(0) == ((540, 1020),)
    assert h.intervals(4) == ((540, 1020),)
    assert h.intervals(5) == ((540, 720),)
    assert h.intervals(6) == ()


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("周一至周五 09:00-17:00; 周六 09:00-12:00", "周一至周五 09:00-17:00; 周六 09:00-12:00"),
        (OFFICE, OFFICE),
        ("工作日 8:30-12:00，14:00-17:30；周末 休息", "周一至周五 08:30-12:00,14:00-17:30"),
        ("每天 09:00-17:00; 周日 休息", "周一至周六 09:00-17:00"),
        ("星期二、星期四 10:00~11:00", "周二、周四 10:00-11:00"),
        ("周六-周日 09:30-16:30", "周六、周日 09:30-16:30"),
        ("24小时", "24小时"),
        ("每日 00:00-24:00", "24小时"),
        ("每天 10:00-22:00", "每天 10:00-22:00"),
        ("周一 闭馆", "每天 休息"),
        ("周一至周五09:00-17:00\n周六 09:00-12:00", "周一至周五 09:00-17:00; 周六 09:00-12:00"),
    ],
)
def test_parse_format_round_trip(text: str, canonical: str) -> None:
    h = parse_hours(text)
    assert format_hours(h) == canonical
    assert parse_hours(canonical) == h
    assert str(h) == canonical


@pytest.mark.parametrize(
    "bad",
    ["", "   ", "周八 09:00-10:00", "周一 17:00-09:00", "周一 09:00-12:00,11:00-13:00", "周一 25:00-26:00", "周一 09:60-10:00", "随便写写", "周一 九点到五点"],
)
def test_parse_errors_are_chinese_value_errors(bad: str) -> None:
    with pytest.raises(ValueError, match="营业时间格式错误"):
        parse_hours(bad)


def test_is_open_weekly_and_lunch_break() -> None:
    assert is_open(OFFICE, datetime(2024, 6, 3, 9, 0), is_holiday=no_holidays)
    assert is_open(OFFICE, datetime(2024, 6, 3, 11, 59, 59), is_holiday=no_holidays)
    assert not is_open(OFFICE, datetime(2024, 6, 3, 12, 0), is_holiday=no_holidays)
    assert not is_open(OFFICE, datetime(2024, 6, 3, 8, 59), is_holiday=no_holidays)
    assert not is_open(OFFICE, datetime(2024, 6, 3, 17, 30), is_holiday=no_holidays)
    assert is_open(OFFICE, datetime(2024, 6, 8, 10, 0), is_holiday=no_holidays)
    assert not is_open(OFFICE, datetime(2024, 6, 9, 10, 0), is_holiday=no_holidays)


def test_is_open_closed_on_holidays() -> None:
    dragon_boat = date(2024, 6, 10)  # a Monday
    assert not is_open(OFFICE, datetime(2024, 6, 10, 10, 0), is_holiday=lambda d: d == dragon_boat)


def test_a_point_open_24_hours_stays_open_on_holidays() -> None:
    """A self-service kiosk open 24小时 never closes: its page says 节假日照常, and is_open and slots agree."""
    dragon_boat = date(2024, 6, 10)
    assert is_open("24小时", datetime(2024, 6, 10, 3, 0), is_holiday=lambda d: d == dragon_boat)
    assert is_open("每日 00:00-24:00", datetime(2024, 6, 10, 23, 59), is_holiday=lambda d: d == dragon_boat, is_workday=lambda d: False)
    assert not is_open("每天 10:00-22:00", datetime(2024, 6, 10, 12, 0), is_holiday=lambda d: d == dragon_boat)
    assert len(slots("24小时", dragon_boat, holiday=True, slot_minutes=60)) == 24
    assert always_open("24小时") and not always_open("每天 00:00-23:59") and not always_open("") and not always_open("乱写")


def test_is_open_make_up_workday_and_timezones() -> None:
    makeup_sunday = date(2024, 9, 29)  # 调休: worked Sunday before 国庆

    def workday(d: date) -> bool:
        return d == makeup_sunday or d.weekday() < 5

    assert is_open(OFFICE, datetime(2024, 9, 29, 15, 0), is_holiday=no_holidays, is_workday=workday)
    assert not is_open(OFFICE, datetime(2024, 9, 29, 15, 0), is_holiday=no_holidays)
    # 02:00 UTC is 10:00 in Shunde.
    assert is_open(OFFICE, datetime(2024, 6, 3, 2, 0, tzinfo=timezone.utc), is_holiday=no_holidays)
    assert not is_open(OFFICE, datetime(2024, 6, 3, 10, 0, tzinfo=timezone(timedelta(hours=-5))), is_holiday=no_holidays)


def test_slots_respect_intervals_and_capacity() -> None:
    got = slots(OFFICE, MONDAY, slot_minutes=30, capacity=3)
    starts = [s.start.strftime("%H:%M") for s in got]
    assert starts[:2] == ["09:00", "09:30"]
    assert "11:30" in starts and "12:00" not in starts and "13:30" not in starts
    assert starts[-1] == "17:00"
    assert len(got) == 6 + 7
    assert all(s.capacity == 3 and s.end - s.start == timedelta(minutes=30) for s in got)
    # A slot never straddles the lunch break.
    assert [s.start.strftime("%H:%M") for s in slots(OFFICE, MONDAY, slot_minutes=45)][:4] == ["09:00", "09:45", "10:30", "11:15"]
    assert "11:15" not in [s.start.strftime("%H:%M") for s in slots(OFFICE, MONDAY, slot_minutes=60)]


def test_slots_follow_business_calendar() -> None:
    assert len(slots(OFFICE, SATURDAY)) == 6
    assert slots(OFFICE, SUNDAY) == []
    assert slots(OFFICE, MONDAY, holiday=True) == []
    # A Mon–Fri day the calendar says is not a workday is part of a holiday period.
    assert slots(OFFICE, MONDAY, workday=False) == []
    # An ordinary weekend keeps its own hours; a statutory holiday on a Saturday does not.
    assert len(slots(OFFICE, SATURDAY, workday=False)) == 6
    assert slots(OFFICE, SATURDAY, workday=False, holiday=True) == []
    # 调休 make-up workdays on a weekend get the weekday hours.
    assert len(slots(OFFICE, SUNDAY, workday=True)) == 13
    assert day_intervals(OFFICE, SATURDAY, workday=True) == ((540, 720), (840, 1050))


def test_slots_validation() -> None:
    with pytest.raises(ValueError):
        slots(OFFICE, MONDAY, slot_minutes=0)
    with pytest.raises(ValueError):
        slots(OFFICE, MONDAY, capacity=0)


def test_workday_template_uses_most_common_weekday_hours() -> None:
    h = parse_hours("周一 09:00-12:00; 周二至周五 09:00-17:00")
    assert h.workday_template() == ((540, 1020),)
    assert OpeningHours(((),) * 7).workday_template() == ()
