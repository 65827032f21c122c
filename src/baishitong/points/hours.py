"""Opening hours of service points: a compact Chinese text form, checks and booking slots.

Text format (what staff type in the admin pages and what the demo data uses)::

    周一至周五 09:00-12:00,14:00-17:30; 周六 09:00-12:00

* Rules are separated by ``;`` / ``；`` or a newline. A rule is ``<days> <times>``
  (the space may be omitted); a later rule overrides earlier ones for the days it
  names, so ``每天 09:00-17:00; 周日 休息`` closes Sundays.
* Days: ``周一``..``周日`` (``星期一``.., ``周天`` = ``周日``), ranges with ``至`` / ``到`` /
  ``-`` / ``~`` (``周一至周五``), lists with ``、`` or ``,`` (``周二、周四``), and the
  words ``每天`` / ``每日``, ``工作日`` (Mon–Fri), ``周末`` / ``双休日`` (Sat–Sun).
* Times: ``HH:MM-HH:MM`` ranges (``9:00`` and full-width ``：`` accepted; end may be
  ``24:00``; no overnight ranges), several joined with ``,`` / ``，``; ``休息`` (also
  ``闭馆`` / ``不开放``) for closed; ``24小时`` for the whole day.
* ``24小时`` alone means every day, all day.

format_hours() writes the canonical form of the same grammar, so
parse_hours(format_hours(h)) == h. Days not mentioned are closed; an all-closed
schedule is written ``每天 休息``. Times are local Shunde wall-clock (UTC+8).

Statutory holidays are closed, except at points open ``24小时`` (self-service kiosks),
which never close. 调休 make-up workdays that fall on a weekend use the point's usual
weekday hours; the caller tells us which days those are, from the business calendar.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

Interval = tuple[int, int]  # minutes since midnight, [start, end)
DayHours = tuple[Interval, ...]

# China has kept UTC+8 without DST since 1991, so a fixed offset is exact and needs no tzdata.
SHUNDE_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")

DAY_NAMES = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
EXAMPLE = "周一至周五 09:00-17:00; 周六 09:00-12:00"

_DAY_CHARS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_DAY_WORDS = {
    "每天": range(7),
    "每日": range(7),
    "工作日": range(5),
    "周末": range(5, 7),
    "双休日": range(5, 7),
}
_CLOSED_WORDS = {"休息", "闭馆", "不开放"}
_ALL_DAY = "24小时"
_DAY_RE = re.compile(r"^(?:周|星期)([一二三四五六日天])(?:(?:至|到|-|~)(?:周|星期)?([一二三四五六日天]))?$")
_RANGE_RE = re.compile(r"^(\d{1,2}):(\d{2})[-~](\d{1,2}):(\d{2})$")
_RULE_RE = re.compile(r"^(?P<days>[^\d\s]+?)\s*(?P<times>\d.*|休息|闭馆|不开放|24小时)$")
_FULLWIDTH = str.maketrans({"；": ";", "，": ",", "：": ":", "～": "~", "－": "-", "–": "-", "—": "-", "\u3000": " "})


def _error(detail: str) -> ValueError:
    return ValueError(f"营业时间格式错误：{detail}。正确示例：“{EXAMPLE}”")


@dataclass(frozen=True, slots=True)
class OpeningHours:
    """Weekly schedule: for each weekday (0 = Monday) its sorted, disjoint open intervals."""

    week: tuple[DayHours, DayHours, DayHours, DayHours, DayHours, DayHours, DayHours]

    def intervals(self, weekday: int) -> DayHours:
        return self.week[weekday]

    @property
    def always_open(self) -> bool:
        """All day every day (``24小时``): a point that never closes, holidays included."""
        return all(day == ((0, 24 * 60),) for day in self.week)

    def workday_template(self) -> DayHours:
        """Hours a 调休 weekend workday gets: the most common Mon–Fri hours (earliest day wins ties)."""
        counts = Counter(self.week[d] for d in range(5) if self.week[d])
        if not counts:
            return ()
        best = max(counts.values())
        return next(self.week[d] for d in range(5) if self.week[d] and counts[self.week[d]] == best)

    def __str__(self) -> str:
        return format_hours(self)


@dataclass(frozen=True, slots=True)
class Slot:
    start: datetime
    end: datetime
    capacity: int


def _parse_clock(hh: str, mm: str, text: str) -> int:
    h, m = int(hh), int(mm)
    if m > 59 or h > 24 or (h == 24 and m != 0):
        raise _error(f"时间“{text}”无效")
    return h * 60 + m


def _parse_times(text: str) -> DayHours:
    if text in _CLOSED_WORDS:
        return ()
    if text == _ALL_DAY:
        return ((0, 24 * 60),)
    intervals: list[Interval] = []
    for piece in (p.strip() for p in text.split(",")):
        m = _RANGE_RE.match(piece.replace(" ", ""))
        if not m:
            raise _error(f"无法识别时间段“{piece}”，应写成 HH:MM-HH:MM")
        start = _parse_clock(m[1], m[2], piece)
        end = _parse_clock(m[3], m[4], piece)
        if end <= start:
            raise _error(f"时间段“{piece}”的结束时间须晚于开始时间（不支持跨夜）")
        intervals.append((start, end))
    intervals.sort()
    for (_, prev_end), (start, _) in zip(intervals, intervals[1:]):
        if start < prev_end:
            raise _error(f"时间段“{text}”相互重叠")
    return tuple(intervals)


def _parse_days(text: str) -> list[int]:
    days: list[int] = []
    for piece in (p.strip() for p in re.split(r"[、,]", text)):
        if piece in _DAY_WORDS:
            days.extend(_DAY_WORDS[piece])
            continue
        m = _DAY_RE.match(piece)
        if not m:
            raise _error(f"无法识别日期“{piece}”，应写成 周一、周一至周五、每天、工作日 或 周末")
        first = _DAY_CHARS[m[1]]
        last = _DAY_CHARS[m[2]] if m[2] else first
        days.extend((first + i) % 7 for i in range((last - first) % 7 + 1))
    return days


def parse_hours(text: str) -> OpeningHours:
    """Parse the text format described in the module docstring; ValueError (in Chinese) if malformed."""
    normalised = text.translate(_FULLWIDTH).strip()
    if not normalised:
        raise _error("内容为空")
    week: list[DayHours] = [()] * 7
    for raw in re.split(r"[;\n]", normalised):
        rule = raw.strip()
        if not rule:
            continue
        if rule == _ALL_DAY:
            week = [((0, 24 * 60),)] * 7
            continue
        m = _RULE_RE.match(rule)
        if not m:
            raise _error(f"无法识别“{rule}”，每条规则应为“日期 时间段”")
        intervals = _parse_times(m["times"].strip())
        for day in _parse_days(m["days"]):
            week[day] = intervals
    return OpeningHours(tuple(week))  # type: ignore[arg-type]


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _format_days(days: list[int]) -> str:
    if len(days) == 7:
        return "每天"
    runs: list[list[int]] = []
    for d in days:
        if runs and runs[-1][-1] == d - 1:
            runs[-1].append(d)
        else:
            runs.append([d])
    parts: list[str] = []
    for run in runs:
        if len(run) >= 3:
            parts.append(f"{DAY_NAMES[run[0]]}至{DAY_NAMES[run[-1]]}")
        else:
            parts.extend(DAY_NAMES[d] for d in run)
    return "、".join(parts)


def format_hours(hours: OpeningHours) -> str:
    """Canonical text: days sharing the same hours grouped, Monday first."""
    if hours.always_open:
        return _ALL_DAY
    groups: dict[DayHours, list[int]] = {}
    for d, intervals in enumerate(hours.week):
        if intervals:
            groups.setdefault(intervals, []).append(d)
    if not groups:
        return "每天 休息"
    return "; ".join(
        f"{_format_days(days)} {','.join(f'{_clock(s)}-{_clock(e)}' for s, e in intervals)}"
        for intervals, days in groups.items()
    )


def _coerce(hours: OpeningHours | str) -> OpeningHours:
    return parse_hours(hours) if isinstance(hours, str) else hours


def day_intervals(
    hours: OpeningHours | str, day: date, *, workday: bool | None = None, holiday: bool = False
) -> DayHours:
    """Open intervals on a calendar day.

    workday is the business calendar's verdict (None = no calendar, use the plain
    weekday): a weekend workday is a 调休 make-up day with weekday hours, a Mon–Fri
    non-workday belongs to a holiday period and is closed. holiday=True marks a
    statutory holiday (including its weekend days) and closes every point but one
    open 24 hours a day.
    """
    h = _coerce(hours)
    if h.always_open:
        return ((0, 24 * 60),)
    weekday = day.weekday()
    if holiday or (workday is False and weekday < 5):
        return ()
    if workday and weekday >= 5:
        return h.workday_template()
    return h.intervals(weekday)


def always_open(hours: OpeningHours | str) -> bool:
    """Whether hours text (or parsed hours) means open all day every day; unreadable text does not."""
    try:
        return bool(hours) and _coerce(hours).always_open
    except ValueError:
        return False


def is_open(
    hours: OpeningHours | str,
    at: datetime,
    *,
    is_holiday: Callable[[date], bool],
    is_workday: Callable[[date], bool] | None = None,
) -> bool:
    """Whether the point is open at `at` (naive = Shunde local time, aware = converted).

    is_holiday must mean statutory holidays only, not ordinary weekends (note that
    chinese_calendar.is_holiday is also true on weekends). Pass is_workday too to
    honour 调休 make-up workdays.
    """
    local = at.astimezone(SHUNDE_TZ).replace(tzinfo=None) if at.tzinfo else at
    d = local.date()
    intervals = day_intervals(
        hours, d, workday=is_workday(d) if is_workday else None, holiday=is_holiday(d)
    )
    minute = local.hour * 60 + local.minute
    return any(start <= minute < end for start, end in intervals)


def slots(
    hours: OpeningHours | str,
    day: date,
    *,
    workday: bool | None = None,
    holiday: bool = False,
    slot_minutes: int = 30,
    capacity: int = 1,
) -> list[Slot]:
    """Bookable slots of a day, each fully inside an open interval (none straddle a lunch break).

    capacity is how many people one slot takes (usually the counter staff count).
    Start/end are naive Shunde local datetimes.
    """
    if not 5 <= slot_minutes <= 24 * 60:
        raise ValueError("预约时段长度须在 5 到 1440 分钟之间")
    if capacity < 1:
        raise ValueError("每个预约时段的名额须至少为 1")
    midnight = datetime.combine(day, time())
    out: list[Slot] = []
    for start, end in day_intervals(hours, day, workday=workday, holiday=holiday):
        for m in range(start, end - slot_minutes + 1, slot_minutes):
            out.append(Slot(midnight + timedelta(minutes=m), midnight + timedelta(minutes=m + slot_minutes), capacity))
    return out
