"""Business calendar behind the statutory time limits (法定办理时限).

Conventions, chosen once and used by every function here:

- Datetimes are naive local time (Asia/Shanghai). Aware datetimes are rejected
  rather than guessed at; convert at the edge of the system.
- A day is a workday or an off day: the override for that date when there is one,
  otherwise Monday–Friday work and the weekend is off. The official schedule
  (holidays and 调休 make-up workdays) arrives as overrides: the database table is
  seeded from `seed_days`, or use `BusinessCalendar.from_chinese_calendar`.
- A year outside `known_years` has no published schedule yet. Its days follow the
  weekday rule and every deadline that depended on one is `provisional`.
- Working time is the `working_hours` windows of workdays, each half-open
  [from, to). One working day is the length of one day's windows (7 h by default),
  so N working days and N × 7 working hours reach the same working instant.
- Counting starts at the first working moment at or after `start`. Hour limits end
  at the earliest instant the time is used up (16:59 + 31 min = 17:30). Day limits
  land on the same working instant but, when it falls on a window boundary, on the
  later wall-clock side, so the time of day is kept (Mon 14:00 + 1 day = Tue 14:00,
  not Tue 12:00; Sat 10:00 + 2 days = Wed 08:30, i.e. Mon and Tue fully).
- Pauses are (from, to) intervals in which the clock stops (waiting for the
  requester, an extension under review); the deadline moves by exactly the clock
  time they cover. An open pause (to=None) is taken to end at `now`, and the
  deadline is flagged `paused`: it is a lower bound that grows until resumed.
"""

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Literal

import chinese_calendar

Clock = Literal["working", "calendar"]
Pause = tuple[datetime, datetime | None]
Interval = tuple[datetime, datetime]
Window = tuple[time, time]

DEFAULT_WORKING_HOURS: tuple[Window, ...] = ((time(8, 30), time(12, 0)), (time(14, 0), time(17, 30)))

# chinese_calendar names holidays in English; keep the names citizens read.
_CHINESE_NAMES = {h.value: h.chinese for h in chinese_calendar.Holiday} | {
    "Tomb-sweeping Day": "清明节",
    "Dragon Boat Festival": "端午节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}


class DayKind(StrEnum):
    WORKDAY = "workday"
    OFF = "off"


@dataclass(frozen=True)
class Deadline:
    at: datetime
    provisional: bool = False
    paused: bool = False


def covered_years() -> frozenset[int]:
    """Years the installed chinesecalendar has an official schedule for."""
    days = [*chinese_calendar.holidays, *chinese_calendar.workdays]
    return frozenset(d.year for d in days)


def seed_days(year_from: int, year_to: int) -> list[tuple[date, DayKind, str]]:
    """Holidays and make-up workdays for [year_from, year_to]; years not in `covered_years` yield nothing."""
    if year_from > year_to:
        raise ValueError("year_from must not be after year_to")
    rows = [
        (d, DayKind.OFF, _CHINESE_NAMES.get(name, name))
        for d, name in chinese_calendar.holidays.items()
        if year_from <= d.year <= year_to
    ]
    rows += [
        (d, DayKind.WORKDAY, f"{_CHINESE_NAMES.get(name, name)}调休")
        for d, name in chinese_calendar.workdays.items()
        if year_from <= d.year <= year_to
    ]
    return sorted(rows)


def _naive(dt: datetime) -> datetime:
    if dt.tzinfo is not None:
        raise ValueError("datetimes must be naive local time (Asia/Shanghai)")
    return dt


def _merge_pauses(pauses: Iterable[Pause], now: datetime | None) -> tuple[list[Interval], bool]:
    """Close open pauses at `now`, sort and merge; also report whether any was open."""
    closed: list[Interval] = []
    is_open = False
    for begin, end in pauses:
        begin = _naive(begin)
        if end is None:
            if now is None:
                raise ValueError("an open pause needs `now`")
            is_open = True
            end = max(begin, _naive(now))
        elif _naive(end) < begin:
            raise ValueError("a pause cannot end before it begins")
        closed.append((begin, end))
    merged: list[Interval] = []
    for begin, end in sorted(closed):
        if merged and begin <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((begin, end))
    return merged, is_open


def _subtract(
    begin: datetime, end: datetime | None, pauses: Sequence[Interval]
) -> Iterator[tuple[datetime, datetime | None]]:
    """Parts of [begin, end) not covered by the (sorted, merged) pauses; end=None is unbounded."""
    for p_begin, p_end in pauses:
        if end is not None and p_begin >= end:
            break
        if p_end <= begin:
            continue
        if p_begin > begin:
            yield begin, p_begin
        begin = max(begin, p_end)
    if end is None or begin < end:
        yield begin, end


class BusinessCalendar:
    def __init__(
        self,
        overrides: Mapping[date, DayKind],
        *,
        working_hours: Sequence[Window] = DEFAULT_WORKING_HOURS,
        known_years: Iterable[int],
    ) -> None:
        windows = tuple(working_hours)
        if not windows:
            raise ValueError("working_hours must not be empty")
        for (begin, end), following in zip(windows, (*windows[1:], None)):
            if not begin < end or (following is not None and following[0] < end):
                raise ValueError("working_hours must be ordered, non-overlapping windows")
        self._overrides = {d: DayKind(k) for d, k in overrides.items()}
        self._windows = windows
        self._known_years = frozenset(known_years)
        self.day_length = sum(
            (datetime.combine(date.min, end) - datetime.combine(date.min, begin) for begin, end in windows),
            timedelta(),
        )

    @classmethod
    def from_chinese_calendar(
        cls,
        admin_overrides: Mapping[date, DayKind] | None = None,
        *,
        working_hours: Sequence[Window] = DEFAULT_WORKING_HOURS,
    ) -> "BusinessCalendar":
        """The package schedule with admin overrides on top, for callers without the calendar table."""
        years = covered_years()
        overrides: dict[date, DayKind] = {d: kind for d, kind, _ in seed_days(min(years), max(years))}
        overrides.update(admin_overrides or {})
        return cls(overrides, working_hours=working_hours, known_years=years)

    def kind(self, day: date) -> DayKind:
        if day in self._overrides:
            return self._overrides[day]
        return DayKind.WORKDAY if day.weekday() < 5 else DayKind.OFF

    def is_workday(self, day: date) -> bool:
        return self.kind(day) is DayKind.WORKDAY

    def is_known(self, day: date) -> bool:
        return day.year in self._known_years

    def _running(
        self, start: datetime, pauses: Sequence[Interval], clock: Clock
    ) -> Iterator[tuple[datetime, datetime | None, bool]]:
        """Stretches in which the clock runs, each flagged if an unknown-year day was consulted up to it."""
        if clock == "calendar":
            for begin, end in _subtract(start, None, pauses):
                yield begin, end, False
            return
        provisional = False
        day = start.date()
        while True:
            provisional = provisional or not self.is_known(day)
            if self.is_workday(day):
                for w_begin, w_end in self._windows:
                    begin = max(start, datetime.combine(day, w_begin))
                    end = datetime.combine(day, w_end)
                    if begin < end:
                        for part_begin, part_end in _subtract(begin, end, pauses):
                            yield part_begin, part_end, provisional
            day += timedelta(days=1)

    def _advance(
        self,
        start: datetime,
        amount: timedelta,
        pauses: Iterable[Pause],
        now: datetime | None,
        clock: Clock,
        *,
        keep_time_of_day: bool = False,
    ) -> Deadline:
        if amount < timedelta():
            raise ValueError("a time limit cannot be negative")
        merged, is_open = _merge_pauses(pauses, now)
        remaining = amount
        for begin, end, provisional in self._running(_naive(start), merged, clock):
            length = None if end is None else end - begin
            if length is None or remaining < length or (remaining == length and not keep_time_of_day):
                return Deadline(begin + remaining, provisional=provisional, paused=is_open)
            remaining -= length
        raise AssertionError("the running clock never ends")

    def add_working_days(
        self, start: datetime, days: float, pauses: Iterable[Pause] = (), *, now: datetime | None = None
    ) -> Deadline:
        return self._advance(start, self.day_length * days, pauses, now, "working", keep_time_of_day=True)

    def add_working_hours(
        self, start: datetime, hours: float, pauses: Iterable[Pause] = (), *, now: datetime | None = None
    ) -> Deadline:
        return self._advance(start, timedelta(hours=hours), pauses, now, "working")

    def add_calendar_hours(
        self, start: datetime, hours: float, pauses: Iterable[Pause] = (), *, now: datetime | None = None
    ) -> Deadline:
        """Clock hours for urgent orders: nights, weekends and holidays count, only pauses stop the clock."""
        return self._advance(start, timedelta(hours=hours), pauses, now, "calendar")

    def time_between(
        self,
        a: datetime,
        b: datetime,
        pauses: Iterable[Pause] = (),
        *,
        now: datetime | None = None,
        clock: Clock = "working",
    ) -> timedelta:
        """Running clock time in [a, b), zero when b is not after a."""
        merged, _open = _merge_pauses(pauses, now)
        b = _naive(b)
        total = timedelta()
        for begin, end, _provisional in self._running(_naive(a), merged, clock):
            if begin >= b:
                break
            total += (b if end is None else min(end, b)) - begin
        return total

    def working_time_between(
        self, a: datetime, b: datetime, pauses: Iterable[Pause] = (), *, now: datetime | None = None
    ) -> timedelta:
        return self.time_between(a, b, pauses, now=now)

    def elapsed_share(
        self,
        start: datetime,
        deadline: datetime,
        now: datetime,
        pauses: Iterable[Pause] = (),
        *,
        clock: Clock = "working",
    ) -> float:
        """Share of the limit used by `now` (1.0 = due, above 1.0 = overdue), for the 75% warning."""
        pauses = tuple(pauses)
        total = self.time_between(start, deadline, pauses, now=now, clock=clock)
        used = self.time_between(start, now, pauses, now=now, clock=clock)
        if total == timedelta():
            return 1.0 if now >= deadline else 0.0
        return used / total
