from datetime import date, datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint, false, true
from sqlalchemy.orm import Mapped, mapped_column

from baishitong.db import Base, utcnow


class SlaPolicy(Base):
    """One version of the whole rule set; editing writes a new version, the newest is in force."""

    __tablename__ = "sla_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(unique=True)
    rules: Mapped[list] = mapped_column(default=list)
    working_hours: Mapped[list] = mapped_column(default=list)
    warning_share: Mapped[float] = mapped_column(default=0.75)
    # An order sent on to another unit starts a new clock there: the new unit answers for its own time only.
    restart_on_redispatch: Mapped[bool] = mapped_column(default=True, server_default=true())
    # The time a unit's 延期 or 退单 request waits for the centre's decision is the centre's, not the unit's.
    pause_during_review: Mapped[bool] = mapped_column(default=True, server_default=true())
    # A unit may stop its own clock (等待诉求人补充材料) only once the centre agrees; off: at once, reviewed afterwards.
    pause_needs_approval: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The unit's steps count from the order's first dispatch, not registration: its wait in 待派单 is the centre's.
    clock_from_dispatch: Mapped[bool] = mapped_column(default=False, server_default=false())
    note: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CalendarDay(Base):
    """A day that differs from the Monday–Friday rule: a holiday, or a weekend make-up workday (调休)."""

    __tablename__ = "calendar_days"

    day: Mapped[date] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(8))  # seed | admin | estimate


class CalendarYear(Base):
    """Years whose holidays are known; deadlines reaching other years are provisional."""

    __tablename__ = "calendar_years"

    year: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(8))


class TicketPause(Base):
    """The clock stops while the unit waits for the requester (待补充材料) and resumes after."""

    __tablename__ = "ticket_pauses"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    reason: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class SlaAlert(Base):
    """One row per warning, urge or escalation sent for a deadline; the unique key makes each happen once."""

    __tablename__ = "sla_alerts"
    __table_args__ = (UniqueConstraint("ticket_id", "stage", "kind", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    stage: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(8))  # warning | overdue
    due_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
