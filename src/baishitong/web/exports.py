"""工单导出 from the ticket list: the orders its filters (受理日期 among them) select, as CSV or Excel."""

from datetime import datetime
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from baishitong.deps import get_db_session
from baishitong.errors import DomainError
from baishitong.tickets import export
from baishitong.tickets.service import LOCAL_TZ
from baishitong.web.auth import Staff, current_staff
from baishitong.web.ticket import list_filters, list_query
from baishitong.web.views import flash, redirect

router = APIRouter(include_in_schema=False)

MEDIA = {"csv": "text/csv; charset=utf-8", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


@router.get("/staff/exports/tickets.{fmt}")
def export_tickets(fmt: str, request: Request, staff: Staff = Depends(current_staff), session: Session = Depends(get_db_session)):
    filters = list_filters(request)
    back = "/staff/tickets?" + urlencode({k: v for k, v in filters.items() if v}) + "#export"
    try:
        query = list_query(filters)
    except ValueError:
        return redirect(back)  # the list says what is wrong with its dates, beside them
    if fmt not in MEDIA:
        flash(request, "error", "仅支持导出 CSV 或 Excel（xlsx）")
        return redirect(back)
    try:
        lines = export.rows(session, actor=staff.actor, filters=query)
    except DomainError as exc:
        # An unknown unit or channel the list says itself, above its rows; only the export has a size limit.
        if exc.code == "export_too_large":
            flash(request, "error", exc.message)
        return redirect(back)
    content = export.to_csv(lines) if fmt == "csv" else export.to_xlsx(lines)
    stamp = datetime.now(LOCAL_TZ).strftime("%Y%m%d-%H%M")
    headers = {"Content-Disposition": f"attachment; filename=\"tickets-{stamp}.{fmt}\"; filename*=UTF-8''%E5%B7%A5%E5%8D%95%E5%AF%BC%E5%87%BA-{stamp}.{fmt}"}
    return Response(content, media_type=MEDIA[fmt], headers=headers)
