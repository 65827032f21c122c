"""承办单位工作台: the unit's inbox by state, with deadlines and the actions of each ticket."""

from math import ceil
from urllib.parse import parse_qs, urlsplit

from fastapi import APIRouter, Depends, Request
from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select, union
from sqlalchemy.orm import Session

from baishitong.db import utcnow
from baishitong.deps import get_db_session
from baishitong.phrases import service as phrases
from baishitong.sla import service as sla
from baishitong.tickets import service
from baishitong.tickets.models import Ticket, TicketCoUnit
from baishitong.web.auth import Staff, require
from baishitong.web.ticket import action_context, kept_view, unit_staff
from baishitong.web.views import page_number, page_of, render, take_flashed

router = APIRouter(include_in_schema=False)

TABS = [
    ("dispatched", "待签收"),
    ("signed", "办理中"),
    ("co", "协办"),
    ("returned", "退单待审"),
    ("replied", "已答复"),
]
# Orders the unit only co-handles, while the lead works them: under 协办, not 待签收 or 办理中, which the unit cannot sign or answer.
CO_STATUSES = ["dispatched", "signed"]
STATUSES = ["dispatched", "signed", "returned", "replied"]
# 承办人 filter: the orders the unit leads, by who works them (co-handled and sent-down ones have no 承办人 of this unit).
WHO = [("", "全部"), ("mine", "我的"), ("none", "未指派")]
PER_TAB = 30


def _mine(unit_id: int, statuses: list[str], *, owing: bool = False):
    """Tickets where the unit leads, was sub-dispatched to, or co-handles; each branch uses its own index.
    `owing`: co-handled ones only while the unit's 协办意见 is still missing, the one thing it owes on them."""
    co = select(TicketCoUnit.ticket_id).where(TicketCoUnit.unit_id == unit_id)
    ids = union(
        select(Ticket.id).where(Ticket.lead_unit_id == unit_id, Ticket.status.in_(statuses)),
        select(Ticket.id).where(Ticket.sub_unit_id == unit_id, Ticket.status.in_(statuses)),
        co.where(TicketCoUnit.contribution.is_(None)) if owing else co,
    )
    return Ticket.id.in_(ids)


def _held(unit_id: int) -> ColumnElement[bool]:
    """The unit leads the order or it was sent down to it: signing and answering are the unit's."""
    return or_(Ticket.lead_unit_id == unit_id, Ticket.sub_unit_id == unit_id)


def _tab_clause(unit_id: int, tab: str) -> ColumnElement[bool]:
    if tab == "co":
        co = select(TicketCoUnit.ticket_id).where(TicketCoUnit.unit_id == unit_id)
        not_held = [Ticket.lead_unit_id.is_distinct_from(unit_id), Ticket.sub_unit_id.is_distinct_from(unit_id)]  # NULL-safe
        return and_(Ticket.id.in_(co), Ticket.status.in_(CO_STATUSES), *not_held)
    if tab in CO_STATUSES:
        return and_(Ticket.status == tab, _held(unit_id))
    return and_(_mine(unit_id, [tab]), Ticket.status == tab)


def _ordered(query: Select, tab: str, unit_id: int) -> Select:
    """A tab's order: by reply deadline, read off (status, reply_due) and, for 未指派 and 我的, the unit's and the
    承办人's (…, status, reply_due) indexes. 已答复 (newest answer first) and 协办 (opinion still owed first) sort
    the unit's few orders in the state: an index in their order saved about 2 ms on 100,000 orders (BENCHMARKS.md)."""
    if tab == "co":
        return query.join(TicketCoUnit, _own_part(unit_id)).order_by(TicketCoUnit.contribution.is_not(None), Ticket.reply_due, Ticket.id)
    return query.order_by(Ticket.replied_at.desc() if tab == "replied" else Ticket.reply_due, Ticket.id)


def _who_clause(who: str, unit_id: int, user_id: int) -> list[ColumnElement[bool]]:
    if who == "mine":
        return [Ticket.assignee_id == user_id]
    if who == "none":
        return [Ticket.lead_unit_id == unit_id, Ticket.assignee_id.is_(None)]
    return []


def _own_part(unit_id: int) -> ColumnElement[bool]:
    """The unit's own 协办 row on each order, if any (outer join condition)."""
    return and_(TicketCoUnit.ticket_id == Ticket.id, TicketCoUnit.unit_id == unit_id)


def _tab_counts(session: Session, *, unit_id: int, who_clause: list[ColumnElement[bool]]) -> dict[str, int]:
    """Orders per tab; 协办 counts those still owing the unit's 协办意见, the one thing it owes on them. Two plain
    grouped counts, each on its indexes: all of the unit's orders by status, then the few it only co-handles, which
    move from 待签收/办理中 to 协办 (one query with the co-handler row joined to every order took three times as long)."""
    counts = dict(session.execute(select(Ticket.status, func.count()).where(_mine(unit_id, STATUSES), Ticket.status.in_(STATUSES), *who_clause).group_by(Ticket.status)).all())
    co_only = (
        select(Ticket.status, TicketCoUnit.contribution.is_(None), func.count())
        .join(TicketCoUnit, _own_part(unit_id))
        .where(Ticket.status.in_(CO_STATUSES), Ticket.lead_unit_id.is_distinct_from(unit_id), Ticket.sub_unit_id.is_distinct_from(unit_id), *who_clause)
        .group_by(Ticket.status, TicketCoUnit.contribution.is_(None))
    )
    for status, owing, count in session.execute(co_only).all():
        counts[status] -= count
        if owing:
            counts["co"] = counts.get("co", 0) + count
    return {tab: count for tab, count in counts.items() if count}


@router.get("/staff/unit")
def workbench(
    request: Request,
    tab: str = "dispatched",
    who: str = "",
    row: str = "",
    then: str = "",
    staff: Staff = Depends(require("handler", "unit_admin")),
    session: Session = Depends(get_db_session),
):
    """An action on a card comes back to it (?row=, with the outcome above it and the anchor there), or, when the
    order has left the tab (signed, answered, returned), to the card that followed it (?then=): not to the top of
    a long list, three screens up on a phone. ?who= narrows every tab and count to 我的 or 未指派."""
    return _desk(request, session, staff, tab=tab, who=who, page=page_number(request), row=row, then=then)


def refused_desk(request: Request, session: Session, staff: Staff, *, landing: str, number: str, action: str, kept: dict[str, str]):
    """A refused action typed on the desk (答复, 退单 or 延期 reason, 办理进展…) comes back as the desk, 422, as the
    order page does (web.ticket.refused_page): a redirect would lose the text without JavaScript. The page is the one
    the form came from (`landing`, its tab, 承办人 filter and page), with the order's card first, the reason above it
    and the form open as typed; the response has no #anchor to scroll to, so the card is not left where it was. Where
    the action is no longer offered, the card shows what was typed to copy; where the order has left the tab (someone
    acted first), the reason and the text stand at the top."""
    query = parse_qs(urlsplit(landing).query)
    given = lambda name: (query.get(name) or [""])[0]  # noqa: E731
    return _desk(
        request, session, staff, tab=given("tab") or "dispatched", who=given("who"), page=page_of(given("page") or "1"), row=number,
        kept=kept_view(action, kept), messages=take_flashed(request), status_code=422,
    )


def _desk(
    request: Request, session: Session, staff: Staff, *, tab: str, who: str, page: int, row: str = "", then: str = "",
    kept: dict | None = None, messages: list | None = None, status_code: int = 200,
):
    """The desk at a tab and page; `kept`: a refused action on the order `row` (refused_desk)."""
    unit_id = staff.actor.unit_id
    if tab not in dict(TABS):
        tab = "dispatched"
    if who not in dict(WHO):
        who = ""
    chosen = _who_clause(who, unit_id, staff.actor.user_id)
    counts = _tab_counts(session, unit_id=unit_id, who_clause=chosen)
    query = select(Ticket.id).where(_tab_clause(unit_id, tab), *chosen)
    # 协办 lists the orders whose opinion is still owed first, then those the unit may still revise; it counts the first.
    listed = session.scalar(select(func.count()).select_from(query.subquery())) if tab == "co" else counts.get(tab, 0)
    pages = max(1, ceil(listed / PER_TAB))
    # Past the last page (its last order was just signed or answered) shows the new last page, not an empty tab.
    page = min(page, pages)
    # The page's ids first, then their rows (as the 督办台 does): with the rows' joined region, category and units in
    # the sorted query, PostgreSQL misjudged the `id IN (…)` join as one row and planned 4 to 100 ms (BENCHMARKS.md).
    ids = list(session.scalars(_ordered(query, tab, unit_id).offset((page - 1) * PER_TAB).limit(PER_TAB)))
    rows = {t.id: t for t in session.scalars(select(Ticket).where(Ticket.id.in_(ids)))} if ids else {}
    items = [rows[i] for i in ids]
    numbers = [t.number for t in items]
    following = dict(zip(numbers, numbers[1:] + [""]))
    usable = phrases.usable(session, actor=staff.actor)
    consent = sla.current_policy(session).pause_needs_approval if items else None
    assignees = unit_staff(session, unit_id=unit_id) if staff.role == "unit_admin" and items else []
    granted = service.granted_extensions(session, ticket_ids=[t.id for t in items if t.status == "signed"])
    contexts = {
        t.id: action_context(session, staff, t, next=_tab_url(tab, page, who, row=t.number, then=following[t.number]), phrases=usable, pause_needs_approval=consent, assignees=assignees, extensions=granted.get(t.id, 0))
        for t in items
    }
    kept_away = None
    if kept is not None:
        refused = next((t for t in items if t.number == row), None)
        if refused is None:
            kept_away = kept  # the order has left the tab: the text at the top
        else:
            contexts[refused.id]["kept"] = kept
            items = [refused] + [t for t in items if t is not refused]
    redos = service.latest_redos(session, ticket_ids=[t.id for t in items if t.redo_count])
    repeats = service.repeat_calls(session, ticket_ids=[t.id for t in items])
    centre_notes = service.latest_centre_notes(session, ticket_ids=[t.id for t in items if t.urge_count or t.supervised])
    dispatch_notes = service.dispatch_notes(session, ticket_ids=[t.id for t in items])
    contacts = service.latest_contacts(session, ticket_ids=[t.id for t in items])
    # Where the unit only co-handles, its card shows what it owes (its 协办意见 by the reply deadline), not the lead's signing.
    co_parts = {t.id: c for t in items if unit_id not in (t.lead_unit_id, t.sub_unit_id) for c in t.co_units if c.unit_id == unit_id}
    refusals = service.latest_refusals(session, ticket_ids=[t.id for t in items if t.id not in co_parts])
    overdue = session.scalar(select(func.count()).select_from(Ticket).where(_mine(unit_id, CO_STATUSES, owing=True), Ticket.status.in_(CO_STATUSES), Ticket.reply_due < utcnow(), *chosen)) or 0
    return render(
        request,
        "staff/unit.html",
        {
            "tabs": TABS, "tab": tab, "who": who, "whos": WHO, "tab_url": lambda t, w=who: _tab_url(t, 1, w), "counts": counts, "items": items, "contexts": contexts, "redos": redos, "repeats": repeats, "centre_notes": centre_notes, "dispatch_notes": dispatch_notes, "contacts": contacts, "co_parts": co_parts, "refusals": refusals, "overdue": overdue,
            "landed": row, "landed_at": next((n for n in (row, then) if n and n in numbers), None) if kept_away is None else None, "kept_away": kept_away,
            "page": page, "pages": pages, "page_url": lambda p: _tab_url(tab, p, who),
            "unit_name": staff.user.unit.name if staff.user.unit else "", "nav": "/staff/unit", "messages": messages or [],
        },
        status_code=status_code,
    )


def _tab_url(tab: str, page: int, who: str = "", *, row: str = "", then: str = "") -> str:
    url = f"/staff/unit?tab={tab}" + (f"&who={who}" if who else "") + (f"&page={page}" if page > 1 else "")
    return url + (f"&row={row}" + (f"&then={then}" if then else "") + f"#t-{row}" if row else "")

