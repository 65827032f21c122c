"""惠企政策、融资对接: match a profile, read published policies and products, and (admin) keep them."""

from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from baishitong.actors import Actor
from baishitong.deps import current_actor, get_db_session, optional_actor, read_only
from baishitong.enterprise import STATUS_LABELS, matching, schemas, service
from baishitong.enterprise.models import FinancingProduct, Policy

router = APIRouter(prefix="/api/v1/enterprise", tags=["惠企政策"])


def _facets(row: Policy | FinancingProduct) -> dict:
    return {"industries": row.industries, "sizes": row.sizes, "towns": row.towns, "tags": row.tags, "min_years": row.min_years, "status": row.status, "updated_at": row.updated_at}


def policy_out(p: Policy) -> schemas.PolicyOut:
    return schemas.PolicyOut(
        id=p.id, title=p.title, unit=p.unit.code, unit_name=p.unit.name, summary=p.summary, body=p.body, benefit=p.benefit, apply_from=p.apply_from, apply_to=p.apply_to, **_facets(p)
    )


def product_out(p: FinancingProduct) -> schemas.ProductOut:
    return schemas.ProductOut(
        id=p.id, institution=p.institution, name=p.name, summary=p.summary, amount_min=p.amount_min, amount_max=p.amount_max, amount=service.amount_text(p),
        rate=p.rate, term=p.term, contact=p.contact, **_facets(p)
    )


def match_out(found: matching.Match) -> schemas.MatchOut:
    row = found.item
    common = {"full": found.full, "met": found.met, "missing": found.missing, "reason": service.reason_text(found), "days_left": found.days_left, "closing_soon": found.closing_soon, "not_yet_open": found.not_yet_open}
    if isinstance(row, Policy):
        return schemas.MatchOut(id=row.id, title=row.title, issuer=row.unit.name, benefit=row.benefit, apply_to=row.apply_to, url=f"/enterprise/policies/{row.id}", **common)
    return schemas.MatchOut(id=row.id, title=row.name, issuer=row.institution, benefit=service.amount_text(row), url=f"/enterprise/products/{row.id}", **common)


def _statuses(actor: Actor | None, status: str | None) -> tuple[str, ...]:
    """The public sees published rows; the admin any status, all of them when none is asked for."""
    if actor is None or actor.role != "admin":
        return ("published",)
    return (status,) if status in STATUS_LABELS else tuple(STATUS_LABELS)


@router.post("/match", response_model=schemas.MatchResultOut, dependencies=[read_only])
def match(data: schemas.ProfileIn, session: Session = Depends(get_db_session)):
    """Published policies and products that fit the profile: full matches, then 差一项 near-misses, each with its reasons."""
    policies, products = service.match(session, data=data)
    return schemas.MatchResultOut(policies=[match_out(m) for m in policies], products=[match_out(m) for m in products])


@router.get("/policies", response_model=list[schemas.PolicyOut])
def list_policies(status: str | None = None, actor: Actor | None = Depends(optional_actor), session: Session = Depends(get_db_session)):
    """Published policies whose window is open or not yet closed; with an admin token, every status (or ?status=) and closed ones too."""
    statuses = _statuses(actor, status)
    return [policy_out(p) for p in service.list_policies(session, statuses=statuses, include_closed=statuses != ("published",))]


@router.get("/policies/{policy_id}", response_model=schemas.PolicyOut)
def get_policy(policy_id: int, actor: Actor | None = Depends(optional_actor), session: Session = Depends(get_db_session)):
    return policy_out(service.get_policy(session, policy_id=policy_id, published_only=actor is None or actor.role != "admin"))


@router.post("/policies", response_model=schemas.PolicyOut, status_code=201)
def create_policy(data: schemas.PolicyIn, actor: Actor = Depends(current_actor), session: Session = Depends(get_db_session)):
    return policy_out(service.create_policy(session, actor=actor, data=data))


@router.put("/policies/{policy_id}", response_model=schemas.PolicyOut)
def update_policy(policy_id: int, data: schemas.PolicyIn, actor: Actor = Depends(current_actor), session: Session = Depends(get_db_session)):
    return policy_out(service.update_policy(session, actor=actor, policy_id=policy_id, data=data))


@router.post("/policies/{policy_id}/retire", response_model=schemas.PolicyOut)
def retire_policy(policy_id: int, actor: Actor = Depends(current_actor), session: Session = Depends(get_db_session)):
    """下架: out of matching and off the public pages; kept for the record."""
    return policy_out(service.retire_policy(session, actor=actor, policy_id=policy_id))


@router.get("/products", response_model=list[schemas.ProductOut])
def list_products(status: str | None = None, actor: Actor | None = Depends(optional_actor), session: Session = Depends(get_db_session)):
    return [product_out(p) for p in service.list_products(session, statuses=_statuses(actor, status))]


@router.get("/products/{product_id}", response_model=schemas.ProductOut)
def get_product(product_id: int, actor: Actor | None = Depends(optional_actor), session: Session = Depends(get_db_session)):
    return product_out(service.get_product(session, product_id=product_id, published_only=actor is None or actor.role != "admin"))


@router.post("/products", response_model=schemas.ProductOut, status_code=201)
def create_product(data: schemas.ProductIn, actor: Actor = Depends(current_actor), session: Session = Depends(get_db_session)):
    return product_out(service.create_product(session, actor=actor, data=data))


@router.put("/products/{product_id}", response_model=schemas.ProductOut)
def update_product(product_id: int, data: schemas.ProductIn, actor: Actor = Depends(current_actor), session: Session = Depends(get_db_session)):
    return product_out(service.update_product(session, actor=actor, product_id=product_id, data=data))


@router.post("/products/{product_id}/retire", response_model=schemas.ProductOut)
def retire_product(product_id: int, actor: Actor = Depends(current_actor), session: Session = Depends(get_db_session)):
    return product_out(service.retire_product(session, actor=actor, product_id=product_id))
