"""督办台 (overdue and nearly due orders, returns, extensions, callback review, the league table) and 热点诉求."""

from datetime import timedelta

from fastapi import APIRouter, Depends, Request
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from baishitong.db import utcnow
from baishitong.deps import get_db_session
from baishitong.analytics import service as analytics
from baishitong.analytics.schemas import HotTopicsOut
from baishitong.tickets import service
from baishitong.tickets.models import Ticket, TicketEvent
from baishitong.web.auth import Staff, require
from baishitong.web.csrf import checked_form
from baishitong.web.views import flash, redirect, render

router = APIRouter(include_in_schema=False)

WINDOW_DAYS = 90
TIMED = ("dispatched", "signed")
# The desk's sections (card ids): an action returns to its own with ?at= and the anchor.
SECTIONS = ("overdue", "soon", "returns", "extensions", "paused", "unhappy")


@router.get("/staff/supervise")
def supervise(request: Request, at: str = "", staff: Staff = Depends(require("supervisor", "admin")), session: Session = Depends(get_db_session)):
    now = utcnow()
    overdue = session.scalars(select(Ticket).where(Ticket.status.in_(TIMED), Ticket.reply_due < now).order_by(Ticket.reply_due).limit(30)).all()
    soon = session.scalars(select(Ticket).where(Ticket.status.in_(TIMED), Ticket.reply_due >= now, Ticket.reply_warn_at <= now).order_by(Ticket.reply_due).limit(30)).all()
    returned = session.scalars(select(Ticket).where(Ticket.status == "returned").order_by(Ticket.updated_at).limit(30)).all()
    extensions = session.scalars(select(Ticket).where(Ticket.status == "signed", Ticket.extension_days.is_not(None)).order_by(Ticket.updated_at).limit(30)).all()
    # A unit stops its own clock without review (waiting for the requester): the centre sees every such
    # order here, why and since when, and can restart the clock.
    paused = session.scalars(select(Ticket).where(Ticket.status == "signed", Ticket.paused.is_(True)).order_by(Ticket.updated_at).limit(30)).all()
    pauses = {}
    if paused:
        rows = session.execute(select(TicketEvent.ticket_id, TicketEvent.data, TicketEvent.created_at).where(TicketEvent.action == "pause", TicketEvent.ticket_id.in_([t.id for t in paused])).order_by(TicketEvent.id))
        pauses = {ticket_id: ((data or {}).get("reason"), since) for ticket_id, data, since in rows}
    unhappy = session.scalars(
        select(Ticket).where(Ticket.status == "callback", (Ticket.callback_satisfaction == "不满意") | Ticket.callback_solved.is_(False)).order_by(Ticket.callback_at.desc()).limit(30)
    ).all()
    callback_notes = service.callback_notes(session, ticket_ids=[t.id for t in unhappy])
    league = analytics.unit_rates(session, since=now - timedelta(days=WINDOW_DAYS), until=now + timedelta(minutes=1))
    counts = {
        "overdue": session.scalar(select(func.count()).select_from(Ticket).where(Ticket.status.in_(TIMED), Ticket.reply_due < now)) or 0,
        "soon": session.scalar(select(func.count()).select_from(Ticket).where(Ticket.status.in_(TIMED), Ticket.reply_due >= now, Ticket.reply_warn_at <= now)) or 0,
    }
    return render(
        request,
        "staff/supervise.html",
        {
            "overdue": overdue, "soon": soon, "returned": returned, "extensions": extensions, "paused": paused, "pauses": pauses, "unhappy": unhappy,
            "callback_notes": callback_notes, "league": league, "counts": counts, "window_days": WINDOW_DAYS, "min_callbacks": analytics.RANKING_MIN_CALLBACKS,
            "flash_at": at if at in SECTIONS else None, "nav": "/staff/supervise",
        },
    )


hot_topic_readers = require("operator", "supervisor", "admin")


def _hot_window(value: str) -> int:
    return int(value) if value.isdigit() and int(value) in analytics.HOT_WINDOWS else 7


@router.get("/staff/hot-topics")
def hot_topics(request: Request, window: str = "7", staff: Staff = Depends(hot_topic_readers), session: Session = Depends(get_db_session)):
    window_days = _hot_window(window)
    snapshot = analytics.latest_hot_topics(session, window_days=window_days)
    return render(
        request,
        "staff/hot_topics.html",
        {"snapshot": snapshot and HotTopicsOut.of(window_days, snapshot), "window_days": window_days, "windows": analytics.HOT_WINDOWS, "nav": "/staff/hot-topics"},
    )


@router.post("/staff/hot-topics/refresh")
def refresh_hot_topics(request: Request, form: FormData = Depends(checked_form), staff: Staff = Depends(hot_topic_readers), session: Session = Depends(get_db_session)):
    window_days = _hot_window(str(form.get("window") or ""))
    analytics.request_hot_topics(session, window_days=window_days)
    flash(request, "success", "已提交重新计算，通常一分钟内完成，请稍后刷新本页。")
    return redirect(f"/staff/hot-topics?window={window_days}")
