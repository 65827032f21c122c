"""承办单位工作台: the unit's inbox by state, with deadlines and the actions of each ticket."""

from math import ceil

from fastapi import APIRouter, Depends, Request
from sqlalchemy import func, select, union
from sqlalchemy.orm import Session

from baishitong.db import utcnow
from baishitong.deps import get_db_session
from baishitong.phrases import service as phrases
from baishitong.sla import service as sla
from baishitong.tickets import service
from baishitong.tickets.models import Ticket, TicketCoUnit
from baishitong.web.auth import Staff, require
from baishitong.web.ticket import action_context
from baishitong.web.views import page_number, render

router = APIRouter(include_in_schema=False)

TABS = [
    ("dispatched", "待签收"),
    ("signed", "办理中"),
    ("returned", "退单待审"),
    ("replied", "已答复"),
]
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


@router.get("/staff/unit")
def workbench(
    request: Request, tab: str = "dispatched", row: str = "", then: str = "", staff: Staff = Depends(require("handler", "unit_admin")), session: Session = Depends(get_db_session)
):
    """An action on a card comes back to it (?row=, with the outcome above it and the anchor there), or, when the
    order has left the tab (signed, answered, returned), to the card that followed it (?then=): not to the top of
    a long list, three screens up on a phone."""
    unit_id = staff.actor.unit_id
    if tab not in dict(TABS):
        tab = "dispatched"
    statuses = [s for s, _ in TABS]
    counts = dict(session.execute(select(Ticket.status, func.count()).where(_mine(unit_id, statuses), Ticket.status.in_(statuses)).group_by(Ticket.status)).all())
    pages = max(1, ceil(counts.get(tab, 0) / PER_TAB))
    # Past the last page (its last order was just signed or answered) shows the new last page, not an empty tab.
    page = min(page_number(request), pages)
    order = Ticket.replied_at.desc() if tab == "replied" else Ticket.reply_due
    query = select(Ticket).where(_mine(unit_id, [tab]), Ticket.status == tab).order_by(order, Ticket.id)
    items = session.scalars(query.offset((page - 1) * PER_TAB).limit(PER_TAB)).all()
    numbers = [t.number for t in items]
    following = dict(zip(numbers, numbers[1:] + [""]))
    usable = phrases.usable(session, actor=staff.actor)
    consent = sla.current_policy(session).pause_needs_approval if items else None
    contexts = {
        t.id: action_context(session, staff, t, next=_tab_url(tab, page, row=t.number, then=following[t.number]), phrases=usable, pause_needs_approval=consent)
        for t in items
    }
    redos = service.latest_redos(session, ticket_ids=[t.id for t in items if t.redo_count])
    repeats = service.repeat_calls(session, ticket_ids=[t.id for t in items])
    centre_notes = service.latest_centre_notes(session, ticket_ids=[t.id for t in items if t.urge_count or t.supervised])
    dispatch_notes = service.dispatch_notes(session, ticket_ids=[t.id for t in items])
    contacts = service.latest_contacts(session, ticket_ids=[t.id for t in items])
    # Where the unit only co-handles, its card shows what it owes (its 协办意见 by the reply deadline), not the lead's signing.
    co_parts = {t.id: c for t in items if unit_id not in (t.lead_unit_id, t.sub_unit_id) for c in t.co_units if c.unit_id == unit_id}
    refusals = service.latest_refusals(session, ticket_ids=[t.id for t in items if t.id not in co_parts])
    overdue = session.scalar(select(func.count()).select_from(Ticket).where(_mine(unit_id, ["dispatched", "signed"], owing=True), Ticket.status.in_(["dispatched", "signed"]), Ticket.reply_due < utcnow())) or 0
    return render(
        request,
        "staff/unit.html",
        {
            "tabs": TABS, "tab": tab, "counts": counts, "items": items, "contexts": contexts, "redos": redos, "repeats": repeats, "centre_notes": centre_notes, "dispatch_notes": dispatch_notes, "contacts": contacts, "co_parts": co_parts, "refusals": refusals, "overdue": overdue,
            "landed": row, "landed_at": next((n for n in (row, then) if n and n in numbers), None),
            "page": page, "pages": pages, "page_url": lambda p: _tab_url(tab, p),
            "unit_name": staff.user.unit.name if staff.user.unit else "", "nav": "/staff/unit",
        },
    )


def _tab_url(tab: str, page: int, *, row: str = "", then: str = "") -> str:
    url = f"/staff/unit?tab={tab}" + (f"&page={page}" if page > 1 else "")
    return url + (f"&row={row}" + (f"&then={then}" if then else "") + f"#t-{row}" if row else "")

