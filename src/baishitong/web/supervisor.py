"""督办台 (overdue and nearly due orders, returns, extensions, callback review, the league table) and 热点诉求."""

from datetime import timedelta
from functools import partial
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from baishitong.db import utcnow
from baishitong.deps import get_db_session
from baishitong.analytics import report as reports
from baishitong.analytics import service as analytics
from baishitong.analytics.schemas import HotTopicsOut
from baishitong.tickets import service
from baishitong.tickets.models import Ticket, TicketEvent
from baishitong.tickets.service import local_today
from baishitong.web import uploads
from baishitong.web.auth import Staff, require
from baishitong.web.csrf import checked_form
from baishitong.web.views import flash, fragment, redirect, render, section_pages, ticket_page

router = APIRouter(include_in_schema=False)

WINDOW_DAYS = 90
TIMED = ("dispatched", "signed")
# The desk's sections (card ids): ?at= names the section in view (the one paged, or acted on, which its
# action returns to with the anchor); the others show their first page.
SECTIONS = ("overdue", "soon", "returns", "extensions", "paused", "unhappy")
# Six sections on one page: 10 rows each keeps the desk a few screens tall (30 made it over 7,000 px with the demo's
# 延期待批 alone); each title says how many there are and the pager under it goes to the rest.
SECTION_ROWS = 10


def _league(session: Session) -> list[dict]:
    """The units' rates over the last WINDOW_DAYS whole local days of dispatches, today included, each with
    `listed`, the orders it still leads, and `orders_url`, 工单查询 filtered by 派单日期 to exactly those orders. The
    league's 派单数 also counts the orders a unit returned that are now elsewhere, which no list by unit can hold.
    `callbacks_url` narrows `orders_url` to 有回访评价 (callback=yes; any status, not only the status 已回访): its 回访数 are
    all orders the unit leads (neither merged nor voided ones keep a callback), so the list holds as many."""
    end = local_today()
    start = end - timedelta(days=WINDOW_DAYS - 1)
    since, until = reports.bounds(start, end)
    # `listed` comes from the rates' own pass: a second grouped count over the period cost as much again.
    rows = analytics.unit_rates(session, since=since, until=until, listed=True)
    period = {"dispatched_from": start.isoformat(), "dispatched_to": end.isoformat(), "matters": "1"}
    url = lambda row, **more: "/staff/tickets?" + urlencode({"unit": row["unit"], **period, **more})  # noqa: E731
    return [row | {"orders_url": url(row), "callbacks_url": url(row, callback="yes")} for row in rows]


@router.get("/staff/supervise")
def supervise(
    request: Request, at: str = "", row: str = "", league: str = "", staff: Staff = Depends(require("supervisor", "admin")), session: Session = Depends(get_db_session)
):
    """The league table (about 200 ms over 90 days of 100,000 orders) comes after the page, from
    /staff/supervise/league; without JavaScript the page links to itself with ?league=1, which includes it (any other
    value is the page without it, not an error page: the parameter is a link's, not typed)."""
    now = utcnow()
    # Each section lists its first SECTION_ROWS orders; the figures at the top count all of them.
    # A unit stops its own clock (waiting for the requester), at once or, where the policy asks for consent
    # (pause_needs_approval), once a supervisor agrees: "paused" lists both, why and since when, to restart
    # the clock or to decide the request.
    sections = {
        "overdue": (and_(Ticket.status.in_(TIMED), Ticket.reply_due < now), Ticket.reply_due),
        "soon": (and_(Ticket.status.in_(TIMED), Ticket.reply_due >= now, Ticket.reply_warn_at <= now), Ticket.reply_due),
        "returns": (Ticket.status == "returned", Ticket.updated_at),
        "extensions": (and_(Ticket.status == "signed", Ticket.extension_days.is_not(None)), Ticket.updated_at),
        "paused": (and_(Ticket.status == "signed", or_(Ticket.paused.is_(True), Ticket.pause_request.is_not(None))), Ticket.updated_at),
        "unhappy": (and_(Ticket.status == "callback", or_(Ticket.callback_satisfaction == "不满意", Ticket.callback_solved.is_(False))), Ticket.callback_at.desc()),
    }
    counts = {name: session.scalar(select(func.count()).select_from(Ticket).where(where)) or 0 for name, (where, _order) in sections.items()}
    page, pages = section_pages(request, at=at, counts=counts, per_page=SECTION_ROWS)
    listed = {name: ticket_page(session, where, order, page=page[name], per_page=SECTION_ROWS) for name, (where, order) in sections.items()}
    overdue, soon, returned, extensions, paused, unhappy = (listed[name] for name in SECTIONS)
    pauses = {}
    if paused:
        rows = session.execute(select(TicketEvent.ticket_id, TicketEvent.data, TicketEvent.created_at).where(TicketEvent.action == "pause", TicketEvent.ticket_id.in_([t.id for t in paused])).order_by(TicketEvent.id))
        pauses = {ticket_id: ((data or {}).get("reason"), since) for ticket_id, data, since in rows}
    granted = service.granted_extensions(session, ticket_ids=[t.id for t in extensions])
    callback_notes = service.callback_notes(session, ticket_ids=[t.id for t in unhappy])
    reply_files = uploads.staff_reply_files(session, tickets=unhappy)
    return render(
        request,
        "staff/supervise.html",
        {
            "overdue": overdue, "soon": soon, "returned": returned, "extensions": extensions, "granted": granted, "paused": paused, "pauses": pauses, "unhappy": unhappy,
            "callback_notes": callback_notes, "reply_files": reply_files, "league": _league(session) if league.lower() in ("1", "true", "on", "yes") else None, "counts": counts, "page": page, "pages": pages, "section_rows": SECTION_ROWS,
            "page_urls": {name: partial(_section_url, name) for name in SECTIONS}, "back": lambda name, row="": _section_url(name, page[name], row), "window_days": WINDOW_DAYS, "min_callbacks": analytics.RANKING_MIN_CALLBACKS,
            "flash_at": at if at in SECTIONS else None, "landed": row, "following": {name: _following(listed[name]) for name in SECTIONS}, "nav": "/staff/supervise",
        },
    )


@router.get("/staff/supervise/league")
def league_table(request: Request, staff: Staff = Depends(require("supervisor", "admin")), session: Session = Depends(get_db_session)):
    """htmx: the league table, loaded once the desk is on screen."""
    return fragment(request, "staff/_league.html", {"league": _league(session)})


def _following(tickets: list[Ticket]) -> dict[str, str]:
    """Where an action that takes an order off its section (a decision, 恢复计时, 重办, 办结) lands: the order after
    it, or before it for the last one, where the keyboard goes on; "" when it is the only one."""
    numbers = [t.number for t in tickets]
    return {n: numbers[i + 1] if i + 1 < len(numbers) else numbers[i - 1] if i else "" for i, n in enumerate(numbers)}


def _section_url(section: str, page: int, row: str = "") -> str:
    """A section at a page; `row` is the order whose row shows the outcome (the one acted on if it stays listed,
    as after 催办 or 督办, else the next one), and the page anchors there, so the browser moves the focus to it."""
    if row:
        return f"/staff/supervise?at={section}" + (f"&page={page}" if page > 1 else "") + f"&row={row}#{section}-{row}"
    return f"/staff/supervise?at={section}" + (f"&page={page}" if page > 1 else "") + f"#{section}"


hot_topic_readers = require("operator", "supervisor", "admin")


def _hot_window(value: str) -> int:
    return int(value) if value.isdigit() and int(value) in analytics.HOT_WINDOWS else 7


@router.get("/staff/hot-topics")
def hot_topics(request: Request, window: str = "7", staff: Staff = Depends(hot_topic_readers), session: Session = Depends(get_db_session)):
    window_days = _hot_window(window)
    snapshot = analytics.latest_hot_topics(session, window_days=window_days)
    # Every order behind each topic (up to the 200 stored), not only the examples: 工单数 is followed to its orders.
    orders = [topic.get("keys", topic["examples"]) for topic in snapshot.topics] if snapshot else []
    return render(
        request,
        "staff/hot_topics.html",
        {"snapshot": snapshot and HotTopicsOut.of(window_days, snapshot), "orders": orders, "window_days": window_days, "windows": analytics.HOT_WINDOWS, "nav": "/staff/hot-topics"},
    )


@router.post("/staff/hot-topics/refresh")
def refresh_hot_topics(request: Request, form: FormData = Depends(checked_form), staff: Staff = Depends(hot_topic_readers), session: Session = Depends(get_db_session)):
    window_days = _hot_window(str(form.get("window") or ""))
    analytics.request_hot_topics(session, window_days=window_days)
    flash(request, "success", "已提交重新计算，通常一分钟内完成，请稍后刷新本页。")
    return redirect(f"/staff/hot-topics?window={window_days}")
