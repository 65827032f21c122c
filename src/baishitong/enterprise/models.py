from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
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
    # Bumped by every save (compare-and-set), so an edit made on a stale form is refused, not applied.
    version: Mapped[int] = mapped_column(default=1, server_default="1")

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


class PolicySubscription(Base):
    """新政策提醒: an enterprise's profile and mobile, told by SMS when a fitting policy is published.

    Double opt-in: a subscription is `pending` until the link in its confirmation SMS is followed, so
    nobody can sign someone else's phone up. Confirming replaces the phone's earlier subscription;
    cancelling keeps the row (for the audit trail) with the phone masked.
    """

    __tablename__ = "policy_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(32), unique=True)
    phone: Mapped[str] = mapped_column(String(20), index=True)
    name: Mapped[str | None] = mapped_column(String(100))
    industry: Mapped[str] = mapped_column(String(32))
    size: Mapped[str] = mapped_column(String(16))
    town: Mapped[str] = mapped_column(String(16))
    year_established: Mapped[int]
    tags: Mapped[list] = mapped_column(default=list)
    # pending → active → cancelled; an unconfirmed one lapses after alerts.CONFIRM_WITHIN.
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]


class PolicyAlert(Base):
    """One policy told to one subscription: the unique pair makes the alert job safe to run again."""

    __tablename__ = "policy_alerts"
    __table_args__ = (UniqueConstraint("subscription_id", "policy_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("policy_subscriptions.id"), index=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("enterprise_policies.id"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
