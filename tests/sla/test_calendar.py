from datetime import date, datetime, time, timedelta, timezone

import pytest

from baishitong.sla.calendar import BusinessCalendar, DayKind, Deadline, covered_years, seed_days


@pytest.fixture(scope="module")
def cal() -> BusinessCalendar:
    return BusinessCalendar.from_chinese_calendar()


def dt(text: str) -> datetime:
    return datetime.fromisoformat(text)


# --- days and the seed ---------------------------------------------------------


def test_seed_has_chinese_names_and_make_up_days() -> None:
    rows = {d: (kind, name) for d, kind, name in seed_days(2026, 2026)}
    assert rows[date(2026, 10, 1)] == (DayKind.OFF, "国庆节")
    assert rows[date(2026, 10, 7)] == (DayKind.OFF, "国庆节")
    assert rows[date(2026, 9, 20)] == (DayKind.WORKDAY, "国庆节调休")
    assert rows[date(2026, 10, 10)] == (DayKind.WORKDAY, "国庆节调休")
    assert rows[date(2026, 6, 19)] == (DayKind.OFF, "端午节")
    assert all(d.year == 2026 for d in rows)


def test_seed_covers_only_package_years() -> None:
    assert 2026 in covered_years()
    assert 2031 not in covered_years()
    assert seed_days(2031, 2032) == []
    with pytest.raises(ValueError):
        seed_days(2027, 2026)


def test_day_kinds(cal: BusinessCalendar) -> None:
    assert cal.is_workday(date(2026, 9, 20))  # Sunday, 调休
    assert cal.is_workday(date(2026, 10, 10))  # Saturday, 调休
    assert not cal.is_workday(date(2026, 10, 5))  # Monday inside National Day
    assert not cal.is_workday(date(2026, 9, 13))  # ordinary Sunday
    assert cal.is_known(date(2026, 1, 1)) and not cal.is_known(date(2031, 1, 1))
    assert cal.day_length == timedelta(hours=7)


# --- working days ----------------------------------------------------------------


def test_national_day_2026(cal: BusinessCalendar) -> None:
    # Oct 8 is day 1, Oct 9 day 2; the time of day is kept.
    assert cal.add_working_days(dt("2026-09-30 16:00"), 2) == Deadline(dt("2026-10-09 16:00"))


def test_make_up_saturday_counts(cal: BusinessCalendar) -> None:
    # Oct 8, 9, Sat 10 (调休) → the third working day is the Saturday.
    assert cal.add_working_days(dt("2026-09-30 10:00"), 3).at == dt("2026-10-10 10:00")


def test_make_up_sunday_counts(cal: BusinessCalendar) -> None:
    # Fri Sep 18 + 1 → Sun Sep 20 is a workday (调休), so no weekend skip.
    assert cal.add_working_days(dt("2026-09-18 09:00"), 1).at == dt("2026-09-20 09:00")


def test_weekend_skipped(cal: BusinessCalendar) -> None:
    assert cal.add_working_days(dt("2026-09-11 10:00"), 1).at == dt("2026-09-14 10:00")  # Fri → Mon
    assert cal.add_working_days(dt("2026-09-11 10:00"), 5).at == dt("2026-09-18 10:00")


def test_start_outside_working_time_counts_from_next_working_moment(cal: BusinessCalendar) -> None:
    assert cal.add_working_days(dt("2026-09-12 10:00"), 2).at == dt("2026-09-16 08:30")  # Sat: Mon+Tue in full
    assert cal.add_working_days(dt("2026-09-14 12:30"), 1).at == dt("2026-09-15 14:00")  # lunch
    assert cal.add_working_days(dt("2026-09-14 19:00"), 1).at == dt("2026-09-16 08:30")  # evening
    assert cal.add_working_days(dt("2026-09-14 07:00"), 1).at == dt("2026-09-15 08:30")  # before work


def test_day_limit_keeps_time_of_day_at_window_start(cal: BusinessCalendar) -> None:
    # 14:00 + 1 day is Tue 14:00, not the equivalent working instant Tue 12:00.
    assert cal.add_working_days(dt("2026-09-14 14:00"), 1).at == dt("2026-09-15 14:00")
    assert cal.add_working_days(dt("2026-09-14 08:30"), 1).at == dt("2026-09-15 08:30")


def test_days_and_hours_reach_the_same_working_instant(cal: BusinessCalendar) -> None:
    start = dt("2026-09-29 15:10")
    by_days = cal.add_working_days(start, 3).at
    by_hours = cal.add_working_hours(start, 21).at
    assert cal.working_time_between(start, by_days) == cal.working_time_between(start, by_hours) == timedelta(hours=21)


def test_fractional_days(cal: BusinessCalendar) -> None:
    assert cal.add_working_days(dt("2026-09-14 09:00"), 0.5).at == dt("2026-09-14 14:30")


def test_negative_limit_rejected(cal: BusinessCalendar) -> None:
    with pytest.raises(ValueError):
        cal.add_working_days(dt("2026-09-14 09:00"), -1)


# --- working hours ---------------------------------------------------------------


def test_hours_across_lunch(cal: BusinessCalendar) -> None:
    assert cal.add_working_hours(dt("2026-09-14 11:30"), 1).at == dt("2026-09-14 14:30")


def test_hours_overnight(cal: BusinessCalendar) -> None:
    assert cal.add_working_hours(dt("2026-09-14 17:00"), 2).at == dt("2026-09-15 10:00")


def test_hours_over_weekend(cal: BusinessCalendar) -> None:
    # 31 minutes left on Friday, 29 on Monday morning.
    assert cal.add_working_hours(dt("2026-09-11 16:59"), 1).at == dt("2026-09-14 08:59")


def test_hours_with_custom_working_hours() -> None:
    short = BusinessCalendar({}, working_hours=[(time(8, 30), time(12)), (time(14), time(17))], known_years={2026})
    assert short.day_length == timedelta(hours=6.5)
    assert short.add_working_hours(dt("2026-09-11 16:59"), 1).at == dt("2026-09-14 09:29")


def test_hour_limit_ends_at_window_end(cal: BusinessCalendar) -> None:
    assert cal.add_working_hours(dt("2026-09-11 16:59"), 31 / 60).at == dt("2026-09-11 17:30")


def test_hours_over_national_day(cal: BusinessCalendar) -> None:
    assert cal.add_working_hours(dt("2026-09-30 17:00"), 1).at == dt("2026-10-08 09:00")


def test_invalid_working_hours() -> None:
    with pytest.raises(ValueError):
        BusinessCalendar({}, working_hours=[], known_years=set())
    with pytest.raises(ValueError):
        BusinessCalendar({}, working_hours=[(time(9), time(12)), (time(11), time(17))], known_years=set())


# --- calendar hours -------------------------------------------------------------


def test_calendar_hours_ignore_nights_and_holidays(cal: BusinessCalendar) -> None:
    assert cal.add_calendar_hours(dt("2026-09-30 20:00"), 24) == Deadline(dt("2026-10-01 20:00"))


def test_calendar_hours_with_pause(cal: BusinessCalendar) -> None:
    pause = [(dt("2026-09-30 22:00"), dt("2026-10-01 01:30"))]
    assert cal.add_calendar_hours(dt("2026-09-30 20:00"), 4, pause).at == dt("2026-10-01 03:30")


# --- pauses ----------------------------------------------------------------------


def test_pause_shifts_by_paused_working_time(cal: BusinessCalendar) -> None:
    start = dt("2026-09-14 09:00")
    plain = cal.add_working_days(start, 2).at
    # Tue 15:00 → Thu 10:00 covers 2.5 h + 7 h + 1.5 h = 11 working hours.
    pause = [(dt("2026-09-15 15:00"), dt("2026-09-17 10:00"))]
    paused = cal.add_working_days(start, 2, pause).at
    assert plain == dt("2026-09-16 09:00")
    assert cal.working_time_between(plain, paused) == timedelta(hours=11)
    assert paused == dt("2026-09-17 15:00")


def test_pause_outside_working_time_changes_nothing(cal: BusinessCalendar) -> None:
    start = dt("2026-09-14 09:00")
    pause = [(dt("2026-09-14 12:00"), dt("2026-09-14 14:00")), (dt("2026-09-19 00:00"), dt("2026-09-20 00:00"))]
    assert cal.add_working_days(start, 2, pause) == cal.add_working_days(start, 2)


def test_overlapping_pauses_count_once(cal: BusinessCalendar) -> None:
    # Merged pause 10:00–11:30: 9–10, 11:30–12 and 14–14:30 make the two hours.
    pauses = [(dt("2026-09-14 10:30"), dt("2026-09-14 11:30")), (dt("2026-09-14 10:00"), dt("2026-09-14 11:00"))]
    assert cal.add_working_hours(dt("2026-09-14 09:00"), 2, pauses).at == dt("2026-09-14 14:30")


def test_pause_before_start_is_ignored(cal: BusinessCalendar) -> None:
    pause = [(dt("2026-09-10 09:00"), dt("2026-09-14 10:00"))]
    assert cal.add_working_hours(dt("2026-09-14 10:00"), 1, pause).at == dt("2026-09-14 11:00")


def test_open_pause_runs_until_now_and_is_flagged(cal: BusinessCalendar) -> None:
    start = dt("2026-09-14 09:00")
    pause = [(dt("2026-09-14 10:00"), None)]
    deadline = cal.add_working_hours(start, 2, pause, now=dt("2026-09-14 11:00"))
    assert deadline == Deadline(dt("2026-09-14 12:00"), paused=True)
    later = cal.add_working_hours(start, 2, pause, now=dt("2026-09-15 10:00"))
    assert later.at == dt("2026-09-15 11:00")


def test_open_pause_needs_now(cal: BusinessCalendar) -> None:
    with pytest.raises(ValueError):
        cal.add_working_hours(dt("2026-09-14 09:00"), 2, [(dt("2026-09-14 10:00"), None)])


def test_pause_ending_before_it_begins_rejected(cal: BusinessCalendar) -> None:
    with pytest.raises(ValueError):
        cal.add_working_hours(dt("2026-09-14 09:00"), 2, [(dt("2026-09-14 10:00"), dt("2026-09-14 09:30"))])


# --- unknown years ----------------------------------------------------------------


def test_unknown_year_is_weekday_only_and_provisional(cal: BusinessCalendar) -> None:
    deadline = cal.add_working_days(dt("2031-10-01 10:00"), 2)  # Wednesday; no 2031 schedule
    assert deadline == Deadline(dt("2031-10-03 10:00"), provisional=True)
    assert cal.add_working_days(dt("2031-10-03 10:00"), 1).at == dt("2031-10-06 10:00")


def test_crossing_into_unknown_year_is_provisional(cal: BusinessCalendar) -> None:
    assert cal.add_working_days(dt("2026-12-30 09:00"), 1) == Deadline(dt("2026-12-31 09:00"))
    assert cal.add_working_days(dt("2026-12-30 09:00"), 3).provisional


def test_unknown_weekend_alone_makes_provisional(cal: BusinessCalendar) -> None:
    # Fri 2026-12-31 → the weekend 2027-01-02/03 might hold a make-up day.
    assert cal.add_working_hours(dt("2026-12-31 17:00"), 1).provisional


def test_calendar_hours_never_provisional(cal: BusinessCalendar) -> None:
    assert not cal.add_calendar_hours(dt("2031-10-01 10:00"), 24).provisional


# --- overrides ---------------------------------------------------------------------


def test_admin_day_off_moves_the_deadline() -> None:
    typhoon = BusinessCalendar.from_chinese_calendar({date(2026, 10, 8): DayKind.OFF})
    assert typhoon.add_working_days(dt("2026-09-30 16:00"), 2).at == dt("2026-10-10 16:00")


def test_admin_workday_override() -> None:
    cal = BusinessCalendar({date(2026, 9, 12): "workday"}, known_years={2026})
    assert cal.add_working_days(dt("2026-09-11 10:00"), 1).at == dt("2026-09-12 10:00")


def test_override_in_known_year_without_seed_uses_weekday_rule() -> None:
    bare = BusinessCalendar({}, known_years={2026})
    assert bare.add_working_days(dt("2026-09-30 16:00"), 2) == Deadline(dt("2026-10-02 16:00"))


# --- elapsed time ---------------------------------------------------------------------


def test_working_time_between(cal: BusinessCalendar) -> None:
    assert cal.working_time_between(dt("2026-09-11 16:00"), dt("2026-09-14 09:00")) == timedelta(hours=2)
    assert cal.working_time_between(dt("2026-09-14 09:00"), dt("2026-09-11 16:00")) == timedelta()
    assert cal.working_time_between(dt("2026-09-30 17:00"), dt("2026-10-08 08:30")) == timedelta(minutes=30)


def test_working_time_between_excludes_pauses(cal: BusinessCalendar) -> None:
    pause = [(dt("2026-09-14 10:00"), dt("2026-09-14 11:00"))]
    assert cal.working_time_between(dt("2026-09-14 09:00"), dt("2026-09-14 15:00"), pause) == timedelta(hours=3)


def test_elapsed_share(cal: BusinessCalendar) -> None:
    start = dt("2026-09-30 16:00")
    deadline = cal.add_working_days(start, 2).at
    # 1.5 h on Sep 30 + 7 h on Oct 8 + 2 h on Oct 9 = 10.5 of 14 working hours.
    assert cal.elapsed_share(start, deadline, dt("2026-10-09 10:30")) == pytest.approx(0.75)
    assert cal.elapsed_share(start, deadline, dt("2026-10-05 12:00")) == pytest.approx(1.5 / 14)
    assert cal.elapsed_share(start, deadline, dt("2026-10-12 09:30")) > 1


def test_elapsed_share_on_the_calendar_clock(cal: BusinessCalendar) -> None:
    start = dt("2026-09-14 17:00")
    deadline = cal.add_calendar_hours(start, 4).at
    assert cal.elapsed_share(start, deadline, dt("2026-09-14 20:00"), clock="calendar") == pytest.approx(0.75)


def test_elapsed_share_with_open_pause(cal: BusinessCalendar) -> None:
    start = dt("2026-09-14 09:00")
    pause = [(dt("2026-09-14 10:00"), None)]
    now = dt("2026-09-14 16:00")
    deadline = cal.add_working_hours(start, 4, pause, now=now).at
    assert cal.elapsed_share(start, deadline, now, pause) == pytest.approx(0.25)


def test_aware_datetimes_rejected(cal: BusinessCalendar) -> None:
    with pytest.raises(ValueError):
        cal.add_working_days(datetime(2026, 9, 14, 9, tzinfo=timezone.utc), 1)
