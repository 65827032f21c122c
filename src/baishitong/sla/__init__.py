"""Statutory time limits: the working-day clock and the rules that say which limits apply.

Pure code, no database; the persistence layer feeds it calendar rows and rules.
"""

from baishitong.sla.calendar import (
    DEFAULT_WORKING_HOURS,
    BusinessCalendar,
    Clock,
    DayKind,
    Deadline,
    Pause,
    covered_years,
    seed_days,
)
from baishitong.sla.policy import (
    CHANNELS,
    TICKET_TYPES,
    URGENCIES,
    Limit,
    SlaRule,
    Stage,
    Unit,
    compute_deadlines,
    deadline_for,
    default_rules,
    match,
)

__all__ = [
    "CHANNELS",
    "DEFAULT_WORKING_HOURS",
    "TICKET_TYPES",
    "URGENCIES",
    "BusinessCalendar",
    "Clock",
    "DayKind",
    "Deadline",
    "Limit",
    "Pause",
    "SlaRule",
    "Stage",
    "Unit",
    "compute_deadlines",
    "covered_years",
    "deadline_for",
    "default_rules",
    "match",
    "seed_days",
]
