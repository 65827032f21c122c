"""Duplicate detection at intake (并单建议): open orders about the same matter, nearby, recently.

Candidates come from one SQL query on the open statuses and the time window
(served by ix_tickets_status_created), narrowed to the same community, its town
or a bounding box around the point. They are then scored in Python by a cosine
over IDF-weighted sets of character bigrams (Han characters, ASCII letters and digits), with the IDF taken from the
candidate pool itself: terms every nearby order shares (the community's own name,
"反映", "问题") weigh little, the matter's specific terms weigh a lot. Place names
of the query's town and community are removed first, since every candidate in
the pool shares them by construction.

Bigrams rather than jieba words: segmenting a few hundred candidates costs about
0.5 ms each, far over the 20 ms budget, while bigrams cost a few microseconds and
catch the same near-duplicates (see bench/duplicates.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from baishitong.db import utcnow
from baishitong.org import service as org
from baishitong.org.models import Region
from baishitong.points.geo import haversine_m
from baishitong.text.bigrams import distinct_bigrams
from baishitong.tickets.models import Ticket
from baishitong.tickets.states import OPEN_STATUSES

THRESHOLD = 0.25
# Duplicates announce their matter early; the tail of a long complaint is mostly narrative.
CONTENT_CHARS = 200
# Enough for any realistic community-month; the newest are kept when a pool overflows.
MAX_POOL = 1000
# Pseudo-documents in the IDF: a pool of two cannot tell rare from common, so small pools score near plain cosine.
IDF_PRIOR = 10
_NEUTRAL_PLACES = ("广东省", "佛山市", "顺德区", "广东", "佛山", "顺德")
_SUFFIXES = ("社区居委会", "村民委员会", "居民委员会", "街道办事处", "社区", "村委会", "居委会", "街道", "村", "镇")
_M_PER_DEG_LAT = 111_320.0


@dataclass
class Candidate:
    number: str
    title: str
    status: str
    created_at: datetime
    region: str | None
    distance_m: float | None
    similarity: float
    reasons: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "number": self.number,
            "title": self.title,
            "status": self.status,
            "created_at": self.created_at,
            "region": self.region,
            "distance_m": self.distance_m,
            "similarity": self.similarity,
            "reasons": self.reasons,
            "merge": {"action": "merge", "into": self.number},
        }


def place_words(*regions: Region | None) -> tuple[str, ...]:
    """Names by which a text may mention these regions, longest first, so a longer name is removed whole."""
    names: set[str] = set(_NEUTRAL_PLACES)
    for r in regions:
        if r is None:
            continue
        for name in (r.name, r.short_name, *(r.aliases or ())):
            names.add(name)
            for suffix in _SUFFIXES:
                if name.endswith(suffix) and len(name) - len(suffix) >= 2:
                    names.add(name[: -len(suffix)])
    return tuple(sorted((n for n in names if len(n) >= 2), key=len, reverse=True))


def strip_places(text: str, places: tuple[str, ...]) -> str:
    for name in places:
        if name in text:
            text = text.replace(name, "，")
    return text


def ticket_text(title: str | None, content: str) -> str:
    return f"{title or ''}。{content[:CONTENT_CHARS]}"


def similarities(query: str, documents: list[str], places: tuple[str, ...] = ()) -> list[float]:
    """Cosine in [0, 1] between the query and each document over their distinct character bigrams,
    weighted by IDF over the pool (query included), smoothed by IDF_PRIOR.

    Vectorised over code points (text/bigrams.py): one sort yields the distinct bigrams per document
    and each bigram's document frequency. A thousand candidates take a few milliseconds.
    """
    if not documents:
        return []
    n = len(documents) + 1
    owner, term = distinct_bigrams([strip_places(t, places).lower() for t in (query, *documents)])
    if not len(term):
        return [0.0] * len(documents)
    starts = np.flatnonzero(np.r_[True, term[1:] != term[:-1]])
    df = np.diff(np.r_[starts, len(term)])
    group = np.repeat(np.arange(len(starts)), df)
    weight = (np.log((n + IDF_PRIOR) / (df + IDF_PRIOR)) + 1)[group] ** 2
    norms = np.sqrt(np.bincount(owner, weights=weight, minlength=n))
    in_query = np.zeros(len(starts), dtype=bool)
    in_query[group[owner == 0]] = True
    dot = np.bincount(owner, weights=weight * in_query[group], minlength=n)
    if norms[0] == 0:
        return [0.0] * len(documents)
    sims = np.divide(dot[1:], norms[0] * norms[1:], out=np.zeros(n - 1), where=norms[1:] > 0)
    return np.minimum(sims, 1.0).tolist()


def _town_of(region: Region | None) -> Region | None:
    if region is None:
        return None
    return region if region.kind == "town" else region.parent


def find_duplicates(
    session: Session,
    *,
    text: str,
    title: str | None = None,
    region_code: str | None = None,
    lat: float | None = None,
    lon: float | None = None,
    exclude_number: str | None = None,
    window_days: int = 30,
    radius_m: float = 1000,
    limit: int = 5,
    threshold: float = THRESHOLD,
    at: datetime | None = None,
) -> list[Candidate]:
    """Open orders within `window_days` of `at` (default now) in the same community or town, or within
    `radius_m` of the point (the given one, else the community's centroid), whose text is similar enough.

    With neither a region nor a point there is no "same place" to compare, so nothing is returned.
    """
    region = org.get_region(session, code=region_code) if region_code else None
    community = region if region is not None and region.kind != "town" else None
    town = _town_of(region)
    point = (lat, lon) if lat is not None and lon is not None else None
    if point is None and community is not None and community.lat is not None and community.lon is not None:
        point = (community.lat, community.lon)
    if town is None and point is None:
        return []

    at = at or utcnow()
    place = []
    if community is not None:
        place.append(Ticket.region_id.in_([community.id, town.id] if town else [community.id]))
    elif town is not None:
        place.append(or_(Ticket.region_id == town.id, Ticket.region_id.in_(select(Region.id).where(Region.parent_id == town.id))))
    if point is not None:
        dlat = radius_m / _M_PER_DEG_LAT
        dlon = radius_m / (_M_PER_DEG_LAT * max(math.cos(math.radians(point[0])), 0.01))
        lat_in, lon_in = (point[0] - dlat, point[0] + dlat), (point[1] - dlon, point[1] + dlon)
        nearby = select(Region.id).where(Region.kind != "town", Region.lat.between(*lat_in), Region.lon.between(*lon_in))
        place.append(and_(Ticket.lat.between(*lat_in), Ticket.lon.between(*lon_in)))
        place.append(and_(Ticket.lat.is_(None), Ticket.region_id.in_(nearby)))

    where_region = aliased(Region)
    query = (
        select(
            Ticket.number,
            Ticket.title,
            func.substr(Ticket.content, 1, CONTENT_CHARS).label("content"),
            Ticket.status,
            Ticket.created_at,
            Ticket.lat,
            Ticket.lon,
            Ticket.region_id,
            where_region.short_name.label("region_name"),
            where_region.kind.label("region_kind"),
            where_region.parent_id.label("region_parent_id"),
            where_region.lat.label("region_lat"),
            where_region.lon.label("region_lon"),
        )
        .outerjoin(where_region, where_region.id == Ticket.region_id)
        .where(
            Ticket.status.in_([s.value for s in OPEN_STATUSES]),
            Ticket.created_at >= at - timedelta(days=window_days),
            Ticket.created_at <= at + timedelta(days=window_days),
            or_(*place),
        )
        .order_by(Ticket.created_at.desc())
        .limit(MAX_POOL)
    )
    if exclude_number:
        query = query.where(Ticket.number != exclude_number)

    pool = []
    for row in session.execute(query):
        distance = None
        if point is not None:
            if row.lat is not None and row.lon is not None:
                distance = haversine_m(point[0], point[1], row.lat, row.lon)
            elif row.region_kind != "town" and row.region_lat is not None and row.region_lon is not None:
                distance = haversine_m(point[0], point[1], row.region_lat, row.region_lon)
        same_community = community is not None and row.region_id == community.id
        # With a community known, a sibling community is "the same town" only by being near.
        same_town = town is not None and (row.region_id == town.id or (community is None and row.region_parent_id == town.id))
        near = distance is not None and distance <= radius_m
        if same_community or same_town or near:
            pool.append((row, distance, same_community, same_town, near))
    if not pool:
        return []

    places = place_words(community, town)
    scores = similarities(ticket_text(title, text), [ticket_text(r.title, r.content) for r, *_ in pool], places)
    found = []
    for (row, distance, same_community, same_town, near), score in zip(pool, scores):
        if score < threshold:
            continue
        reasons = []
        if same_community:
            reasons.append("同一社区")
        elif same_town:
            reasons.append("同一镇街")
        if near:
            reasons.append(f"相距 {distance:.0f} 米")
        reasons.append(f"内容相似度 {score:.0%}")  # the raw score is `similarity`
        found.append(
            Candidate(
                number=row.number,
                title=row.title,
                status=row.status,
                created_at=row.created_at,
                region=row.region_name,
                distance_m=round(distance, 1) if distance is not None else None,
                similarity=round(score, 4),
                reasons=reasons,
            )
        )
    found.sort(key=lambda c: (-c.similarity, -c.created_at.timestamp()))
    return found[:limit]


def duplicates_of(session: Session, *, ticket: Ticket, window_days: int = 30, radius_m: float = 1000, limit: int = 5) -> list[Candidate]:
    """Open orders that look like the same matter as an existing ticket, within the window around its intake."""
    return find_duplicates(
        session,
        text=ticket.content,
        title=ticket.title,
        region_code=ticket.region.code if ticket.region else None,
        lat=ticket.lat,
        lon=ticket.lon,
        exclude_number=ticket.number,
        window_days=window_days,
        radius_m=radius_m,
        limit=limit,
        at=ticket.created_at,
    )
