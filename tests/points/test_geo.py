import math
import random

import pytest

from baishitong.points.geo import EARTH_RADIUS_M, PointIndex, brute_nearest, haversine_m


def test_haversine_known_distances() -> None:
    one_degree = EARTH_RADIUS_M * math.pi / 180
    assert haversine_m(0, 0, 1, 0) == pytest.approx(one_degree)
    assert haversine_m(0, 0, 0, 1) == pytest.approx(one_degree)
    # 0.009° of latitude in Daliang is just over a kilometre.
    assert haversine_m(22.84, 113.25, 22.849, 113.25) == pytest.approx(1000.76, abs=0.05)
    # Beijing to Shanghai, about 1067 km.
    assert haversine_m(39.9042, 116.4074, 31.2304, 121.4737) == pytest.approx(1_067_000, abs=3000)
    assert haversine_m(0, 0, 0, 180) == pytest.approx(math.pi * EARTH_RADIUS_M)
    assert haversine_m(22.8, 113.2, 22.8, 113.2) == 0.0


def test_haversine_symmetric() -> None:
    assert haversine_m(22.7, 113.1, 22.9, 113.3) == pytest.approx(haversine_m(22.9, 113.3, 22.7, 113.1))


def _same(a: list[tuple[int, float]], b: list[tuple[int, float]]) -> None:
    assert [k for k, _ in a] == [k for k, _ in b]
    assert all(x[1] == pytest.approx(y[1], abs=1e-6) for x, y in zip(a, b))


@pytest.mark.parametrize("n", [1, 7, 200, 3000])
def test_nearest_matches_brute_force(n: int) -> None:
    rng = random.Random(n)
    items = [(i, rng.uniform(22.69, 23.0), rng.uniform(113.03, 113.32)) for i in range(n)]
    index = PointIndex(items)
    for _ in range(150):
        # Some queries fall outside the points' bounding box on purpose.
        lat, lon = rng.uniform(22.5, 23.2), rng.uniform(112.9, 113.5)
        limit = rng.choice([1, 3, 10, 40])
        _same(index.nearest(lat, lon, limit=limit), brute_nearest(items, lat, lon, limit=limit))


def test_radius_and_predicate_match_brute_force() -> None:
    rng = random.Random(99)
    items = [(i, rng.uniform(22.69, 23.0), rng.uniform(113.03, 113.32)) for i in range(2000)]
    index = PointIndex(items)

    def even(k: int) -> bool:
        return k % 2 == 0

    for _ in range(150):
        lat, lon = rng.uniform(22.6, 23.1), rng.uniform(113.0, 113.4)
        radius = rng.choice([0.0, 300.0, 2000.0, 8000.0])
        limit = rng.choice([None, 1, 5])
        pred = rng.choice([None, even])
        got = index.nearest(lat, lon, radius_m=radius, limit=limit, predicate=pred)
        _same(got, brute_nearest(items, lat, lon, radius_m=radius, limit=limit, predicate=pred))
        assert all(d <= radius for _, d in got)
        if pred:
            assert all(k % 2 == 0 for k, _ in got)


def test_predicate_called_lazily() -> None:
    items = [(i, 22.8 + i * 1e-4, 113.2) for i in range(500)]
    calls: list[int] = []
    index = PointIndex(items)

    def pred(k: int) -> bool:
        calls.append(k)
        return True

    assert [k for k, _ in index.nearest(22.8, 113.2, limit=3, predicate=pred)] == [0, 1, 2]
    assert len(calls) < 50


def test_ties_keep_insertion_order_and_duplicates() -> None:
    items = [("b", 22.8, 113.2), ("a", 22.8, 113.2), ("c", 22.81, 113.2)]
    index = PointIndex(items)
    assert [k for k, _ in index.nearest(22.8, 113.2, limit=2)] == ["b", "a"]
    assert index.nearest(22.8, 113.2, limit=None, radius_m=1) == [("b", 0.0), ("a", 0.0)]


def test_edge_cases() -> None:
    assert PointIndex([]).nearest(22.8, 113.2) == []
    index = PointIndex([("x", 22.8, 113.2)])
    assert index.nearest(22.8, 113.2, limit=0) == []
    assert index.nearest(22.8, 113.2, radius_m=-1) == []
    assert index.nearest(40.0, -70.0)[0][0] == "x"
    assert len(index) == 1
    with pytest.raises(ValueError):
        PointIndex([("bad", 91.0, 0.0)])


def test_antimeridian_points_fall_back_to_exact_scan() -> None:
    items = [("east", 0.0, 179.9), ("west", 0.0, -179.9), ("far", 0.0, 100.0)]
    index = PointIndex(items)
    assert [k for k, _ in index.nearest(0.0, -179.95, limit=2)] == ["west", "east"]
