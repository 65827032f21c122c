"""政务君 conversations, kept in the database so a conversation can continue on any process."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from baishitong.db import Base, utcnow

SESSION_STATUSES = ("bot", "waiting", "open")  # answered by 政务君 | queued for an operator | operator talking


class AssistantSession(Base):
    """One citizen conversation; its random id is the citizen's only key to it."""

    __tablename__ = "assistant_sessions"
    __table_args__ = (Index("ix_assistant_sessions_status_handover", "status", "handover_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    status: Mapped[str] = mapped_column(String(12), default="bot")
    operator: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    handover_at: Mapped[datetime | None]

    turns: Mapped[list["AssistantTurn"]] = relationship(back_populates="session", order_by="AssistantTurn.id")


class AssistantTurn(Base):
    """A message in a conversation: the citizen's, 政务君's (with what it cited) or an operator's."""

    __tablename__ = "assistant_turns"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("assistant_sessions.id"), index=True)
    role: Mapped[str] = mapped_column(String(12))  # user | assistant | operator | system (市民已离开对话)
    text: Mapped[str] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(String(64))
    question: Mapped[str | None] = mapped_column(Text)  # assistant turns: the question answered
    confidence: Mapped[float | None]
    citations: Mapped[list] = mapped_column(default=list)
    handover: Mapped[bool] = mapped_column(default=False)
    helpful: Mapped[bool | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    session: Mapped[AssistantSession] = relationship(back_populates="turns")


class UnansweredQuestion(Base):
    """A question 政务君 could not answer, was handed over, or was rated unhelpful: the KB's to-do list."""

    __tablename__ = "assistant_unanswered"

    id: Mapped[int] = mapped_column(primary_key=True)
    question: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(String(16))  # no_answer | handover | unhelpful
    session_id: Mapped[str | None] = mapped_column(ForeignKey("assistant_sessions.id"), index=True)
    turn_id: Mapped[int | None] = mapped_column(ForeignKey("assistant_turns.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
