"""Computed hot-topic snapshots: the worker clusters, the pages only read."""

from datetime import datetime

from sqlalchemy import Index
from sqlalchemy.orm import Mapped, mapped_column

from baishitong.db import Base, utcnow


class HotTopicSnapshot(Base):
    """The hot topics of one period as computed at `computed_at`; `topics` is ranked, hottest first."""

    __tablename__ = "hot_topic_snapshots"
    __table_args__ = (Index("ix_hot_topic_snapshots_window_computed", "window_days", "computed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    window_days: Mapped[int]
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)
    n_tickets: Mapped[int]
    truncated: Mapped[bool] = mapped_column(default=False)
    threshold: Mapped[float | None]
    topics: Mapped[list] = mapped_column(default=list)
