"""Performance rates per unit and period, for dashboards and the supervisor's league table."""

from datetime import datetime

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from baishitong.org.models import Unit
from baishitong.tickets.models import Ticket, TicketEvent

SATISFIED = ("满意", "基本满意")


def _rate(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def unit_rates(session: Session, *, since: datetime | None = None, until: datetime | None = None, unit_code: str | None = None) -> list[dict]:
    """Tickets dispatched to each unit in the period, and how the unit did on them.

    on_time_sign: signed by the sign deadline, of those signed; on_time_reply: replied by
    the reply deadline, of those replied; resolution and satisfaction: of the callbacks;
    return_rate: returns the unit requested, of the orders it was sent.
    """
    period = []
    if since:
        period.append(Ticket.dispatched_at >= since)
    if until:
        period.append(Ticket.dispatched_at < until)
    count = lambda condition: func.sum(case((condition, 1), else_=0))  # noqa: E731
    query = (
        select(
            Ticket.lead_unit_id,
            func.count().label("dispatched"),
            count(Ticket.signed_at.is_not(None)).label("signed"),
            count(and_(Ticket.signed_at.is_not(None), Ticket.sign_due.is_not(None), Ticket.signed_at <= Ticket.sign_due)).label("signed_on_time"),
            count(Ticket.contacted_at.is_not(None)).label("contacted"),
            count(and_(Ticket.contacted_at.is_not(None), Ticket.contact_due.is_not(None), Ticket.contacted_at <= Ticket.contact_due)).label("contacted_on_time"),
            count(Ticket.replied_at.is_not(None)).label("replied"),
            count(and_(Ticket.replied_at.is_not(None), Ticket.reply_due.is_not(None), Ticket.replied_at <= Ticket.reply_due)).label("replied_on_time"),
            count(Ticket.callback_at.is_not(None)).label("callbacks"),
            count(Ticket.callback_solved.is_(True)).label("solved"),
            count(Ticket.callback_satisfaction.in_(SATISFIED)).label("satisfied"),
        )
        .where(Ticket.lead_unit_id.is_not(None), *period)
        .group_by(Ticket.lead_unit_id)
    )
    rows = {r.lead_unit_id: r for r in session.execute(query)}

    returns_query = select(TicketEvent.unit_id, func.count()).where(TicketEvent.action == "return", TicketEvent.unit_id.is_not(None))
    if since:
        returns_query = returns_query.where(TicketEvent.created_at >= since)
    if until:
        returns_query = returns_query.where(TicketEvent.created_at < until)
    returns = dict(session.execute(returns_query.group_by(TicketEvent.unit_id)).all())

    unit_ids = set(rows) | set(returns)
    units = {u.id: u for u in session.scalars(select(Unit).where(Unit.id.in_(unit_ids)))} if unit_ids else {}
    result = []
    for unit_id in unit_ids:
        unit = units[unit_id]
        if unit_code and unit.code != unit_code:
            continue
        r = rows.get(unit_id)
        dispatched = (r.dispatched if r else 0) + returns.get(unit_id, 0)
        result.append(
            {
                "unit": unit.code,
                "unit_name": unit.name,
                "dispatched": dispatched,
                "signed": r.signed if r else 0,
                "replied": r.replied if r else 0,
                "callbacks": r.callbacks if r else 0,
                "returns": returns.get(unit_id, 0),
                "on_time_sign_rate": _rate(r.signed_on_time, r.signed) if r else None,
                "on_time_contact_rate": _rate(r.contacted_on_time, r.contacted) if r else None,
                "on_time_reply_rate": _rate(r.replied_on_time, r.replied) if r else None,
                "resolution_rate": _rate(r.solved, r.callbacks) if r else None,
                "satisfaction_rate": _rate(r.satisfied, r.callbacks) if r else None,
                "return_rate": _rate(returns.get(unit_id, 0), dispatched),
            }
        )
    result.sort(key=lambda row: (-(row["satisfaction_rate"] or 0), -(row["on_time_reply_rate"] or 0), row["unit"]))
    return result
