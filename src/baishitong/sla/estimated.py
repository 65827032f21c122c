"""Statutory holidays of the years whose official schedule (国务院办公厅部分节假日安排) is not out yet.

《全国年节及纪念日放假办法》 (2024 revision) fixes the days off — 元旦 1, 春节 4 from 除夕, 清明 1,
劳动节 2, 端午 1, 中秋 1, 国庆 3 — and a weekday in lieu of each one that falls on a weekend (补假). The
schedule's bridging days and 调休 make-up workdays cannot be known before it is published, so these
days are only an estimate: they are stored as `source="estimate"` rows the administrator sees and can
correct on 工作日历, and deadlines in such a year stay provisional (暂估) until the year is entered.
The lunar and solar-term dates were computed with the `holidays` package (0.108, MIT licence).
"""

from datetime import date

_OFF_DAYS: dict[int, tuple[tuple[str, str], ...]] = {
    2027: (("01-01", "元旦"), ("02-05", "农历除夕"), ("02-06", "春节"), ("02-07", "春节"), ("02-08", "春节"), ("02-09", "春节（补假）"), ("02-10", "春节（补假）"), ("04-05", "清明节"), ("05-01", "劳动节"), ("05-02", "劳动节"), ("05-03", "劳动节（补假）"), ("05-04", "劳动节（补假）"), ("06-09", "端午节"), ("09-15", "中秋节"), ("10-01", "国庆节"), ("10-02", "国庆节"), ("10-03", "国庆节"), ("10-04", "国庆节（补假）"), ("10-05", "国庆节（补假）")),
    2028: (("01-01", "元旦"), ("01-03", "元旦（补假）"), ("01-25", "农历除夕"), ("01-26", "春节"), ("01-27", "春节"), ("01-28", "春节"), ("04-04", "清明节"), ("05-01", "劳动节"), ("05-02", "劳动节"), ("05-28", "端午节"), ("05-29", "端午节（补假）"), ("10-01", "国庆节"), ("10-02", "国庆节"), ("10-03", "中秋节、国庆节"), ("10-04", "国庆节（补假）")),
    2029: (("01-01", "元旦"), ("02-12", "农历除夕"), ("02-13", "春节"), ("02-14", "春节"), ("02-15", "春节"), ("04-04", "清明节"), ("05-01", "劳动节"), ("05-02", "劳动节"), ("06-16", "端午节"), ("06-18", "端午节（补假）"), ("09-22", "中秋节"), ("09-24", "中秋节（补假）"), ("10-01", "国庆节"), ("10-02", "国庆节"), ("10-03", "国庆节")),
    2030: (("01-01", "元旦"), ("02-02", "农历除夕"), ("02-03", "春节"), ("02-04", "春节"), ("02-05", "春节"), ("02-06", "农历除夕（补假）"), ("02-07", "春节（补假）"), ("04-05", "清明节"), ("05-01", "劳动节"), ("05-02", "劳动节"), ("06-05", "端午节"), ("09-12", "中秋节"), ("10-01", "国庆节"), ("10-02", "国庆节"), ("10-03", "国庆节")),
}


def estimated_off_days(year: int) -> list[tuple[date, str]]:
    return [(date(year, int(md[:2]), int(md[3:])), name) for md, name in _OFF_DAYS.get(year, ())]


def estimated_years() -> frozenset[int]:
    return frozenset(_OFF_DAYS)
