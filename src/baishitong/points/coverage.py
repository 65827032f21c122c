"""How well the service-point network reaches communities, and where to add points.

The district's goal is a doorstep service point within 2 km of every resident;
the community centroid stands in for its residents. Communities and points may be
mappings (gazetteer/demo dicts) or objects with the same attributes (ORM rows):
communities need code, name, lat, lon (town_code optional); points need code,
lat, lon.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from baishitong.points.geo import EARTH_RADIUS_M, PointIndex, haversine_many_m

TARGET_RADIUS_M = 2000.0


def _get(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    return getattr(obj, name, default)


def communities_from_gazetteer(gazetteer: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Flatten the gazetteer's towns into community dicts that carry their town."""
    return [
        {**c, "town_code": t["code"], "town_name": t["name"]}
        for t in gazetteer["towns"]
        for c in t["communities"]
    ]


@dataclass(frozen=True, slots=True)
class CommunityCoverage:
    code: str
    name: str
    town_code: str | None
    lat: float
    lon: float
    nearest_point: str | None
    distance_m: float  # math.inf when there are no points
    covered: bool


@dataclass(frozen=True, slots=True)
class CoverageReport:
    radius_m: float
    communities: tuple[CommunityCoverage, ...]

    @property
    def uncovered(self) -> list[CommunityCoverage]:
        """Gaps, farthest from any point first."""
        return sorted((c for c in self.communities if not c.covered), key=lambda c: (-c.distance_m, c.code))

    @property
    def covered_count(self) -> int:
        return sum(c.covered for c in self.communities)

    @property
    def ratio(self) -> float:
        return self.covered_count / len(self.communities) if self.communities else 1.0

    def by_code(self) -> dict[str, CommunityCoverage]:
        return {c.code: c for c in self.communities}

    def by_town(self) -> dict[str | None, tuple[int, int]]:
        """(covered, total) per town code, in first-seen order."""
        out: dict[str | None, tuple[int, int]] = {}
        for c in self.communities:
            covered, total = out.get(c.town_code, (0, 0))
            out[c.town_code] = (covered + c.covered, total + 1)
        return out


def compute_coverage(
    communities: Iterable[Any], points: Iterable[Any], *, radius_m: float = TARGET_RADIUS_M
) -> CoverageReport:
    """Nearest point and covered flag for every community (covered = within radius_m)."""
    index: PointIndex[str] = PointIndex((str(_get(p, "code")), float(_get(p, "lat")), float(_get(p, "lon"))) for p in points)
    rows: list[CommunityCoverage] = []
    for c in communities:
        lat, lon = float(_get(c, "lat")), float(_get(c, "lon"))
        hit = index.nearest(lat, lon, limit=1)
        key, dist = hit[0] if hit else (None, math.inf)
        rows.append(
            CommunityCoverage(
                code=str(_get(c, "code")),
                name=str(_get(c, "name")),
                town_code=_get(c, "town_code"),
                lat=lat,
                lon=lon,
                nearest_point=key,
                distance_m=dist,
                covered=dist <= radius_m,
            )
        )
    return CoverageReport(radius_m=radius_m, communities=tuple(rows))


@dataclass(frozen=True, slots=True)
class SiteSuggestion:
    lat: float
    lon: float
    closes: int  # gaps this site closes on top of the earlier suggestions
    community_codes: tuple[str, ...]
    anchor_code: str | None  # the community whose centroid is the site, if any
    anchor_name: str | None
    town_code: str | None


def _grid_candidates(gaps: Sequence[CommunityCoverage], radius_m: float, step_m: float) -> list[tuple[float, float]]:
    lat_min = min(c.lat for c in gaps)
    lat_max = max(c.lat for c in gaps)
    lon_min = min(c.lon for c in gaps)
    lon_max = max(c.lon for c in gaps)
    dlat = math.degrees(step_m / EARTH_RADIUS_M)
    dlon = dlat / max(0.01, math.cos(math.radians((lat_min + lat_max) / 2)))
    pad = math.ceil(radius_m / step_m)
    lats = lat_min + dlat * np.arange(-pad, math.ceil((lat_max - lat_min) / dlat) + pad + 1)
    lons = lon_min + dlon * np.arange(-pad, math.ceil((lon_max - lon_min) / dlon) + pad + 1)
    return [(float(a), float(o)) for a in lats for o in lons]


def suggest_sites(
    communities: Iterable[Any],
    points: Iterable[Any],
    *,
    radius_m: float = TARGET_RADIUS_M,
    k: int = 5,
    candidates: Literal["communities", "grid"] = "communities",
    grid_step_m: float = 500.0,
) -> list[SiteSuggestion]:
    """Greedy max-coverage: up to k new sites, each closing the most remaining gaps.

    Candidate sites are community centroids (real places staff can visit) or a
    regular grid over the gaps (finds spots between villages). Greedy is within
    1 - 1/e of optimal and, unlike an exact solver, explains itself pick by pick.
    Stops early once no candidate closes another gap.
    """
    community_list = list(communities)
    report = compute_coverage(community_list, points, radius_m=radius_m)
    gaps = [c for c in report.communities if not c.covered]
    if not gaps or k <= 0:
        return []
    anchors: list[CommunityCoverage | None]
    if candidates == "communities":
        sites = [(c.lat, c.lon) for c in report.communities]
        anchors = list(report.communities)
    elif candidates == "grid":
        sites = _grid_candidates(gaps, radius_m, grid_step_m)
        anchors = [None] * len(sites)
    else:
        raise ValueError(f"未知的候选点类型“{candidates}”，应为 communities 或 grid")
    gap_lats = np.array([g.lat for g in gaps])
    gap_lons = np.array([g.lon for g in gaps])
    dist = np.stack([haversine_many_m(lat, lon, gap_lats, gap_lons) for lat, lon in sites])
    reach = dist <= radius_m  # candidate x gap
    open_gaps = np.ones(len(gaps), dtype=bool)
    out: list[SiteSuggestion] = []
    for _ in range(k):
        gains = (reach & open_gaps).sum(axis=1)
        # Ties go to the site nearer to the gaps it closes, then to candidate order.
        spread = np.where(reach & open_gaps, dist, 0.0).sum(axis=1)
        best = int(np.lexsort((np.arange(len(sites)), spread, -gains))[0])
        if gains[best] == 0:
            break
        closed = np.flatnonzero(reach[best] & open_gaps)
        open_gaps[closed] = False
        anchor = anchors[best]
        nearest_gap = gaps[int(closed[np.argmin(dist[best, closed])])]
        out.append(
            SiteSuggestion(
                lat=sites[best][0],
                lon=sites[best][1],
                closes=int(gains[best]),
                community_codes=tuple(gaps[i].code for i in closed),
                anchor_code=anchor.code if anchor else None,
                anchor_name=anchor.name if anchor else None,
                town_code=anchor.town_code if anchor else nearest_gap.town_code,
            )
        )
    return out
