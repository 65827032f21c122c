"""统计分析 for supervisors: a period's intake and handling, broken down, with an Excel download."""

from datetime import date, timedelta
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from baishitong import bounds
from baishitong.analytics import report as reports
from baishitong.deps import get_db_session
from baishitong.tickets.service import local_today
from baishitong.web.auth import Staff, require
from baishitong.web.ticket import NONE
from baishitong.web.views import redirect, render

router = APIRouter(include_in_schema=False)
DEFAULT_DAYS = 30
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _period(request: Request) -> tuple[date, date, str | None]:
    """(start, end, error): the last 30 days unless a valid range of at most a year is asked for. "from"
    alone runs to today; "to" alone means the 30 days up to it."""
    today = local_today()
    default = (today - timedelta(days=DEFAULT_DAYS - 1), today)
    raw = request.query_params.get("from", ""), request.query_params.get("to", "")
    if not any(raw):
        return *default, None
    try:
        start, end = (bounds.parse_day(v) if v else None for v in raw)
    except ValueError as exc:
        return *default, f"{exc}，已显示最近 30 天"
    start = start or end - timedelta(days=DEFAULT_DAYS - 1)
    end = end or max(start, today)
    if end < start:
        return *default, "结束日期不能早于开始日期，已显示最近 30 天"
    if (end - start).days >= reports.MAX_DAYS:
        return *default, f"统计期间最长 {reports.MAX_DAYS} 天，已显示最近 30 天"
    return start, end, None


@router.get("/staff/stats")
def stats_page(request: Request, staff: Staff = Depends(require("supervisor", "admin")), session: Session = Depends(get_db_session)):
    start, end, error = _period(request)
    report = reports.period_report(session, start=start, end=end)
    peak = max((n for _, n in report.daily), default=0)
    # A refused period stays in the form as typed, to correct one date rather than retype both; the figures and the
    # download are the last 30 days, as the message and the page's lead say.
    typed = {k: request.query_params.get(k, "")[:10] for k in ("from", "to")} if error else {"from": start.isoformat(), "to": end.isoformat()}
    # Each count links to the orders behind it: the list filtered the way the report counts (see list_query); a row
    # without a code (未派单, 未分类, 未定位) to the orders without one.
    orders_url = lambda **only: "/staff/tickets?" + urlencode({"from": start.isoformat(), "to": end.isoformat(), "matters": "1", **{k: v or NONE for k, v in only.items()}})  # noqa: E731
    context = {"report": report, "summary": reports.summary_rows(report), "peak": peak, "error": error, "typed": typed, "orders_url": orders_url, "nav": "/staff/stats"}
    return render(request, "staff/stats.html", context, status_code=422 if error else 200)


@router.get("/staff/stats.xlsx")
def stats_download(request: Request, staff: Staff = Depends(require("supervisor", "admin")), session: Session = Depends(get_db_session)):
    start, end, error = _period(request)
    if error:  # not another period's figures under a file name nobody checks: the page says what was wrong
        return redirect(f"/staff/stats?{request.url.query}")
    report = reports.period_report(session, start=start, end=end)
    name = f"stats-{start:%Y%m%d}-{end:%Y%m%d}.xlsx"
    return Response(reports.to_xlsx(report), media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{name}"'})
