"""Free-text address (and optional GPS point) → Shunde town and community.

Names are found by a leftmost-longest dictionary scan, so "黑龙江" is read as
one (foreign) name and never as the town 龙江, and "大良街道" wins over "大良".
Bare two-character community names ("东风", "幸福") are common words, so they
only count when the text also names their town; a suffixed name ("江义村",
"碧江社区") that exists in one town only may settle the town by itself. Text
that names a place outside Shunde and no Shunde town resolves to nothing.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

MAX_DISTANCE_KM = 4.0
_COMMUNITY_SUFFIXES = ("社区居委会", "村民委员会", "居民委员会", "社区", "村委会", "居委会", "村委", "居委", "村")
_TOWN_SUFFIXES = ("街道办事处", "街道办", "街道", "镇")
_ADMIN_AFTER = "区市县省"
_NOT_ADMIN = ("市场", "市民", "区域")
_ROAD_AFTER = ("路", "大道", "街", "大街", "巷", "东路", "西路", "南路", "北路", "中路", "大桥", "桥")
_NEUTRAL = ("广东省", "广东", "佛山市", "佛山", "顺德区", "顺德")
# Places a Shunde address never names: other districts and towns of Foshan,
# Guangzhou's districts, Guangdong's cities, provinces and big cities.
_FOREIGN = (
    "禅城 南海 三水 高明 桂城 大沥 狮山 西樵 九江 里水 丹灶 罗村 松岗 石湾 张槎 祖庙 南庄 白坭 乐平 西南街道 "
    "荷城 杨和 明城 更合 天河 越秀 海珠 荔湾 白云 黄埔 番禺 花都 南沙区 从化 增城 广州 深圳 珠海 汕头 韶关 "
    "湛江 肇庆 江门 茂名 惠州 梅州 汕尾 河源 阳江 清远 东莞 中山市 潮州 揭阳 云浮 北京 上海 天津 重庆 "
    "河北 山西 内蒙古 辽宁 吉林 黑龙江 江苏 浙江 安徽 福建 江西 山东 河南 湖北 湖南 广西 海南 四川 贵州 "
    "云南 西藏 陕西 甘肃 青海 宁夏 新疆 香港 澳门 台湾 杭州 南京 武汉 长沙 成都 西安 厦门 苏州 朝阳区 海淀 "
    "浦东 福田 南山区 宝安 龙岗 罗湖"
).split()


@dataclass(frozen=True)
class Location:
    town_code: str | None
    town_name: str | None
    community_code: str | None
    community_name: str | None
    method: str
    score: float
    evidence: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class _Community:
    code: str
    name: str
    town_code: str
    lat: float
    lon: float


@dataclass(frozen=True)
class _Town:
    code: str
    name: str
    lat: float
    lon: float


@dataclass
class _Entry:
    towns: set[str] = field(default_factory=set)
    strong: set[str] = field(default_factory=set)
    weak: set[str] = field(default_factory=set)
    foreign: bool = False
    neutral: bool = False


@dataclass
class _Index:
    towns: dict[str, _Town]
    communities: dict[str, _Community]
    names: dict[str, _Entry]
    sizes: dict[str, tuple[int, ...]]  # first character -> lengths of names starting with it, longest first


def _strip(name: str, suffixes: tuple[str, ...]) -> str:
    for suffix in suffixes:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return name


@lru_cache
def _index() -> _Index:
    data = json.loads(resources.files("baishitong.data").joinpath("gazetteer.json").read_text("utf-8"))
    names: dict[str, _Entry] = {}

    def entry(name: str) -> _Entry:
        return names.setdefault(name, _Entry())

    towns: dict[str, _Town] = {}
    communities: dict[str, _Community] = {}
    for t in data["towns"]:
        towns[t["code"]] = _Town(t["code"], t["name"], t["lat"], t["lon"])
        base = _strip(t["short"], _TOWN_SUFFIXES)
        for n in {t["name"], t["short"], *t["aliases"], *(base + s for s in _TOWN_SUFFIXES)}:
            entry(n).towns.add(t["code"])
    for t in data["towns"]:
        for c in t["communities"]:
            communities[c["code"]] = _Community(c["code"], c["short"], t["code"], c["lat"], c["lon"])
            base = _strip(_strip(c["short"], _COMMUNITY_SUFFIXES), _COMMUNITY_SUFFIXES)
            for n in {c["name"], c["short"], *c["aliases"], *(base + s for s in _COMMUNITY_SUFFIXES)}:
                if n == base or len(n) <= 2:
                    if not names.get(n, _Entry()).towns:
                        entry(n).weak.add(c["code"])
                else:
                    entry(n).strong.add(c["code"])
            if len(base) >= 2 and not names.get(base, _Entry()).towns:
                entry(base).weak.add(c["code"])
    for n in _FOREIGN:
        entry(n).foreign = True
    for n in _NEUTRAL:
        entry(n).neutral = True
    sizes: dict[str, set[int]] = {}
    for n in names:
        if len(n) >= 2:
            sizes.setdefault(n[0], set()).add(len(n))
    return _Index(towns, communities, names, {c: tuple(sorted(v, reverse=True)) for c, v in sizes.items()})


def _scan(text: str, idx: _Index) -> list[tuple[str, _Entry]]:
    """Leftmost-longest matches, skipping names used as roads or as another place's 区/市."""
    found: list[tuple[str, _Entry]] = []
    i, n = 0, len(text)
    while i < n:
        for size in idx.sizes.get(text[i], ()):
            if size > n - i:
                continue
            name = text[i : i + size]
            e = idx.names.get(name)
            if e is None:
                continue
            rest = text[i + size :]
            if not e.foreign and not e.neutral and not name.endswith(_COMMUNITY_SUFFIXES + _TOWN_SUFFIXES):
                as_admin = rest[:1] != "" and rest[0] in _ADMIN_AFTER and not rest.startswith(_NOT_ADMIN)
                if as_admin or (not e.towns and rest.startswith(_ROAD_AFTER)):
                    break
            if e.foreign and rest.startswith(_ROAD_AFTER):
                break
            found.append((name, e))
            i += size - 1
            break
        i += 1
    return found


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    x = math.radians(lon2 - lon1) * math.cos(math.radians((lat1 + lat2) / 2))
    y = math.radians(lat2 - lat1)
    return 6371.0 * math.hypot(x, y)


def _nearest(idx: _Index, lat: float, lon: float, town_code: str | None = None) -> tuple[_Community, float] | None:
    pool = [c for c in idx.communities.values() if town_code is None or c.town_code == town_code]
    if not pool:
        return None
    best = min(pool, key=lambda c: _km(lat, lon, c.lat, c.lon))
    return best, _km(lat, lon, best.lat, best.lon)


def _result(idx: _Index, town: str, community: str | None, method: str, score: float, ev: list[str]) -> Location:
    c = idx.communities[community] if community else None
    return Location(
        town_code=town,
        town_name=idx.towns[town].name,
        community_code=c.code if c else None,
        community_name=c.name if c else None,
        method=method,
        score=score,
        evidence=tuple(ev),
    )


def _by_coordinates(idx: _Index, lat: float, lon: float, town: str | None) -> tuple[_Community, float] | None:
    hit = _nearest(idx, lat, lon, town)
    return hit if hit and hit[1] <= MAX_DISTANCE_KM else None


def locate(text: str | None, lat: float | None = None, lon: float | None = None) -> Location | None:
    """Best Shunde town/community for an address, or None when the text and point do not place it in Shunde."""
    idx = _index()
    matches = _scan("".join((text or "").split()), idx)
    has_point = lat is not None and lon is not None
    town_votes: dict[str, int] = {}
    for _, e in matches:
        for t in e.towns:
            town_votes[t] = town_votes.get(t, 0) + 1
    strong = [(name, code) for name, e in matches for code in sorted(e.strong)]
    weak = [(name, code) for name, e in matches for code in sorted(e.weak)]
    evidence = [name for name, e in matches if not e.neutral]

    if town_votes:
        town = max(town_votes, key=lambda t: (town_votes[t], any(idx.communities[c].town_code == t for _, c in strong)))
        for pool, score in ((strong, 1.0), (weak, 0.9)):
            codes = [c for _, c in pool if idx.communities[c].town_code == town]
            if codes:
                return _result(idx, town, codes[0], "community_name", score, evidence)
        if has_point and (hit := _by_coordinates(idx, lat, lon, town)):
            return _result(idx, town, hit[0].code, "town_name+coordinates", 0.85, evidence)
        return _result(idx, town, None, "town_name", 0.8, evidence)

    if any(e.foreign for _, e in matches):
        return None
    codes = sorted({c for _, c in strong})
    if has_point and len(codes) > 1:
        codes = sorted(codes, key=lambda c: _km(lat, lon, idx.communities[c].lat, idx.communities[c].lon))[:1]
    if len(codes) == 1:
        return _result(idx, idx.communities[codes[0]].town_code, codes[0], "community_name", 0.75, evidence)
    if has_point and (hit := _by_coordinates(idx, lat, lon, None)):
        return _result(idx, hit[0].town_code, hit[0].code, "coordinates", round(max(0.3, 0.7 - hit[1] / 10), 2), [])
    return None
