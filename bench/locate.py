"""Locator figures on addresses generated from the gazetteer with realistic noise.

Run from the project root:  .venv/bin/python bench/locate.py [--per-community N] [--seed S]
"""

from __future__ import annotations

import argparse
import json
import random
import shlex
import sys
import time
from importlib import resources
from pathlib import Path

from baishitong.routing.locate import locate

PREFIXES = ("", "", "佛山市顺德区", "顺德区", "广东省佛山市顺德区", "顺德", "佛山顺德")
LEADS = ("", "", "我住在", "地址：", "投诉地点", "位于", "反映")
TAILS = ("", "", "18号", "新街3巷7号", "市场旁边", "门口", "附近的小区", "有噪音扰民", "，路口积水严重", " 2栋301")
JOINERS = ("", "", " ", "的", "，")
OUTSIDE = (
    "广州市天河区体育西路",
    "佛山市南海区桂城街道",
    "北京朝阳区",
    "北京市朝阳区建国路88号",
    "广州市番禺区碧桂园",
    "广州市南沙区黄阁镇",
    "佛山市南海区九江镇",
    "佛山市禅城区祖庙街道",
    "佛山市三水区西南街道",
    "佛山市高明区荷城街道",
    "中山市小榄镇",
    "江门市新会区会城",
    "深圳市福田区华强北",
    "东莞市长安镇",
    "上海浦东新区幸福路",
    "黑龙江省哈尔滨市",
    "湖南省长沙市岳麓区",
    "广州市白云区新市街道",
    "南海大沥镇",
    "珠海市香洲区",
)


def _forms(short: str, suffixes: tuple[str, ...]) -> tuple[str, list[str]]:
    base = short
    for s in suffixes:
        if short.endswith(s) and len(short) - len(s) >= 2:
            base = short[: -len(s)]
            break
    return base, [short, *(base + s for s in suffixes)]


def build(per_community: int, rng: random.Random) -> list[tuple[str, str, str | None]]:
    """(address, expected town code, expected community code or None)."""
    gaz = json.loads(resources.files("baishitong.data").joinpath("gazetteer.json").read_text("utf-8"))
    owners: dict[str, set[str]] = {}
    for town in gaz["towns"]:
        for c in town["communities"]:
            owners.setdefault(c["short"][:-2] if c["short"].endswith("社区") else c["short"][:-1], set()).add(town["code"])
    cases: list[tuple[str, str, str | None]] = []
    for town in gaz["towns"]:
        _, town_forms = _forms(town["short"], ("街道", "镇"))
        town_forms += [town["name"], *town["aliases"]]
        for _ in range(per_community):
            addr = rng.choice(PREFIXES) + rng.choice(town_forms) + rng.choice(("", "", "大道", "新城区")) + rng.choice(TAILS)
            cases.append((rng.choice(LEADS) + addr, town["code"], None))
        for c in town["communities"]:
            base, community_forms = _forms(c["short"], ("社区", "村"))
            community_forms += [c["name"], c["short"]]
            unique = len(owners.get(base, set())) == 1
            for _ in range(per_community):
                with_town = not unique or rng.random() < 0.7
                bare_ok = with_town and base not in town_forms
                community = rng.choice([*community_forms, base] if bare_ok else community_forms)
                head = rng.choice(PREFIXES) + (rng.choice(town_forms) + rng.choice(JOINERS) if with_town else "")
                cases.append((rng.choice(LEADS) + head + community + rng.choice(TAILS), town["code"], c["code"]))
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--per-community", type=int, default=5)
    parser.add_argument("--seed", type=int, default=12345)
    args = parser.parse_args()
    print(f"$ {shlex.join([Path(sys.executable).name, *sys.argv])}\n")
    rng = random.Random(args.seed)
    cases = build(args.per_community, rng)

    t0 = time.perf_counter()
    results = [locate(text) for text, _, _ in cases]
    elapsed = time.perf_counter() - t0
    town_ok = sum(r is not None and r.town_code == town for r, (_, town, _) in zip(results, cases))
    with_community = [(r, c) for r, (_, _, c) in zip(results, cases) if c]
    community_ok = sum(r is not None and r.community_code == c for r, c in with_community)
    misses = [(t, r) for r, (t, town, _) in zip(results, cases) if r is None or r.town_code != town]

    outside = [locate(text) for text in OUTSIDE]
    false_pos = [(t, r) for t, r in zip(OUTSIDE, outside) if r is not None]

    print(f"Shunde addresses: {len(cases)} ({len(with_community)} naming a community)")
    print(f"town accuracy: {town_ok / len(cases):.2%}")
    print(f"community accuracy (where named): {community_ok / len(with_community):.2%}")
    print(f"outside addresses: {len(OUTSIDE)}   false positives: {len(false_pos)} ({len(false_pos) / len(OUTSIDE):.0%})")
    print(f"speed: {elapsed / len(cases) * 1e6:.0f} µs per address")
    for text, r in misses[:10]:
        print(f"  miss: {text} → {r.town_name if r else None}")
    for text, r in false_pos:
        print(f"  false positive: {text} → {r.town_name}")


if __name__ == "__main__":
    main()
