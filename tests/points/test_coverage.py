import json
import math
import xml.etree.ElementTree as ET
from collections import Counter
from importlib import resources
from typing import Any

import pytest

from baishitong.points import KIND_LABELS, POINT_KINDS
from baishitong.points.coverage import communities_from_gazetteer, compute_coverage, suggest_sites
from baishitong.points.demo import BANK_BRANCH_COUNT, demo_points
from baishitong.points.geo import haversine_m
from baishitong.points.hours import format_hours, parse_hours
from baishitong.points.mapsvg import render_map

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def gazetteer() -> dict[str, Any]:
    return json.loads(resources.files("baishitong.data").joinpath("gazetteer.json").read_text("utf-8"))


@pytest.fixture(scope="module")
def communities(gazetteer: dict[str, Any]) -> list[dict[str, Any]]:
    return communities_from_gazetteer(gazetteer)


@pytest.fixture(scope="module")
def points(gazetteer: dict[str, Any]) -> list[dict[str, Any]]:
    return demo_points(gazetteer)


def staffed(points: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [p for p in points if p["kind"] != "self_service"]


def _c(code: str, lat: float, lon: float, town: str = "T") -> dict[str, Any]:
    return {"code": code, "name": f"{code}社区", "lat": lat, "lon": lon, "town_code": town}


# Roughly 1.11 km per 0.01° of latitude.
TOY_COMMUNITIES = [
    _c("A", 22.80, 113.20),
    _c("B", 22.81, 113.20),
    _c("C", 22.90, 113.20),
    _c("D", 22.91, 113.20),
    _c("E", 22.92, 113.20),
    _c("F", 22.70, 113.20, "U"),
]
TOY_POINTS = [{"code": "P1", "lat": 22.805, "lon": 113.20}]


def test_coverage_distances_and_flags() -> None:
    report = compute_coverage(TOY_COMMUNITIES, TOY_POINTS)
    by_code = report.by_code()
    assert by_code["A"].covered and by_code["B"].covered
    assert by_code["A"].nearest_point == "P1"
    assert by_code["A"].distance_m == pytest.approx(haversine_m(22.80, 113.20, 22.805, 113.20))
    assert [c.code for c in report.uncovered] == ["E", "D", "F", "C"]
    assert report.covered_count == 2
    assert report.ratio == pytest.approx(2 / 6)
    assert report.by_town() == {"T": (2, 5), "U": (0, 1)}
    assert compute_coverage(TOY_COMMUNITIES, TOY_POINTS, radius_m=20_000).ratio == 1.0


def test_coverage_without_points_and_with_objects() -> None:
    report = compute_coverage(TOY_COMMUNITIES, [])
    assert report.covered_count == 0
    assert all(math.isinf(c.distance_m) and c.nearest_point is None for c in report.communities)

    class Row:
        code, lat, lon = "R1", 22.90, 113.20

    assert compute_coverage(TOY_COMMUNITIES, [Row()]).by_code()["D"].nearest_point == "R1"


def test_suggest_sites_closes_gaps_greedily() -> None:
    picks = suggest_sites(TOY_COMMUNITIES, TOY_POINTS, radius_m=2000, k=5)
    # D covers C, D and E; then F alone is left; then nothing more to gain.
    assert [(p.anchor_code, p.closes) for p in picks] == [("D", 3), ("F", 1)]
    assert set(picks[0].community_codes) == {"C", "D", "E"}
    assert picks[1].town_code == "U"
    new_points = TOY_POINTS + [{"code": f"N{i}", "lat": p.lat, "lon": p.lon} for i, p in enumerate(picks)]
    assert compute_coverage(TOY_COMMUNITIES, new_points).ratio == 1.0
    assert suggest_sites(TOY_COMMUNITIES, TOY_POINTS, k=0) == []
    assert suggest_sites(TOY_COMMUNITIES, new_points, k=3) == []


def test_suggest_sites_grid_candidates() -> None:
    picks = suggest_sites(TOY_COMMUNITIES, TOY_POINTS, k=2, candidates="grid", grid_step_m=250)
    assert [p.closes for p in picks] == [3, 1]
    assert picks[0].anchor_code is None and picks[0].town_code == "T"
    with pytest.raises(ValueError):
        suggest_sites(TOY_COMMUNITIES, TOY_POINTS, candidates="hexes")  # type: ignore[arg-type]


def test_demo_network_counts_and_fields(gazetteer: dict[str, Any], points: list[dict[str, Any]]) -> None:
    kinds = Counter(p["kind"] for p in points)
    assert kinds == {"bank_branch": BANK_BRANCH_COUNT, "town_centre": 10, "district_hall": 1, "self_service": 20}
    assert set(kinds) == set(POINT_KINDS) == set(KIND_LABELS)
    assert len({p["code"] for p in points}) == len(points)
    assert len({p["name"] for p in points}) == len(points)
    town_codes = {t["code"] for t in gazetteer["towns"]}
    for p in points:
        assert p["town_code"] in town_codes
        assert format_hours(parse_hours(p["hours"])) == p["hours"]
        assert p["phone"].startswith("0757-2") and len(p["phone"]) == 13
        assert 22.6 < p["lat"] < 23.1 and 112.9 < p["lon"] < 113.4
        assert p["address"].endswith("号")
    banks = [p for p in points if p["kind"] == "bank_branch"]
    assert all(2 <= p["staff"] <= 3 for p in banks)
    assert all(p["code"].startswith("MKB-") for p in banks)
    assert {"广东顺德农村商业银行", "中国工商银行", "中国建设银行", "中国农业银行", "中国银行", "中国邮政储蓄银行"} <= {p["host"] for p in banks}
    assert [p["name"] for p in points if p["kind"] == "district_hall"] == ["顺德区行政服务中心"]
    assert "容桂街道行政服务中心" in {p["name"] for p in points}
    # Branches follow community counts: the biggest towns get the most.
    per_town = Counter(p["town_code"] for p in banks)
    for t in gazetteer["towns"]:
        assert abs(per_town[t["code"]] - BANK_BRANCH_COUNT * len(t["communities"]) / 206) < 1


def test_demo_is_deterministic(gazetteer: dict[str, Any], points: list[dict[str, Any]]) -> None:
    assert demo_points(gazetteer) == points


def test_demo_leaves_a_few_realistic_gaps(communities: list[dict[str, Any]], points: list[dict[str, Any]]) -> None:
    report = compute_coverage(communities, staffed(points))
    assert 0.9 <= report.ratio < 1.0
    assert 3 <= len(report.uncovered) <= 20
    picks = suggest_sites(communities, staffed(points), k=3)
    assert picks and sum(p.closes for p in picks) >= 3


def test_render_map_is_wellformed_with_chinese_labels(
    gazetteer: dict[str, Any], communities: list[dict[str, Any]], points: list[dict[str, Any]]
) -> None:
    report = compute_coverage(communities, staffed(points))
    svg = render_map(gazetteer["towns"], communities, points, report, circles=True)
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    texts = "".join("".join(t.itertext()) for t in root.iter(f"{SVG}text"))
    for label in ("容桂", "大良", "均安", "图例", "未覆盖村居", *KIND_LABELS.values()):
        assert label in texts
    assert f"{report.covered_count}/{len(communities)}" in texts
    assert "http://" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in svg and "<image" not in svg
    uncovered_dots = [c for c in root.iter(f"{SVG}circle") if c.get("fill") == "#d7301f"]
    assert len(uncovered_dots) >= len(report.uncovered)
    width = int(root.get("width", "0"))
    assert width == 800 and int(root.get("height", "0")) > 400


def test_render_map_without_coverage_and_narrow(gazetteer: dict[str, Any], communities: list[dict[str, Any]]) -> None:
    svg = render_map(gazetteer["towns"], communities, [], None, width=420, title="顺德<测试>&地图")
    root = ET.fromstring(svg)
    assert "顺德<测试>&地图" in "".join(root.itertext())
    with pytest.raises(ValueError):
        render_map([], [], [], None)
