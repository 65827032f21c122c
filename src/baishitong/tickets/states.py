"""The work-order state machine as data.

Each action lists the states it may start from, the state it leads to, and who
may take it. `PREVIOUS` means "back to where the ticket was before the return
was requested". Flags (urge, supervise, notes, contributions) are actions that
keep the status.

Append-only flags (note, urge, supervise, first contact) overwrite nothing another actor may be
editing, so they skip the version compare-and-set: a stale page can still take them, and they
leave everyone else's open forms valid. A contribution is not one of them: it replaces the
co-handling unit's previous 协办意见, which a colleague may be rewriting at the same time.

Other actions do check the version, but some changes in between leave their ground as it was: a
supervisor deciding an extension moves the deadline, not what a handler's reply answers, and a unit
naming its 承办人 changes who works the order, not the extension or pause the centre decides. Such changes
are listed per action (`Transition.tolerates`); anything else in between (another reply, a return, a
re-dispatch, a colleague pausing the clock, a contribution the reply should quote) is still a conflict.
"""

from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    REGISTERED = "registered"
    DISPATCHED = "dispatched"
    SIGNED = "signed"
    RETURNED = "returned"
    REPLIED = "replied"
    CALLBACK = "callback"
    CLOSED = "closed"
    ARCHIVED = "archived"
    VOIDED = "voided"
    MERGED = "merged"


STATUS_LABELS = {
    Status.REGISTERED: "已受理",
    Status.DISPATCHED: "已派单",
    Status.SIGNED: "办理中",
    Status.RETURNED: "退单待审",
    Status.REPLIED: "已答复",
    Status.CALLBACK: "已回访",
    Status.CLOSED: "已办结",
    Status.ARCHIVED: "已归档",
    Status.VOIDED: "已作废",
    Status.MERGED: "已并单",
}

OPEN_STATUSES = frozenset({Status.REGISTERED, Status.DISPATCHED, Status.SIGNED, Status.RETURNED})
FINAL_STATUSES = frozenset({Status.CLOSED, Status.ARCHIVED, Status.VOIDED, Status.MERGED})
# Left out of every count of matters: a merged duplicate is one matter with its survivor, a voided order none.
NOT_MATTERS = frozenset({Status.MERGED, Status.VOIDED})

CENTRE = frozenset({"operator", "supervisor", "admin"})
SUPERVISION = frozenset({"supervisor", "admin"})
UNIT = frozenset({"handler", "unit_admin"})
REQUESTER = "requester"
SYSTEM = "system"

PREVIOUS = "previous"
MISSED_CALLBACKS_TO_CLOSE = 3


class Party(StrEnum):
    """Which unit relation a unit-side actor must have with the ticket."""

    ANY = "any"
    LEAD = "lead"
    LEAD_OR_SUB = "lead_or_sub"
    CO = "co"


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[Status]
    target: Status | str | None  # None: status unchanged
    roles: frozenset[str]
    label: str
    party: Party = Party.ANY
    append_only: bool = False  # no version needed, none bumped (see the module docstring)
    keeps: frozenset[Status] = frozenset()  # sources the action leaves as they are
    tolerates: frozenset[str] = frozenset()  # actions since the actor's version that are no conflict (module docstring)


def _t(action, sources, target, roles, label, party=Party.ANY, *, append_only=False, keeps=(), tolerates=()) -> Transition:
    return Transition(action, frozenset(sources), target, frozenset(roles), label, party, append_only, frozenset(keeps), frozenset(tolerates))


# The centre deciding a unit's extension request moves the deadline (or leaves it), and touches no reply,
# contribution or return. A colleague pausing the clock is not one of them: it says the order is waiting on something.
EXTENSION_DECIDED = frozenset({"approve-extension", "reject-extension"})
# The unit handing the order to one of its staff changes who works it, not the request the centre decides.
ASSIGNED = frozenset({"assign"})


S = Status
TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in [
        _t("register", [], S.REGISTERED, CENTRE | {REQUESTER, SYSTEM}, "受理"),
        _t("answer", [S.REGISTERED], S.CLOSED, {"operator", "supervisor"}, "直接办结"),
        _t("dispatch", [S.REGISTERED, S.DISPATCHED], S.DISPATCHED, CENTRE | {SYSTEM}, "派单"),
        _t("sign", [S.DISPATCHED], S.SIGNED, UNIT, "签收", Party.LEAD),
        # 承办人 within the lead unit: its admin assigns any of its staff, a handler takes an unassigned order (我来办).
        _t("assign", [S.DISPATCHED, S.SIGNED], None, UNIT, "指派承办人", Party.LEAD, tolerates=EXTENSION_DECIDED),
        _t("return", [S.DISPATCHED, S.SIGNED], S.RETURNED, UNIT, "退单", Party.LEAD, tolerates=EXTENSION_DECIDED),
        _t("approve-return", [S.RETURNED], S.REGISTERED, CENTRE, "同意退单"),
        _t("reject-return", [S.RETURNED], PREVIOUS, CENTRE, "驳回退单"),
        _t("subdispatch", [S.SIGNED], None, UNIT, "下派", Party.LEAD, tolerates=EXTENSION_DECIDED),
        _t("extend", [S.SIGNED], None, UNIT, "申请延期", Party.LEAD_OR_SUB),
        _t("approve-extension", [S.SIGNED], None, SUPERVISION, "同意延期", tolerates=ASSIGNED),
        _t("reject-extension", [S.SIGNED], None, SUPERVISION, "驳回延期", tolerates=ASSIGNED),
        _t("contact", [S.DISPATCHED, S.SIGNED], None, UNIT, "首次联系", Party.LEAD_OR_SUB, append_only=True),
        _t("pause", [S.SIGNED], None, UNIT, "暂停计时", Party.LEAD_OR_SUB),
        _t("resume", [S.SIGNED], None, UNIT | CENTRE, "恢复计时"),
        # Where the policy says a pause needs consent (SlaPolicy.pause_needs_approval), "pause" only asks.
        _t("approve-pause", [S.SIGNED], None, SUPERVISION, "同意暂停计时", tolerates=ASSIGNED),
        _t("reject-pause", [S.SIGNED], None, SUPERVISION, "驳回暂停计时", tolerates=ASSIGNED),
        _t("note", [S.DISPATCHED, S.SIGNED], None, UNIT | CENTRE, "办理进展", append_only=True),
        _t("contribute", [S.DISPATCHED, S.SIGNED], None, UNIT, "协办意见", Party.CO, tolerates=EXTENSION_DECIDED),
        _t("decline-co", [S.DISPATCHED, S.SIGNED], None, UNIT, "退回协办", Party.CO, tolerates=EXTENSION_DECIDED),
        _t("reply", [S.SIGNED], S.REPLIED, UNIT, "答复", Party.LEAD_OR_SUB, tolerates=EXTENSION_DECIDED),
        # A caller merged into another order is called back too, once that master is answered; the
        # merged order stays 已并单 (service.callback_due says when).
        _t("callback", [S.REPLIED, S.MERGED], S.CALLBACK, {"operator", "supervisor", REQUESTER}, "回访", keeps=[S.MERGED]),
        # A callback call nobody answered: recorded and counted; after MISSED_CALLBACKS_TO_CLOSE the centre may close without one.
        _t("callback-missed", [S.REPLIED, S.MERGED], None, {"operator", "supervisor"}, "回访未接通", append_only=True),
        # The requester answered but declined to rate: reached, so not called again like a missed call, and no
        # rating for the figures; the order may be closed at once. Append-only, as a missed call is.
        _t("callback-declined", [S.REPLIED, S.MERGED], None, {"operator", "supervisor"}, "回访拒绝评价", append_only=True),
        _t("redo", [S.CALLBACK], S.SIGNED, CENTRE, "重办"),
        _t("close", [S.REPLIED, S.CALLBACK], S.CLOSED, CENTRE | {SYSTEM}, "办结"),
        _t("archive", [S.CLOSED, S.VOIDED, S.MERGED], S.ARCHIVED, SUPERVISION | {SYSTEM}, "归档"),
        _t("urge", [S.DISPATCHED, S.SIGNED, S.RETURNED], None, CENTRE | {SYSTEM}, "催办", append_only=True),
        _t("supervise", [S.DISPATCHED, S.SIGNED, S.RETURNED, S.REPLIED], None, SUPERVISION, "督办", append_only=True),
        _t("merge", [S.REGISTERED, S.DISPATCHED], S.MERGED, CENTRE, "并单"),
        _t("void", [S.REGISTERED], S.VOIDED, CENTRE, "作废"),
    ]
}

ACTION_LABELS = {name: t.label for name, t in TRANSITIONS.items()}
# Events that are not transitions: what 并单 writes on the master and, later, on the merged orders, and an order
# going back to its unit's 未指派 when its 承办人's account is disabled or moved (tickets.service.release_assigned).
EVENT_LABELS = {**ACTION_LABELS, "merged-in": "并入重复件", "master-reply": "主工单已答复", "master-close": "主工单已办结", "unassign": "退回未指派"}


def target_status(transition: Transition, current: Status, previous: str | None) -> Status:
    if transition.target is None or current in transition.keeps:
        return current
    if transition.target == PREVIOUS:
        return Status(previous or Status.DISPATCHED)
    return Status(transition.target)
