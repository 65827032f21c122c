"""工单导出: the filtered ticket list as CSV or Excel, for the monthly reports supervisors and units write.

The rows are what the staff member may see in the list (a unit only its own work), with the
requester masked: a spreadsheet travels further than the screen, so it never carries a full
name, phone or ID number. Each export is audited with its filters and row count.
"""

import csv
import io
from datetime import datetime

from sqlalchemy.orm import Session

from baishitong.actors import Actor
from baishitong.audit import service as audit
from baishitong.db import utcnow
from baishitong.errors import InvalidInput
from baishitong.security import mask_numbers_in_text
from baishitong.tickets.models import Ticket
from baishitong.tickets.schemas import CHANNEL_LABELS
from baishitong.tickets.service import LOCAL_TZ, list_tickets, requester_view
from baishitong.tickets.states import OPEN_STATUSES, STATUS_LABELS, Status

MAX_ROWS = 10_000
COLUMNS = (
    "工单编号", "受理时间", "渠道", "诉求类型", "标题", "诉求内容", "事发地址", "所在区域", "问题分类",
    "主办单位", "状态", "答复期限", "是否超期", "答复时间", "答复内容", "是否解决", "满意度", "诉求人", "联系电话",
)


# How a time reads in either format: local time to the minute, as on screen.
TIME_FORMAT = "%Y-%m-%d %H:%M"
XLSX_TIME_FORMAT = "yyyy-mm-dd hh:mm"
Value = str | datetime | None


def _local(value: datetime | None) -> datetime | None:
    return value.astimezone(LOCAL_TZ) if value else None


def _overdue(ticket: Ticket, now: datetime) -> str:
    """Replied after the deadline, or still open past it; blank where no reply was due (voided, merged). A 咨询
    answered at once was replied within its deadline: 否."""
    if ticket.reply_due is None:
        return ""
    if ticket.replied_at is not None:
        return "是" if ticket.replied_at > ticket.reply_due else "否"
    if ticket.status in OPEN_STATUSES:
        return "是" if now > ticket.reply_due else "否"
    return ""


def row(ticket: Ticket, *, actor: Actor, now: datetime) -> list[Value]:
    """A 保密 order's requester stays hidden from units here as on screen; everyone else is masked, and so are the
    numbers written into the text columns (a reply often says whom the unit rang: 已致电来电人 138…). Times stay
    local datetimes (None before they happen) for each format to write its own way."""
    solved = {True: "已解决", False: "未解决"}.get(ticket.callback_solved, "")
    requester = requester_view(ticket, actor)
    return [
        ticket.number,
        _local(ticket.created_at),
        CHANNEL_LABELS.get(ticket.channel, ticket.channel),
        ticket.type,
        mask_numbers_in_text(ticket.title),
        mask_numbers_in_text(ticket.content),
        mask_numbers_in_text(ticket.address) or "",
        ticket.region.name if ticket.region else "",
        ticket.category.path if ticket.category else "",
        ticket.lead_unit.name if ticket.lead_unit else "",
        STATUS_LABELS[Status(ticket.status)],
        _local(ticket.reply_due),
        _overdue(ticket, now),
        _local(ticket.replied_at),
        mask_numbers_in_text(ticket.reply_content) or "",
        solved,
        ticket.callback_satisfaction or "",
        requester.name or "",
        "" if ticket.anonymous else (requester.phone or ""),
    ]


def rows(session: Session, *, actor: Actor, filters: dict) -> list[list[Value]]:
    """The header, then every matching ticket newest first; refused above MAX_ROWS rather than cut short silently."""
    tickets, total = list_tickets(session, actor=actor, page=1, per_page=MAX_ROWS, **filters)
    if total > MAX_ROWS:
        raise InvalidInput("export_too_large", f"符合条件的工单有 {total} 件，一次最多导出 {MAX_ROWS} 件，请缩小筛选范围（如按受理日期分段导出）")
    # The search text may be a caller's number typed into 工单查询: the audit trail keeps it for ever.
    shown = {k: mask_numbers_in_text(str(v)) for k, v in filters.items() if v}
    audit.record(session, actor=actor.name, action="tickets.export", object_type="tickets", object_id="export", data={"filters": shown, "rows": total, "role": actor.role})
    now = utcnow()
    return [list(COLUMNS), *(row(t, actor=actor, now=now) for t in tickets)]


# What a spreadsheet reads as the start of a formula: a citizen's text must never run as one on a staff PC.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_text(value: Value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime(TIME_FORMAT)
    return "'" + value if value.startswith(FORMULA_START) else value


def to_csv(lines: list[list[Value]]) -> bytes:
    """UTF-8 with a BOM, so Excel on a government PC opens the Chinese correctly; text that would
    start a formula gets a leading apostrophe, as OWASP advises for CSV."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows([[_csv_text(v) for v in line] for line in lines])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(lines: list[list[Value]]) -> bytes:
    """Times are Excel datetimes in local time, so a report can sort by them and count days between them
    (Excel has no time zones: the wall-clock time is written). Every other value is a text cell: openpyxl
    would store a citizen's "=HYPERLINK(…)" as a formula."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("工单")
    for line in lines:
        cells = []
        for value in line:
            if isinstance(value, datetime):
                cell = WriteOnlyCell(sheet, value=value.replace(tzinfo=None))
                cell.number_format = XLSX_TIME_FORMAT
            else:
                cell = WriteOnlyCell(sheet, value=value)
                if value is not None:
                    cell.data_type = "s"
            cells.append(cell)
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
