"""Routing decisions on work orders: classify, locate, look up the catalogue, dispatch or queue for review.

The pure cores (classifier, locate, catalogue) do the thinking; this module
persists model versions, catalogue editions and decisions, and keeps the
active model, the catalogue and the units, regions and categories a suggestion
names in process memory (see `reference`), so a suggestion costs one
fingerprint query rather than a model load and a handful of lookups.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Select, case, event, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from baishitong.audit import service as audit
from baishitong.config import get_settings
from baishitong.db import utcnow
from baishitong.errors import Conflict, InvalidInput, NotFound
from baishitong.org import service as org
from baishitong.org.models import Category, Region, Unit
from baishitong.routing import catalogue, dataset
from baishitong.routing import locate as locator
from baishitong.routing.model import TrainedModel
from baishitong.routing.models import CatalogueVersion, RouterModel, RoutingDecision, RoutingRule
from baishitong.tickets.models import Ticket, TicketEvent

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
TRAINING_STATUSES = ("closed", "archived")
RESOLVED = ("auto", "accepted", "corrected")
TICKET_TYPES = ("咨询", "求助", "投诉", "举报", "建议", "表扬")
# Requests name their place early; scanning long complaints to the end costs a millisecond for nothing.
LOCATE_TEXT_CHARS = 300


# --- in-process caches ------------------------------------------------------


@dataclass(frozen=True)
class ActiveModel:
    version: str
    kind: str
    model: TrainedModel


@dataclass(frozen=True)
class ActiveCatalogue:
    version: int
    rules: tuple[catalogue.Rule, ...]


@dataclass(frozen=True)
class CategoryRef:
    """The Category fields a suggestion shows, detached from any session."""

    id: int
    code: str
    name: str
    path: str
    level: int
    parent_code: str | None = None


@dataclass(frozen=True)
class RegionRef:
    id: int
    code: str
    short_name: str
    kind: str
    parent: RegionRef | None


@dataclass(frozen=True)
class UnitRef:
    id: int
    code: str
    name: str
    kind: str
    active: bool


@dataclass(frozen=True)
class Reference:
    """Everything a suggestion looks up, loaded once per fingerprint rather than queried per call."""

    fingerprint: tuple
    model: ActiveModel | None
    catalogue: ActiveCatalogue | None
    by_label: dict[str, CategoryRef]  # active categories by code and by name, lowest level first
    regions: dict[str, RegionRef]
    units: dict[str, UnitRef]
    town_units: dict[str, UnitRef]  # town region code -> its town unit


_REFERENCE_TYPES = (RouterModel, CatalogueVersion, RoutingRule, Unit, Region, Category)
_REFERENCE_TABLES = frozenset(t.__table__.name for t in _REFERENCE_TYPES)
# Renames made by another process leave the fingerprint as it was; reload at least this often.
_MAX_AGE_SECONDS = 60.0
# The fingerprint query costs ~1.7 ms on SQLite, as much as the classification itself; changes made by
# other processes (a retrained model activated by the worker) are seen within this many seconds.
_CHECK_EVERY_SECONDS = 1.0

_lock = threading.Lock()
_models: dict[str, TrainedModel] = {}
_references: dict[str, tuple[Reference, int, float, float]] = {}  # engine url -> (reference, generation, loaded at, checked at)
_generation = 0  # bumped whenever this process writes reference rows


def _fingerprint_query():
    def scalar(stmt):
        return stmt.scalar_subquery()

    return select(
        scalar(select(RouterModel.digest).where(RouterModel.active.is_(True)).order_by(RouterModel.id).limit(1)),
        scalar(select(func.max(CatalogueVersion.version))),
        scalar(select(CatalogueVersion.digest).order_by(CatalogueVersion.version.desc()).limit(1)),
        *(
            scalar(select(agg))
            for agg in (
                func.count(Unit.id), func.max(Unit.id), func.sum(case((Unit.active.is_(True), 1), else_=0)),
                func.count(Category.id), func.max(Category.id), func.sum(case((Category.active.is_(True), 1), else_=0)),
                func.count(Region.id), func.max(Region.id),
            )
        ),
    )


_FINGERPRINT = _fingerprint_query()


def _bump() -> None:
    global _generation
    with _lock:
        _generation += 1


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context) -> None:
    if any(isinstance(o, _REFERENCE_TYPES) for o in (*session.new, *session.dirty, *session.deleted)):
        session.info["routing_reference_changed"] = True
        _bump()


@event.listens_for(Session, "do_orm_execute")
def _after_bulk_write(state) -> None:
    table = getattr(state.statement, "table", None)
    if (state.is_update or state.is_delete or state.is_insert) and table is not None and table.name in _REFERENCE_TABLES:
        state.session.info["routing_reference_changed"] = True
        _bump()


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction) -> None:
    """Other sessions may have cached this session's uncommitted rows; reload once it commits or rolls back."""
    if session.info.get("routing_reference_changed"):
        _bump()
        if transaction.parent is None:
            session.info.pop("routing_reference_changed", None)


def reference(session: Session) -> Reference:
    """The cached reference data, reloaded when the one-query fingerprint or a local write says it changed."""
    key = str(session.get_bind().engine.url)
    now = time.monotonic()
    cached = _references.get(key)
    if cached is not None:
        ref, generation, loaded_at, checked_at = cached
        fresh = generation == _generation and now - loaded_at < _MAX_AGE_SECONDS
        if fresh and now - checked_at < _CHECK_EVERY_SECONDS:
            return ref
    fingerprint = tuple(session.execute(_FINGERPRINT).one())
    if cached is not None and fresh and ref.fingerprint == fingerprint:
        _references[key] = (ref, generation, loaded_at, now)
        return ref
    generation = _generation
    ref = _load_reference(session, fingerprint)
    _references[key] = (ref, generation, now, now)
    return ref


def _load_reference(session: Session, fingerprint: tuple) -> Reference:
    categories = sorted(session.scalars(select(Category)), key=lambda c: (c.level, c.code))
    by_label: dict[str, CategoryRef] = {}
    for c in categories:
        if c.active:
            ref = CategoryRef(id=c.id, code=c.code, name=c.name, path=c.path, level=c.level, parent_code=c.parent.code if c.parent else None)
            by_label.setdefault(c.code, ref)
            by_label.setdefault(c.name, ref)
    rows = list(session.scalars(select(Region)))
    parents = {r.id: r for r in rows}
    regions: dict[str, RegionRef] = {}

    def region_ref(r: Region) -> RegionRef:
        if r.code not in regions:
            parent = parents.get(r.parent_id)
            regions[r.code] = RegionRef(id=r.id, code=r.code, short_name=r.short_name, kind=r.kind, parent=region_ref(parent) if parent else None)
        return regions[r.code]

    for r in rows:
        region_ref(r)
    units: dict[str, UnitRef] = {}
    town_units: dict[str, UnitRef] = {}
    for u in session.scalars(select(Unit).order_by(Unit.id)):
        units[u.code] = ref = UnitRef(id=u.id, code=u.code, name=u.name, kind=u.kind, active=u.active)
        if u.kind == "town" and u.region_code:
            town_units.setdefault(u.region_code, ref)
    return Reference(
        fingerprint=fingerprint,
        model=_load_model(session),
        catalogue=_load_catalogue(session),
        by_label=by_label,
        regions=regions,
        units=units,
        town_units=town_units,
    )


def _load_model(session: Session) -> ActiveModel | None:
    """The active model, deserialised once per content hash (a version switch reloads it)."""
    row = session.execute(
        select(RouterModel.id, RouterModel.version, RouterModel.kind, RouterModel.digest).where(RouterModel.active.is_(True)).order_by(RouterModel.id).limit(1)
    ).first()
    if row is None:
        return None
    model = _models.get(row.digest)
    if model is None:
        model = TrainedModel.from_bytes(session.scalar(select(RouterModel.blob).where(RouterModel.id == row.id)))
        with _lock:
            _models.clear()
            _models[row.digest] = model
    return ActiveModel(version=row.version, kind=row.kind, model=model)


def _load_catalogue(session: Session) -> ActiveCatalogue | None:
    version = session.scalar(select(func.max(CatalogueVersion.version)))
    if version is None:
        return None
    rows = session.scalars(
        select(RoutingRule).where(RoutingRule.catalogue_version == version, RoutingRule.active.is_(True)).order_by(RoutingRule.id)
    )
    return ActiveCatalogue(version=version, rules=tuple(_to_rule(r) for r in rows))


def active_model(session: Session) -> ActiveModel | None:
    return reference(session).model


def active_catalogue(session: Session) -> ActiveCatalogue | None:
    return reference(session).catalogue


def _to_rule(row: RoutingRule) -> catalogue.Rule:
    return catalogue.Rule(
        id=row.id,
        lead=row.lead,
        category_prefix=row.category_prefix,
        region_code=row.region_code,
        type=row.type,
        keywords=tuple(row.keywords or ()),
        co_units=tuple(row.co_units or ()),
        priority=row.priority,
    )


# --- suggestion -------------------------------------------------------------


@dataclass(frozen=True)
class LeadHint:
    """A lead unit the intake already knows, such as the issuer of the policy an enterprise asks about:
    it outranks the classifier and the catalogue, and the decision keeps it as its evidence."""

    unit_code: str
    reason: str


@dataclass
class Suggestion:
    """Reference rows are cached refs (an operator-given category or a ticket's region stay ORM rows)."""

    category: Category | CategoryRef | None = None
    category_source: str | None = None  # "model" | "request"
    # What the model would have chosen when the request (an operator's 问题分类) gave the category instead.
    suggested_category: CategoryRef | None = None
    label: str | None = None
    confidence: float | None = None
    top3: list[dict] = field(default_factory=list)
    region: Region | RegionRef | None = None
    town: Region | RegionRef | None = None
    location: dict | None = None
    lead_unit: UnitRef | None = None
    co_units: list[UnitRef] = field(default_factory=list)
    rule: dict | None = None
    catalogue_version: int | None = None
    model_version: str | None = None
    model_kind: str | None = None
    auto_dispatch: bool = False
    threshold: float = 0.0
    lead_hint: dict | None = None

    @property
    def evidence(self) -> dict:
        overridden = {"category_suggested": category_out(self.suggested_category)} if self.category_source == "request" else {}
        return {
            "lead_hint": self.lead_hint,
            "model": {"version": self.model_version, "kind": self.model_kind, "label": self.label, "confidence": self.confidence, "top3": self.top3}
            if self.model_version
            else None,
            "category_source": self.category_source,
            "locate": self.location,
            "rule": self.rule,
            "catalogue_version": self.catalogue_version,
            "threshold": self.threshold,
        } | overridden

    def as_dict(self) -> dict:
        return {
            "category": category_out(self.category),
            "label": self.label,
            "confidence": self.confidence,
            "top3": self.top3,
            "region": region_out(self.region),
            "lead_unit": unit_out(self.lead_unit),
            "co_units": [unit_out(u) for u in self.co_units],
            "rule": self.rule,
            "model_version": self.model_version,
            "auto_dispatch": self.auto_dispatch,
            "evidence": self.evidence,
        }


def category_out(c: Category | CategoryRef | None) -> dict | None:
    return {"code": c.code, "name": c.name, "path": c.path} if c else None


def scored_out(label: str, score: float, category: CategoryRef | None) -> dict:
    """A model candidate with the category it names spelled out, so an integrator need not look codes up."""
    return {"label": label, "score": round(score, 4), **(category_out(category) or dict.fromkeys(("code", "name", "path")))}


def unit_out(u: Unit | UnitRef | None) -> dict | None:
    return {"code": u.code, "name": u.name} if u else None


def region_out(r: Region | RegionRef | None) -> dict | None:
    if r is None:
        return None
    town = r if r.kind == "town" else r.parent
    return {"code": r.code, "name": r.short_name, "kind": r.kind, "town": {"code": town.code, "name": town.short_name} if town else None}


def _latlon(location) -> tuple[float | None, float | None]:
    if location is None:
        return None, None
    if isinstance(location, dict):
        return location.get("lat"), location.get("lon")
    return location.lat, location.lon


def locate_text(text: str | None, location=None) -> locator.Location | None:
    lat, lon = _latlon(location)
    return locator.locate(text, lat, lon)


def location_out(found: locator.Location | None) -> dict:
    """The shape printed by `baishitong locate` and returned by GET /locate."""
    if found is None:
        return {"town": None, "community": None, "method": None, "score": 0.0}
    return {
        "town": {"code": found.town_code, "name": found.town_name} if found.town_code else None,
        "community": {"code": found.community_code, "name": found.community_name} if found.community_code else None,
        "method": found.method,
        "score": found.score,
    }


def _region_for_location(session: Session, found: locator.Location | None) -> Region | None:
    if found is None:
        return None
    codes = [c for c in (found.community_code, found.town_code) if c]
    rows = {r.code: r for r in session.scalars(select(Region).where(Region.code.in_(codes)))}
    return next((rows[c] for c in codes if c in rows), None)


def region_for(session: Session, *, address, location) -> Region | None:
    """The Region row an address (and optional GPS point) lies in, or None."""
    if not address and location is None:
        return None
    return _region_for_location(session, locate_text(address, location))


def _region_ref(ref: Reference, found: locator.Location | None) -> RegionRef | None:
    if found is None:
        return None
    return next((ref.regions[c] for c in (found.community_code, found.town_code) if c and c in ref.regions), None)


def region_code_for(session: Session, *, address, location) -> str | None:
    """Like region_for, but answered from the cached regions (for read-only searches)."""
    if not address and location is None:
        return None
    region = _region_ref(reference(session), locate_text(address, location))
    return region.code if region else None


def _active_unit(ref: Reference, code: str | None) -> UnitRef | None:
    unit = ref.units.get(code) if code else None
    return unit if unit is not None and unit.active else None


def _most_specific(
    ref: Reference, probabilities: dict[str, float], threshold: float
) -> tuple[CategoryRef | None, str, float, list[tuple[str, float]]]:
    """The category to suggest, its label, probability and the three likeliest at its level.

    Models may be trained on category codes or names, at any level. Each label's probability counts for its
    category and every one above it; from the likeliest level-1 category the choice goes down while a
    sub-category is at least `threshold` likely, so a finer category (and the catalogue rule for it) is
    named only when the model is as sure of it as unattended dispatch requires. A label that names no
    active category stands alone at level 1."""
    mass: dict[str, float] = defaultdict(float)
    children: dict[str | None, dict[str, None]] = defaultdict(dict)  # ordered, so ties resolve the same way
    named: dict[str, str] = {}
    chains: list[tuple[list[str], float]] = []  # each label's categories from level 1 down, and its probability
    for label, p in probabilities.items():
        chain, node = [], ref.by_label.get(label)
        while node is not None:
            chain.append(node.code)
            node = ref.by_label.get(node.parent_code) if node.parent_code else None
        chain = chain[::-1] or [label]
        named.setdefault(chain[-1], label)
        for parent, key in zip([None, *chain], chain):
            mass[key] += p
            children[parent][key] = None
        chains.append((chain, p))
    key, depth = max(children[None], key=mass.__getitem__), 1
    while (finer := max(children[key], key=mass.__getitem__, default=None)) is not None and mass[finer] >= threshold:
        key, depth = finer, depth + 1
    alternatives: dict[str, float] = defaultdict(float)
    for chain, p in chains:
        alternatives[chain[min(depth, len(chain)) - 1]] += p
    top3 = sorted(alternatives.items(), key=lambda kv: -kv[1])[:3]
    return ref.by_label.get(key), named.get(key, key), mass[key], [(named.get(k, k), p) for k, p in top3]


def _same_branch(code: str, other: str) -> bool:
    """A category and one above or below it (codes grow two digits a level): the model agrees with an operator
    who chose 城乡建设 when it says 城乡建设 › 市政设施, and the other way round."""
    return code.startswith(other) or other.startswith(code)


def suggest(
    session: Session,
    *,
    text: str,
    address: str | None = None,
    location=None,
    type: str | None = None,
    category_code: str | None = None,
    region: Region | None = None,
    threshold: float | None = None,
) -> Suggestion:
    """Category, place and lead unit for a request, with confidence and the evidence behind each."""
    s = Suggestion(threshold=get_settings().auto_dispatch_threshold if threshold is None else threshold)
    ref = reference(session)
    active = ref.model
    given = org.get_category(session, code=category_code) if category_code else None
    predicted_unit: UnitRef | None = None
    predicted: CategoryRef | None = None
    if active is not None:
        s.model_version, s.model_kind = active.version, active.kind
        if active.kind == "unit":
            p = active.model.predict_one(text)
            s.label, confidence = p.label, p.confidence
            s.top3 = [scored_out(lab, score, None) for lab, score in p.top3]
            predicted_unit = _active_unit(ref, p.label)
        else:
            predicted, s.label, confidence, top3 = _most_specific(ref, active.model.probabilities(text), s.threshold)
            s.top3 = [scored_out(lab, score, ref.by_label.get(lab)) for lab, score in top3]
            if given is None:
                s.category, s.category_source = predicted, "model" if predicted else None
        s.confidence = round(confidence, 4)
    if given is not None:
        s.category, s.category_source, s.suggested_category = given, "request", predicted

    if region is not None:
        s.region = region
        s.location = {"source": "ticket", "region": region.code}
    else:
        for source, value in (("address", address), ("text", text[:LOCATE_TEXT_CHARS])):
            found = locate_text(value, location) if value else None
            if found is not None:
                s.region = _region_ref(ref, found)
                s.location = {"source": source, "method": found.method, "score": found.score, "evidence": list(found.evidence), **location_out(found)}
                break
    s.town = (s.region if s.region.kind == "town" else s.region.parent) if s.region else None
    town_unit = ref.town_units.get(s.town.code) if s.town else None

    book = ref.catalogue
    hit = None
    if book is not None:
        hit = catalogue.match(
            book.rules,
            category_code=s.category.code if s.category else None,
            town_code=s.town.code if s.town else None,
            community_code=s.region.code if s.region and s.region.kind == "community" else None,
            type=type,
            text=text,
            town_unit=town_unit.code if town_unit else None,
        )
        s.catalogue_version = book.version
    if hit is not None:
        r = hit.rule
        s.rule = {
            "id": r.id,
            "catalogue_version": book.version,
            "category_prefix": r.category_prefix,
            "region_code": r.region_code,
            "type": r.type,
            "keywords": list(r.keywords),
            "keyword_hits": list(hit.keyword_hits),
            "lead": r.lead,
            "priority": r.priority,
        }
    if active is not None and active.kind == "unit":
        s.lead_unit = predicted_unit
    elif hit is not None:
        s.lead_unit = _active_unit(ref, hit.lead)
        s.co_units = [u for u in (_active_unit(ref, c) for c in hit.co_units) if u is not None and u is not s.lead_unit]

    # An operator-given category overrules the model; dispatch unattended only when both agree.
    agrees = given is None or active is None or active.kind == "unit" or (predicted is not None and _same_branch(given.code, predicted.code))
    s.auto_dispatch = bool(
        active is not None
        and s.confidence is not None
        and s.confidence >= s.threshold
        and s.lead_unit is not None
        and s.lead_unit.kind != "centre"
        and agrees
    )
    return s


# --- decisions on tickets ---------------------------------------------------


def suggest_for(session: Session, *, ticket: Ticket, threshold: float | None = None) -> Suggestion:
    """suggest() for a registered ticket: its text, place, type and the category it was given."""
    return suggest(
        session,
        text=f"{ticket.title}。{ticket.content}",
        address=ticket.address,
        location={"lat": ticket.lat, "lon": ticket.lon} if ticket.lat is not None and ticket.lon is not None else None,
        type=ticket.type,
        category_code=ticket.category.code if ticket.category else None,
        region=ticket.region,
        threshold=threshold,
    )


def on_ticket_registered(
    session: Session,
    *,
    ticket: Ticket,
    threshold: float | None = None,
    auto_dispatch: bool = True,
    lead_hint: LeadHint | None = None,
    filed_by_centre: bool = False,
) -> RoutingDecision:
    """Records what the router proposes; dispatches at once when confident (and allowed), else queues for review.
    `filed_by_centre`: the category the request carries is an operator's (not a citizen's or a partner's own
    choice), so one outside the model's branch corrects the router (分类纠正率)."""
    s = suggest_for(session, ticket=ticket, threshold=threshold)
    if ticket.category is None and s.category is not None:
        ticket.category = session.get(Category, s.category.id)
    hinted = reference(session).units.get(lead_hint.unit_code) if lead_hint else None
    if hinted is not None and hinted.active and hinted.kind != "centre":
        s.lead_unit, s.co_units, s.rule, s.auto_dispatch = hinted, [], None, True
        s.lead_hint = {"unit": hinted.code, "reason": lead_hint.reason}
    s.auto_dispatch = s.auto_dispatch and auto_dispatch
    decision = RoutingDecision(
        ticket_id=ticket.id,
        model_version=s.model_version,
        label=s.label,
        confidence=s.confidence,
        top3=s.top3,
        category_code=s.category.code if s.category else None,
        region_code=s.region.code if s.region else None,
        locate=s.location,
        rule_id=s.rule["id"] if s.rule else None,
        catalogue_version=s.catalogue_version,
        lead_unit=s.lead_unit.code if s.lead_unit else None,
        co_units=[u.code for u in s.co_units],
        auto_dispatched=s.auto_dispatch,
        status="auto" if s.auto_dispatch else "review",
        evidence=s.evidence,
    )
    if filed_by_centre:
        record_intake_category(decision, at=utcnow())
    session.add(decision)
    session.flush()
    if s.auto_dispatch:
        from baishitong.actors import SYSTEM
        from baishitong.tickets.service import dispatch_to

        dispatch_to(
            session,
            ticket,
            actor=SYSTEM,
            lead_code=s.lead_unit.code,
            co_codes=[u.code for u in s.co_units],
            note=s.lead_hint["reason"] if s.lead_hint else "智能分拨自动派单",
            evidence={
                "routing_decision": decision.id,
                "model_version": s.model_version,
                "confidence": s.confidence,
                "rule_id": decision.rule_id,
                "catalogue_version": s.catalogue_version,
            },
        )
    return decision


def latest_decision(session: Session, *, ticket_id: int) -> RoutingDecision | None:
    return session.scalar(select(RoutingDecision).where(RoutingDecision.ticket_id == ticket_id).order_by(RoutingDecision.id.desc()).limit(1))


def decision_out(d: RoutingDecision) -> dict:
    return {
        "id": d.id,
        "created_at": d.created_at.isoformat(),
        "status": d.status,
        "model_version": d.model_version,
        "label": d.label,
        "confidence": d.confidence,
        "top3": d.top3,
        "category_code": d.category_code,
        "region_code": d.region_code,
        "lead_unit": d.lead_unit,
        "co_units": d.co_units,
        "auto_dispatched": d.auto_dispatched,
        "rule_id": d.rule_id,
        "catalogue_version": d.catalogue_version,
        "corrected_to": d.corrected_to,
        "correction_source": d.correction_source,
        "corrected_at": d.corrected_at.isoformat() if d.corrected_at else None,
        "corrected_category": d.corrected_category,
        "evidence": d.evidence,
    }


def latest_decision_out(session: Session, *, ticket: Ticket) -> dict | None:
    d = latest_decision(session, ticket_id=ticket.id)
    return decision_out(d) if d else None


def _awaiting_review(query: Select) -> Select:
    latest = select(func.max(RoutingDecision.id)).group_by(RoutingDecision.ticket_id)
    return query.join(Ticket, Ticket.id == RoutingDecision.ticket_id).where(RoutingDecision.id.in_(latest), RoutingDecision.status == "review", Ticket.status == "registered")


def review_queue(session: Session, *, limit: int = 100, offset: int = 0) -> list[tuple[RoutingDecision, Ticket]]:
    """Registered tickets whose latest decision awaits an operator, oldest first."""
    rows = session.execute(_awaiting_review(select(RoutingDecision, Ticket)).order_by(RoutingDecision.id).offset(offset).limit(limit))
    return [(d, t) for d, t in rows]


def review_count(session: Session) -> int:
    """How many tickets review_queue holds in all."""
    return session.scalar(_awaiting_review(select(func.count()).select_from(RoutingDecision))) or 0


def record_correction(session: Session, *, ticket: Ticket, correct_unit_code: str, source: str) -> RoutingDecision | None:
    """A person chose the lead unit: confirms the proposal or records the correction the router learns from."""
    d = latest_decision(session, ticket_id=ticket.id)
    if d is None:
        return None
    now = utcnow()
    if correct_unit_code == d.lead_unit and d.status != "corrected":
        if d.status == "review":
            d.status = "accepted"
        return d
    d.status = "corrected"
    d.corrected_to = correct_unit_code
    d.correction_source = source
    d.corrected_at = now
    d.evidence = {**d.evidence, "corrections": [*d.evidence.get("corrections", []), {"at": now.isoformat(), "to": correct_unit_code, "source": source}]}
    return d


def proposed_category(d: RoutingDecision) -> str | None:
    """The category the router proposed: the model's suggestion where the operator gave one at intake (the decision
    routes by the operator's), else the decision's own."""
    suggested = d.evidence.get("category_suggested") if d.evidence else None
    return suggested["code"] if suggested else d.category_code


def _note_category_correction(d: RoutingDecision, *, category_code: str, source: str, at: datetime) -> None:
    proposed = proposed_category(d)
    wrong = not _same_branch(proposed, category_code)
    if not wrong and d.corrected_category is None:
        return
    d.corrected_category = category_code if wrong else None
    entry = {"at": at.isoformat(), "category": category_code, "from": proposed, "source": source}
    d.evidence = {**d.evidence, "corrections": [*d.evidence.get("corrections", []), entry]}


def record_intake_category(d: RoutingDecision, *, at: datetime) -> None:
    """An operator who filed the order at intake outside the branch of the model's suggestion corrected the router's
    category as a dispatcher does later (分类纠正率, source "intake")."""
    if d.category_code is not None and d.evidence.get("category_suggested"):
        _note_category_correction(d, category_code=d.category_code, source="intake", at=at)


def record_category_correction(session: Session, *, ticket: Ticket, category_code: str, source: str) -> RoutingDecision | None:
    """A person put the order under another category: outside the branch of the one the router proposed, that is a
    category the router got wrong (分类纠正率); back inside it, an earlier such correction no longer stands."""
    d = latest_decision(session, ticket_id=ticket.id)
    if d is None or proposed_category(d) is None:
        return None
    _note_category_correction(d, category_code=category_code, source=source, at=utcnow())
    return d


def on_staff_dispatch(session: Session, *, ticket: Ticket, event: TicketEvent) -> RoutingDecision | None:
    """Called for dispatch events by people: works out whether it follows a return, a re-dispatch or a review,
    and records a category the dispatcher changed as well as the unit."""
    if event.data.get("previous_lead_unit"):
        source = "redispatch"
    elif session.scalar(select(TicketEvent.id).where(TicketEvent.ticket_id == ticket.id, TicketEvent.action == "approve-return").limit(1)):
        source = "return"
    else:
        source = "operator"
    decision = record_correction(session, ticket=ticket, correct_unit_code=event.data["lead_unit"], source=source)
    if "previous_category" in event.data:
        record_category_correction(session, ticket=ticket, category_code=event.data["category"], source=source)
    return decision


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def misroute_report(session: Session, *, since: datetime | None = None) -> dict:
    """Per proposed lead unit and per proposed category (the model's, where the operator filed the order under
    another at intake: see proposed_category): settled decisions, corrections, misroute rate; per category also
    how often staff, at intake or dispatch, put the order under another category (分类纠正率)."""
    base = RoutingDecision.status.in_(RESOLVED)
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=LOCAL_TZ)
    if since is not None:
        base = base & (RoutingDecision.created_at >= since)
    proposed = func.coalesce(RoutingDecision.evidence[("category_suggested", "code")].as_string(), RoutingDecision.category_code)

    def grouped(column) -> list[tuple[str | None, int, int, int]]:
        # Grouped over a subquery: PostgreSQL would not take the JSON path, bound twice, as one expression.
        settled = select(column.label("key"), RoutingDecision.status, RoutingDecision.corrected_category).where(base).subquery()
        corrected = func.sum(case((settled.c.status == "corrected", 1), else_=0))
        recategorised = func.sum(case((settled.c.corrected_category.is_not(None), 1), else_=0))
        rows = session.execute(select(settled.c.key, func.count(), corrected, recategorised).group_by(settled.c.key).order_by(settled.c.key))
        return [(key, int(n), int(c or 0), int(r or 0)) for key, n, c, r in rows]

    units = {u.code: u.name for u in session.scalars(select(Unit))}
    cats = {c.code: c.path for c in session.scalars(select(Category))}

    def row(key: str | None, names: dict, n: int, c: int) -> dict:
        return {"code": key, "name": names.get(key) if key else None, "decisions": n, "corrections": c, "misroute_rate": _rate(c, n)}

    by_unit = grouped(RoutingDecision.lead_unit)
    total_n, total_c, total_r = (sum(values[i] for values in by_unit) for i in (1, 2, 3))
    return {
        "since": since.isoformat() if since else None,
        "total": {
            "decisions": total_n,
            "corrections": total_c,
            "misroute_rate": _rate(total_c, total_n),
            "category_corrections": total_r,
            "category_misroute_rate": _rate(total_r, total_n),
        },
        "by_unit": [row(key, units, n, c) for key, n, c, _ in by_unit],
        "by_category": [
            row(key, cats, n, c) | {"category_corrections": r, "category_misroute_rate": _rate(r, n)}
            for key, n, c, r in grouped(proposed)
        ],
    }


# --- model versions ---------------------------------------------------------


def _next_version(session: Session) -> str:
    prefix = f"r{utcnow().astimezone(LOCAL_TZ):%Y%m%d}-"
    existing = session.scalars(select(RouterModel.version).where(RouterModel.version.startswith(prefix)))
    numbers = [int(v[len(prefix):]) for v in existing if v[len(prefix):].isdigit()]
    return f"{prefix}{max(numbers, default=0) + 1}"


def store_model(
    session: Session,
    *,
    trained: TrainedModel,
    kind: str,
    source: str,
    actor: str,
    activate_now: bool = True,
    note: str | None = None,
    request_key: str | None = None,
) -> RouterModel:
    version = _next_version(session)
    trained.version = version
    blob = trained.to_bytes()
    metrics = dict(trained.metrics)
    if kind == "category":
        known = {c for row in session.execute(select(Category.code, Category.name)) for c in row}
        metrics["unmapped_labels"] = [lab for lab in trained.labels if lab not in known]
    row = RouterModel(
        version=version,
        kind=kind,
        source=source,
        labels=list(trained.labels),
        metrics=metrics,
        blob=blob,
        digest=hashlib.sha256(blob).hexdigest(),
        request_key=request_key,
        note=note,
        created_by=actor,
    )
    session.add(row)
    session.flush()
    audit.record(session, actor=actor, action="routing.model.train", object_type="router_model", object_id=version, data={"kind": kind, "source": source, "cv_macro_f1": metrics.get("cv_macro_f1")})
    if activate_now:
        activate(session, version=version, actor=actor)
    return row


def _train(texts: list[str], labels: list[str], *, tokenized: bool = False, level1: dict[str, str] | None = None) -> TrainedModel:
    from baishitong.routing import classifier  # scikit-learn is only needed to train

    try:
        return classifier.train(texts, labels, tokenized=tokenized, level1=level1)
    except ValueError as exc:
        raise InvalidInput("training_failed", f"无法训练模型：{exc}") from None


def train_from_file(
    session: Session,
    *,
    data: str | Path | bytes,
    text_columns: list[str],
    label_column: str,
    actor: str,
    tokenized: bool = False,
    kind: str = "category",
    filename: str | None = None,
    activate_now: bool = True,
) -> RouterModel:
    """Trains on a labelled CSV/XLSX (see routing.dataset) and stores a new version."""
    try:
        texts, labels = dataset.load_labelled(data, text_columns, label_column, filename=filename)
    except ValueError as exc:
        raise InvalidInput("invalid_training_file", str(exc)) from None
    trained = _train(texts, labels, tokenized=tokenized)
    name = filename or (str(data) if not isinstance(data, bytes) else None)
    return store_model(session, trained=trained, kind=kind, source="csv", actor=actor, activate_now=activate_now, note=name)


# What a model from the database predicts, as the retrain form names it.
TRAINING_LABELS = {"category": "问题分类（工单足够时细到二、三级）", "category_l1": "问题一级分类", "unit": "承办单位"}
# A sub-category is learnt apart from the category above it once this many closed orders fall under it;
# rarer ones teach their parent, so no class is too thin to learn or to cross-validate.
MIN_ORDERS_PER_CATEGORY = 5
# Each class costs a row of weights over every n-gram kept (2 MB on tipdm's 7,846 messages), and the web
# process holds the model: past this many classes the bar above is raised, so the most frequent
# sub-categories are the ones learnt apart.
MAX_CATEGORY_CLASSES = 32


def _check_label(label: str) -> None:
    if label not in TRAINING_LABELS:
        raise InvalidInput("invalid_label", "预测目标必须是" + "".join(f"“{name}”" for name in TRAINING_LABELS.values()) + "之一")


def training_set_from_database(session: Session, *, label: str) -> tuple[list[str], list[str]]:
    """Closed and archived tickets; for unit labels a recorded correction overrides the unit that handled it."""
    _check_label(label)
    tickets = session.scalars(select(Ticket).where(Ticket.status.in_(TRAINING_STATUSES)).order_by(Ticket.id))
    corrections = dict(
        session.execute(
            select(RoutingDecision.ticket_id, RoutingDecision.corrected_to)
            .where(RoutingDecision.status == "corrected")
            .order_by(RoutingDecision.id)
        ).all()
    )
    tickets = list(tickets)
    learnt = _classes_to_learn([t.category for t in tickets if t.category]) if label == "category" else set()
    texts, labels = [], []
    for t in tickets:
        if label == "category":
            value = next(n.code for n in t.category.lineage if n.id in learnt) if t.category else None
        elif label == "category_l1":
            value = t.category.root.code if t.category else None
        else:
            value = corrections.get(t.id) or (t.lead_unit.code if t.lead_unit else None)
        if value:
            texts.append(f"{t.title}。{t.content}")
            labels.append(value)
    return texts, labels


def _classes_to_learn(categories: list[Category]) -> set[int]:
    """The ids of the categories a model learns as classes of their own, given one category per closed order."""
    minimum = MIN_ORDERS_PER_CATEGORY
    while len(learnt := _learnt_apart(categories, minimum)) > MAX_CATEGORY_CLASSES and minimum <= len(categories):
        minimum *= 2
    return learnt


def _learnt_apart(categories: list[Category], minimum: int) -> set[int]:
    """Every level-1 category, and below it each sub-category with `minimum` orders under it, as long as the
    orders left to the category above are none or as many (the smallest is merged back if not)."""
    under: Counter[int] = Counter()
    children: dict[int | None, set[int]] = defaultdict(set)
    for category in categories:
        lineage = category.lineage
        for node, parent in zip(lineage, [*lineage[1:], None]):
            under[node.id] += 1
            children[parent.id if parent else None].add(node.id)
    learnt, todo = set(children[None]), list(children[None])
    while todo:
        parent = todo.pop()
        kept = sorted((c for c in children[parent] if under[c] >= minimum), key=lambda c: (-under[c], c))
        while kept and 0 < under[parent] - sum(under[c] for c in kept) < minimum:
            kept.pop()
        learnt.update(kept)
        todo.extend(kept)
    return learnt


def train_from_database(
    session: Session, *, label: str = "category", actor: str, activate_now: bool = True, request_key: str | None = None
) -> RouterModel:
    texts, labels = training_set_from_database(session, label=label)
    if not texts:
        raise InvalidInput("no_training_data", "数据库中没有可用于训练的已办结工单")
    level1 = None
    if label == "category":
        level1 = {c.code: c.root.code for c in session.scalars(select(Category).where(Category.code.in_(set(labels))))}
    trained = _train(texts, labels, level1=level1)
    kind = "unit" if label == "unit" else "category"
    note = {
        "category": "由已办结工单按问题分类训练（已办结工单足够多的细类单独学习）",
        "category_l1": "由已办结工单按问题一级分类训练",
        "unit": "由已办结工单按承办单位训练",
    }[label]
    return store_model(session, trained=trained, kind=kind, source="database", actor=actor, activate_now=activate_now, note=note, request_key=request_key)


def request_retrain(session: Session, *, label: str, actor: str) -> str:
    """Queues a training run from the database; returns the key that makes the job idempotent."""
    _check_label(label)
    from baishitong.jobs.models import OutboxJob
    from baishitong.jobs.service import enqueue

    # A second click while the first run is still waiting or training joins it: the same history would
    # make an identical second version. A run that failed or is long overdue is not joined.
    recent = utcnow() - timedelta(hours=1)
    waiting = select(OutboxJob).where(OutboxJob.name == "routing.retrain", OutboxJob.done_at.is_(None), OutboxJob.last_error.is_(None), OutboxJob.created_at >= recent)
    key = next((job.payload["request_key"] for job in session.scalars(waiting) if job.payload.get("label") == label), None)
    joined = key is not None
    if not joined:
        key = hashlib.sha256(f"{label}|{actor}|{utcnow().isoformat()}".encode()).hexdigest()[:32]
        enqueue(session, "routing.retrain", dedupe_key=f"routing.retrain:{key}", label=label, actor=actor, request_key=key)
    # Audited when asked, not only when a model is stored: a run that fails would otherwise leave no one's name.
    audit.record(session, actor=actor, action="routing.model.retrain_request", object_type="router_model", object_id=key, data={"label": label, "joined": joined})
    return key


def list_models(session: Session) -> list[RouterModel]:
    return list(session.scalars(select(RouterModel).order_by(RouterModel.id.desc())))


def get_model(session: Session, *, version: str) -> RouterModel:
    row = session.scalar(select(RouterModel).where(RouterModel.version == version))
    if row is None:
        raise NotFound("model_not_found", f"模型版本 {version} 不存在")
    return row


# Cross-validated macro-F1 moves by about this much between runs on the same history.
ACTIVATION_TOLERANCE = 0.02


def reason_not_to_replace(session: Session, *, candidate: RouterModel) -> str | None:
    """Why a freshly trained model should not silently replace the active one (None: it may).

    A unit model gives no category, so the catalogue could no longer route by category; a model that
    scores clearly worse than the active one would misroute more orders from the next call on.
    """
    active = session.scalar(select(RouterModel).where(RouterModel.active.is_(True), RouterModel.id != candidate.id))
    if active is None:
        return None
    if active.kind == "category" and candidate.kind != "category":
        return "按承办单位训练的模型不给出问题分类，启用后派单目录不能再按分类匹配规则"
    new, old = _comparable_f1(candidate), _comparable_f1(active)
    if old is not None and new is None:
        return f"样本太少，没有交叉验证结果（当前启用的 {active.version} 为 {old:.3f}）"
    if old is not None and new < old - ACTIVATION_TOLERANCE:
        return f"交叉验证 macro-F1 {new:.3f} 低于当前启用的 {active.version}（{old:.3f}）"
    return None


def _comparable_f1(model: RouterModel) -> float | None:
    """A model of sub-categories is compared at level 1: finer classes score lower without routing worse."""
    metrics = model.metrics or {}
    return metrics.get("cv_macro_f1_l1", metrics.get("cv_macro_f1"))


def activate(session: Session, *, version: str, actor: str) -> RouterModel:
    """Makes one version the active model (also to switch back to an earlier one)."""
    row = get_model(session, version=version)
    session.execute(update(RouterModel).where(RouterModel.id != row.id, RouterModel.active.is_(True)).values(active=False).execution_options(synchronize_session="fetch"))
    row.active = True
    session.flush()
    audit.record(session, actor=actor, action="routing.model.activate", object_type="router_model", object_id=version)
    return row


def model_out(m: RouterModel) -> dict:
    return {
        "version": m.version,
        "kind": m.kind,
        "source": m.source,
        "labels": m.labels,
        "metrics": m.metrics,
        "active": m.active,
        "note": m.note,
        "created_by": m.created_by,
        "created_at": m.created_at,
    }


# --- the catalogue ----------------------------------------------------------

# Priorities only order rules that tie otherwise; the bound keeps them inside a database integer.
PRIORITY_LIMIT = 9999
RULE_FIELDS = ("priority", "category_prefix", "region_code", "type", "keywords", "lead", "co_units", "active", "note")


def rule_out(r: RoutingRule) -> dict:
    return {"id": r.id, **{f: getattr(r, f) for f in RULE_FIELDS}}


def _write_catalogue(session: Session, *, rules: list[dict], actor: str, note: str | None) -> CatalogueVersion:
    number = (session.scalar(select(func.max(CatalogueVersion.version))) or 0) + 1
    edition = CatalogueVersion(version=number, digest="", note=note, created_by=actor)
    try:
        with session.begin_nested():
            session.add(edition)
            session.flush()
    except IntegrityError:
        raise Conflict("catalogue_changed", "派单目录刚刚已被修改（可能是您在其他窗口的操作或他人的操作），请刷新后重试") from None
    rows = [RoutingRule(catalogue_version=number, **{f: rule.get(f) for f in RULE_FIELDS if rule.get(f) is not None}) for rule in rules]
    session.add_all(rows)
    session.flush()
    edition.digest = hashlib.sha256(json.dumps([rule_out(r) for r in rows], sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    audit.record(session, actor=actor, action="routing.catalogue.save", object_type="routing_catalogue", object_id=str(number), data={"rules": len(rows), "note": note})
    return edition


def ensure_default_catalogue(session: Session) -> int:
    """Writes edition 1 from the default lead table if there is no catalogue yet; returns the rules written."""
    if session.scalar(select(func.count()).select_from(CatalogueVersion)):
        return 0
    rules = [{"category_prefix": r.category_prefix, "lead": r.lead, "keywords": list(r.keywords)} for r in catalogue.default_rules()]
    _write_catalogue(session, rules=rules, actor="system", note="默认派单目录")
    return len(rules)


def current_catalogue(session: Session) -> tuple[CatalogueVersion | None, list[RoutingRule]]:
    edition = session.scalar(select(CatalogueVersion).order_by(CatalogueVersion.version.desc()).limit(1))
    return edition, (list(edition.rules) if edition else [])


def _validate_rules(session: Session, rules: list[dict]) -> None:
    units = set(session.scalars(select(Unit.code)))
    categories = set(session.scalars(select(Category.code)))
    regions = set(session.scalars(select(Region.code)))
    for n, rule in enumerate(rules, start=1):
        lead = rule.get("lead")
        if lead != catalogue.TOWN and lead not in units:
            raise InvalidInput("invalid_rule", f"第 {n} 条规则：主办单位 {lead} 不存在")
        for code in rule.get("co_units") or ():
            if code != catalogue.TOWN and code not in units:
                raise InvalidInput("invalid_rule", f"第 {n} 条规则：协办单位 {code} 不存在")
        if rule.get("category_prefix") and rule["category_prefix"] not in categories:
            raise InvalidInput("invalid_rule", f"第 {n} 条规则：问题分类 {rule['category_prefix']} 不存在")
        if rule.get("region_code") and rule["region_code"] not in regions:
            raise InvalidInput("invalid_rule", f"第 {n} 条规则：区域 {rule['region_code']} 不存在")
        if rule.get("type") and rule["type"] not in TICKET_TYPES:
            raise InvalidInput("invalid_rule", f"第 {n} 条规则：诉求类型 {rule['type']} 无效")
        if not -PRIORITY_LIMIT <= int(rule.get("priority") or 0) <= PRIORITY_LIMIT:
            raise InvalidInput("invalid_rule", f"第 {n} 条规则：优先级应在 -{PRIORITY_LIMIT} 到 {PRIORITY_LIMIT} 之间")


def _rule_key(rule: dict) -> str:
    """A rule as stored, whatever the form or API left out, so an unchanged catalogue compares equal."""
    values = {f: None if rule.get(f) in (None, "", []) else rule.get(f) for f in RULE_FIELDS}
    values["priority"] = values["priority"] or 0
    values["active"] = True if values["active"] is None else values["active"]
    return json.dumps(values, sort_keys=True, ensure_ascii=False)


def replace_catalogue(session: Session, *, rules: list[dict], actor: str, note: str | None = None, base_version: int | None = None) -> CatalogueVersion:
    """A full replacement of the rule set, written as a new edition; earlier editions stay for the record.

    Saving the same rules again returns the current edition: a version should mark a change. With
    `base_version` (the edition the editor started from), a save on top of someone else's newer
    edition is refused, since replacing the whole set would silently undo their change.
    """
    if not rules:
        raise InvalidInput("empty_catalogue", "派单目录至少需要一条规则")
    _validate_rules(session, rules)
    edition, current = current_catalogue(session)
    if base_version is not None and edition is not None and edition.version != base_version:
        raise Conflict("catalogue_changed", f"派单目录已被修改为第 {edition.version} 版（可能是您在其他窗口的操作或他人的操作），本次修改未保存；请刷新页面，在最新版本上重新修改")
    if edition is not None and [_rule_key(r) for r in rules] == [_rule_key(rule_out(r)) for r in current]:
        return edition
    return _write_catalogue(session, rules=rules, actor=actor, note=note)
