"""Which time limits apply to a ticket, as data that the admin can edit.

Matching is per stage: for each stage the most specific matching rule that sets
that stage wins, so a rule only has to state what differs (the enterprise rule
sets contact and reply, the complaint rule sets reply and close). Specificity is
explicit and lexicographic: urgency, then channel, then category prefix (longer
is more specific), then type; ties go to the rule listed first. The catch-all rule
(no criteria) must set every stage, so every ticket gets every deadline.

All stages count from the same start (the ticket's creation), so each limit is a
total, not a step after the previous stage; where the policy counts the unit's steps
from the first dispatch (`clock_from_dispatch`), contact and reply are totals from there.
"""

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from baishitong.sla.calendar import BusinessCalendar, Clock, Deadline, Pause

TICKET_TYPES = ("咨询", "求助", "投诉", "举报", "建议", "表扬")
CHANNELS = ("hotline", "web", "wechat", "app", "doorstep", "enterprise", "api")
URGENCIES = ("normal", "urgent")


class Stage(StrEnum):
    SIGN = "sign"
    CONTACT = "contact"
    REPLY = "reply"
    CLOSE = "close"

    @property
    def label(self) -> str:
        return _STAGE_LABELS[self]


_STAGE_LABELS = {Stage.SIGN: "签收", Stage.CONTACT: "首次联系", Stage.REPLY: "答复", Stage.CLOSE: "办结"}


class Unit(StrEnum):
    WORKING_DAYS = "working_days"
    WORKING_HOURS = "working_hours"
    HOURS = "hours"


# About a year: no statutory limit is longer, and deadlines must stay inside the calendar.
_MAXIMUM = {Unit.WORKING_DAYS: 250, Unit.WORKING_HOURS: 1750, Unit.HOURS: 8760}


@dataclass(frozen=True)
class Limit:
    amount: float
    unit: Unit

    def __post_init__(self) -> None:
        object.__setattr__(self, "unit", Unit(self.unit))
        # NaN, infinity or 1e9 would be saved and then break every deadline computed from them.
        if not math.isfinite(self.amount) or self.amount <= 0:
            raise ValueError("时限须为正数")
        if self.amount > _MAXIMUM[self.unit]:
            raise ValueError(f"时限不能超过{Limit(_MAXIMUM[self.unit], self.unit).label}")

    @property
    def clock(self) -> Clock:
        """The clock to measure elapsed share on; calendar hours must not be measured in working time."""
        return "calendar" if self.unit is Unit.HOURS else "working"

    @property
    def label(self) -> str:
        amount = f"{self.amount:g}"
        suffix = {Unit.WORKING_DAYS: "个工作日", Unit.WORKING_HOURS: "个工作小时", Unit.HOURS: "小时"}[self.unit]
        return f"{amount}{suffix}"


@dataclass(frozen=True)
class SlaRule:
    type: str | None
    channel: str | None
    urgency: str | None
    category_prefix: str | None
    stages: Mapping[Stage, Limit]
    name: str = ""
    sources: Mapping[Stage, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for value, allowed, what in (
            (self.type, TICKET_TYPES, "type"),
            (self.channel, CHANNELS, "channel"),
            (self.urgency, URGENCIES, "urgency"),
        ):
            if value is not None and value not in allowed:
                raise ValueError(f"unknown {what}: {value!r}")
        if self.category_prefix == "":
            raise ValueError("category_prefix must be None or non-empty")
        object.__setattr__(self, "stages", {Stage(s): limit for s, limit in self.stages.items()})

    def matches(self, *, type: str, channel: str, urgency: str, category_code: str | None) -> bool:
        return (
            self.type in (None, type)
            and self.channel in (None, channel)
            and self.urgency in (None, urgency)
            and (self.category_prefix is None or (category_code or "").startswith(self.category_prefix))
        )

    def specificity(self) -> tuple[bool, bool, int, bool]:
        return (
            self.urgency is not None,
            self.channel is not None,
            len(self.category_prefix or ""),
            self.type is not None,
        )


def _days(amount: float) -> Limit:
    return Limit(amount, Unit.WORKING_DAYS)


def _working_hours(amount: float) -> Limit:
    return Limit(amount, Unit.WORKING_HOURS)


def _hours(amount: float) -> Limit:
    return Limit(amount, Unit.HOURS)


def default_rules() -> list[SlaRule]:
    """Limits after the 2022 Guangdong 12345 hotline work rules; admins tighten them per category.

    The enterprise reply limit is 24 clock hours ("24小时内答复"), unlike its contact
    limit of one working hour; urgent orders run on clock hours throughout.
    """
    catch_all = {
        Stage.SIGN: _working_hours(2),
        Stage.CONTACT: _days(1),
        Stage.REPLY: _days(10),
        Stage.CLOSE: _days(10),
    }
    rules = [SlaRule(None, None, None, None, catch_all, name="默认时限")]
    for ticket_type, days in (("咨询", 2), ("求助", 10), ("建议", 10), ("投诉", 15), ("举报", 15), ("表扬", 2)):
        stages = {Stage.REPLY: _days(days), Stage.CLOSE: _days(days)}
        rules.append(SlaRule(ticket_type, None, None, None, stages, name=f"{ticket_type}类"))
    enterprise = {Stage.SIGN: _working_hours(0.5), Stage.CONTACT: _working_hours(1), Stage.REPLY: _hours(24)}
    rules.append(SlaRule(None, "enterprise", None, None, enterprise, name="企业诉求"))
    urgent = {
        Stage.SIGN: _hours(0.5),
        Stage.CONTACT: _hours(1),
        Stage.REPLY: _hours(4),
        Stage.CLOSE: _hours(24),
    }
    rules.append(SlaRule(None, None, "urgent", None, urgent, name="紧急工单"))
    return rules


def match(
    rules: Sequence[SlaRule], *, type: str, channel: str, urgency: str, category_code: str | None
) -> SlaRule:
    """The effective rule for a ticket: stage by stage from the most specific rule that sets it."""
    ticket = {"type": type, "channel": channel, "urgency": urgency, "category_code": category_code}
    candidates = [r for r in rules if r.matches(**ticket)]
    # list.sort is stable, so equally specific rules keep their listed order.
    candidates.sort(key=SlaRule.specificity, reverse=True)
    stages: dict[Stage, Limit] = {}
    sources: dict[Stage, str] = {}
    for rule in candidates:
        for stage, limit in rule.stages.items():
            if stage not in stages:
                stages[stage] = limit
                sources[stage] = rule.name
    missing = [s for s in Stage if s not in stages]
    if missing:
        raise ValueError(f"no catch-all rule sets {', '.join(missing)}")
    winner = candidates[0]
    return SlaRule(
        winner.type,
        winner.channel,
        winner.urgency,
        winner.category_prefix,
        {s: stages[s] for s in Stage},
        name=winner.name,
        sources=sources,
    )


def deadline_for(
    calendar: BusinessCalendar,
    limit: Limit,
    start: datetime,
    pauses: Iterable[Pause] = (),
    *,
    now: datetime | None = None,
) -> Deadline:
    if limit.unit is Unit.WORKING_DAYS:
        return calendar.add_working_days(start, limit.amount, pauses, now=now)
    if limit.unit is Unit.WORKING_HOURS:
        return calendar.add_working_hours(start, limit.amount, pauses, now=now)
    return calendar.add_calendar_hours(start, limit.amount, pauses, now=now)


def compute_deadlines(
    calendar: BusinessCalendar,
    rule: SlaRule,
    start: datetime,
    pauses: Iterable[Pause] = (),
    *,
    now: datetime | None = None,
) -> dict[Stage, Deadline]:
    pauses = tuple(pauses)
    return {stage: deadline_for(calendar, lim, start, pauses, now=now) for stage, lim in rule.stages.items()}
