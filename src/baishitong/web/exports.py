"""工单导出 from the ticket list: the same filters plus a 受理日期 range, as CSV or Excel."""

from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from baishitong import bounds
from baishitong.deps import get_db_session
from baishitong.errors import DomainError
from baishitong.tickets import export
from baishitong.tickets.service import LOCAL_TZ
from baishitong.web.auth import Staff, current_staff
from baishitong.web.ticket import list_filters
from baishitong.web.views import flash, redirect

router = APIRouter(include_in_schema=False)

MEDIA = {"csv": "text/csv; charset=utf-8", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _day(value: str) -> date | None:
    """None when not given; a date that cannot be read (or is out of range) is refused, not read as "no limit"."""
    return bounds.parse_day(value, "受理日期") if value else None


@router.get("/staff/exports/tickets.{fmt}")
def export_tickets(fmt: str, request: Request, staff: Staff = Depends(current_staff), session: Session = Depends(get_db_session)):
    filters = list_filters(request)
    # A refused export goes back to the list with its form open and the dates as typed, to correct one.
    typed = {k: request.query_params.get(k, "")[:10] for k in ("from", "to")}
    back = "/staff/tickets?" + urlencode({k: v for k, v in (filters | typed).items() if v}) + "#export"
    try:
        start, end = _day(request.query_params.get("from", "")), _day(request.query_params.get("to", ""))
    except ValueError as exc:
        flash(request, "error", str(exc))
        return redirect(back)
    if fmt not in MEDIA:
        flash(request, "error", "仅支持导出 CSV 或 Excel（xlsx）")
        return redirect(back)
    if start and end and end < start:
        flash(request, "error", "受理日期的结束日期不能早于开始日期")
        return redirect(back)
    query = {
        "status": [filters["status"]] if filters["status"] else None,
        "type": filters["type"] or None,
        "channel": filters["channel"] or None,
        "lead_unit": filters["unit"] or None,
        "query_text": filters["q"] or None,
        # Whole local days: 'to' 2026-11-30 takes in everything received on the 30th.
        "created_from": datetime.combine(start, time(), LOCAL_TZ) if start else None,
        "created_to": datetime.combine(end + timedelta(days=1), time(), LOCAL_TZ) if end else None,
    }
    try:
        lines = export.rows(session, actor=staff.actor, filters=query)
    except DomainError as exc:
        flash(request, "error", exc.message)
        return redirect(back)
    content = export.to_csv(lines) if fmt == "csv" else export.to_xlsx(lines)
    stamp = datetime.now(LOCAL_TZ).strftime("%Y%m%d-%H%M")
    headers = {"Content-Disposition": f"attachment; filename=\"tickets-{stamp}.{fmt}\"; filename*=UTF-8''%E5%B7%A5%E5%8D%95%E5%AF%BC%E5%87%BA-{stamp}.{fmt}"}
    return Response(content, media_type=MEDIA[fmt], headers=headers)
