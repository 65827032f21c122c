"""Service points (门口办网点) and the appointments residents book at them."""

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, and_, func
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from baishitong.db import Base, utcnow


class ServicePoint(Base):
    """A place residents can get government services: bank branch, town centre, district hall, kiosk."""

    __tablename__ = "service_points"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16), index=True)
    host: Mapped[str | None] = mapped_column(String(128))
    address: Mapped[str] = mapped_column(String(255))
    lat: Mapped[float]
    lon: Mapped[float]
    town_code: Mapped[str | None] = mapped_column(String(16), index=True)
    community_code: Mapped[str | None] = mapped_column(String(16))
    # points.hours text format, e.g. "周一至周五 09:00-17:00; 周六 09:00-12:00".
    hours: Mapped[str] = mapped_column(String(255), default="")
    phone: Mapped[str | None] = mapped_column(String(32))
    staff: Mapped[int] = mapped_column(default=0)
    # {service item code: [channels]}; items are referenced by code, not by foreign key.
    services: Mapped[dict] = mapped_column(default=dict)
    active: Mapped[bool] = mapped_column(default=True)
    slot_minutes: Mapped[int] = mapped_column(default=30)
    # People per booking slot; None means the counter staff count.
    slot_capacity: Mapped[int | None]
    # Bumped on every change so the in-process nearest-point index knows when to rebuild.
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, index=True)

    @property
    def capacity(self) -> int:
        return self.slot_capacity if self.slot_capacity is not None else self.staff

    @hybrid_property
    def bookable(self) -> bool:
        """Open for online appointments: active, with opening hours to cut into slots and room in each."""
        return self.active and self.capacity >= 1 and bool(self.hours)

    @bookable.inplace.expression
    @classmethod
    def _bookable_expression(cls):
        # The same rule in SQL, for the nearest-point index, which loads columns rather than objects.
        return and_(cls.active, func.coalesce(cls.slot_capacity, cls.staff) >= 1, cls.hours != "")


class SlotCounter(Base):
    """Booked places per point and slot; a guarded UPDATE on this row is what prevents overbooking."""

    __tablename__ = "appointment_slots"

    point_id: Mapped[int] = mapped_column(ForeignKey("service_points.id"), primary_key=True)
    slot_start: Mapped[datetime] = mapped_column(primary_key=True)
    booked: Mapped[int] = mapped_column(default=0)


class AppointmentSequence(Base):
    """Per-day counter behind numbers like YY202612040001."""

    __tablename__ = "appointment_sequences"

    day: Mapped[date] = mapped_column(primary_key=True)
    value: Mapped[int]


class Appointment(Base):
    __tablename__ = "appointments"
    __table_args__ = (Index("ix_appointments_status_slot", "status", "slot_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    point_id: Mapped[int] = mapped_column(ForeignKey("service_points.id"), index=True)
    item_code: Mapped[str | None] = mapped_column(String(32))
    slot_start: Mapped[datetime]
    slot_end: Mapped[datetime]
    name: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str] = mapped_column(String(32))
    # booked → cancelled | checked_in | no_show
    status: Mapped[str] = mapped_column(String(16), default="booked")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    reminded_at: Mapped[datetime | None]
    checked_in_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)

    point: Mapped[ServicePoint] = relationship(lazy="joined")

    __mapper_args__ = {"version_id_col": version}
