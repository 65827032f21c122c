"""How a citizen reads a day: 12月9日 (2026年12月9日 with the year), never 12月09日.

One helper for every page and text message that names a day in words, so the booking page, its
confirmation and its SMS agree. APIs keep ISO 8601; staff pages keep their numeric dates.
"""

from datetime import date, datetime, timedelta, timezone
from typing import Literal

from baishitong import clock

# China has kept UTC+8 without DST since 1991 (as points.hours.SHUNDE_TZ).
SHUNDE_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")


def day_text(value: date | datetime | None, *, year: bool | Literal["auto"] = False, time: bool = False) -> str:
    """'12月9日', with year=True '2026年12月9日', with time=True a datetime's ' 09:30' after it.

    year="auto" writes the year only when it is not this year's (an order received last December,
    a deadline in January), so this year's events stay short. An aware datetime is read in Shunde
    time; a naive one is taken to be Shunde wall-clock time already."""
    if value is None:
        return ""
    if isinstance(value, datetime) and value.tzinfo:
        value = value.astimezone(SHUNDE_TZ)
    if year == "auto":
        year = value.year != clock.now().astimezone(SHUNDE_TZ).year
    text = f"{value.year}年{value.month}月{value.day}日" if year else f"{value.month}月{value.day}日"
    if time and isinstance(value, datetime):
        text += f" {value:%H:%M}"
    return text
