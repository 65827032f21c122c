"""Hot-topic figures: the topics found in the TIPDM hot messages, planted-topic recovery, time and memory.

Run from the project root:  .venv/bin/python bench/hotspots.py [--data DIR] [--planted 50]

The hot messages carry no gold clusters, so the ten hottest topics are printed
for a reader to judge, and quality is measured on planted topics: a random
message plus three to six rewordings of it by other people (some of its
sentences, reordered, the subject only sometimes: `paraphrase` of
bench/duplicates.py), added to the real messages. A planted topic is recovered
when one topic holds at least 80 % of its messages. Time and peak memory are
measured in a fresh process per corpus size, as the worker would run them.
"""

from __future__ import annotations

import argparse
import csv
import random
import shlex
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

from baishitong.analytics.hotspots import Item, find_topics

ROOT = Path(__file__).resolve().parents[1]
START = datetime(2019, 1, 1)


def _when(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text.strip().replace("/", "-"))
    except ValueError:
        return START


def hot_items(data: Path) -> list[Item]:
    with open(data / "hot_messages.csv", encoding="utf-8") as f:
        return [
            Item(key=r["id"], title=r["subject"], content=r["detail"], created_at=_when(r["time"]), requester=r["user"], support=int(r["likes"] or 0))
            for r in csv.DictReader(f)
        ]


def more_items(data: Path) -> list[Item]:
    """Every raw message of the data set, for the size a busy district reaches in a week."""
    out = hot_items(data)
    for name, subject, detail in (("replies.csv", "subject", "detail"), ("dev_raw.csv", "subject", "detail")):
        with open(data / name, encoding="utf-8") as f:
            out += [Item(key=f"{name}:{r['id']}", title=r[subject], content=r[detail], created_at=_when(r["time"])) for r in csv.DictReader(f)]
    with open(data / "train_tokens.csv", encoding="utf-8") as f:
        out += [Item(key=f"train:{i}", title="", content=r["tokens"].replace(" ", ""), created_at=START) for i, r in enumerate(csv.DictReader(f))]
    return out


def planted(items: list[Item], n: int, seed: int = 7) -> tuple[list[Item], list[set[str]]]:
    """n topics, each a real message and 3–6 rewordings by other callers, as bench/duplicates.py words them."""
    from duplicates import paraphrase

    from baishitong.knowledge.search import sentences

    rng = random.Random(seed)
    extra, truth = [], []
    for t, base in enumerate(rng.sample([it for it in items if len(sentences(it.content)) >= 3], n)):
        group = {base.key}
        for k in range(rng.randint(3, 6)):
            subject, text = paraphrase(rng, {"subject": base.title, "detail": base.content})
            key = f"planted{t}-{k}"
            later = base.created_at + timedelta(hours=rng.randint(1, 72))
            extra.append(Item(key=key, title=subject or "", content=text, created_at=later, requester=f"planted-person-{t}-{k}"))
            group.add(key)
        truth.append(group)
    return items + extra, truth


def recovery(items: list[Item], truth: list[set[str]]) -> tuple[int, float]:
    topics = find_topics(items, limit=10_000)
    where: dict[str, int] = {k: i for i, t in enumerate(topics) for k in t.keys}
    found = 0
    foreign = []
    for group in truth:
        homes = [where.get(k) for k in group]
        best = max(set(homes), key=homes.count)
        if best is not None and homes.count(best) >= 0.8 * len(group):
            found += 1
            foreign.append(len(set(topics[best].keys) - group) / len(topics[best].keys))
    return found, (sum(foreign) / len(foreign) if foreign else 0.0)


def peak_rss_mb() -> float:
    """VmHWM of this process image: unlike ru_maxrss it does not carry the parent's size over the fork."""
    status = Path("/proc/self/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmHWM")).split()[1]) / 1024


def timed(size: str, data: Path) -> None:
    """Runs in a child process, as the worker's clustering child does: prints seconds and peak RSS."""
    items = hot_items(data) if size == "hot" else more_items(data)
    before = peak_rss_mb()
    t0 = time.perf_counter()
    topics = find_topics(items)
    seconds = time.perf_counter() - t0
    peak = peak_rss_mb()
    print(f"{len(items)} {seconds:.2f} {before:.0f} {peak:.0f} {len(topics)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared/data/tipdm2020c")
    parser.add_argument("--planted", type=int, default=50)
    parser.add_argument("--child", choices=("hot", "all"))
    args = parser.parse_args()
    if args.child:
        timed(args.child, args.data)
        return

    print(f"$ {shlex.join([Path(sys.executable).name, *sys.argv])}\n")
    items = hot_items(args.data)
    topics = find_topics(items, limit=10)
    print(f"hottest topics in hot_messages.csv ({len(items)} messages; heat = people + ln(1 + likes)):")
    for t in topics:
        print(f"  {t.heat:5.1f}  {len(t.keys):3d} msgs  {t.people:3d} people  {t.support:4d} likes  {t.label[:34]}  [{' / '.join(t.phrases)}]")

    mixed, truth = planted(items, args.planted)
    found, foreign = recovery(mixed, truth)
    print(f"\nplanted topics (a message + 3–6 rewordings by other people) among the real ones: {found}/{len(truth)} recovered whole "
          f"({found / len(truth):.0%}); their topics hold {foreign:.0%} other messages on average")

    print("\none clustering run in a fresh process (the worker runs each one in a child like this, so its own memory stays put):")
    for size in ("hot", "all"):
        out = subprocess.run([sys.executable, __file__, "--child", size, "--data", str(args.data)], capture_output=True, text=True, check=True)
        n, seconds, before, peak, count = out.stdout.split()
        print(f"  {int(n):6,d} messages: {float(seconds):5.2f} s, {count} topics kept, peak RSS {peak} MB (before the run {before} MB)")


if __name__ == "__main__":
    main()
