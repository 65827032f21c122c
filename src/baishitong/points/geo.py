"""Great-circle distances and a nearest-point index for service points.

The index is a uniform lat/lon grid stored CSR-style in numpy arrays: a query
gathers a block of cells (one contiguous slice per grid row), measures exact
haversine distances for the candidates at once, and widens the block until a
provable lower bound on the distance to anything outside it settles the answer.
That keeps results identical to brute force while touching only nearby points.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Generic, TypeVar

import numpy as np

EARTH_RADIUS_M = 6371008.8  # IUGG mean radius

K = TypeVar("K", bound=Hashable)

_TARGET_PER_CELL = 4.0
_MAX_CELLS_PER_SIDE = 1024
_MIN_CELL_DEG = 1e-4  # ~11 m; stops degenerate grids when all points coincide


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres on a sphere of radius EARTH_RADIUS_M."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def haversine_many_m(lat: float, lon: float, lats: np.ndarray, lons: np.ndarray) -> np.ndarray:
    """Vectorised haversine from one location to arrays of locations (degrees)."""
    p1 = math.radians(lat)
    p2 = np.radians(lats)
    a = np.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * np.cos(p2) * np.sin(np.radians(lons - lon) / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(a)))


class PointIndex(Generic[K]):
    """Static nearest-neighbour index over (key, lat, lon) triples."""

    def __init__(self, items: Iterable[tuple[K, float, float]]):
        rows = list(items)
        self._keys: list[K] = [k for k, _, _ in rows]
        lats = np.fromiter((float(r[1]) for r in rows), dtype=np.float64, count=len(rows))
        lons = np.fromiter((float(r[2]) for r in rows), dtype=np.float64, count=len(rows))
        if len(rows) and (np.any(np.abs(lats) > 90) or np.any(np.abs(lons) > 180)):
            raise ValueError("坐标超出范围：纬度须在 ±90°、经度须在 ±180° 之内")
        n = len(rows)
        if n:
            self._lat0, self._lon0 = float(lats.min()), float(lons.min())
            lat_span = float(lats.max()) - self._lat0
            lon_span = float(lons.max()) - self._lon0
        else:
            self._lat0 = self._lon0 = 0.0
            lat_span = lon_span = 0.0
        # Points straddling the antimeridian would break the grid's lower bound; scan them all instead.
        self._brute = lon_span > 180.0
        # Square-ish cells in metres, sized for a handful of points each.
        mid_cos = max(0.01, math.cos(math.radians(self._lat0 + lat_span / 2)))
        area = max(lat_span, _MIN_CELL_DEG) * max(lon_span * mid_cos, _MIN_CELL_DEG)
        cell = max(_MIN_CELL_DEG, math.sqrt(area * _TARGET_PER_CELL / max(n, 1)))
        self._dlat = max(cell, lat_span / _MAX_CELLS_PER_SIDE)
        self._dlon = max(cell / mid_cos, lon_span / _MAX_CELLS_PER_SIDE)
        self._nrows = int(lat_span / self._dlat) + 1
        self._ncols = int(lon_span / self._dlon) + 1
        rows_i = np.minimum(((lats - self._lat0) / self._dlat).astype(np.int64), self._nrows - 1)
        cols_i = np.minimum(((lons - self._lon0) / self._dlon).astype(np.int64), self._ncols - 1)
        cell_id = rows_i * self._ncols + cols_i
        order = np.argsort(cell_id, kind="stable")
        self._order = order
        self._offsets = np.searchsorted(cell_id[order], np.arange(self._nrows * self._ncols + 1))
        self._lats = lats
        self._lons = lons
        self._cell_m = min(self._dlat, self._dlon * mid_cos) * math.pi / 180 * EARTH_RADIUS_M

    def __len__(self) -> int:
        return len(self._keys)

    def nearest(
        self,
        lat: float,
        lon: float,
        *,
        radius_m: float | None = None,
        limit: int | None = 10,
        predicate: Callable[[K], bool] | None = None,
    ) -> list[tuple[K, float]]:
        """Closest keys with their distances, nearest first (ties by insertion order).

        radius_m keeps only points within that distance; limit=None returns all
        matches (then give a radius unless you want the whole set); predicate is
        called lazily, nearest first, and only as often as needed.
        """
        if (limit is not None and limit <= 0) or not self._keys:
            return []
        if radius_m is not None and radius_m < 0:
            return []
        if self._brute:
            idx = np.arange(len(self._keys))
            dist = haversine_many_m(lat, lon, self._lats, self._lons)
            return self._select(idx, dist, radius_m, limit, predicate, {})[0]
        qi = min(max(int(math.floor((lat - self._lat0) / self._dlat)), 0), self._nrows - 1)
        qj = min(max(int(math.floor((lon - self._lon0) / self._dlon)), 0), self._ncols - 1)
        want = limit if limit is not None else len(self._keys)
        half = max(1, math.ceil(math.sqrt(want / _TARGET_PER_CELL) / 2))
        if radius_m is not None:
            half = min(half, math.ceil(radius_m / self._cell_m) + 1)
        verdicts: dict[int, bool] = {}
        while True:
            i0, i1 = max(qi - half, 0), min(qi + half, self._nrows - 1)
            j0, j1 = max(qj - half, 0), min(qj + half, self._ncols - 1)
            idx = self._gather(i0, i1, j0, j1)
            dist = haversine_many_m(lat, lon, self._lats[idx], self._lons[idx])
            bound = self._outside_bound(lat, lon, i0, i1, j0, j1)
            found, complete = self._select(idx, dist, radius_m, limit, predicate, verdicts, bound)
            if complete or math.isinf(bound):
                return found
            half *= 2

    def _gather(self, i0: int, i1: int, j0: int, j1: int) -> np.ndarray:
        starts = self._offsets[np.arange(i0, i1 + 1) * self._ncols + j0]
        ends = self._offsets[np.arange(i0, i1 + 1) * self._ncols + j1 + 1]
        return np.concatenate([self._order[s:e] for s, e in zip(starts.tolist(), ends.tolist()) if e > s] or [self._order[:0]])

    def _outside_bound(self, lat: float, lon: float, i0: int, i1: int, j0: int, j1: int) -> float:
        """Lower bound (m) on the distance from the query to any point outside the block."""
        bound = math.inf
        phi = math.radians(lat)
        if i0 > 0:
            bound = min(bound, math.radians(lat - (self._lat0 + i0 * self._dlat)))
        if i1 < self._nrows - 1:
            bound = min(bound, math.radians(self._lat0 + (i1 + 1) * self._dlat - lat))
        # Distance to the meridian |dlon| away is asin(cos(phi) * sin(dlon)); capped at 90° it stays a bound.
        for edge_deg, on in ((lon - (self._lon0 + j0 * self._dlon), j0 > 0), (self._lon0 + (j1 + 1) * self._dlon - lon, j1 < self._ncols - 1)):
            if on:
                dl = min(max(math.radians(edge_deg), 0.0), math.pi / 2)
                bound = min(bound, math.asin(min(1.0, math.cos(phi) * math.sin(dl))))
        if math.isinf(bound):
            return bound
        # A hair of slack absorbs float rounding in the cell assignment.
        return max(bound * EARTH_RADIUS_M - 1e-6, 0.0)

    def _select(
        self,
        idx: np.ndarray,
        dist: np.ndarray,
        radius_m: float | None,
        limit: int | None,
        predicate: Callable[[K], bool] | None,
        verdicts: dict[int, bool],
        bound: float = math.inf,
    ) -> tuple[list[tuple[K, float]], bool]:
        """Accept candidates nearest first; report whether the answer is final under `bound`."""
        if radius_m is not None:
            keep = dist <= radius_m
            idx, dist = idx[keep], dist[keep]
        if limit is not None and predicate is None and len(idx) > limit:
            # Keep every tie with the limit-th distance so insertion order decides among them.
            kth = np.partition(dist, limit - 1)[limit - 1]
            keep = dist <= kth
            idx, dist = idx[keep], dist[keep]
        ranked = np.lexsort((idx, dist))
        found: list[tuple[K, float]] = []
        for pos in ranked.tolist():
            d = float(dist[pos])
            if d > bound:
                return found, False
            i = int(idx[pos])
            if predicate is not None:
                ok = verdicts.get(i)
                if ok is None:
                    ok = verdicts[i] = bool(predicate(self._keys[i]))
                if not ok:
                    continue
            found.append((self._keys[i], d))
            if limit is not None and len(found) >= limit:
                return found, True
        # Everything within the radius is inside the block once the bound passes the radius.
        return found, radius_m is not None and radius_m <= bound


def brute_nearest(
    items: Sequence[tuple[K, float, float]],
    lat: float,
    lon: float,
    *,
    radius_m: float | None = None,
    limit: int | None = 10,
    predicate: Callable[[K], bool] | None = None,
) -> list[tuple[K, float]]:
    """Reference answer for tests and benchmarks: scan every point."""
    scored = [(haversine_m(lat, lon, la, lo), n, k) for n, (k, la, lo) in enumerate(items)]
    scored.sort(key=lambda t: (t[0], t[1]))
    out = [(k, d) for d, _, k in scored if (radius_m is None or d <= radius_m) and (predicate is None or predicate(k))]
    return out if limit is None else out[:limit]
