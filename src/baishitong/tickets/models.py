from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from baishitong.db import Base, utcnow
from baishitong.org.models import Category, Region, Unit, User


class Ticket(Base):
    """A work order (工单)."""

    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_status_created", "status", "created_at"),
        # 单位工作台 by deadline, read in order: a unit's orders in a state (未指派), a 承办人's (我的).
        Index("ix_tickets_lead_status_reply_due", "lead_unit_id", "status", "reply_due"),
        Index("ix_tickets_assignee_status_reply_due", "assignee_id", "status", "reply_due"),
        # 工单查询 by 主办单位 and 派单日期 (the 督办台 league's 派单数 and 回访数 links): the unit's orders of the period.
        Index("ix_tickets_lead_dispatched", "lead_unit_id", "dispatched_at"),
        # Duplicate detection scans open tickets of a period by place without reading the rows.
        Index("ix_tickets_duplicate_scan", "status", "created_at", "region_id", "lat", "lon"),
        # 待派单's order, read off the index instead of sorting every waiting order: "urgent" sorts after "normal".
        Index("ix_tickets_dispatch_queue", "status", text("urgency DESC"), "created_at", "id"),
        # 督办台: overdue and nearly due orders by deadline, and the few awaiting an extension or paused.
        Index("ix_tickets_status_reply_due", "status", "reply_due"),
        Index("ix_tickets_extension_pending", "status", sqlite_where=text("extension_days IS NOT NULL"), postgresql_where=text("extension_days IS NOT NULL")),
        Index("ix_tickets_paused", "status", sqlite_where=text("paused IS 1"), postgresql_where=text("paused IS true")),
        Index("ix_tickets_paused_or_pending", "status", sqlite_where=text("paused IS 1 OR pause_request IS NOT NULL"), postgresql_where=text("paused IS true OR pause_request IS NOT NULL")),
        # The worker's minute run moves on the deadlines of the few orders whose clock stands still.
        Index("ix_tickets_clock_stopped", "status", sqlite_where=text("clock_stopped IS 1"), postgresql_where=text("clock_stopped IS true")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    type: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(200))
    content: Mapped[str] = mapped_column(Text)
    requester_name: Mapped[str | None] = mapped_column(String(64))
    requester_phone: Mapped[str | None] = mapped_column(String(32), index=True)
    requester_id_number: Mapped[str | None] = mapped_column(String(32))
    anonymous: Mapped[bool] = mapped_column(default=False)
    confidential: Mapped[bool] = mapped_column(default=False)
    address: Mapped[str | None] = mapped_column(String(300))
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), index=True)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"), index=True)
    urgency: Mapped[str] = mapped_column(String(8), default="normal")
    point_code: Mapped[str | None] = mapped_column(String(32), index=True)
    # Open311's media_url: a link to the citizen's photo held elsewhere, given to staff to open, never fetched.
    media_url: Mapped[str | None] = mapped_column(String(2048))

    status: Mapped[str] = mapped_column(String(20), index=True)
    lead_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    sub_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    # 承办人: the lead unit's staff member working the order; cleared when the order leaves that unit.
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    master_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    # The 在线咨询 conversation the order was made from (转为工单 by the citizen, or taken by an operator): its full
    # transcript, which the order's content leaves the waiting and greetings out of. The id is the citizen's key
    # to the conversation, so it is shown only to staff who may open /staff/chat, never in the API.
    assistant_session_id: Mapped[str | None] = mapped_column(ForeignKey("assistant_sessions.id"), index=True)
    # Status to go back to when a requested return is rejected.
    status_before_return: Mapped[str | None] = mapped_column(String(20))
    return_reason: Mapped[str | None] = mapped_column(Text)
    extension_days: Mapped[int | None]
    extension_reason: Mapped[str | None] = mapped_column(Text)
    # A 暂停计时 waiting for the centre's consent (SlaPolicy.pause_needs_approval): its reason; the clock runs meanwhile.
    pause_request: Mapped[str | None] = mapped_column(Text)
    urge_count: Mapped[int] = mapped_column(default=0)
    supervised: Mapped[bool] = mapped_column(default=False)
    redo_count: Mapped[int] = mapped_column(default=0)

    reply_content: Mapped[str | None] = mapped_column(Text)
    replied_at: Mapped[datetime | None]
    callback_solved: Mapped[bool | None]
    callback_satisfaction: Mapped[str | None] = mapped_column(String(8))
    callback_at: Mapped[datetime | None]

    dispatched_at: Mapped[datetime | None]  # the latest dispatch
    first_dispatched_at: Mapped[datetime | None]  # when a unit first had it (SlaPolicy.clock_from_dispatch)
    signed_at: Mapped[datetime | None]
    contacted_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    # Deadlines are stored data, recomputed by sla.service when policy, calendar or pauses change.
    clock_started_at: Mapped[datetime | None]
    sign_due: Mapped[datetime | None]
    contact_due: Mapped[datetime | None]
    reply_due: Mapped[datetime | None] = mapped_column(index=True)
    close_due: Mapped[datetime | None]
    deadline_provisional: Mapped[bool] = mapped_column(default=False)
    reply_warn_at: Mapped[datetime | None] = mapped_column(index=True)
    extension_granted_days: Mapped[int] = mapped_column(default=0)
    sla_policy_version: Mapped[int | None]
    paused: Mapped[bool] = mapped_column(default=False)  # the unit's own pause (暂停计时)
    # Any open pause, the unit's or a review hold (sla.service.recompute): the deadlines are then a lower bound.
    clock_stopped: Mapped[bool] = mapped_column(default=False, server_default=false())

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Bumped with a compare-and-set by every action except the append-only flags, see tickets.service.transition().
    version: Mapped[int] = mapped_column(default=1)

    region: Mapped[Region | None] = relationship(lazy="joined")
    category: Mapped[Category | None] = relationship(lazy="joined")
    lead_unit: Mapped[Unit | None] = relationship(foreign_keys=[lead_unit_id], lazy="joined")
    sub_unit: Mapped[Unit | None] = relationship(foreign_keys=[sub_unit_id], lazy="joined")
    # Loaded when read (by primary key, so from the identity map after the first): most queries never need it.
    assignee: Mapped[User | None] = relationship(lazy="select")
    master: Mapped["Ticket | None"] = relationship(remote_side=[id], lazy="select")
    co_units: Mapped[list["TicketCoUnit"]] = relationship(
        back_populates="ticket", lazy="selectin", cascade="all, delete-orphan"
    )
    events: Mapped[list["TicketEvent"]] = relationship(
        back_populates="ticket", lazy="select", order_by="TicketEvent.id"
    )


class TicketCoUnit(Base):
    """A co-handling unit (协办) and its contribution to the joint reply."""

    __tablename__ = "ticket_co_units"
    __table_args__ = (UniqueConstraint("ticket_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    contribution: Mapped[str | None] = mapped_column(Text)
    contributed_at: Mapped[datetime | None]

    ticket: Mapped[Ticket] = relationship(back_populates="co_units")
    unit: Mapped[Unit] = relationship(lazy="joined")


class TicketEvent(Base):
    """One row per action: the ticket's timeline."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    action: Mapped[str] = mapped_column(String(24))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(64))
    actor_role: Mapped[str] = mapped_column(String(16))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict] = mapped_column(default=dict)
    # The ticket version this event produced; None for those that bump none (append-only, and before 0021).
    version: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    ticket: Mapped[Ticket] = relationship(back_populates="events")
    unit: Mapped[Unit | None] = relationship(lazy="joined")


class TicketSequence(Base):
    """Per-day counter behind numbers like SD202612040001."""

    __tablename__ = "ticket_sequences"

    day: Mapped[date] = mapped_column(primary_key=True)
    value: Mapped[int]


class IdempotencyKey(Base):
    """Remembers a POST so that a retry returns the same answer instead of a duplicate."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(128))
    key: Mapped[str] = mapped_column(String(128))
    request_hash: Mapped[str] = mapped_column(String(64))
    resource_id: Mapped[str] = mapped_column(String(64))
    # Indexed for the hourly purge of expired keys.
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class PhoneCode(Base):
    """A one-time SMS code proving a requester holds a phone (我的诉求). Only its keyed hash is kept."""

    __tablename__ = "phone_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(32), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    used_at: Mapped[datetime | None]
