"""Routing data: trained model versions, the dispatch catalogue (派单目录) and decisions."""

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from baishitong.db import Base, utcnow


class RouterModel(Base):
    """One trained classifier version; exactly one is active at a time, older ones stay for rollback."""

    __tablename__ = "router_models"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(String(32), unique=True)
    # "category": labels are category codes or names; "unit": labels are unit codes.
    kind: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16))
    labels: Mapped[list] = mapped_column(default=list)
    metrics: Mapped[dict] = mapped_column(default=dict)
    blob: Mapped[bytes] = mapped_column(LargeBinary)
    # Content hash: the in-process model cache key, safe even if a version name is reused after a rollback.
    digest: Mapped[str] = mapped_column(String(64))
    # Set by the retrain job so that a re-run of the same job does not train twice.
    request_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(default=False, index=True)
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CatalogueVersion(Base):
    """An immutable edition of the dispatch catalogue; an edit writes a new edition."""

    __tablename__ = "routing_catalogue_versions"

    version: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    digest: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    rules: Mapped[list["RoutingRule"]] = relationship(back_populates="catalogue", order_by="RoutingRule.id", lazy="select")


class RoutingRule(Base):
    """Category prefix / region / type / keywords → lead unit ("@town" = the request's town) and co-units."""

    __tablename__ = "routing_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    catalogue_version: Mapped[int] = mapped_column(ForeignKey("routing_catalogue_versions.version"), index=True)
    priority: Mapped[int] = mapped_column(default=0)
    category_prefix: Mapped[str | None] = mapped_column(String(16))
    region_code: Mapped[str | None] = mapped_column(String(16))
    type: Mapped[str | None] = mapped_column(String(8))
    keywords: Mapped[list | None]
    lead: Mapped[str] = mapped_column(String(32))
    co_units: Mapped[list] = mapped_column(default=list)
    active: Mapped[bool] = mapped_column(default=True)
    note: Mapped[str | None] = mapped_column(Text)

    catalogue: Mapped[CatalogueVersion] = relationship(back_populates="rules")


class RoutingDecision(Base):
    """What the router proposed for a ticket, on what evidence, and what people made of it."""

    __tablename__ = "routing_decisions"
    __table_args__ = (Index("ix_routing_decisions_status_created", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    model_version: Mapped[str | None] = mapped_column(String(32))
    label: Mapped[str | None] = mapped_column(String(64))
    confidence: Mapped[float | None] = mapped_column(Float)
    top3: Mapped[list] = mapped_column(default=list)
    category_code: Mapped[str | None] = mapped_column(String(16))
    region_code: Mapped[str | None] = mapped_column(String(16))
    locate: Mapped[dict | None]
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("routing_rules.id"))
    catalogue_version: Mapped[int | None]
    lead_unit: Mapped[str | None] = mapped_column(String(32))
    co_units: Mapped[list] = mapped_column(default=list)
    auto_dispatched: Mapped[bool] = mapped_column(default=False)
    # "auto" | "review" | "accepted" | "corrected"
    status: Mapped[str] = mapped_column(String(16))
    corrected_to: Mapped[str | None] = mapped_column(String(32))
    # "return" | "redispatch" | "operator"
    correction_source: Mapped[str | None] = mapped_column(String(16))
    corrected_at: Mapped[datetime | None]
    # The category staff put the order under when it is not in the branch of `category_code` (分类纠正率).
    corrected_category: Mapped[str | None] = mapped_column(String(16))
    evidence: Mapped[dict] = mapped_column(default=dict)
