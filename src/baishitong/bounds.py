"""How far the numbers and dates people type may go.

Far less fits than can be typed: page 10^20 does not fit the database's 64-bit integer, and a
time in year 9999 or year 1 overflows once moved to UTC or by a day. Inputs are held to ranges
well beyond any real use and refused (in Chinese) outside them, instead of failing with a 500.
"""

from datetime import date, datetime
from typing import Annotated, TypeVar

from pydantic import AfterValidator

from baishitong.validation_text import day_error

MAX_PAGE = 10_000  # as Open311's `page`; 10,000 pages of a list is past anything browsed
MAX_OFFSET = 10_000_000
FIRST_YEAR, LAST_YEAR = 2000, 2100
YEARS = f"须在 {FIRST_YEAR} 年至 {LAST_YEAR} 年之间"
# A date field's picker offers the same years (<input type="date" min max>), not year 9999 to be refused later.
DAY_INPUT = {"min": f"{FIRST_YEAR}-01-01", "max": f"{LAST_YEAR}-12-31"}
OUT_OF_RANGE = "请求中的数字或日期超出可处理的范围，请检查后重试"

D = TypeVar("D", date, datetime)


def plausible(value: date) -> bool:
    """Whether a date (or time) falls in the years a request, a booking or a report can be about."""
    return FIRST_YEAR <= value.year <= LAST_YEAR


def in_years(value: D) -> D:
    if not plausible(value):
        raise ValueError(YEARS)
    return value


def parse_day(value: str, label: str = "日期") -> date:
    """A date a person typed (年-月-日, as <input type="date"> sends it) within the years above; otherwise
    ValueError with the message every page shows (validation_text.day_error, or the years)."""
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(day_error(value, label)) from None
    if not plausible(day):
        raise ValueError(f"{label}{YEARS}")
    return day


Day = Annotated[date, AfterValidator(in_years)]
Moment = Annotated[datetime, AfterValidator(in_years)]
