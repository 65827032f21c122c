"""Which policies and financing products fit an enterprise, and why — a pure function, no session.

Each offer states its eligibility as facets; an empty facet means no restriction. An offer whose
facets are all met is a full match; one that misses exactly one facet is a near-miss (差一项),
shown after the full matches so the enterprise knows what it would take. Offers whose apply
window has closed are left out; open windows closing within CLOSING_SOON_DAYS are flagged.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from baishitong.enterprise import INDUSTRIES, SIZES, TAGS

CLOSING_SOON_DAYS = 7


@dataclass(frozen=True)
class Profile:
    industry: str
    size: str
    town: str
    year_established: int
    tags: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Eligibility:
    industries: tuple[str, ...] = ()
    sizes: tuple[str, ...] = ()
    towns: tuple[str, ...] = ()
    # Any one of them qualifies: a policy "for 高新技术企业 or 专精特新" lists both.
    tags: tuple[str, ...] = ()
    min_years: int = 0


@dataclass(frozen=True)
class Offer:
    """A policy or financing product, as the matcher sees it; item is handed back untouched."""

    item: Any
    eligibility: Eligibility
    apply_from: date | None = None
    apply_to: date | None = None


@dataclass
class Match:
    item: Any
    full: bool
    met: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    days_left: int | None = None
    closing_soon: bool = False
    not_yet_open: bool = False


def _or(labels: Iterable[str]) -> str:
    return "或".join(labels)


def _years(profile: Profile, today: date) -> int:
    return max(0, today.year - profile.year_established)


def explain(eligibility: Eligibility, profile: Profile, *, today: date, town_names: Mapping[str, str]) -> tuple[list[str], list[str]]:
    """(conditions met, conditions missing), worded for the enterprise, in a fixed facet order."""
    met: list[str] = []
    missing: list[str] = []
    e = eligibility
    if e.industries:
        if profile.industry in e.industries:
            met.append(INDUSTRIES.get(profile.industry, profile.industry))
        else:
            missing.append(f"行业需为{_or(INDUSTRIES.get(c, c) for c in e.industries)}")
    if e.sizes:
        if profile.size in e.sizes:
            met.append(f"{SIZES.get(profile.size, profile.size)}企业")
        else:
            missing.append(f"需为{_or(SIZES.get(c, c) for c in e.sizes)}企业")
    if e.towns:
        if profile.town in e.towns:
            met.append(f"位于{town_names.get(profile.town, profile.town)}")
        else:
            missing.append(f"需位于{_or(town_names.get(c, c) for c in e.towns)}")
    if e.tags:
        held = [c for c in e.tags if c in profile.tags]
        if held:
            met.append("、".join(TAGS.get(c, c) for c in held))
        else:
            missing.append(f"需具备{_or(TAGS.get(c, c) for c in e.tags)}资质")
    if e.min_years:
        years = _years(profile, today)
        if years >= e.min_years:
            met.append(f"成立满{e.min_years}年")
        else:
            missing.append(f"需成立满{e.min_years}年（目前{years}年）")
    return met, missing


def match(offers: Iterable[Offer], profile: Profile, *, today: date, town_names: Mapping[str, str]) -> list[Match]:
    """Full matches, then near-misses; within each, windows closing soonest first, then more conditions met."""
    results: list[Match] = []
    for offer in offers:
        if offer.apply_to is not None and offer.apply_to < today:
            continue
        met, missing = explain(offer.eligibility, profile, today=today, town_names=town_names)
        if len(missing) > 1:
            continue
        days_left = (offer.apply_to - today).days if offer.apply_to is not None else None
        results.append(
            Match(
                item=offer.item,
                full=not missing,
                met=met,
                missing=missing,
                days_left=days_left,
                closing_soon=days_left is not None and days_left <= CLOSING_SOON_DAYS,
                not_yet_open=offer.apply_from is not None and offer.apply_from > today,
            )
        )
    return sorted(results, key=lambda m: (not m.full, m.days_left if m.days_left is not None else 10**6, -len(m.met)))
