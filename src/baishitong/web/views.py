"""Rendering helpers shared by every page: templates, flash messages, dates, navigation."""

from datetime import datetime
from importlib import resources
from math import ceil
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse
from fastapi.templating import Jinja2Templates
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from baishitong.bounds import DAY_INPUT, MAX_PAGE
from baishitong.dates import day_text
from baishitong.security import mask_numbers_in_text
from baishitong.tickets.models import Ticket
from baishitong.tickets.service import LOCAL_TZ, callback_queue_clause
from baishitong.tickets.states import STATUS_LABELS, Status
from baishitong.web import csrf
from baishitong.web.assets import static_url
from baishitong.web.auth import Staff
from baishitong.web.cookies import queue_cookie

FLASH_COOKIE = "bst_flash"


def local(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return value.astimezone(LOCAL_TZ).strftime(fmt) if value else ""


def iso(value: datetime | None) -> str | None:
    return value.astimezone(LOCAL_TZ).isoformat(timespec="seconds") if value else None


def status_label(status: str) -> str:
    try:
        return STATUS_LABELS[Status(status)]
    except ValueError:
        return status


# What a citizen reads: a unit's 退单 is the centre's business, to them the order is being dispatched again.
PUBLIC_STATUS_LABELS = {Status.RETURNED: "重新派单中"}


def public_status_label(status: str) -> str:
    try:
        return PUBLIC_STATUS_LABELS.get(Status(status)) or STATUS_LABELS[Status(status)]
    except ValueError:
        return status


# The accounts the platform itself acts as, by the names staff read (imports, defaults, the requester's own steps,
# what `init --demo` loaded).
ACTOR_LABELS = {"system": "系统", "requester": "诉求人", "demo": "演示数据"}


def actor_label(name: str | None) -> str | None:
    """Who saved or did something, where a page shows the account name: never the English "system"."""
    return ACTOR_LABELS.get(name, name) if name else name


templates = Jinja2Templates(directory=str(resources.files("baishitong") / "templates"))
templates.env.filters.update(local=local, iso=iso, day_text=day_text, status_label=status_label, public_status_label=public_status_label, mask_numbers=mask_numbers_in_text, actor=actor_label)
templates.env.globals["static_url"] = static_url
templates.env.globals["day_input"] = DAY_INPUT


def _flash_serializer(request: Request) -> URLSafeSerializer:
    return URLSafeSerializer(request.app.state.settings.secret_key, salt="baishitong.flash")


def flash(request: Request, level: str, text: str) -> None:
    """A message shown on the next page rendered (post/redirect/get)."""
    pending = list(getattr(request.state, "flash_out", []))
    pending.append((level, text))
    request.state.flash_out = pending
    queue_cookie(request, FLASH_COOKIE, _flash_serializer(request).dumps(pending), max_age=120)


def take_flashed(request: Request) -> list[tuple[str, str]]:
    """The messages flashed during this request, taken back to be shown on the page it renders itself (a refusal
    answered with the form as typed, not a redirect), so they are not shown again on the next page."""
    pending = list(getattr(request.state, "flash_out", []))
    request.state.flash_out = []
    if pending:
        queue_cookie(request, FLASH_COOKIE, "", delete=True)
    return pending


def _take_flash(request: Request) -> list[tuple[str, str]]:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return []
    queue_cookie(request, FLASH_COOKIE, "", delete=True)
    try:
        return [tuple(m) for m in _flash_serializer(request).loads(raw)]
    except (BadSignature, TypeError, ValueError):
        return []


def page_number(request: Request) -> int:
    """The ?page= of a paged list (page_of)."""
    return page_of(request.query_params.get("page", "1"))


def page_of(value: str) -> int:
    """A ?page= value; anything but a positive number is page 1, not an error page, and there is no page past
    MAX_PAGE (a larger one would not fit the database's offset)."""
    try:
        return min(MAX_PAGE, max(1, int(value)))
    except ValueError:
        return 1


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def section_pages(request: Request, *, at: str, counts: dict[str, int], per_page: int) -> tuple[dict[str, int], dict[str, int]]:
    """Page in view and page count of each section of a desk whose sections page on their own: ?page= is the
    page of the section named by ?at=, the others show their first. Past the last page (its last order was
    just acted on) is the new last page, not an empty section."""
    pages = {name: max(1, ceil(count / per_page)) for name, count in counts.items()}
    page = {name: min(page_number(request), pages[name]) if name == at else 1 for name in counts}
    return page, pages


def ticket_page(session: Session, where, order, *, page: int, per_page: int) -> list[Ticket]:
    """One page of a desk section: its ids first, off the index, then their rows; sorting whole rows with their
    joined region, category and units costs about 30 ms a section with 100,000 orders."""
    ids = list(session.scalars(select(Ticket.id).where(where).order_by(order, Ticket.id).offset((page - 1) * per_page).limit(per_page)))
    rows = {t.id: t for t in session.scalars(select(Ticket).where(Ticket.id.in_(ids)))}
    return [rows[i] for i in ids]


def safe_next(value: str | None, default: str) -> str:
    """Only same-site staff paths, never an open redirect."""
    if value and value.startswith("/staff") and not value.startswith("//") and "\\" not in value:
        return value
    return default


def render(request: Request, name: str, context: dict | None = None, *, status_code: int = 200, staff_chrome: bool = True):
    """A full page; staff_chrome=False skips the top bar and sidebar, which read the database."""
    ctx = dict(context or {})
    staff: Staff | None = getattr(request.state, "staff", None)
    ctx.setdefault("csrf_token", staff.csrf if staff else csrf.token_for(request))
    ctx["messages"] = _take_flash(request) + list(ctx.get("messages", []))
    if staff is not None and staff_chrome:
        ctx.setdefault("user", staff.view)
        ctx.setdefault("staff", staff)
        ctx.setdefault("staff_nav", staff_nav(request, staff))
    ctx.setdefault("nav", request.url.path)
    return templates.TemplateResponse(request, name, ctx, status_code=status_code)


def fragment(request: Request, name: str, context: dict | None = None):
    """An htmx fragment: no layout, no flash consumption."""
    ctx = dict(context or {})
    staff: Staff | None = getattr(request.state, "staff", None)
    ctx.setdefault("csrf_token", staff.csrf if staff else csrf.token_for(request))
    if staff is not None:
        ctx.setdefault("staff", staff)
    return templates.TemplateResponse(request, name, ctx)


def _status_counts(session: Session, statuses: list[str]) -> dict[str, int]:
    rows = session.execute(select(Ticket.status, func.count()).where(Ticket.status.in_(statuses)).group_by(Ticket.status))
    return {status: count for status, count in rows}


def staff_nav(request: Request, staff: Staff) -> list[dict]:
    """The sidebar for the user's role, with the size of each queue that needs them."""
    from baishitong.web import chat, kb_admin, operator  # they import this module

    session = request.state.db_session
    role = staff.role
    items: list[dict] = []
    if role in ("operator", "supervisor", "admin"):
        counts = _status_counts(session, ["registered"])
        callbacks_due = session.scalar(select(func.count()).select_from(Ticket).where(callback_queue_clause())) or 0
        items.append({"group": "接诉受理"})
        if role == "operator" or role == "admin":
            items.append({"href": "/staff/console", "label": "话务受理台"})
        items += [
            {"href": "/staff/console/dispatch", "label": "待派单", "badge": counts.get("registered", 0)},
            # What the page lists for this role: 退单, the routing proposals a person must confirm, and for supervisors
            # the extensions and pauses awaiting consent.
            {"href": "/staff/console/review", "label": "待审核", "badge": sum(operator.review_counts(session, role).values()) or None},
            {"href": "/staff/console/callback", "label": "待回访", "badge": callbacks_due},
            {"href": "/staff/chat", "label": "在线咨询", "badge": chat.waiting_count(session)},
        ]
    if role in ("handler", "unit_admin"):
        items += [{"group": "承办办理"}, {"href": "/staff/unit", "label": "单位工作台"}]
        if role == "unit_admin":
            items += [{"href": "/staff/unit/users", "label": "本单位人员"}, {"href": "/staff/phrases", "label": "常用答复语"}]
    if role in ("supervisor", "admin"):
        items += [{"group": "督查督办"}, {"href": "/staff/supervise", "label": "督办台"}, {"href": "/staff/hot-topics", "label": "热点诉求"}, {"href": "/staff/stats", "label": "统计分析"}]
    elif role == "operator":
        items.append({"href": "/staff/hot-topics", "label": "热点诉求"})
    items += [{"group": "工单"}, {"href": "/staff/tickets", "label": "工单查询"}]
    if role in kb_admin.READERS:
        items += [{"group": "知识库"}, {"href": "/staff/kb", "label": "知识库管理"}]
        if role in kb_admin.ALL_UNITS:
            items.append({"href": "/staff/kb/unanswered", "label": "待补充问题"})
    items.append({"group": "门口办"})
    if role in ("supervisor", "admin"):
        items.append({"href": "/staff/points", "label": "服务网点"})
    items.append({"href": "/staff/points/check-in", "label": "预约签到"})
    if role == "admin":
        items += [
            {"group": "企业服务"},
            {"href": "/staff/enterprise", "label": "惠企政策"},
            {"group": "系统管理"},
            {"href": "/staff/admin/units", "label": "单位"},
            {"href": "/staff/admin/users", "label": "用户与角色"},
            {"href": "/staff/admin/categories", "label": "问题分类"},
            {"href": "/staff/admin/catalogue", "label": "派单目录"},
            {"href": "/staff/admin/models", "label": "分拨模型"},
            {"href": "/staff/admin/sla", "label": "办理时限"},
            {"href": "/staff/admin/calendar", "label": "工作日历"},
            {"href": "/staff/admin/templates", "label": "消息模板"},
            {"href": "/staff/phrases", "label": "常用答复语"},
            {"href": "/staff/admin/outbox", "label": "消息发件箱"},
        ]
    return items


def login_url(next_path: str) -> str:
    return "/staff/login?next=" + quote(next_path, safe="/")
