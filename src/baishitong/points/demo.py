"""The project's demo service-point network for Shunde.

Deterministic (fixed seed, gazetteer order) so demos, screenshots and tests agree.
Bank branches follow the real programme's shape — about 225 branches, weighted to
towns by community count and sited near communities — but names, addresses and
phone numbers are invented: phones use the 0757-2999xxxx block and streets are
generic. A few isolated communities are deliberately left without a nearby branch
so the coverage pages have real gaps to show.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from typing import Any

from baishitong.points.coverage import TARGET_RADIUS_M, communities_from_gazetteer
from baishitong.points.geo import EARTH_RADIUS_M, PointIndex, haversine_m

BANK_BRANCH_COUNT = 225
SELF_SERVICE_PER_TOWN = 2
GAP_COUNT = 6
_SEED = 12345
_MAX_OFFSET_M = 450.0
_GOV_HOST = "顺德区政务服务数据管理局"

TOWN_ABBR: dict[str, str] = {
    "伦教": "LJ",
    "勒流": "LL",
    "大良": "DL",
    "容桂": "RG",
    "陈村": "CC",
    "北滘": "BJ",
    "乐从": "LC",
    "龙江": "LG",
    "杏坛": "XT",
    "均安": "JA",
}

_STREETS: dict[str, tuple[str, ...]] = {
    "伦教": ("伦教大道", "新民路", "荔村路", "三洲路"),
    "勒流": ("勒流大道", "政和路", "众涌路", "新城路"),
    "大良": ("德民路", "凤山中路", "南国东路", "东乐路", "新桂中路"),
    "容桂": ("桂洲大道中", "容奇大道", "文华路", "振华路", "凤祥路"),
    "陈村": ("陈村大道", "佛陈路", "合成路", "青云路"),
    "北滘": ("林港路", "跃进路", "蓬莱路", "君兰路", "工业大道"),
    "乐从": ("乐从大道", "东平路", "河滨北路", "天佑路"),
    "龙江": ("人民路", "龙洲路", "丰华路", "东华路"),
    "杏坛": ("杏坛大道", "昌教路", "光华路", "新城路"),
    "均安": ("均安大道", "百安路", "星槎路", "新华路"),
}

# (host organisation, name prefix, suffix for a main branch, suffix for a smaller outlet, weight)
_BANKS: tuple[tuple[str, str, str, str, int], ...] = (
    ("广东顺德农村商业银行", "顺德农商银行", "支行", "分理处", 45),
    ("中国工商银行", "中国工商银行顺德", "支行", "分理处", 12),
    ("中国建设银行", "中国建设银行顺德", "支行", "储蓄所", 12),
    ("中国农业银行", "中国农业银行顺德", "支行", "分理处", 11),
    ("中国银行", "中国银行顺德", "支行", "营业部", 10),
    ("中国邮政储蓄银行", "邮储银行顺德", "支行", "营业所", 10),
)

_BRANCH_HOURS = (
    ("周一至周五 09:00-17:00", 40),
    ("周一至周五 09:00-17:00; 周六 09:00-12:00", 30),
    ("周一至周五 09:00-12:00,14:00-17:00", 15),
    ("周一至周五 09:00-17:00; 周六、周日 09:30-16:30", 15),
)
_CENTRE_HOURS = "周一至周五 08:30-12:00,14:00-17:30"
_HALL_HOURS = "周一至周五 09:00-17:30; 周六 09:00-12:00"
_SELF_SERVICE_HOURS = ("24小时", "每天 10:00-22:00")


def _offset(lat: float, lon: float, dist_m: float, bearing_rad: float) -> tuple[float, float]:
    dlat = math.degrees(dist_m * math.cos(bearing_rad) / EARTH_RADIUS_M)
    dlon = math.degrees(dist_m * math.sin(bearing_rad) / (EARTH_RADIUS_M * math.cos(math.radians(lat))))
    return round(lat + dlat, 6), round(lon + dlon, 6)


def _allocate(total: int, weights: list[int]) -> list[int]:
    """Largest-remainder apportionment, so shares sum exactly to total."""
    quotas = [total * w / sum(weights) for w in weights]
    shares = [math.floor(q) for q in quotas]
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(quotas[i] - shares[i]), i))
    for i in by_remainder[: total - sum(shares)]:
        shares[i] += 1
    return shares


def _base(community: Mapping[str, Any]) -> str:
    return str(community["aliases"][0]) if community.get("aliases") else str(community["short"])


def _gap_communities(communities: list[dict[str, Any]]) -> set[str]:
    """The most isolated communities (far from their 3rd-nearest neighbour), at most two per town."""
    index: PointIndex[int] = PointIndex((i, c["lat"], c["lon"]) for i, c in enumerate(communities))
    isolation = [(index.nearest(c["lat"], c["lon"], limit=4)[-1][1], c["code"], c["town_code"]) for c in communities]
    chosen: list[str] = []
    per_town: dict[str, int] = {}
    for _, code, town in sorted(isolation, key=lambda t: (-t[0], t[1])):
        if per_town.get(town, 0) < 2:
            chosen.append(code)
            per_town[town] = per_town.get(town, 0) + 1
        if len(chosen) == GAP_COUNT:
            break
    return set(chosen)


class _Namer:
    """Unique branch names: the first of each bank in a town is its 支行, later ones outlets named after communities."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def name(self, bank: tuple[str, str, str, str, int], town_short: str, base: str) -> str:
        _, prefix, main, outlet, _ = bank
        options = [f"{prefix}{town_short}{main}", f"{prefix}{town_short}{base}{outlet}", f"{prefix}{town_short}{base}{main}"]
        options += [f"{prefix}{town_short}{base}第{n}{outlet}" for n in range(2, 10)]
        name = next(o for o in options if o not in self.used)
        self.used.add(name)
        return name


def demo_points(gazetteer: Mapping[str, Any]) -> list[dict[str, Any]]:
    """All demo points: district hall, town centres, bank branches, then self-service terminals.

    Each dict: code, name, kind, host, address, lat, lon, town_code, community_code
    (nearest community), hours (parse_hours text), phone, staff.
    """
    rng = random.Random(_SEED)
    towns = list(gazetteer["towns"])
    communities = communities_from_gazetteer(gazetteer)
    community_index: PointIndex[int] = PointIndex((i, c["lat"], c["lon"]) for i, c in enumerate(communities))
    gaps = [c for c in communities if c["code"] in _gap_communities(communities)]
    keep_clear = TARGET_RADIUS_M + _MAX_OFFSET_M

    def near_gap(lat: float, lon: float, margin: float = TARGET_RADIUS_M) -> bool:
        return any(haversine_m(lat, lon, g["lat"], g["lon"]) <= margin for g in gaps)

    points: list[dict[str, Any]] = []
    street_no: dict[tuple[str, str], int] = {}

    def add(kind: str, code: str, name: str, host: str, town: Mapping[str, Any], lat: float, lon: float, hours: str, staff: int) -> None:
        short = town["short"]
        streets = _STREETS.get(short, (f"{short}大道",))
        street = streets[rng.randrange(len(streets))]
        street_no[short, street] = street_no.get((short, street), 0) + rng.randint(2, 40)
        nearest = communities[community_index.nearest(lat, lon, limit=1)[0][0]]
        points.append(
            {
                "code": code,
                "name": name,
                "kind": kind,
                "host": host,
                "address": f"{town['name']}{street}{street_no[short, street]}号",
                "lat": lat,
                "lon": lon,
                "town_code": town["code"],
                "community_code": nearest["code"],
                "hours": hours,
                "phone": f"0757-2999{len(points) + 1:04d}",
                "staff": staff,
            }
        )

    daliang = next((t for t in towns if t["short"] == "大良"), towns[0])
    add("district_hall", "QZX-SD", "顺德区行政服务中心", _GOV_HOST, daliang, *_offset(daliang["lat"], daliang["lon"], 350, 0.8), _HALL_HOURS, 60)
    for town in towns:
        abbr = TOWN_ABBR.get(town["short"], town["code"][-3:])
        add("town_centre", f"ZX-{abbr}", f"{town['name']}行政服务中心", f"{town['name']}办事处" if town["kind"] == "street" else f"{town['name']}人民政府", town, round(town["lat"], 6), round(town["lon"], 6), _CENTRE_HOURS, 20 + rng.randint(0, 15))

    namer = _Namer()
    bank_weights = [b[4] for b in _BANKS]
    hours_texts, hours_weights = zip(*_BRANCH_HOURS)
    shares = _allocate(BANK_BRANCH_COUNT, [len(t["communities"]) for t in towns])
    for town, share in zip(towns, shares):
        abbr = TOWN_ABBR.get(town["short"], town["code"][-3:])
        members = [c for c in communities if c["town_code"] == town["code"]]
        members.sort(key=lambda c: haversine_m(town["lat"], town["lon"], c["lat"], c["lon"]))
        anchors = [c for c in members if not near_gap(c["lat"], c["lon"], keep_clear)]
        sites: list[tuple[float, float, str]] = []
        for c in anchors[:share]:
            sites.append((*_offset(c["lat"], c["lon"], rng.uniform(60, _MAX_OFFSET_M), rng.uniform(0, 2 * math.pi)), _base(c)))
        # Surplus branches cluster downtown, as banks do, but never inside a deliberate gap.
        core = members[: max(1, len(members) // 3)]
        while len(sites) < share:
            c = core[len(sites) % len(core)]
            lat, lon = _offset(town["lat"], town["lon"], rng.uniform(150, 1500), rng.uniform(0, 2 * math.pi))
            if not near_gap(lat, lon):
                sites.append((lat, lon, _base(c)))
        for n, (lat, lon, base) in enumerate(sites, start=1):
            bank = rng.choices(_BANKS, weights=bank_weights)[0]
            hours = rng.choices(hours_texts, weights=hours_weights)[0]
            add("bank_branch", f"MKB-{abbr}-{n:03d}", namer.name(bank, town["short"], base), bank[0], town, lat, lon, hours, rng.randint(2, 3))

    for town in towns:
        abbr = TOWN_ABBR.get(town["short"], town["code"][-3:])
        for n in range(1, SELF_SERVICE_PER_TOWN + 1):
            lat, lon = _offset(town["lat"], town["lon"], rng.uniform(300, 1200), rng.uniform(0, 2 * math.pi))
            hours = _SELF_SERVICE_HOURS[(n - 1) % len(_SELF_SERVICE_HOURS)]
            if hours == "24小时":
                name = f"{town['name']}24小时政务自助服务区"
            else:
                name = f"{town['short']}{_base(communities[community_index.nearest(lat, lon, limit=1)[0][0]])}商业广场政务自助终端"
            add("self_service", f"ZZ-{abbr}-{n:02d}", name, _GOV_HOST, town, lat, lon, hours, 0)
    return points
