"""Performance rates per unit and period (the supervisor's league table) and the hot topics of a period."""

import hashlib
import json
import subprocess
import sys
from datetime import datetime, timedelta

from sqlalchemy import and_, case, delete, func, or_, select
from sqlalchemy.orm import Session

from baishitong.analytics.models import HotTopicSnapshot
from baishitong.db import utcnow
from baishitong.jobs.service import enqueue
from baishitong.org.models import Category, Region, Unit
from baishitong.tickets.models import Ticket, TicketEvent
from baishitong.tickets.states import NOT_MATTERS

SATISFIED = ("满意", "基本满意")


def _rate(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


RANKING_MIN_CALLBACKS = 5


def judged(done, deadline, *, now: datetime, moved_on=None):
    """The orders an on-time rate is taken over: those done, and those still with the unit after the deadline,
    so a unit does not keep its rate up by leaving its late orders unanswered. `moved_on`: when the order went
    past the step without it being done (a reply without a first contact), late if after the deadline."""
    late = [and_(Ticket.status.in_(["dispatched", "signed"]), deadline.is_not(None), deadline < now)]
    if moved_on is not None:
        late.append(and_(moved_on.is_not(None), deadline.is_not(None), deadline < moved_on))
    return or_(done.is_not(None), *late)


def unit_rates(session: Session, *, since: datetime | None = None, until: datetime | None = None, unit_code: str | None = None, listed: bool = False) -> list[dict]:
    """Tickets dispatched to each unit in the period, and how the unit did on them.

    on_time_sign / contact / reply: done by the deadline, of those `judged`; resolution and satisfaction:
    of the callbacks; return_rate: the orders the unit asked to return, of the orders it was sent; redo_rate:
    the orders sent back for 重办 after an unhappy callback, of those the unit answered. A redone order's later
    happy callback replaces the first in the satisfaction rate, so without redo_rate the failed first round
    would leave no trace. With `listed`, each row also has `listed`: the orders of the period the unit still leads,
    neither merged nor voided (the 督办台 league's link to them), counted in the same pass over the period.
    """
    period = []
    if since:
        period.append(Ticket.dispatched_at >= since)
    if until:
        period.append(Ticket.dispatched_at < until)
    count = lambda condition: func.sum(case((condition, 1), else_=0))  # noqa: E731
    now = utcnow()
    due = lambda done, deadline, moved_on=None: count(judged(done, deadline, now=now, moved_on=moved_on))  # noqa: E731
    query = (
        select(
            Ticket.lead_unit_id,
            func.count().label("dispatched"),
            count(Ticket.signed_at.is_not(None)).label("signed"),
            due(Ticket.signed_at, Ticket.sign_due).label("sign_due"),
            count(and_(Ticket.signed_at.is_not(None), Ticket.sign_due.is_not(None), Ticket.signed_at <= Ticket.sign_due)).label("signed_on_time"),
            due(Ticket.contacted_at, Ticket.contact_due, Ticket.replied_at).label("contact_due"),
            count(and_(Ticket.contacted_at.is_not(None), Ticket.contact_due.is_not(None), Ticket.contacted_at <= Ticket.contact_due)).label("contacted_on_time"),
            count(Ticket.replied_at.is_not(None)).label("replied"),
            due(Ticket.replied_at, Ticket.reply_due).label("reply_due"),
            count(and_(Ticket.replied_at.is_not(None), Ticket.reply_due.is_not(None), Ticket.replied_at <= Ticket.reply_due)).label("replied_on_time"),
            count(Ticket.callback_at.is_not(None)).label("callbacks"),
            count(Ticket.callback_solved.is_(True)).label("solved"),
            count(Ticket.callback_satisfaction.in_(SATISFIED)).label("satisfied"),
            count(Ticket.redo_count > 0).label("redone"),
            count(or_(Ticket.replied_at.is_not(None), Ticket.redo_count > 0)).label("answered"),
            count(Ticket.status.not_in(sorted(NOT_MATTERS))).label("listed"),
        )
        # A merged order is a repeat of its master's matter, which counts once, for the master's unit.
        .where(Ticket.lead_unit_id.is_not(None), Ticket.status != "merged", *period)
        .group_by(Ticket.lead_unit_id)
    )
    rows = {r.lead_unit_id: r for r in session.execute(query)}

    # The orders each unit returned, once each however often it asked; those it no longer holds (sent on, or
    # dispatched before the period) are orders it was sent that `rows` does not count. One it still holds
    # (退单待审, or the return refused) is in `rows` already.
    still_counted = and_(Ticket.lead_unit_id == TicketEvent.unit_id, Ticket.status != "merged", *period)
    returns_query = (
        select(TicketEvent.unit_id, func.count(TicketEvent.ticket_id.distinct()), func.count(case((still_counted, None), else_=TicketEvent.ticket_id).distinct()))
        .join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .where(TicketEvent.action == "return", TicketEvent.unit_id.is_not(None))
    )
    if since:
        returns_query = returns_query.where(TicketEvent.created_at >= since)
    if until:
        returns_query = returns_query.where(TicketEvent.created_at < until)
    returned = {unit_id: (orders, elsewhere) for unit_id, orders, elsewhere in session.execute(returns_query.group_by(TicketEvent.unit_id))}
    returns = {unit_id: orders for unit_id, (orders, _) in returned.items()}

    unit_ids = set(rows) | set(returns)
    units = {u.id: u for u in session.scalars(select(Unit).where(Unit.id.in_(unit_ids)))} if unit_ids else {}
    result = []
    for unit_id in unit_ids:
        unit = units[unit_id]
        if unit_code and unit.code != unit_code:
            continue
        r = rows.get(unit_id)
        dispatched = (r.dispatched if r else 0) + returned.get(unit_id, (0, 0))[1]
        result.append(
            {
                "unit": unit.code,
                "unit_name": unit.name,
                "dispatched": dispatched,
                "signed": r.signed if r else 0,
                "replied": r.replied if r else 0,
                "callbacks": r.callbacks if r else 0,
                "returns": returns.get(unit_id, 0),
                "on_time_sign_rate": _rate(r.signed_on_time, r.sign_due) if r else None,
                "on_time_contact_rate": _rate(r.contacted_on_time, r.contact_due) if r else None,
                "on_time_reply_rate": _rate(r.replied_on_time, r.reply_due) if r else None,
                "resolution_rate": _rate(r.solved, r.callbacks) if r else None,
                "satisfaction_rate": _rate(r.satisfied, r.callbacks) if r else None,
                "return_rate": _rate(returns.get(unit_id, 0), dispatched),
                "redone": r.redone if r else 0,
                "redo_rate": _rate(r.redone, r.answered) if r else None,
            }
            | ({"listed": r.listed if r else 0} if listed else {})
        )
    # One happy callback is no 100 % to rank above a unit with forty: small samples go last.
    result.sort(key=lambda row: (row["callbacks"] < RANKING_MIN_CALLBACKS, -(row["satisfaction_rate"] or 0), -(row["on_time_reply_rate"] or 0), row["unit"]))
    return result


# -- hot topics (热点诉求) ---------------------------------------------------------------------------

HOT_WINDOWS = {1: "近24小时", 7: "近7天", 30: "近30天"}
HOT_REFRESH = timedelta(hours=1)
# The newest 15,000 of a period: about 70 MB in the clustering child (bench/hotspots.py).
HOT_MAX_TICKETS = 15_000
HOT_KEEP = timedelta(days=7)
HOT_EXAMPLES = 5
HOT_JOB = "analytics.hot_topics"
HOT_TIMEOUT_S = 600


def _cluster_in_child(items: list[list], *, now: datetime) -> dict:
    """Clusters in a short-lived process: SciPy and the pairwise products (about 70 MB for 15,000
    requests) stay out of the long-running worker, which glibc would seldom shrink again."""
    payload = json.dumps({"items": items, "now": now.isoformat()}, ensure_ascii=False)
    done = subprocess.run(
        [sys.executable, "-m", "baishitong.analytics.hotspots"], input=payload, capture_output=True, text=True, encoding="utf-8", timeout=HOT_TIMEOUT_S, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"hot-topic clustering failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout)


def compute_hot_topics(session: Session, *, window_days: int, now: datetime | None = None) -> HotTopicSnapshot:
    """Clusters the period's requests (voided ones left out) and stores the ranked topics as a snapshot."""
    now = now or utcnow()
    rows = session.execute(
        select(Ticket.number, Ticket.title, func.substr(Ticket.content, 1, 200), Ticket.created_at, Ticket.region_id, Ticket.category_id, Ticket.requester_phone, Ticket.address)
        .where(Ticket.created_at >= now - timedelta(days=window_days), Ticket.created_at <= now, Ticket.status != "voided")
        .order_by(Ticket.created_at.desc())
        .limit(HOT_MAX_TICKETS + 1)
    ).all()
    truncated = len(rows) > HOT_MAX_TICKETS
    rows = rows[:HOT_MAX_TICKETS]
    regions = {r.id: r for r in session.scalars(select(Region))}
    categories = {c.id: c for c in session.scalars(select(Category))}

    def place(region_id: int | None) -> str | None:
        region = regions.get(region_id)
        if region is None:
            return None
        parent = regions.get(region.parent_id) if region.parent_id else None
        return f"{parent.short_name}·{region.short_name}" if parent is not None else region.short_name

    def place_words(region_id: int | None) -> str:
        """The names of the request's community and town, full and short: where it is, not what it is about."""
        region = regions.get(region_id)
        named = [region, regions.get(region.parent_id) if region.parent_id else None] if region is not None else []
        return " ".join(f"{r.name} {r.short_name}" for r in named if r is not None)

    def top_category(category_id: int | None) -> str | None:
        category = categories.get(category_id)
        return category.root.name if category is not None else None

    items = [
        # Only whether two requests share a phone matters, so the child sees a digest, not the number.
        [
            number, title or "", content or "", created_at.isoformat(), place(region_id), top_category(category_id),
            hashlib.sha256(phone.encode()).hexdigest()[:16] if phone else None, 0, f"{address or ''} {place_words(region_id)}".strip(),
        ]
        for number, title, content, created_at, region_id, category_id, phone, address in rows
    ]
    result = _cluster_in_child(items, now=now) if items else {"threshold": None, "topics": []}
    topics = []
    for entry in result["topics"]:
        entry["keys"] = entry["keys"][:200]
        entry["examples"] = entry["keys"][:HOT_EXAMPLES]
        topics.append(entry)
    snapshot = HotTopicSnapshot(window_days=window_days, computed_at=now, n_tickets=len(items), truncated=truncated, threshold=result["threshold"], topics=topics)
    session.add(snapshot)
    session.execute(delete(HotTopicSnapshot).where(HotTopicSnapshot.window_days == window_days, HotTopicSnapshot.computed_at < now - HOT_KEEP))
    session.flush()
    return snapshot


def latest_hot_topics(session: Session, *, window_days: int) -> HotTopicSnapshot | None:
    return session.scalar(
        select(HotTopicSnapshot).where(HotTopicSnapshot.window_days == window_days).order_by(HotTopicSnapshot.computed_at.desc(), HotTopicSnapshot.id.desc()).limit(1)
    )


def refresh_stale_hot_topics(session: Session, *, now: datetime) -> int:
    """Recomputes every window whose latest snapshot is older than HOT_REFRESH; cheap when none is."""
    refreshed = 0
    for window_days in HOT_WINDOWS:
        latest = latest_hot_topics(session, window_days=window_days)
        if latest is None or now - latest.computed_at >= HOT_REFRESH:
            compute_hot_topics(session, window_days=window_days, now=now)
            refreshed += 1
    return refreshed


def request_hot_topics(session: Session, *, window_days: int, now: datetime | None = None) -> bool:
    """Queues a recomputation for a supervisor; repeated clicks within the same minute queue one job."""
    now = now or utcnow()
    key = f"{HOT_JOB}:{window_days}:{now.strftime('%Y%m%d%H%M')}"
    return enqueue(session, HOT_JOB, dedupe_key=key, window_days=window_days) is not None
