"""惠企政策、融资对接: match a profile, read published policies and products, and (admin) keep them."""

from collections.abc import Callable

from fastapi import APIRouter, Depends, Path, Response
from sqlalchemy.orm import Session

from baishitong import idempotency
from baishitong.actors import Actor
from baishitong.deps import current_actor, get_db_session, optional_actor, rate_limit, read_only
from baishitong.enterprise import STATUS_LABELS, alerts, matching, schemas, service
from baishitong.enterprise.models import FinancingProduct, Policy
from baishitong.security import mask_phone

router = APIRouter(prefix="/api/v1/enterprise", tags=["惠企政策"])


def _facets(row: Policy | FinancingProduct) -> dict:
    return {"industries": row.industries, "sizes": row.sizes, "towns": row.towns, "tags": row.tags, "min_years": row.min_years, "status": row.status, "updated_at": row.updated_at, "version": row.version}


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


def _is_admin(actor: Actor | None) -> bool:
    return actor is not None and actor.role == "admin"


def _statuses(actor: Actor | None, status: str | None) -> tuple[str, ...]:
    """The public sees published rows; the admin any status, all of them when none is asked for."""
    if not _is_admin(actor):
        return ("published",)
    return (status,) if status in STATUS_LABELS else tuple(STATUS_LABELS)


def _add_upkeep_routes(model: type[service.Row], *, plural: str, kind: str, schema_in: type, schema_out: type, out: Callable) -> None:
    """GET /{plural}/{id}, POST /{plural}, PUT /{plural}/{id} and POST /{plural}/{id}/retire for policies or products.

    The routes are named get_policy, create_policy … as when they were written out one by one, so the operation ids stay.
    """
    one = f"/{plural}/{{{kind}_id}}"

    def get_one(row_id: int = Path(alias=f"{kind}_id"), actor: Actor | None = Depends(optional_actor), session: Session = Depends(get_db_session)):
        return out(service.get(session, model, row_id=row_id, published_only=not _is_admin(actor)))

    def create(data: schema_in, response: Response, actor: Actor = Depends(current_actor), session: Session = Depends(get_db_session), idempotency_key: idempotency.Key = None):
        """A retry with the same Idempotency-Key returns the row the first one created (200)."""
        scope, body = idempotency.scope(f"enterprise.{plural}.create", actor=actor), data.model_dump(mode="json")
        first = idempotency.replayed(session, scope=scope, key=idempotency_key, body=body)
        if first is not None:
            response.status_code = 200
            return out(service.get(session, model, row_id=int(first), published_only=False))
        row = service.create(session, model, actor=actor, data=data)
        idempotency.remember(session, scope=scope, key=idempotency_key, body=body, resource_id=row.id)
        return out(row)

    def update(data: schema_in, row_id: int = Path(alias=f"{kind}_id"), actor: Actor = Depends(current_actor), session: Session = Depends(get_db_session)):
        return out(service.update(session, model, actor=actor, row_id=row_id, data=data))

    def retire(row_id: int = Path(alias=f"{kind}_id"), actor: Actor = Depends(current_actor), session: Session = Depends(get_db_session)):
        """下架: out of matching and off the public pages; kept for the record."""
        return out(service.retire(session, model, actor=actor, row_id=row_id))

    router.add_api_route(one, get_one, methods=["GET"], response_model=schema_out, name=f"get_{kind}")
    router.add_api_route(
        f"/{plural}", create, methods=["POST"], response_model=schema_out, status_code=201, responses=idempotency.replayed_response(schema_out), name=f"create_{kind}"
    )
    router.add_api_route(one, update, methods=["PUT"], response_model=schema_out, name=f"update_{kind}")
    router.add_api_route(f"{one}/retire", retire, methods=["POST"], response_model=schema_out, name=f"retire_{kind}")


@router.post("/match", response_model=schemas.MatchResultOut, dependencies=[read_only])
def match(data: schemas.ProfileIn, session: Session = Depends(get_db_session)):
    """Published policies and products that fit the profile: full matches, then 差一项 near-misses, each with its reasons."""
    policies, products = service.match(session, data=data)
    return schemas.MatchResultOut(policies=[match_out(m) for m in policies], products=[match_out(m) for m in products])


@router.post("/subscriptions", response_model=schemas.SubscriptionOut, status_code=202, dependencies=[rate_limit("intake", "intake_rate_limit_per_minute")])
def subscribe(data: schemas.SubscriptionIn, session: Session = Depends(get_db_session)):
    """新政策提醒: texts a confirmation link to the phone; alerts start once it is followed. A retry within 10 minutes sends nothing new."""
    row, sent = alerts.subscribe(session, data=schemas.ProfileIn.model_validate(data.model_dump(exclude={"phone"})), phone=data.phone)
    return schemas.SubscriptionOut(status=row.status, phone=mask_phone(row.phone) or "", confirmation_sent=sent)


@router.get("/policies", response_model=list[schemas.PolicyOut])
def list_policies(status: str | None = None, actor: Actor | None = Depends(optional_actor), session: Session = Depends(get_db_session)):
    """Published policies whose window is open or not yet closed; with an admin token, every status (or ?status=) and closed ones too."""
    statuses = _statuses(actor, status)
    return [policy_out(p) for p in service.list_policies(session, statuses=statuses, include_closed=statuses != ("published",))]


_add_upkeep_routes(Policy, plural="policies", kind="policy", schema_in=schemas.PolicyIn, schema_out=schemas.PolicyOut, out=policy_out)


@router.get("/products", response_model=list[schemas.ProductOut])
def list_products(status: str | None = None, actor: Actor | None = Depends(optional_actor), session: Session = Depends(get_db_session)):
    return [product_out(p) for p in service.list_products(session, statuses=_statuses(actor, status))]


_add_upkeep_routes(FinancingProduct, plural="products", kind="product", schema_in=schemas.ProductIn, schema_out=schemas.ProductOut, out=product_out)
