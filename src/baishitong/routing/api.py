import json
from datetime import datetime

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from baishitong.actors import Actor
from baishitong.bounds import Moment
from baishitong.deps import current_actor, get_db_session, read_only
from baishitong.org.api import require_roles
from baishitong.routing import duplicates, schemas, service
from baishitong.tickets import service as tickets
from baishitong.tickets.schemas import LocationIn

router = APIRouter(prefix="/api/v1/routing", tags=["智能分拨"])

CENTRE = ("operator", "supervisor", "admin")


@router.post("/suggest", response_model=schemas.SuggestOut, dependencies=[read_only])
def suggest(data: schemas.SuggestIn, actor: Actor = Depends(current_actor), session: Session = Depends(get_db_session)):
    """Category, place and lead unit for a request text; any staff login or API token.

    Called on every keystroke pause, so the dict (already in SuggestOut's shape, which a test
    checks) is written out directly instead of being validated against the model again.
    """
    body = service.suggest(session, text=data.text, address=data.address, location=data.location, type=data.type).as_dict()
    return Response(json.dumps(body, ensure_ascii=False, separators=(",", ":")), media_type="application/json")


@router.get("/locate", response_model=schemas.LocateOut)
def locate(text: str = Query(min_length=1, max_length=300), actor: Actor = Depends(current_actor)):
    return service.location_out(service.locate_text(text))


@router.get("/models", response_model=list[schemas.ModelOut])
def list_models(actor: Actor = Depends(require_roles(*CENTRE)), session: Session = Depends(get_db_session)):
    return [service.model_out(m) for m in service.list_models(session)]


@router.post("/models/{version}/activate", response_model=schemas.ModelOut)
def activate(version: str, actor: Actor = Depends(require_roles("admin")), session: Session = Depends(get_db_session)):
    return service.model_out(service.activate(session, version=version, actor=actor.name))


@router.post("/models/retrain", response_model=schemas.RetrainOut, status_code=202)
def retrain(data: schemas.RetrainIn, actor: Actor = Depends(require_roles("admin")), session: Session = Depends(get_db_session)):
    """Queues training on closed tickets; the new version becomes active when the job finishes, unless its
    cross-validated macro-F1 (at level 1 for a model of sub-categories) is clearly below the active one's."""
    return {"request_key": service.request_retrain(session, label=data.label, actor=actor.name)}


def catalogue_out(session: Session) -> schemas.CatalogueOut:
    edition, rules = service.current_catalogue(session)
    return schemas.CatalogueOut(
        version=edition.version if edition else None,
        note=edition.note if edition else None,
        created_by=edition.created_by if edition else None,
        created_at=edition.created_at if edition else None,
        rules=[schemas.RuleOut(**service.rule_out(r)) for r in rules],
    )


@router.get("/catalogue", response_model=schemas.CatalogueOut)
def get_catalogue(actor: Actor = Depends(current_actor), session: Session = Depends(get_db_session)):
    return catalogue_out(session)


@router.put("/catalogue", response_model=schemas.CatalogueOut)
def put_catalogue(data: schemas.CatalogueIn, actor: Actor = Depends(require_roles("admin")), session: Session = Depends(get_db_session)):
    """Replaces the whole rule set; the previous edition is kept."""
    service.replace_catalogue(session, rules=[r.model_dump(exclude={"id"}) for r in data.rules], actor=actor.name, note=data.note, base_version=data.base_version)
    return catalogue_out(session)


@router.get("/review", response_model=list[schemas.ReviewItem])
def review(limit: int = Query(default=100, ge=1, le=500), actor: Actor = Depends(require_roles(*CENTRE)), session: Session = Depends(get_db_session)):
    """Registered tickets the router was not sure about, for an operator to dispatch."""
    return [
        schemas.ReviewItem(number=t.number, title=t.title, type=t.type, created_at=t.created_at, decision=service.decision_out(d))
        for d, t in service.review_queue(session, limit=limit)
    ]


@router.get("/misroutes", response_model=schemas.MisrouteOut)
def misroutes(since: Moment | None = None, actor: Actor = Depends(require_roles("supervisor", "admin")), session: Session = Depends(get_db_session)):
    return service.misroute_report(session, since=since)


class DuplicatesIn(schemas.Strict):
    text: str = Field(min_length=1, max_length=5000)
    title: str | None = Field(default=None, max_length=200)
    address: str | None = Field(default=None, max_length=300)
    region_code: str | None = Field(default=None, max_length=16)
    location: LocationIn | None = None


class MergeHint(BaseModel):
    action: str
    into: str


class DuplicateOut(BaseModel):
    number: str
    title: str
    status: str
    created_at: datetime
    region: str | None
    distance_m: float | None
    similarity: float
    reasons: list[str]
    merge: MergeHint


class DuplicatesOut(BaseModel):
    candidates: list[DuplicateOut]


@router.post("/duplicates", response_model=DuplicatesOut, dependencies=[read_only])
def find_duplicates(data: DuplicatesIn, actor: Actor = Depends(require_roles(*CENTRE)), session: Session = Depends(get_db_session)):
    """Open orders that look like the same matter as a request being taken in, to offer 并单.

    The place is the given region, else the one the address (or failing that the text) names.
    """
    region_code = data.region_code
    for source in (data.address, data.text[: service.LOCATE_TEXT_CHARS]):
        if region_code is None and source:
            region_code = service.region_code_for(session, address=source, location=data.location)
    found = duplicates.find_duplicates(
        session,
        text=data.text,
        title=data.title,
        region_code=region_code,
        lat=data.location.lat if data.location else None,
        lon=data.location.lon if data.location else None,
    )
    return {"candidates": [c.as_dict() for c in found]}


@router.get("/duplicates/{number}", response_model=DuplicatesOut)
def duplicates_of(number: str, actor: Actor = Depends(require_roles(*CENTRE)), session: Session = Depends(get_db_session)):
    """Open orders that look like the same matter as an existing ticket."""
    ticket = tickets.get_ticket(session, number=number, actor=actor)
    return {"candidates": [c.as_dict() for c in duplicates.duplicates_of(session, ticket=ticket)]}
