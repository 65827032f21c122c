"""Hot topics (热点诉求): many people raising the same matter within a period.

Each request is a set of character bigrams of its title (a block of its own, weighted up: the title
states the matter) and of the opening of its content, weighted by IDF over the period itself, so
that words every request shares ("反映", the district's name) weigh little and the matter's own
terms a lot. Every request is compared with every other in chunks of one sparse product, keeping
pairs above THRESHOLD.

Topics are then taken greedily: the request with the most neighbours becomes a topic's centre and
takes its still unassigned neighbours, and so on; requests left over join the nearest centroid, and
centroids that point the same way merge. Unlike connected components this does not chain two matters
through one message that mentions both, and unlike k-means it needs no number of topics. A topic's
heat is the number of distinct people who raised it (a phone counts once), plus the support others
gave it (likes), so one person filing ten times is not a hot topic.

Where a request says where it happened (its address, its town and community), two requests must also be
alike with those words left out (PLACE_FREE_SCALE): "高黎社区桂洲大道东路灯不亮" and "高黎社区桂洲大道东商铺噪音扰民" share a
place, not a matter, and are no topic, while the place still keeps the same matter at two estates apart.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import scipy.sparse as sp

from baishitong.text.bigrams import distinct_bigrams

THRESHOLD = 0.2
MERGE_THRESHOLD = 0.3
MIN_SIZE = 2
CONTENT_CHARS = 200
CHUNK = 200
COMMON_DF = 0.02
COMMON_MIN = 50
PHRASE_CHARS = 12
TITLE_KEY = 1 << 42
TITLE_WEIGHT = 2.0
# Without their place words two requests need half the similarity asked of them with it: short rewordings of one
# matter keep 0.1–0.2 of cosine once their shared street and community are left out, matters that share only those 0–0.04.
PLACE_FREE_SCALE = 2.0
_WORD = re.compile(r"[\u3400-\u9fffA-Za-z0-9]+")
# How people frame a request, not what it is about: "什么时候开通" must not join a metro line and a website.
_FRAMES = re.compile(
    "请问|咨询|投诉|反映|反应|举报|关于|问题|什么时候|何时|多久|建议|希望|要求|恳请|请求|能否|能不能|是否|如何|怎么|为什么|情况|有关|相关|市民|您好|你好|尽快|处理|解决"
)


@dataclass(frozen=True)
class Item:
    key: str
    title: str
    content: str
    created_at: datetime
    region: str | None = None
    category: str | None = None
    requester: str | None = None
    support: int = 0
    place_text: str = ""  # where it happened (address, town, community): not the matter itself


@dataclass
class Topic:
    label: str
    phrases: list[str]
    keys: list[str]
    people: int
    support: int
    first_at: datetime
    last_at: datetime
    region: str | None
    category: str | None
    heat: float = 0.0
    recent: int = 0

    def as_dict(self) -> dict:
        return {
            "label": self.label,
            "phrases": self.phrases,
            "size": len(self.keys),
            "people": self.people,
            "support": self.support,
            "heat": round(self.heat, 2),
            "recent": self.recent,
            "first_at": self.first_at.isoformat(),
            "last_at": self.last_at.isoformat(),
            "region": self.region,
            "category": self.category,
            "keys": self.keys,
        }


def _clean(text: str) -> str:
    """Lower case, framing words blanked out character for character, so positions still match the text."""
    lowered = text.lower()
    if len(lowered) != len(text):
        lowered = text
    return _FRAMES.sub(lambda m: "，" * len(m.group()), lowered)


@dataclass
class _Features:
    """Rows L2-normalised, entries idf of binary presence (a complaint's repetitions add nothing).

    Built over code points with numpy: a Python set of bigram strings per request would take
    about 10 kB each, 200 MB for a busy month, over a worker's whole budget.
    """

    x: sp.csr_matrix
    keys: np.ndarray  # sorted bigram keys; column j is keys[j]
    idf: np.ndarray
    common: np.ndarray  # columns left out of the similarity
    views: tuple[sp.csr_matrix, ...] = ()  # x, and x without each request's own place words if any has one

    @classmethod
    def build(cls, titles: Sequence[str], bodies: Sequence[str], places: Sequence[str] = ()) -> _Features:
        """Title bigrams are features of their own (TITLE_KEY set) and weigh more: the title states the
        matter, while a body shares names (a company, an estate) with requests about other matters."""
        rows, grams = [np.zeros(0, np.int32)], [np.zeros(0, np.uint64)]
        for texts, flag in ((titles, TITLE_KEY), (bodies, 0)):
            for offset in range(0, len(texts), CHUNK):
                r, g = distinct_bigrams(texts[offset : offset + CHUNK])
                rows.append((r + offset).astype(np.int32))
                grams.append(g | np.uint64(flag))
        rows = np.concatenate(rows)
        all_grams = np.concatenate(grams)
        del grams
        keys = np.unique(all_grams)
        cols = np.searchsorted(keys, all_grams).astype(np.int32)
        del all_grams
        n = len(bodies)
        df = np.bincount(cols, minlength=len(keys))
        idf = (np.log((n + 1) / (df + 1)) + 1).astype(np.float32)
        # Bigrams in more than COMMON_DF of the requests say nothing about the matter, yet would make the
        # pairwise product nearly dense (hundreds of MB at 20,000 requests): they are left out.
        common = df > max(COMMON_MIN, COMMON_DF * n)
        weights = np.where(common, 0, idf).astype(np.float32)
        kept = weights[cols] > 0
        rows, cols = rows[kept], cols[kept]
        values = weights[cols] * np.where(keys[cols] >= TITLE_KEY, TITLE_WEIGHT, 1.0).astype(np.float32)
        x = _normalised(rows, cols, values, (n, len(keys)))
        views = (x,)
        place_rows, place_grams = distinct_bigrams([_clean(p) for p in places]) if any(places) else (np.zeros(0, np.int64), np.zeros(0, np.uint64))
        if len(place_rows):
            # Each request's own place bigrams, in its title and its body, matched as (row, plain bigram) pairs.
            bits = np.uint64(max(n.bit_length(), 1))
            plain = keys[cols] & ~np.uint64(TITLE_KEY)
            own = np.isin((plain << bits) | rows.astype(np.uint64), (place_grams << bits) | place_rows.astype(np.uint64))
            views = (x, _normalised(rows[~own], cols[~own], values[~own], (n, len(keys))))
        return cls(x=x, keys=keys, idf=idf, common=common, views=views)

    def columns(self, rows: Sequence[int]) -> np.ndarray:
        return self.x[list(rows)].indices


def _normalised(rows: np.ndarray, cols: np.ndarray, values: np.ndarray, shape: tuple[int, int]) -> sp.csr_matrix:
    norms = np.sqrt(np.bincount(rows, weights=values * values, minlength=shape[0])).astype(np.float32)
    return sp.csr_matrix((values / np.maximum(norms[rows], 1e-12), (rows, cols)), shape=shape)


def _similarity(left: Sequence[sp.csr_matrix], right_t: Sequence[sp.spmatrix]) -> sp.csr_matrix:
    """Cosines of rows of `left` with columns of `right_t`: with the place words, or, if less, PLACE_FREE_SCALE
    times the cosine without them."""
    block = (left[0] @ right_t[0]).tocsr()
    for a, b in zip(left[1:], right_t[1:]):
        block = block.minimum((a @ b).tocsr() * PLACE_FREE_SCALE).tocsr()
    return block


def _neighbours(views: Sequence[sp.csr_matrix], threshold: float) -> list[np.ndarray]:
    out: list[np.ndarray] = []
    transposed = [x.T.tocsc() for x in views]
    for start in range(0, views[0].shape[0], CHUNK):
        block = _similarity([x[start : start + CHUNK] for x in views], transposed)
        for r in range(block.shape[0]):
            lo, hi = block.indptr[r], block.indptr[r + 1]
            idx, val = block.indices[lo:hi], block.data[lo:hi]
            out.append(idx[(val >= threshold) & (idx != start + r)])
    return out


def _phrases(title: str, members: Sequence[int], features: _Features, limit: int = 3) -> list[str]:
    """Runs of the centre's title made of bigrams that most members share: readable keywords without a segmenter."""
    counts = np.bincount(features.columns(members), minlength=len(features.keys))
    # Bigrams too common to weigh in the similarity ("新城", "小区") may still join a phrase.
    shared = set(features.keys[(counts >= max(2, math.ceil(0.5 * len(members)))) | features.common].tolist())
    lowered = _clean(title)

    def key(gram: str) -> int:
        plain = (ord(gram[0]) << 21) | ord(gram[1])
        return plain | TITLE_KEY if plain | TITLE_KEY in shared else plain

    found: dict[str, float] = {}
    for match in _WORD.finditer(lowered):
        run, start = match.group(), None
        for i in range(len(run) + 1):
            if i < len(run) - 1 and key(run[i : i + 2]) in shared:
                start = i if start is None else start
            elif start is not None:
                phrase = run[start : i + 1][:PHRASE_CHARS]
                grams = np.array([key(phrase[k : k + 2]) for k in range(len(phrase) - 1)], dtype=np.uint64)
                weight = float(features.idf[np.searchsorted(features.keys, grams)].sum())
                begin = match.start() + start
                found.setdefault(title[begin : begin + len(phrase)], weight)
                start = None
    out: list[str] = []
    for phrase in sorted(found, key=lambda p: -found[p]):
        if len(phrase) >= 2 and not any(phrase in kept for kept in out):
            out.append(phrase)
        if len(out) == limit:
            break
    return out


def _common_place(places: Sequence[str | None]) -> str | None:
    """The place most of the requests share ("town·community", else its town), else 多地: naming the
    commonest of eleven different places, or either of two, would send a reader to the wrong one."""
    known = [p for p in places if p]
    if not known:
        return None
    for level in (lambda p: p, lambda p: p.split("·", 1)[0]):
        place, count = Counter(map(level, known)).most_common(1)[0]
        if 2 * count > len(known):
            return place
    return "多地"


def _most_common(values: Sequence[str | None]) -> str | None:
    known = [v for v in values if v]
    return Counter(known).most_common(1)[0][0] if known else None


def _one_matter(around: list[int], neighbours: list[np.ndarray]) -> list[int]:
    """A centre's neighbours, less every cluster of them but the largest: a message naming two matters
    links both sets, yet the sets do not link to each other. Neighbours linked to no other neighbour stay."""
    inside = set(around)
    links = {j: inside.intersection(neighbours[j].tolist()) for j in around}
    seen: set[int] = set()
    clusters: list[list[int]] = []
    for start in around:
        if start in seen:
            continue
        stack, cluster = [start], []
        seen.add(start)
        while stack:
            node = stack.pop()
            cluster.append(node)
            for other in links[node] - seen:
                seen.add(other)
                stack.append(other)
        clusters.append(cluster)
    linked = sorted((c for c in clusters if len(c) > 1), key=len, reverse=True)
    drop = {j for c in linked[1:] for j in c}
    return [j for j in around if j not in drop]


def _centroids(x: sp.csr_matrix, groups: list[list[int]]) -> sp.csr_matrix:
    """Unit-length group centroids, as one sparse product of a membership matrix with x."""
    membership = sp.csr_matrix(
        (np.ones(sum(map(len, groups)), dtype=np.float32), (np.repeat(np.arange(len(groups)), [len(g) for g in groups]), np.concatenate(groups))),
        shape=(len(groups), x.shape[0]),
    )
    centroids = membership @ x
    norms = np.sqrt(np.asarray(centroids.multiply(centroids).sum(axis=1)).ravel())
    return sp.csr_matrix(sp.diags(1 / np.maximum(norms, 1e-12)) @ centroids)


def _groups(views: Sequence[sp.csr_matrix], threshold: float, min_size: int) -> list[list[int]]:
    """Greedy centres, then groups whose centroids point the same way are merged (paraphrase sets of one matter)."""
    neighbours = _neighbours(views, threshold)
    degree = np.array([len(n) for n in neighbours])
    assigned = np.zeros(views[0].shape[0], dtype=bool)
    groups: list[list[int]] = []
    for centre in np.argsort(-degree, kind="stable"):
        if assigned[centre] or degree[centre] + 1 < min_size:
            continue
        members = [int(centre), *_one_matter([int(j) for j in neighbours[centre] if not assigned[j]], neighbours)]
        if len(members) >= min_size:
            assigned[members] = True
            groups.append(members)
    if not groups:
        return groups
    centroids = [_centroids(x, groups) for x in views]
    # A rewording just under the threshold to each member may still be close to what they share.
    left = np.flatnonzero(~assigned)
    if len(left):
        for start in range(0, len(left), CHUNK):
            rows = left[start : start + CHUNK]
            sims = _similarity([x[rows] for x in views], [c.T for c in centroids]).toarray()
            best = sims.argmax(axis=1)
            for row, nearest, sim in zip(rows, best, sims[np.arange(len(rows)), best]):
                if sim >= threshold:
                    groups[nearest].append(int(row))
        centroids = [_centroids(x, groups) for x in views]
    if len(groups) < 2:
        return groups
    similar = _neighbours(centroids, MERGE_THRESHOLD)
    merged: dict[int, list[int]] = {}
    home: dict[int, int] = {}
    for i, group in enumerate(groups):
        # Into the hottest earlier group it resembles, else a topic of its own.
        target = next((home[j] for j in sorted(similar[i].tolist()) if j < i), None)
        if target is None:
            merged[i] = list(group)
            home[i] = i
        else:
            merged[target].extend(group)
            home[i] = target
    return list(merged.values())


def find_topics(
    items: Sequence[Item],
    *,
    threshold: float = THRESHOLD,
    min_size: int = MIN_SIZE,
    limit: int = 20,
    now: datetime | None = None,
    recent_hours: float = 48,
) -> list[Topic]:
    """The hottest topics among `items`, each with the keys of its requests, its place and its category."""
    if not items:
        return []
    features = _Features.build([_clean(it.title) for it in items], [_clean(it.content[:CONTENT_CHARS]) for it in items], [it.place_text for it in items])
    now = now or max(it.created_at for it in items)
    topics: list[Topic] = []
    for members in _groups(features.views, threshold, min_size):
        centre = members[0]
        group = [items[j] for j in members]
        people = len({it.requester or f"#{it.key}" for it in group})
        support = sum(it.support for it in group)
        topics.append(
            Topic(
                label=items[centre].title or items[centre].content[:30],
                phrases=_phrases(items[centre].title or items[centre].content[:60], members, features),
                keys=[it.key for it in sorted(group, key=lambda it: it.created_at, reverse=True)],
                people=people,
                support=support,
                first_at=min(it.created_at for it in group),
                last_at=max(it.created_at for it in group),
                region=_common_place([it.region for it in group]),
                category=_most_common([it.category for it in group]),
                heat=people + math.log1p(support),
                recent=sum((now - it.created_at).total_seconds() <= recent_hours * 3600 for it in group),
            )
        )
    topics = [t for t in topics if t.people >= min_size]
    topics.sort(key=lambda t: (-t.heat, -t.last_at.timestamp()))
    return topics[:limit]


def main() -> None:
    """`python -m baishitong.analytics.hotspots`: items as JSON on stdin, topics as JSON on stdout."""
    import json
    import sys

    request = json.load(sys.stdin)
    items = [
        Item(key=k, title=t, content=c, created_at=datetime.fromisoformat(at), region=r, category=cat, requester=who, support=sup, place_text=where)
        for k, t, c, at, r, cat, who, sup, where in request["items"]
    ]
    topics = find_topics(items, now=datetime.fromisoformat(request["now"]))
    json.dump({"threshold": THRESHOLD, "topics": [t.as_dict() for t in topics]}, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
