"""惠企政策 and 融资产品: matching an enterprise's profile, and the admin's upkeep (audited).

Only the system admin maintains policies and products; the public sees published ones only.
Matching stores nothing; an enterprise that wants to hear of new policies subscribes (alerts.py).
"""

from collections.abc import Mapping
from datetime import date, timedelta
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from baishitong.actors import Actor
from baishitong.audit import service as audit
from baishitong.enterprise import matching
from baishitong.enterprise.models import FinancingProduct, Policy
from baishitong.enterprise.schemas import PolicyIn, ProductIn, ProfileIn
from baishitong.db import claim_version
from baishitong.errors import Forbidden, InvalidInput, NotFound
from baishitong.jobs.service import enqueue
from baishitong.org.models import Unit
from baishitong.org.service import find_unit, town_names
from baishitong.tickets.service import local_today as today

Row = Policy | FinancingProduct
R = TypeVar("R", Policy, FinancingProduct)

# What tells the two kinds apart in the upkeep: the audit's object type, and the refusal for a missing one.
AUDIT_TYPES: dict[type[Row], str] = {Policy: "enterprise_policy", FinancingProduct: "financing_product"}
NOT_FOUND: dict[type[Row], tuple[str, str]] = {Policy: ("policy_not_found", "该政策不存在或已下架"), FinancingProduct: ("product_not_found", "该融资产品不存在或已下架")}


def amount_text(product: FinancingProduct) -> str:
    low, high = product.amount_min, product.amount_max
    if low and high:
        return f"{low}万至{high}万元"
    if high:
        return f"最高{high}万元"
    if low:
        return f"{low}万元起"
    return "额度面议"


def reason_text(found: matching.Match) -> str:
    """'符合：制造业、小型企业；差一项：需具备高新技术企业资质' — the whole explanation in one line."""
    parts = [f"符合：{'、'.join(found.met)}"] if found.met else ([] if found.missing else ["面向全区各类企业"])
    if found.missing:
        parts.append(f"差一项：{found.missing[0]}")
    return "；".join(parts)


# --- reading ---------------------------------------------------------------------


def list_policies(session: Session, *, statuses: tuple[str, ...] = ("published",), include_closed: bool = False) -> list[Policy]:
    """Newest first; closed windows are left out unless asked for (the admin sees everything)."""
    query = select(Policy).where(Policy.status.in_(statuses)).order_by(Policy.id.desc())
    if not include_closed:
        query = query.where((Policy.apply_to.is_(None)) | (Policy.apply_to >= today()))
    return list(session.scalars(query))


def list_products(session: Session, *, statuses: tuple[str, ...] = ("published",)) -> list[FinancingProduct]:
    return list(session.scalars(select(FinancingProduct).where(FinancingProduct.status.in_(statuses)).order_by(FinancingProduct.id.desc())))


def get(session: Session, model: type[R], *, row_id: int, published_only: bool = True) -> R:
    """A policy or product by id; drafts and retired ones only when not published_only (the admin)."""
    row = session.get(model, row_id)
    if row is None or (published_only and row.status != "published"):
        raise NotFound(*NOT_FOUND[model])
    return row


def profile(data: ProfileIn, *, towns: Mapping[str, str]) -> matching.Profile:
    """The matcher's profile; the town must be one of Shunde's (`towns`, from org.town_names)."""
    if data.town not in towns:
        raise InvalidInput("town_not_found", "请选择企业所在镇街")
    return matching.Profile(industry=data.industry, size=data.size, town=data.town, year_established=data.year_established, tags=frozenset(data.tags))


def match(session: Session, *, data: ProfileIn, on: date | None = None) -> tuple[list[matching.Match], list[matching.Match]]:
    """(policies, products) that fit the enterprise, full matches first, each with its reasons."""
    names = town_names(session)
    wanted = profile(data, towns=names)
    on = on or today()
    policies = [matching.Offer(p, p.eligibility, p.apply_from, p.apply_to) for p in list_policies(session)]
    products = [matching.Offer(p, p.eligibility) for p in list_products(session)]
    return matching.match(policies, wanted, today=on, town_names=names), matching.match(products, wanted, today=on, town_names=names)


# --- upkeep (system admin) ---------------------------------------------------------


def _check_admin(actor: Actor) -> None:
    if actor.role != "admin":
        raise Forbidden("enterprise_forbidden", "只有系统管理员可以维护惠企政策和融资产品")


def _check_towns(session: Session, towns: list[str]) -> None:
    names = town_names(session)
    unknown = [t for t in towns if t not in names]
    if unknown:
        raise InvalidInput("town_not_found", f"镇街编码“{'、'.join(unknown)}”不存在")


def _unit(session: Session, code: str) -> Unit:
    unit = find_unit(session, code=code)
    if unit is None:
        raise InvalidInput("unit_not_found", f"单位 {code} 不存在")
    return unit


def _audit(session: Session, actor: Actor, action: str, row: Row) -> None:
    kind = AUDIT_TYPES[type(row)]
    audit.record(session, actor=actor.name, action=f"{kind}.{action}", object_type=kind, object_id=str(row.id), data={"status": row.status})


def _schedule_alerts(session: Session, row: Row) -> None:
    """A published policy, new or edited, goes to the subscriptions it now fits once the change commits (新政策提醒)."""
    if isinstance(row, Policy) and row.status == "published":
        enqueue(session, "enterprise.policy_alerts", policy_id=row.id)


def _fill(session: Session, row: Row, data: PolicyIn | ProductIn) -> None:
    """Every field of the form onto the row; a policy's unit code becomes the unit itself."""
    _check_towns(session, data.towns)
    fields = data.model_dump(exclude={"version"})
    if isinstance(data, PolicyIn):
        row.unit = _unit(session, fields.pop("unit"))
    for name, value in fields.items():
        setattr(row, name, value)


def create(session: Session, model: type[R], *, actor: Actor, data: PolicyIn | ProductIn) -> R:
    _check_admin(actor)
    row = model(created_by=actor.name)
    _fill(session, row, data)
    session.add(row)
    session.flush()
    _audit(session, actor, "create", row)
    _schedule_alerts(session, row)
    return row


STALE = "该条目已被修改（可能是您在其他窗口的操作或他人的操作），请刷新页面查看最新内容后再改"


def update(session: Session, model: type[R], *, actor: Actor, row_id: int, data: PolicyIn | ProductIn) -> R:
    """Replaces every field; `data.version`, when given, must be the version the editor started from."""
    _check_admin(actor)
    row = get(session, model, row_id=row_id, published_only=False)
    claim_version(session, row, data.version, message=STALE)
    _fill(session, row, data)
    session.flush()
    _audit(session, actor, "update", row)
    _schedule_alerts(session, row)
    return row


def retire(session: Session, model: type[R], *, actor: Actor, row_id: int) -> R:
    """Takes a policy or product off the public pages and out of matching; the row stays for the audit trail."""
    _check_admin(actor)
    row = get(session, model, row_id=row_id, published_only=False)
    if row.status != "retired":
        claim_version(session, row, None, message=STALE)
        row.status = "retired"
        session.flush()
        _audit(session, actor, "retire", row)
    return row


def load_demo(session: Session) -> int:
    """The demo's policies and products into empty tables; windows are set relative to today."""
    from baishitong.demo.enterprise import POLICIES, PRODUCTS

    if session.scalar(select(Policy.id).limit(1)) is not None or session.scalar(select(FinancingProduct.id).limit(1)) is not None:
        return 0
    units = {u.code: u for u in session.scalars(select(Unit).where(Unit.code.in_({p["unit"] for p in POLICIES})))}
    on = today()
    for spec in POLICIES:
        opens, closes = spec.get("window", (None, None))
        fields = {"status": "published", **{k: v for k, v in spec.items() if k not in ("unit", "window")}}
        session.add(Policy(**fields, unit=units[spec["unit"]], created_by="demo", apply_from=_offset(on, opens), apply_to=_offset(on, closes)))
    for spec in PRODUCTS:
        session.add(FinancingProduct(**{"status": "published", **spec}, created_by="demo"))
    session.flush()
    return len(POLICIES) + len(PRODUCTS)


def _offset(on: date, days: int | None) -> date | None:
    return on + timedelta(days=days) if days is not None else None
