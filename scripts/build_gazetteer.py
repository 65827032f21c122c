"""Builds the project's Shunde gazetteer (src/baishitong/data/gazetteer.json).

Names and statistical codes are public facts (国家统计局 division codes, via the
china-division package, WTFPL). Coordinates are the project's own approximations:
town centres from public maps, communities placed deterministically around them,
good enough for demo coverage maps, not for navigation.

    python scripts/build_gazetteer.py ../shared/data/shunde
"""

import csv
import hashlib
import json
import math
import sys
from pathlib import Path

TOWN_CENTRES = {
    "大良街道": (22.8399, 113.2492),
    "容桂街道": (22.7716, 113.2795),
    "伦教街道": (22.8452, 113.2095),
    "勒流街道": (22.8235, 113.1378),
    "陈村镇": (22.9661, 113.2336),
    "北滘镇": (22.9233, 113.2062),
    "乐从镇": (22.9564, 113.0989),
    "龙江镇": (22.8783, 113.0753),
    "杏坛镇": (22.7906, 113.1532),
    "均安镇": (22.7123, 113.1372),
}
# Spread of a town's communities around its centre, in km.
TOWN_RADIUS_KM = {"大良街道": 3.5, "容桂街道": 4.0, "均安镇": 4.5, "杏坛镇": 4.5, "龙江镇": 4.5}


def short_town(name: str) -> str:
    return name.removesuffix("街道").removesuffix("镇")


def short_community(name: str) -> tuple[str, str]:
    """Returns (display name, bare name): 高黎社区居委会 -> (高黎社区, 高黎)."""
    for suffix, kind in (("社区居委会", "社区"), ("村委会", "村"), ("居委会", "社区")):
        if name.endswith(suffix):
            bare = name[: -len(suffix)]
            return bare + kind, bare
    return name, name


def spread(code: str, centre: tuple[float, float], radius_km: float) -> tuple[float, float]:
    digest = hashlib.sha256(code.encode()).digest()
    angle = digest[0] / 256 * 2 * math.pi
    distance = (0.15 + 0.85 * math.sqrt(digest[1] / 255)) * radius_km
    lat = centre[0] + distance / 111.0 * math.cos(angle)
    lon = centre[1] + distance / (111.0 * math.cos(math.radians(centre[0]))) * math.sin(angle)
    return round(lat, 5), round(lon, 5)


def main(source: Path) -> None:
    towns = []
    with open(source / "streets.csv", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            name = row["name"]
            short = short_town(name)
            lat, lon = TOWN_CENTRES[name]
            towns.append(
                {
                    "code": row["code"],
                    "name": name,
                    "short": short,
                    "kind": "street" if name.endswith("街道") else "town",
                    "aliases": sorted({short, name, short + ("镇" if name.endswith("街道") else "街道")} - {name}),
                    "lat": lat,
                    "lon": lon,
                    "communities": [],
                }
            )
    by_code = {t["code"]: t for t in towns}
    with open(source / "villages.csv", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            town = by_code[row["streetCode"]]
            display, bare = short_community(row["name"])
            lat, lon = spread(row["code"], TOWN_CENTRES[town["name"]], TOWN_RADIUS_KM.get(town["name"], 3.5))
            aliases = sorted({display, bare, row["name"]} - {row["name"]})
            town["communities"].append(
                {
                    "code": row["code"],
                    "name": row["name"],
                    "short": display,
                    "kind": "village" if row["name"].endswith("村委会") else "community",
                    "aliases": aliases,
                    "lat": lat,
                    "lon": lon,
                }
            )
    out = Path(__file__).resolve().parent.parent / "src/baishitong/data/gazetteer.json"
    out.write_text(
        json.dumps({"district": {"code": "440606", "name": "顺德区", "city": "佛山市"}, "towns": towns}, ensure_ascii=False, indent=1),
        encoding="utf-8",
    )
    print(out, sum(len(t["communities"]) for t in towns), "communities")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/shunde"))
