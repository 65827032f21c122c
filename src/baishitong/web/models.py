from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from baishitong.db import Base, utcnow


class Attachment(Base):
    """A photo sent with a request; the file lives under var/uploads with a random name."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    original_name: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(32))
    size: Mapped[int]
    uploaded_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class EndedStaffSession(Base):
    """A staff session signed out: its cookie, replayed from a copy, no longer signs anyone in. Kept only
    while a copy could still be within the idle timeout."""

    __tablename__ = "ended_staff_sessions"

    sid: Mapped[str] = mapped_column(String(32), primary_key=True)
    ended_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
