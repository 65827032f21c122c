"""Knowledge-base articles with their full edit history, and the government service catalogue."""

from datetime import date, datetime

from sqlalchemy import ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from baishitong.db import Base, utcnow

ARTICLE_STATUSES = ("draft", "published", "retired")


class Article(Base):
    """The current version of a knowledge-base article; `external_id` is the id it was imported or cited with."""

    __tablename__ = "kb_articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    category_code: Mapped[str | None] = mapped_column(String(16))
    unit_code: Mapped[str | None] = mapped_column(String(32), index=True)
    keywords: Mapped[list] = mapped_column(default=list)
    synonyms: Mapped[list] = mapped_column(default=list)
    valid_from: Mapped[date | None]
    valid_to: Mapped[date | None]
    review_due: Mapped[date | None]
    status: Mapped[str] = mapped_column(String(12), default="draft", index=True)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64), default="system")

    versions: Mapped[list["ArticleVersion"]] = relationship(
        back_populates="article", order_by="ArticleVersion.version", cascade="all, delete-orphan"
    )


class ArticleVersion(Base):
    """One row per saved version, with every field as it was, so any edit can be audited or restored."""

    __tablename__ = "kb_article_versions"
    __table_args__ = (UniqueConstraint("article_id", "version", name="uq_kb_article_versions_article_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id"), index=True)
    version: Mapped[int]
    action: Mapped[str] = mapped_column(String(16))  # create | update | publish | retire | import
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    category_code: Mapped[str | None] = mapped_column(String(16))
    unit_code: Mapped[str | None] = mapped_column(String(32))
    keywords: Mapped[list] = mapped_column(default=list)
    synonyms: Mapped[list] = mapped_column(default=list)
    valid_from: Mapped[date | None]
    valid_to: Mapped[date | None]
    review_due: Mapped[date | None]
    status: Mapped[str] = mapped_column(String(12))
    saved_by: Mapped[str] = mapped_column(String(64))
    saved_at: Mapped[datetime] = mapped_column(default=utcnow)

    article: Mapped[Article] = relationship(back_populates="versions")


class ServiceItem(Base):
    """A government service item (政务服务事项): what to bring, where, how long, how much."""

    __tablename__ = "service_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    department: Mapped[str | None] = mapped_column(String(32), index=True)
    channels: Mapped[list] = mapped_column(default=list)
    materials: Mapped[list] = mapped_column(default=list)
    fee: Mapped[str | None] = mapped_column(String(64))
    time_limit_days: Mapped[int | None]
    promised_days: Mapped[int | None]
    online_url: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class SearchVector(Base):
    """An article's or service item's sentence vector, with the hash of the text it was made from.

    Made by a background job (a passage takes the model about 0.1–0.25 s), read by every process's
    search index; `doc_key` is `article:<external id>` or `item:<code>`.
    """

    __tablename__ = "search_vectors"

    id: Mapped[int] = mapped_column(primary_key=True)
    doc_key: Mapped[str] = mapped_column(String(120), unique=True)
    model: Mapped[str] = mapped_column(String(64))
    content_hash: Mapped[str] = mapped_column(String(32))
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
