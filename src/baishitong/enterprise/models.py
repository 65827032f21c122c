from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from baishitong.db import Base, utcnow
from baishitong.enterprise.matching import Eligibility
from baishitong.org.models import Unit


class EligibilityColumns:
    """The facets shared by policies and products: lists of codes, empty meaning no restriction."""

    industries: Mapped[list] = mapped_column(default=list)
    sizes: Mapped[list] = mapped_column(default=list)
    # Gazetteer town codes; empty is the whole district.
    towns: Mapped[list] = mapped_column(default=list)
    tags: Mapped[list] = mapped_column(default=list)
    min_years: Mapped[int] = mapped_column(default=0)
    # draft → published → retired; only published offers are matched or shown to the public.
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    created_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def eligibility(self) -> Eligibility:
        return Eligibility(industries=tuple(self.industries), sizes=tuple(self.sizes), towns=tuple(self.towns), tags=tuple(self.tags), min_years=self.min_years)


class Policy(EligibilityColumns, Base):
    """惠企政策: a measure an enterprise can apply for, issued by one unit. Retired, never deleted."""

    __tablename__ = "enterprise_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    summary: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text, default="")  # Markdown
    benefit: Mapped[str] = mapped_column(String(200))
    apply_from: Mapped[date | None]
    apply_to: Mapped[date | None]

    unit: Mapped[Unit] = relationship(lazy="joined")


class FinancingProduct(EligibilityColumns, Base):
    """融资产品: a bank's or institution's loan or guarantee product for enterprises."""

    __tablename__ = "financing_products"

    id: Mapped[int] = mapped_column(primary_key=True)
    institution: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(128))
    summary: Mapped[str] = mapped_column(String(500), default="")
    # 万元; None is open-ended.
    amount_min: Mapped[int | None]
    amount_max: Mapped[int | None]
    rate: Mapped[str] = mapped_column(String(64))
    term: Mapped[str] = mapped_column(String(64))
    contact: Mapped[str] = mapped_column(String(128))
