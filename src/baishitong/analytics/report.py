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

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from baishitong.org.models import Category, Region
from baishitong.tickets.models import Ticket
from baishitong.tickets.schemas import CHANNEL_LABELS
from baishitong.tickets.service import LOCAL_TZ

SATISFIED = ("满意", "基本满意")
NOT_MATTERS = ("merged", "voided")
MAX_DAYS = 366


@dataclass
class Breakdown:
    """Rows of (label, count) largest first, with each row's share of the total."""

    title: str
    rows: list[tuple[str, int]]
    total: int

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
    callbacks: int
    solved: int
    satisfied: int
    open_now: int
    median_reply_hours: float | None
    daily: list[tuple[date, int]]
    breakdowns: list[Breakdown] = field(default_factory=list)

    @staticmethod
    def _rate(numerator: int, denominator: int) -> float | None:
        return numerator / denominator if denominator else None

    @property
    def on_time_rate(self) -> float | None:
        return self._rate(self.replied_on_time, self.replied)

    @property
    def resolution_rate(self) -> float | None:
        return self._rate(self.solved, self.callbacks)

    @property
    def satisfaction_rate(self) -> float | None:
        return self._rate(self.satisfied, self.callbacks)


def bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """Whole local days, end inclusive."""
    return datetime.combine(start, datetime.min.time(), LOCAL_TZ), datetime.combine(end + timedelta(days=1), datetime.min.time(), LOCAL_TZ)


def period_report(session: Session, *, start: date, end: date) -> PeriodReport:
    since, until = bounds(start, end)
    cohort = and_(Ticket.created_at >= since, Ticket.created_at < until, Ticket.status.not_in(NOT_MATTERS))
    count = lambda condition: func.coalesce(func.sum(case((condition, 1), else_=0)), 0)  # noqa: E731
    totals = session.execute(
        select(
            func.count(),
            count(and_(Ticket.dispatched_at.is_(None), Ticket.status.in_(("closed", "archived")))),
            count(Ticket.dispatched_at.is_not(None)),
            # Replies by a unit; a direct answer at intake has no deadline to be on time for.
            count(and_(Ticket.replied_at.is_not(None), Ticket.dispatched_at.is_not(None))),
            count(and_(Ticket.replied_at.is_not(None), Ticket.dispatched_at.is_not(None), Ticket.reply_due.is_not(None), Ticket.replied_at <= Ticket.reply_due)),
            count(Ticket.callback_at.is_not(None)),
            count(Ticket.callback_solved.is_(True)),
            count(Ticket.callback_satisfaction.in_(SATISFIED)),
            count(Ticket.status.in_(("registered", "dispatched", "signed", "returned"))),
        ).where(cohort)
    ).one()
    rows = session.execute(select(Ticket.created_at, Ticket.dispatched_at, Ticket.replied_at, Ticket.type, Ticket.channel, Ticket.category_id, Ticket.region_id).where(cohort)).all()

    per_day = Counter(r.created_at.astimezone(LOCAL_TZ).date() for r in rows)
    days = [(start + timedelta(days=i), per_day.get(start + timedelta(days=i), 0)) for i in range((end - start).days + 1)]
    hours = sorted((r.replied_at - r.dispatched_at).total_seconds() / 3600 for r in rows if r.replied_at and r.dispatched_at)
    median = hours[len(hours) // 2] if hours else None

    top_category = _top_categories(session)
    town_of = _towns(session)
    received = totals[0]
    report = PeriodReport(start, end, received, *totals[1:], median_reply_hours=median, daily=days)
    report.breakdowns = [
        _breakdown("诉求类型", (r.type for r in rows), received),
        _breakdown("受理渠道", (CHANNEL_LABELS.get(r.channel, r.channel) for r in rows), received),
        _breakdown("问题分类（一级）", (top_category.get(r.category_id, "未分类") for r in rows), received),
        _breakdown("所在镇街", (town_of.get(r.region_id, "未定位") for r in rows), received),
    ]
    return report


def _breakdown(title: str, labels, total: int) -> Breakdown:
    return Breakdown(title, Counter(labels).most_common(), total)


def _top_categories(session: Session) -> dict[int, str]:
    """Each category id → the name of its level-1 ancestor."""
    parents = {c.id: (c.parent_id, c.name) for c in session.scalars(select(Category))}

    def top(category_id: int) -> str:
        parent, name = parents[category_id]
        return top(parent) if parent in parents else name

    return {category_id: top(category_id) for category_id in parents}


def _towns(session: Session) -> dict[int, str]:
    """Each region id → its town's name (a community belongs to its town)."""
    regions = {r.id: r for r in session.scalars(select(Region))}
    return {rid: (regions[r.parent_id].name if r.parent_id in regions else r.name) for rid, r in regions.items()}


def to_xlsx(report: PeriodReport) -> bytes:
    """One sheet of totals and one per breakdown, as a monthly report starts from."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    summary = workbook.create_sheet("总体情况")
    summary.append(["统计期间", f"{report.start:%Y-%m-%d} 至 {report.end:%Y-%m-%d}"])
    for label, value in summary_rows(report):
        summary.append([label, value])
    for breakdown in report.breakdowns:
        sheet = workbook.create_sheet(breakdown.title[:31])
        sheet.append([breakdown.title, "件数", "占比"])
        for label, n in breakdown.rows:
            sheet.append([label, n, round(breakdown.share(n), 4)])
    daily = workbook.create_sheet("每日受理量")
    daily.append(["日期", "件数"])
    for day, n in report.daily:
        daily.append([day.isoformat(), n])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _duration(hours: float | None) -> str:
    if hours is None:
        return "—"
    return f"{hours:.1f} 小时" if hours < 48 else f"{hours / 24:.1f} 天"


def _percent(value: float | None) -> str:
    return f"{value * 100:.1f}%" if value is not None else "—"


def summary_rows(report: PeriodReport) -> list[tuple[str, str | int]]:
    return [
        ("受理量", report.received),
        ("直接答复办结", report.direct_answers),
        ("派单量", report.dispatched),
        ("已答复", report.replied),
        ("按时答复率", _percent(report.on_time_rate)),
        ("回访量", report.callbacks),
        ("解决率", _percent(report.resolution_rate)),
        ("满意率", _percent(report.satisfaction_rate)),
        ("仍在办理", report.open_now),
        ("答复用时中位数", _duration(report.median_reply_hours)),
    ]

