"""The dispatch catalogue (派单目录) as pure rule matching.

A rule applies when each condition it sets holds: the category code starts
with its prefix, the request lies in its region (town or community), the type
matches, and, if it lists keywords, at least one occurs in the text. Among the
applicable rules the most specific wins: longest category prefix, then a
community over a town over no region, then a set type, then more keyword hits,
then the higher priority (and the lower id, so the answer is deterministic).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from baishitong.demo.categories import DEFAULT_LEAD, KEYWORD_LEADS, TOWN


@dataclass(frozen=True)
class Rule:
    id: int | None
    lead: str
    category_prefix: str | None = None
    region_code: str | None = None
    type: str | None = None
    keywords: tuple[str, ...] = ()
    co_units: tuple[str, ...] = ()
    priority: int = 0


@dataclass(frozen=True)
class Match:
    rule: Rule
    lead: str | None  # None when the rule says "@town" and the request's town is unknown
    co_units: tuple[str, ...]
    keyword_hits: tuple[str, ...]


def _resolve(code: str, town_unit: str | None) -> str | None:
    return town_unit if code == TOWN else code


def match(
    rules: Iterable[Rule],
    *,
    category_code: str | None,
    town_code: str | None = None,
    community_code: str | None = None,
    type: str | None = None,
    text: str = "",
    town_unit: str | None = None,
) -> Match | None:
    best: tuple | None = None
    for rule in rules:
        if rule.category_prefix and not (category_code or "").startswith(rule.category_prefix):
            continue
        if rule.region_code and rule.region_code not in (town_code, community_code):
            continue
        if rule.type and rule.type != type:
            continue
        hits = tuple(k for k in rule.keywords if k in text)
        if rule.keywords and not hits:
            continue
        region_rank = 0 if not rule.region_code else (2 if rule.region_code == community_code else 1)
        key = (len(rule.category_prefix or ""), region_rank, bool(rule.type), len(hits), rule.priority, -(rule.id or 0))
        if best is None or key > best[0]:
            best = (key, rule, hits)
    if best is None:
        return None
    _, rule, hits = best
    co = tuple(dict.fromkeys(c for c in (_resolve(u, town_unit) for u in rule.co_units) if c))
    return Match(rule=rule, lead=_resolve(rule.lead, town_unit), co_units=co, keyword_hits=hits)


def default_rules() -> list[Rule]:
    """One rule per prefix of the demo taxonomy's default lead table, and its keyword rules: a request the router
    puts only in a level-1 area still reaches the unit its words name."""
    plain = [Rule(id=None, lead=lead, category_prefix=prefix) for prefix, lead in sorted(DEFAULT_LEAD.items())]
    worded = [Rule(id=None, lead=lead, category_prefix=prefix, keywords=words) for prefix, leads in sorted(KEYWORD_LEADS.items()) for lead, words in leads]
    return plain + worded



# What a rule matches: a rule of the next edition with the same ones and another lead, co-units… is a changed one.
MATCH_FIELDS = ("category_prefix", "region_code", "type", "keywords")


@dataclass(frozen=True)
class EditionChanges:
    """An edition of the catalogue against the one before it, in rules (派单目录's 版本记录)."""

    added: int
    removed: int
    changed: int

    def summary(self) -> str:
        parts = [f"{label} {n} 条" for label, n in (("新增", self.added), ("删除", self.removed), ("修改", self.changed)) if n]
        return "、".join(parts) or "无规则变化"


def _match_key(rule: Mapping) -> tuple:
    return tuple(tuple(rule.get(f) or ()) if f == "keywords" else rule.get(f) for f in MATCH_FIELDS)


def _content(rule: Mapping) -> tuple:
    # A rule saved from the table has priority 0 and no co-units where the default edition left them unset.
    return tuple((f, rule[f] is not False if f == "active" else rule[f] or None) for f in sorted(rule) if f != "id")


def edition_changes(before: Iterable[Mapping], after: Iterable[Mapping]) -> EditionChanges:
    """The rules `after` added, removed and changed against `before`; each rule a mapping of its fields
    (service.rule_out). Rules with the same match are paired off as they come, an identical one first."""
    old: dict[tuple, list[tuple]] = {}
    for rule in before:
        old.setdefault(_match_key(rule), []).append(_content(rule))
    added = changed = 0
    for rule in after:
        same = old.get(_match_key(rule))
        if not same:
            added += 1
            continue
        content = _content(rule)
        changed += content not in same
        same.remove(content if content in same else same[0])
    return EditionChanges(added=added, removed=sum(len(left) for left in old.values()), changed=changed)
