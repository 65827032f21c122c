"""Routing below level 1 (`router retrain` with 预测目标 问题分类): what a model of sub-categories adds over a
level-1 model, on orders made by the demo's generator (the shared data has level-1 labels only).

Both models learn from the same history and are scored on later orders: level-1 macro-F1 (the sub-category
model's probabilities added up per level-1 category), and how many orders the suggestion names below level 1 at
the auto-dispatch threshold, and how often that finer category is the order's own (or above it).

usage: python bench/routing_levels.py [--history 200 500 2000] [--later 1000]
"""

from __future__ import annotations

import argparse
import time
from collections import Counter

from sklearn.metrics import f1_score

from baishitong.config import get_settings
from baishitong.demo.categories import CATEGORIES
from baishitong.demo.orders import generate_orders
from baishitong.org.models import Category
from baishitong.routing import classifier, service


def taxonomy() -> dict[str, Category]:
    """The demo taxonomy as unsaved Category rows (ids by code), as the database would hold it."""
    rows: dict[str, Category] = {}

    def add(nodes: list[dict], parent: Category | None, level: int) -> None:
        for node in nodes:
            rows[node["code"]] = row = Category(id=len(rows) + 1, code=node["code"], name=node["name"], level=level, parent=parent)
            add(node["children"], row, level + 1)

    add(CATEGORIES, None, 1)
    return rows


def reference(rows: dict[str, Category]) -> service.Reference:
    by_label = {
        c.code: service.CategoryRef(id=c.id, code=c.code, name=c.name, path=c.path, level=c.level, parent_code=c.parent.code if c.parent else None)
        for c in rows.values()
    }
    return service.Reference(fingerprint=(), model=None, catalogue=None, by_label=by_label, regions={}, units={}, town_units={})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--history", type=int, nargs="+", default=[200, 500, 2000])
    parser.add_argument("--later", type=int, default=1000)
    args = parser.parse_args()
    for history in args.history:
        measure(history, args.later)
        print()


def measure(history_size: int, later_size: int) -> None:
    threshold = get_settings().auto_dispatch_threshold
    rows = taxonomy()
    ref = reference(rows)
    orders = generate_orders(history_size + later_size, seed=20261206)
    texts = [f"{o['title']}。{o['content']}" for o in orders]
    codes = [o["category_code"] for o in orders]
    history, later = range(history_size), range(history_size, len(orders))
    learnt = service._classes_to_learn([rows[codes[i]] for i in history])
    finer_labels = [next(n.code for n in rows[codes[i]].lineage if n.id in learnt) for i in history]
    level1 = [codes[i][:2] for i in history]
    print(f"demo generator: {history_size} orders of history, {later_size} later orders; {len(set(texts))} distinct texts")
    print(f"history classes: level 1 {len(set(level1))}, finer {len(set(finer_labels))} {dict(sorted(Counter(len(c) // 2 for c in finer_labels).items()))} (labels by level)")

    print(f"finer classes: at most {service.MAX_CATEGORY_CLASSES}, at least {service.MIN_ORDERS_PER_CATEGORY} orders each; smallest here {min(Counter(finer_labels).values())} orders")
    started = time.perf_counter()
    coarse = classifier.train([texts[i] for i in history], level1)
    finer = classifier.train([texts[i] for i in history], finer_labels, level1={lab: lab[:2] for lab in finer_labels})
    print(f"training both: {time.perf_counter() - started:.1f} s; cross-validated macro-F1 level-1 model {coarse.metrics['cv_macro_f1']:.3f}, "
          f"finer model {finer.metrics['cv_macro_f1']:.3f} (at level 1: {finer.metrics['cv_macro_f1_l1']:.3f})")

    print(f"model size: level-1 {len(coarse.to_bytes()) / 1e6:.1f} MB stored, {coarse.coef.nbytes / 1e6:.1f} MB weights in memory; "
          f"finer {len(finer.to_bytes()) / 1e6:.1f} MB stored, {finer.coef.nbytes / 1e6:.1f} MB weights")
    truth = [codes[i][:2] for i in later]
    coarse_pred = [p.label for p in coarse.predict([texts[i] for i in later])]
    depth: Counter[int] = Counter()
    right_below = 0
    finer_pred = []
    for i in later:
        category, _, _, _ = service._most_specific(ref, finer.probabilities(texts[i]), threshold)
        finer_pred.append(category.code[:2])
        depth[category.level] += 1
        if category.level > 1:
            right_below += codes[i].startswith(category.code)
    below = sum(n for level, n in depth.items() if level > 1)
    print(f"later orders, level-1 macro-F1: level-1 model {f1_score(truth, coarse_pred, average='macro'):.3f}, finer model {f1_score(truth, finer_pred, average='macro'):.3f}")
    print(f"suggested category at threshold {threshold}: " + ", ".join(f"level {level} {n}" for level, n in sorted(depth.items())))
    print(f"named below level 1: {below / len(later):.1%} of later orders; of those, the order's own category or one above it: {right_below / max(below, 1):.1%}")


if __name__ == "__main__":
    main()
