from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from baishitong.db import Base, utcnow


class EndedStaffSession(Base):
    """A staff session signed out: its cookie, replayed from a copy, no longer signs anyone in. Kept only
    while a copy could still be within the idle timeout."""

    __tablename__ = "ended_staff_sessions"

    sid: Mapped[str] = mapped_column(String(32), primary_key=True)
    ended_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
