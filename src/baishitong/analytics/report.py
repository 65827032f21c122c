"""统计分析: what came in over a period and how it was handled, broken down the way monthly reports are.

Everything is counted over the orders received in the period (a cohort), so the rates of one
period do not change meaning as later orders arrive: of the orders received in November, how
many were replied on time, solved, satisfied. Merged duplicates are left out of the totals (they
are one matter), voided ones too (not a matter at all).
"""

import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import Date, and_, case, cast, func, literal_column, or_, select
from sqlalchemy.orm import Session

from baishitong.analytics.service import SATISFIED, judged
from baishitong.db import utcnow
from baishitong.org.models import Category, Region, Unit
from baishitong.tickets.models import Ticket
from baishitong.tickets.schemas import CHANNEL_LABELS
from baishitong.tickets.service import LOCAL_TZ
from baishitong.tickets.states import NOT_MATTERS, OPEN_STATUSES

MAX_DAYS = 366
PERCENT = "0.0%"
NO_VALUE = "—"


@dataclass
class Breakdown:
    """Rows of (label, count) largest first, with each row's share of the total."""

    title: str
    rows: list[tuple[str, int]]
    total: int
    # The ticket list's filter that selects a row's orders, and each label's value for it (None for 未分类 and the
    # like: the orders without one).
    param: str | None = None
    keys: dict[str, str | None] = field(default_factory=dict)

    def share(self, count: int) -> float:
        return count / self.total if self.total else 0.0


@dataclass
class PeriodReport:
    start: date
    end: date  # inclusive
    received: int
    direct_answers: int
    dispatched: int
    replied: int
    replied_on_time: int
    reply_judged: int  # replied by a unit, or still with it past the reply deadline (service.judged)
    callbacks: int
    solved: int
    satisfied: int
    open_now: int
    redone: int  # sent back for 重办 after an unhappy callback
    redo_judged: int  # answered by a unit: replied, or redone (the league's denominator)
    median_reply_hours: float | None
    daily: list[tuple[date, int]]
    breakdowns: list[Breakdown] = field(default_factory=list)

    @staticmethod
    def _rate(numerator: int, denominator: int) -> float | None:
        return numerator / denominator if denominator else None

    @property
    def on_time_rate(self) -> float | None:
        return self._rate(self.replied_on_time, self.reply_judged)

    @property
    def resolution_rate(self) -> float | None:
        return self._rate(self.solved, self.callbacks)

    @property
    def satisfaction_rate(self) -> float | None:
        return self._rate(self.satisfied, self.callbacks)

    @property
    def redo_rate(self) -> float | None:
        """As the 督办台 league's redo_rate (analytics.service.unit_rates), over the period's orders."""
        return self._rate(self.redone, self.redo_judged)


def bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """Whole local days, end inclusive."""
    return datetime.combine(start, datetime.min.time(), LOCAL_TZ), datetime.combine(end + timedelta(days=1), datetime.min.time(), LOCAL_TZ)


def period_report(session: Session, *, start: date, end: date) -> PeriodReport:
    """Five passes over the period's orders: per day with the totals, type × channel, category × region, lead unit, the median."""
    since, until = bounds(start, end)
    cohort = and_(Ticket.created_at >= since, Ticket.created_at < until, Ticket.status.not_in(sorted(NOT_MATTERS)))
    is_pg = session.get_bind().dialect.name == "postgresql"
    count = lambda condition: func.coalesce(func.sum(case((condition, 1), else_=0)), 0)  # noqa: E731
    day = _local_day(Ticket.created_at, is_pg)
    per_day = session.execute(
        select(
            day,
            func.count(),
            count(and_(Ticket.dispatched_at.is_(None), Ticket.status.in_(("closed", "archived")))),
            count(Ticket.dispatched_at.is_not(None)),
            # Replies by a unit; a direct answer at intake has no deadline to be on time for.
            count(and_(Ticket.replied_at.is_not(None), Ticket.dispatched_at.is_not(None))),
            count(and_(Ticket.replied_at.is_not(None), Ticket.dispatched_at.is_not(None), Ticket.reply_due.is_not(None), Ticket.replied_at <= Ticket.reply_due)),
            count(and_(Ticket.dispatched_at.is_not(None), judged(Ticket.replied_at, Ticket.reply_due, now=utcnow()))),
            count(Ticket.callback_at.is_not(None)),
            count(Ticket.callback_solved.is_(True)),
            count(Ticket.callback_satisfaction.in_(SATISFIED)),
            count(Ticket.status.in_(sorted(OPEN_STATUSES))),
            count(and_(Ticket.lead_unit_id.is_not(None), Ticket.redo_count > 0)),
            count(and_(Ticket.lead_unit_id.is_not(None), or_(Ticket.replied_at.is_not(None), Ticket.redo_count > 0))),
        )
        .where(cohort)
        .group_by(day)
    ).all()
    totals = [sum(column) for column in zip(*(row[1:] for row in per_day))] or [0] * 12
    received_on = {_as_date(row[0]): row[1] for row in per_day}
    days = [(start + timedelta(days=i), received_on.get(start + timedelta(days=i), 0)) for i in range((end - start).days + 1)]
    kinds = session.execute(select(Ticket.type, Ticket.channel, func.count()).where(cohort).group_by(Ticket.type, Ticket.channel)).all()
    places = session.execute(select(Ticket.category_id, Ticket.region_id, func.count()).where(cohort).group_by(Ticket.category_id, Ticket.region_id)).all()
    leads = session.execute(
        select(Unit.code, Unit.name, func.count()).select_from(Ticket).outerjoin(Unit, Unit.id == Ticket.lead_unit_id).where(cohort).group_by(Unit.code, Unit.name)
    ).all()

    top_category, town_of = _top_categories(session), _towns(session)
    report = PeriodReport(start, end, *totals, median_reply_hours=None, daily=days)
    report.median_reply_hours = _median_reply_hours(session, cohort, is_pg, replied=report.replied)
    report.breakdowns = [
        _breakdown("诉求类型", _sum_by(kinds, lambda r: r[0]), report.received),
        _breakdown("受理渠道", _sum_by(kinds, lambda r: CHANNEL_LABELS.get(r[1], r[1])), report.received),
        _breakdown("问题分类（一级）", _sum_by(places, lambda r: top_category.get(r[0], (None, "未分类"))), report.received, "category"),
        _breakdown("所在镇街", _sum_by(places, lambda r: town_of.get(r[1], (None, "未定位"))), report.received, "region"),
        # Of the period chosen, as the monthly report asks; the 督办台 league is the last 90 days of dispatches.
        _breakdown("主办单位", _sum_by(leads, lambda r: (r[0], r[1] or "未派单")), report.received, "unit"),
    ]
    return report


def _breakdown(title: str, counts: Counter, total: int, param: str | None = None) -> Breakdown:
    """With `param`, counts are keyed (code, label): the code is what the ticket list filters that row by."""
    if param is None:
        return Breakdown(title, counts.most_common(), total)
    labelled: Counter = Counter()
    for (_, label), n in counts.items():
        labelled[label] += n
    return Breakdown(title, labelled.most_common(), total, param, {label: code for code, label in counts})


def _sum_by(rows, label) -> Counter:
    """Grouped counts (the last column) summed under a label of each row: a category's level 1, a community's town."""
    counts: Counter = Counter()
    for row in rows:
        counts[label(row)] += row[-1]
    return counts


# The database does the grouping, so a year of a busy district's orders never comes into Python.
# Stored times are naive UTC; Shunde is UTC+8 all year (no daylight saving).
def _local_day(column, is_pg: bool):
    return cast(column + literal_column("interval '8 hours'"), Date) if is_pg else func.date(column, "+8 hours")


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _median_reply_hours(session: Session, cohort, is_pg: bool, *, replied: int) -> float | None:
    """Dispatch to reply, in hours, over the period's `replied` unit replies: the middle one, or the mean of
    the middle two when their number is even (5 and 30 hours: 17.5, not 30)."""
    if not replied:
        return None
    if is_pg:
        hours = func.extract("epoch", Ticket.replied_at - Ticket.dispatched_at) / 3600
    else:
        hours = (func.julianday(Ticket.replied_at) - func.julianday(Ticket.dispatched_at)) * 24
    condition = and_(cohort, Ticket.replied_at.is_not(None), Ticket.dispatched_at.is_not(None))
    middle = session.scalars(select(hours).where(condition).order_by(hours).offset((replied - 1) // 2).limit(2 - replied % 2)).all()
    return sum(map(float, middle)) / len(middle)


def _top_categories(session: Session) -> dict[int, tuple[str, str]]:
    """Each category id → the (code, name) of its level-1 ancestor."""
    parents = {c.id: (c.parent_id, c.code, c.name) for c in session.scalars(select(Category))}

    def top(category_id: int) -> tuple[str, str]:
        parent, code, name = parents[category_id]
        return top(parent) if parent in parents else (code, name)

    return {category_id: top(category_id) for category_id in parents}


def _towns(session: Session) -> dict[int, tuple[str, str]]:
    """Each region id → its town's (code, name) (a community belongs to its town)."""
    regions = {r.id: r for r in session.scalars(select(Region))}
    town = lambda r: regions[r.parent_id] if r.parent_id in regions else r  # noqa: E731
    return {rid: (town(r).code, town(r).name) for rid, r in regions.items()}


def to_xlsx(report: PeriodReport) -> bytes:
    """One sheet of totals and one per breakdown, as a monthly report starts from: counts and rates are
    numbers (rates formatted as percentages), so the figures can be summed and charted."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)

    def cell(sheet, value, number_format: str | None = None):
        c = WriteOnlyCell(sheet, value=value)
        if number_format:
            c.number_format = number_format
        return c

    summary = workbook.create_sheet("总体情况")
    summary.append(["统计期间", f"{report.start:%Y-%m-%d} 至 {report.end:%Y-%m-%d}"])
    for label, value, kind in summary_values(report):
        if kind == "hours":
            label, value = f"{label}（小时）", None if value is None else round(value, 1)
        # As on the page: a rate of nothing is —, not an empty cell that reads as left out.
        summary.append([label, NO_VALUE if value is None else cell(summary, value, PERCENT if kind == "rate" else None)])
    for breakdown in report.breakdowns:
        sheet = workbook.create_sheet(breakdown.title[:31])
        sheet.append([breakdown.title, "件数", "占比"])
        for label, n in breakdown.rows:
            sheet.append([label, n, cell(sheet, round(breakdown.share(n), 4), PERCENT)])
    daily = workbook.create_sheet("每日受理量")
    daily.append(["日期", "件数"])
    for day, n in report.daily:
        daily.append([day.isoformat(), n])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _duration(hours: float | None) -> str:
    if hours is None:
        return NO_VALUE
    return f"{hours:.1f} 小时" if hours < 48 else f"{hours / 24:.1f} 天"


def _percent(value: float | None) -> str:
    return f"{value * 100:.1f}%" if value is not None else NO_VALUE


def summary_values(report: PeriodReport) -> list[tuple[str, int | float | None, str]]:
    """(label, value, kind) with kind count, rate or hours: the page formats them, the workbook keeps numbers."""
    return [
        ("受理量", report.received, "count"),
        ("直接答复办结", report.direct_answers, "count"),
        ("派单量", report.dispatched, "count"),
        ("已答复", report.replied, "count"),
        ("按时答复率", report.on_time_rate, "rate"),
        ("回访量", report.callbacks, "count"),
        ("解决率", report.resolution_rate, "rate"),
        ("满意率", report.satisfaction_rate, "rate"),
        ("重办率", report.redo_rate, "rate"),
        ("仍在办理", report.open_now, "count"),
        ("答复用时中位数", report.median_reply_hours, "hours"),
    ]


def summary_rows(report: PeriodReport) -> list[tuple[str, str | int]]:
    shown = {"count": lambda v: v, "rate": _percent, "hours": _duration}
    return [(label, shown[kind](value)) for label, value, kind in summary_values(report)]
