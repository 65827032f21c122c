"""系统管理: units, users and roles, categories, routing catalogue, SLA policy, calendar, message templates, outbox."""

from datetime import date

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from baishitong.deps import get_db_session
from baishitong.errors import DomainError
from baishitong.notify import service as notify
from baishitong.org import service as org
from baishitong.org.models import Unit
from baishitong.routing import service as routing
from baishitong.sla import service as sla
from baishitong.sla.policy import Stage
from baishitong.web.auth import Staff, require
from baishitong.web.csrf import checked_form
from baishitong.web.views import flash, redirect, render

router = APIRouter(prefix="/staff/admin", include_in_schema=False)
admin_only = require("admin")

STAGE_LABELS = {"sign": "签收", "contact": "联系", "reply": "答复", "close": "办结"}
LIMIT_UNITS = [("working_days", "工作日"), ("working_hours", "工作小时"), ("hours", "自然小时")]


def _page(request: Request, section: str, **context):
    return render(request, "staff/admin.html", {"section": section, "nav": f"/staff/admin/{section}", **context})


def _attempt(request: Request, session: Session, work, success: str) -> None:
    """Runs one admin change; a refused change is rolled back and explained."""
    try:
        work()
    except DomainError as exc:
        session.rollback()
        flash(request, "error", exc.message)
        return
    flash(request, "success", success)


@router.get("")
def admin_home(staff: Staff = Depends(admin_only)):
    return redirect("/staff/admin/users")


@router.get("/units")
def units(request: Request, staff: Staff = Depends(admin_only), session: Session = Depends(get_db_session)):
    rows = session.scalars(select(Unit).order_by(Unit.id)).all()
    children: dict[int | None, list[Unit]] = {}
    for unit in rows:
        children.setdefault(unit.parent_id, []).append(unit)
    return _page(request, "units", roots=children.get(None, []), children=children, kinds=org.UNIT_KINDS)


@router.get("/users")
def users(request: Request, staff: Staff = Depends(admin_only), session: Session = Depends(get_db_session)):
    unit_options = [(u.code, u.name) for u in session.scalars(select(Unit).where(Unit.active.is_(True), Unit.kind != "community").order_by(Unit.id))]
    return _page(request, "users", users=org.list_users(session), roles=list(org.ROLES.items()), unit_options=unit_options)


@router.post("/users")
def create_user(request: Request, form: FormData = Depends(checked_form), staff: Staff = Depends(admin_only), session: Session = Depends(get_db_session)):
    username = str(form.get("username", "")).strip()
    _attempt(
        request,
        session,
        lambda: org.create_user(
            session,
            username=username,
            password=str(form.get("password", "")),
            role=str(form.get("role", "")),
            unit_code=str(form.get("unit", "")) or None,
            display_name=str(form.get("display_name", "")).strip() or None,
            actor=staff.actor.name,
        ),
        f"已创建用户 {username}",
    )
    return redirect("/staff/admin/users")


@router.post("/users/{username}/disable")
def disable_user(username: str, request: Request, _form: FormData = Depends(checked_form), staff: Staff = Depends(admin_only), session: Session = Depends(get_db_session)):
    if username == staff.user.username:
        flash(request, "error", "不能停用自己的账号")
    else:
        _attempt(request, session, lambda: org.disable_user(session, username=username, actor=staff.actor.name), f"已停用用户 {username}，其登录会话立即失效")
    return redirect("/staff/admin/users")


@router.get("/categories")
def categories(request: Request, staff: Staff = Depends(admin_only), session: Session = Depends(get_db_session)):
    rows = org.list_categories(session, include_inactive=True)
    return _page(request, "categories", categories=rows, parents=[(c.code, c.path) for c in rows if c.level < 3])


@router.post("/categories")
def save_category(request: Request, form: FormData = Depends(checked_form), staff: Staff = Depends(admin_only), session: Session = Depends(get_db_session)):
    code, name = str(form.get("code", "")).strip(), str(form.get("name", "")).strip()
    if not code or not name:
        flash(request, "error", "请填写分类编码和名称")
        return redirect("/staff/admin/categories")
    _attempt(
        request,
        session,
        lambda: org.save_category(session, code=code, name=name, parent_code=str(form.get("parent", "")) or None, active=form.get("active") == "1", actor=staff.actor.name),
        f"已保存分类 {code} {name}",
    )
    return redirect("/staff/admin/categories")


@router.get("/routing")
def routing_catalogue(request: Request, staff: Staff = Depends(admin_only), session: Session = Depends(get_db_session)):
    version, rules = routing.current_catalogue(session)
    models = routing.list_models(session)
    return _page(request, "routing", catalogue=version, rules=[routing.rule_out(r) for r in rules], models=[routing.model_out(m) for m in models])


@router.get("/sla")
def sla_policy(request: Request, staff: Staff = Depends(admin_only), session: Session = Depends(get_db_session)):
    policy = sla.current_policy(session)
    return _page(request, "sla", policy=policy, stages=list(STAGE_LABELS.items()), limit_units=LIMIT_UNITS)


@router.post("/sla")
def save_sla(request: Request, form: FormData = Depends(checked_form), staff: Staff = Depends(admin_only), session: Session = Depends(get_db_session)):
    """Each rule keeps its scope; the form edits the amount and unit of every stage it sets."""
    policy = sla.current_policy(session)
    rules = []
    try:
        for index, rule in enumerate(policy.rules):
            stages = {}
            for stage in Stage:
                amount = str(form.get(f"r{index}-{stage}-amount", "")).strip()
                if not amount:
                    continue
                unit = str(form.get(f"r{index}-{stage}-unit", ""))
                if unit not in {u for u, _ in LIMIT_UNITS} or float(amount) <= 0:
                    raise ValueError
                stages[str(stage)] = {"amount": float(amount), "unit": unit}
            rules.append({**rule, "stages": stages})
    except ValueError:
        flash(request, "error", "时限须为正数，单位须为工作日、工作小时或自然小时")
        return redirect("/staff/admin/sla")
    note = str(form.get("note", "")).strip()[:200] or None
    _attempt(request, session, lambda: sla.save_policy(session, rules=rules, working_hours=None, warning_share=None, actor=staff.actor, note=note), "已保存新版时限策略，未办结工单的时限将重新计算")
    return redirect("/staff/admin/sla")


@router.get("/calendar")
def calendar(request: Request, year: int | None = None, staff: Staff = Depends(admin_only), session: Session = Depends(get_db_session)):
    from baishitong.tickets.service import local_today

    year = year if year and 2000 <= year <= 2100 else local_today().year
    days = sla.calendar_days(session, year=year)
    months = {m: [] for m in range(1, 13)}
    for d in days:
        months[d.day.month].append(d)
    return _page(request, "calendar", year=year, months=months)


@router.post("/calendar")
def set_day(request: Request, form: FormData = Depends(checked_form), staff: Staff = Depends(admin_only), session: Session = Depends(get_db_session)):
    try:
        day = date.fromisoformat(str(form.get("day", "")))
    except ValueError:
        flash(request, "error", "请填写正确的日期")
        return redirect("/staff/admin/calendar")
    kind = str(form.get("kind", ""))
    name = str(form.get("name", "")).strip()[:64] or {"off": "休息日", "workday": "调休上班"}.get(kind, "")
    label = {"off": "休息日", "workday": "调休工作日"}.get(kind)
    _attempt(
        request,
        session,
        lambda: sla.set_calendar_day(session, day=day, kind=kind or None, name=name, actor=staff.actor),
        f"已将 {day} 设为{label}" if label else f"已恢复 {day} 的默认安排",
    )
    return redirect(f"/staff/admin/calendar?year={day.year}")


@router.get("/templates")
def templates_page(request: Request, staff: Staff = Depends(admin_only), session: Session = Depends(get_db_session)):
    return _page(request, "templates", templates=notify.list_templates(session))


@router.post("/templates/{code}")
def save_template(code: str, request: Request, form: FormData = Depends(checked_form), staff: Staff = Depends(admin_only), session: Session = Depends(get_db_session)):
    _attempt(request, session, lambda: notify.save_template(session, code=code, body=str(form.get("body", "")), actor=staff.actor.name), f"已保存模板 {code}")
    return redirect("/staff/admin/templates")


@router.get("/outbox")
def outbox(request: Request, status: str = "", staff: Staff = Depends(admin_only), session: Session = Depends(get_db_session)):
    status = status if status in ("pending", "sent", "retrying", "failed") else ""
    return _page(request, "outbox", outbox_messages=notify.outbox(session, status=status or None, limit=200), status=status)
