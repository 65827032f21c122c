from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from baishitong.db import Base, utcnow
from baishitong.org.models import Unit


class ReplyPhrase(Base):
    """A standard reply phrase; unit None means shared by every unit (managed by the system admin).

    Phrases are disabled rather than deleted, so the audit trail always points at a row.
    """

    __tablename__ = "reply_phrases"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Bumped by every save (compare-and-set), so an edit made on a stale form is refused, not applied.
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    unit: Mapped[Unit | None] = relationship(lazy="joined")
