"""系统管理: units, users and roles, categories, routing catalogue and models, SLA policy, calendar, message templates, outbox."""

import math
import re
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from baishitong import bounds
from baishitong.deps import get_db_session
from baishitong.errors import DomainError, InvalidInput
from baishitong.jobs import service as jobs
from baishitong.notify import service as notify
from baishitong.org import service as org
from baishitong.org.models import Region, Unit
from baishitong.routing import service as routing
from baishitong.routing.catalogue import TOWN, edition_changes
from baishitong.routing.models import CatalogueVersion, RoutingRule
from baishitong.security import mask_phone
from baishitong.sla import service as sla
from baishitong.sla.policy import Stage
from baishitong.tickets.schemas import CHANNEL_LABELS
from baishitong.web.auth import Staff, require
from baishitong.web.csrf import checked_form
from baishitong.web.views import flash, page_number, redirect, render

router = APIRouter(prefix="/staff/admin", include_in_schema=False)
admin_only = require("admin")

STAGE_LABELS = {"sign": "签收", "contact": "联系", "reply": "答复", "close": "办结"}
LIMIT_UNITS = [("working_days", "工作日"), ("working_hours", "工作小时"), ("hours", "自然小时")]
URGENCY_LABELS = {"normal": "一般", "urgent": "紧急"}
RULE_COLUMNS = ("category_prefix", "region_code", "type", "keywords", "lead", "co_units", "priority", "note")
BLANK_RULE_ROWS = 3
USERS_PER_PAGE = 50
MISROUTE_ROWS_SHOWN = 20  # per 误派统计 table; the rest behind 显示全部
_LIST_SPLIT = re.compile(r"[,，、;；\s]+")
_RULE_NUMBER = re.compile(r"第 (\d+) 条规则")
_RULE_NAME = re.compile(r"时限规则“([^”]+)”")  # the rule sla.save_policy names in a refusal
# The column a refused rule's message is about, so the page can put the focus there (the lead by default).
_RULE_FIELDS = (("协办单位", "co_units"), ("问题分类", "category_prefix"), ("区域", "region_code"), ("诉求类型", "type"), ("优先级", "priority"))


def _page(request: Request, section: str, **context):
    return render(request, "staff/admin.html", {"section": section, "nav": f"/staff/admin/{section}", **context})


def _attempt(request: Request, session: Session, work, success: str) -> bool:
    """Runs one admin change; a refused change is rolled back and explained. Returns whether it was made."""
    try:
        work()
    except DomainError as exc:
        session.rollback()
        flash(request, "error", exc.message)
        return False
    flash(request, "success", success)
    return True


def _base_version(form: FormData) -> int | None:
    """The version an edit form was opened on (None when the form did not carry one)."""
    value = str(form.get("base_version", ""))
    return int(value) if value.isdigit() else None


@router.get("")
def admin_home(staff: Staff = Depends(admin_only)):
    return redirect("/staff/admin/users")


def _unit_tree(session: Session) -> tuple[list[tuple[str, list[Unit]]], dict[int, list[Unit]]]:
    rows = session.scalars(select(Unit).order_by(Unit.id)).all()
    children: dict[int | None, list[Unit]] = {}
    for unit in rows:
        children.setdefault(unit.parent_id, []).append(unit)
    roots = children.get(None, [])
    grouped = [(label, [u for u in roots if u.kind == kind]) for kind, label in UNIT_GROUPS]
    other = [u for u in roots if u.kind not in dict(UNIT_GROUPS)]
    if other:
        grouped.append(("其他", other))
    return [(label, units) for label, units in grouped if units], children


def _units_page(request: Request, session: Session, *, form: dict, editing: Unit | None, error: str | None = None, status_code: int = 200):
    groups, children = _unit_tree(session)
    parents = [(u.code, f"{u.name}（{u.code}）") for u in session.scalars(select(Unit).where(Unit.kind != "community").order_by(Unit.id))]
    return render(
        request,
        "staff/admin.html",
        {"section": "units", "nav": "/staff/admin/units", "groups": groups, "children": children, "kinds": org.UNIT_KINDS, "parents": parents, "editing": editing, "form": form, "error": error,
         "editing_state": form.get("base_state") or (org.unit_state(editing) if editing else "")},
        status_code=status_code,
    )


@router.get("/units")
def units(request: Request, edit: str = "", parent: str = "", staff: Staff = Depends(admin_only), session: Session = Depends(get_db_session)):
    editing = org.find_unit(session, code=edit) if edit else None
    form = (
        {"code": editing.code, "name": editing.name, "kind": editing.kind, "parent": editing.parent.code if editing.parent else "", "phone": editing.phone or "", "active": editing.active, "region": editing.region_code or ""}
        if editing
        else {"code": "", "name": "", "kind": "community" if parent else "department", "parent": parent, "phone": "", "active": True}
    )
    return _units_page(request, session, form=form, editing=editing)


@router.post("/units")
def save_unit(request: Request, form: FormData = Depends(checked_form), staff: Staff = Depends(admin_only), session: Session = Depends(get_db_session)):
    values = {k: str(form.get(k, "")).strip() for k in ("code", "name", "kind", "parent", "phone", "region")}
    values["active"] = form.get("active") == "1"
    existing = org.find_unit(session, code=values["code"])
    editing = existing if form.get("editing") == "1" else None
    if existing is not None and editing is None:
        return _units_page(request, session, form=values, editing=None, error=f"单位编码 {values['code']} 已存在，如需修改请在单位树中点击该单位的“修改”", status_code=422)
    try:
        org.save_unit(
            session, code=values["code"], name=values["name"], kind=values["kind"], parent_code=values["parent"] or None, phone=values["phone"], active=values["active"], actor=staff.actor.name,
            region_code=values["region"] or None, base_state=str(form.get("base_state", "")) or None,
        )
    except DomainError as exc:
        session.rollback()
        # A refused form keeps the state it was opened on, unless the refusal is that state being stale.
        if exc.code != "unit_changed":
            values["base_state"] = str(form.get("base_state", ""))
        return _units_page(request, session, form=values, editing=editing, error=exc.message, status_code=exc.status_code)
    flash(request, "success", f"已保存单位 {values['code']} {values['name']}" + ("" if values["active"] else "（已停用，历史工单保留）"))
    if not values["active"]:
        # The catalogue keeps naming a disabled unit: the calls its rules match wait in 待派单 with nobody suggested.
        leading = sum(1 for rule in routing.current_catalogue(session)[1] if rule.active and rule.lead == values["code"])
        if leading:
            flash(request, "warning", f"派单目录中仍有 {leading} 条规则以 {values['name']} 为主办单位，匹配这些规则的新工单将不会自动派出，请到派单目录改为其他单位")
    return redirect("/staff/admin/units")


# The order root units are grouped in, on the 单位 tree and in the user form's unit picker; communities sit under their town.
UNIT_GROUPS = (("department", "区直部门"), ("town", "镇街"), ("utility", "公共服务单位"), ("centre", "12345 中心"))


def _grouped_units(session: Session) -> list[tuple[str, list[tuple[str, str]]]]:
    """About 250 active units in groups: departments, towns, utilities, then each town's 村（社区）,
    since a community handler receives 下派 orders."""
    units = list(session.scalars(select(Unit).where(Unit.active.is_(True)).order_by(Unit.id)))
    groups = [(label, [(u.code, u.name) for u in units if u.kind == kind]) for kind, label in UNIT_GROUPS]
    for town in (u for u in units if u.kind == "town"):
        groups.append((f"{town.name} 村（社区）", [(u.code, u.name) for u in units if u.kind == "community" and u.parent_id == town.id]))
    return [(label, options) for label, options in groups if options]


def _users_page(
    request: Request,
    session: Session,
    *,
    edit: str = "",
    new_user: dict | None = None,
    error: str | None = None,
    edit_form: dict | None = None,
    edit_error: str | None = None,
    base_state: str | None = None,
    filters: dict | None = None,
    page: int = 1,
    status_code: int = 200,
):
    """`new_user` and `edit_form` are what a refused 新建用户 or 修改用户 form held (never the password), so it comes
    back filled in; a refused edit keeps the state it was opened on (`base_state`), so a colleague's save is still noticed.
    The list is filtered by `filters` (name, role, status) and paged: a district has some hundreds of accounts."""
    filters = filters or {"q": "", "role": "", "status": ""}
    everyone = org.list_users(session)
    editing = next((u for u in everyone if u.username == edit), None)
    listed = [
        u
        for u in everyone
        if (not filters["q"] or filters["q"].lower() in u.username.lower() or filters["q"] in (u.display_name or "") or filters["q"] in (u.unit.name if u.unit else ""))
        and (not filters["role"] or u.role == filters["role"])
        and (not filters["status"] or u.active == (filters["status"] == "active"))
    ]
    pages = max(1, math.ceil(len(listed) / USERS_PER_PAGE))
    page = min(max(page, 1), pages)
    query = {k: v for k, v in filters.items() if v}
    state = base_state or (org.account_state(editing) if editing else None)
    if editing and edit_form is None:
        edit_form = {"display_name": editing.display_name, "phone": editing.phone or "", "role": editing.role, "unit": editing.unit.code if editing.unit else ""}
    return render(
        request,
        "staff/admin.html",
        {"section": "users", "nav": "/staff/admin/users", "users": listed[(page - 1) * USERS_PER_PAGE : page * USERS_PER_PAGE], "total": len(listed), "first": (page - 1) * USERS_PER_PAGE + 1, "filters": filters,
         "page": page, "pages": pages, "page_url": lambda p: "/staff/admin/users?" + urlencode({**query, "page": p}), "roles": list(org.ROLES.items()), "unit_options": _grouped_units(session),
         "editing": editing, "editing_state": state, "edit_form": edit_form or {}, "edit_error": edit_error, "new_user": new_user or {}, "new_user_error": error},
        status_code=status_code,
    )


@router.get("/users")
def users(request: Request, edit: str = "", q: str = "", role: str = "", status: str = "", staff: Staff = Depends(admin_only), session: Session = Depends(get_db_session)):
    filters = {"q": q.strip()[:64], "role": role if role in org.ROLES else "", "status": status if status in ("active", "disabled") else ""}
    return _users_page(request, session, edit=edit, filters=filters, page=page_number(request))


@router.post("/users/{username}")
def update_user(username: str, request: Request, form: FormData = Depends(checked_form), staff: Staff = Depends(admin_only), session: Session = Depends(get_db_session)):
    values = {"display_name": str(form.get("display_name", "")).strip()[:64], "phone": str(form.get("phone", "")).strip(), "role": str(form.get("role", "")), "unit": str(form.get("unit", ""))}
    base_state = str(form.get("base_state", "")) or None
    password = str(form.get("password", ""))
    try:
        if username == staff.user.username and values["role"] != staff.user.role:
            raise InvalidInput("own_role", "不能修改自己的角色")
        change = org.update_user(
            session, username=username, display_name=values["display_name"], role=values["role"],
            unit_code=values["unit"] or None, password=password or None, phone=values["phone"], actor=staff.actor.name, base_state=base_state,
        )
    except DomainError as exc:
        session.rollback()
        if exc.code in ("user_changed", "user_not_found"):
            # The form shows the colleague's save, to be edited again from there (or, for no such user, none).
            flash(request, "error", exc.message)
            return redirect(f"/staff/admin/users?edit={username}")
        # A refused change comes back in the edit form as typed, with its reason there, to be corrected.
        return _users_page(request, session, edit=username, edit_form=values, edit_error=exc.message, base_state=base_state, status_code=exc.status_code)
    flash(request, "success", f"已保存用户 {username}" + ("，新密码已生效，其登录会话已失效" if password else "") + org.released_text(change, moved=True))
    if password and username == staff.user.username:
        return redirect("/staff/login?notice=password")  # their own sessions have just ended
    return redirect("/staff/admin/users")


@router.post("/users")
def create_user(request: Request, form: FormData = Depends(checked_form), staff: Staff = Depends(admin_only), session: Session = Depends(get_db_session)):
    values = {k: str(form.get(k, "")).strip() for k in ("username", "display_name", "phone", "role", "unit")}
    try:
        org.create_user(
            session,
            username=values["username"],
            password=str(form.get("password", "")),
            role=values["role"],
            unit_code=values["unit"] or None,
            display_name=values["display_name"] or None,
            phone=values["phone"] or None,
            actor=staff.actor.name,
        )
    except DomainError as exc:
        session.rollback()
        return _users_page(request, session, new_user=values, error=exc.message, status_code=exc.status_code)
    flash(request, "success", f"已创建用户 {values['username']}")
    return redirect("/staff/admin/users")


@router.post("/users/{username}/disable")
def disable_user(username: str, request: Request, _form: FormData = Depends(checked_form), staff: Staff = Depends(admin_only), session: Session = Depends(get_db_session)):
    try:
        change = org.disable_user(session, username=username, actor=staff.actor.name)
    except DomainError as exc:
        session.rollback()
        flash(request, "error", exc.message)
    else:
        flash(request, "success", f"已停用用户 {username}，其登录会话立即失效" + org.released_text(change))
    return redirect("/staff/admin/users")


@router.post("/users/{username}/enable")
def enable_user(username: str, request: Request, _form: FormData = Depends(checked_form), staff: Staff = Depends(admin_only), session: Session = Depends(get_db_session)):
    _attempt(request, session, lambda: org.enable_user(session, username=username, actor=staff.actor.name), f"已启用用户 {username}，需重新登录")
    return redirect("/staff/admin/users")


def _categories_page(request: Request, session: Session, *, edit: str = "", form: dict | None = None, base_state: str | None = None, error: str | None = None, status_code: int = 200):
    """`form` is what a refused save held, shown again beside `error` on the state it was opened on (`base_state`)."""
    rows = org.list_categories(session, include_inactive=True)
    editing = next((c for c in rows if c.code == edit), None)
    parents = [(c.code, c.path) for c in rows if c.level < 3 and (editing is None or c.code != editing.code)]
    if form is None:
        form = {"code": editing.code, "name": editing.name, "parent": editing.parent.code if editing.parent else "", "active": editing.active} if editing else {"code": "", "name": "", "parent": "", "active": True}
    return render(
        request,
        "staff/admin.html",
        {"section": "categories", "nav": "/staff/admin/categories", "categories": rows, "parents": parents, "editing": editing,
         "editing_state": base_state or (org.category_state(editing) if editing else ""), "form": form, "error": error},
        status_code=status_code,
    )


@router.get("/categories")
def categories(request: Request, edit: str = "", staff: Staff = Depends(admin_only), session: Session = Depends(get_db_session)):
    return _categories_page(request, session, edit=edit)


@router.post("/categories")
def save_category(request: Request, form: FormData = Depends(checked_form), staff: Staff = Depends(admin_only), session: Session = Depends(get_db_session)):
    """One form for both: with `base_state` it edits the category it showed, without it only creates."""
    values = {k: str(form.get(k, "")).strip() for k in ("code", "name", "parent")} | {"active": form.get("active") == "1"}
    code, name = values["code"], values["name"]
    base_state = str(form.get("base_state", "")) or None
    edit = code if base_state else ""
    if not code or not name:
        return _categories_page(request, session, edit=edit, form=values, base_state=base_state, error="请填写分类编码和名称", status_code=422)
    try:
        org.save_category(
            session, code=code, name=name, parent_code=values["parent"] or None, active=values["active"], actor=staff.actor.name, base_state=base_state, create_only=base_state is None
        )
    except DomainError as exc:
        session.rollback()
        if exc.code == "category_changed":
            # The form shows the colleague's save, to be edited again from there.
            flash(request, "error", exc.message)
            return redirect(f"/staff/admin/categories?edit={code}#category-form")
        return _categories_page(request, session, edit=edit, form=values, base_state=base_state, error=exc.message, status_code=exc.status_code)
    flash(request, "success", f"已保存分类 {code} {name}")
    return redirect("/staff/admin/categories")


@router.get("/routing")
def routing_home(staff: Staff = Depends(admin_only)):
    """The former combined page; old links land on the catalogue editor."""
    return redirect("/staff/admin/catalogue")


def _split(value: str) -> list[str]:
    return [part for part in _LIST_SPLIT.split(value.strip()) if part]


def _rule_form(rule: dict) -> dict:
    """A stored rule as the strings the editing table shows."""
    return {
        "category_prefix": rule.get("category_prefix") or "",
        "region_code": rule.get("region_code") or "",
        "type": rule.get("type") or "",
        "keywords": "，".join(rule.get("keywords") or []),
        "lead": rule.get("lead") or "",
        "co_units": "，".join(rule.get("co_units") or []),
        "priority": str(rule.get("priority") or 0),
        "note": rule.get("note") or "",
        "active": rule.get("active", True) is not False,
    }


def _catalogue_options(session: Session) -> dict:
    units = session.scalars(select(Unit).where(Unit.active.is_(True)).order_by(Unit.id)).all()
    regions = session.scalars(select(Region).order_by(Region.code)).all()
    return {
        "category_options": [(c.code, c.path) for c in org.list_categories(session)],
        "region_options": [(r.code, (f"{r.parent.name} · " if r.parent else "") + r.name) for r in regions],
        "unit_options": [(TOWN, "事发镇街")] + [(u.code, u.name) for u in units],
        "types": routing.TICKET_TYPES,
    }


def _edition_changes(session: Session, editions: list[CatalogueVersion]) -> dict[int, dict]:
    """Each listed edition's rule count and, against the edition before it, the rules added, removed and changed."""
    if not editions:
        return {}
    numbers = [e.version for e in editions]
    rules: dict[int, list[dict]] = {}
    for rule in session.scalars(select(RoutingRule).where(RoutingRule.catalogue_version.between(min(numbers) - 1, max(numbers))).order_by(RoutingRule.id)):
        rules.setdefault(rule.catalogue_version, []).append(routing.rule_out(rule))
    out = {}
    for number in numbers:
        now = rules.get(number, [])
        summary = edition_changes(rules[number - 1], now).summary() if number - 1 in rules else ""
        out[number] = {"count": len(now), "summary": summary}
    return out


def _catalogue_page(request: Request, session: Session, *, rows: list[dict], error: str | None = None, error_row: int | None = None, note: str = "", base: int | None = None, status_code: int = 200):
    """`base` is the edition the rows were read from: a refused form keeps the one it was opened on. The
    refused rule's field gets the focus: the table has over a hundred rows and the message is above them."""
    version, _ = routing.current_catalogue(session)
    editions = session.scalars(select(CatalogueVersion).order_by(CatalogueVersion.version.desc()).limit(20)).all()
    error_field = next((column for word, column in _RULE_FIELDS if word in (error or "")), "lead")
    context = {"nav": "/staff/admin/catalogue", "catalogue": version, "rows": rows, "blank_rows": BLANK_RULE_ROWS, "error": error, "error_row": error_row, "error_field": error_field, "note": note, "editions": editions}
    context["edition_changes"] = _edition_changes(session, list(editions))
    context["base_version"] = base if base is not None else (version.version if version else "")
    return render(request, "staff/admin_catalogue.html", context | _catalogue_options(session), status_code=status_code)


@router.get("/catalogue")
def catalogue_page(request: Request, staff: Staff = Depends(admin_only), session: Session = Depends(get_db_session)):
    _, rules = routing.current_catalogue(session)
    return _catalogue_page(request, session, rows=[_rule_form(routing.rule_out(r)) for r in rules])


@router.post("/catalogue")
def save_catalogue(request: Request, form: FormData = Depends(checked_form), staff: Staff = Depends(admin_only), session: Session = Depends(get_db_session)):
    """Every row of the table, minus deleted and empty ones, becomes the next edition."""
    count = min(int(form["rows"]) if str(form.get("rows", "")).isdigit() else 0, 2000)
    rows, rules = [], []
    error = None
    for i in range(count):
        values = {c: str(form.get(f"r{i}-{c}", "")).strip() for c in RULE_COLUMNS}
        values["active"] = form.get(f"r{i}-active") != "0"
        if form.get(f"r{i}-delete") == "1" or not any(values[c] for c in ("category_prefix", "region_code", "type", "keywords", "lead", "co_units")):
            continue
        rows.append(values)
        try:
            priority = int(values["priority"] or 0)
        except ValueError:
            error = error or (f"第 {len(rows)} 条规则：优先级须为整数", len(rows))
            priority = 0
        if not values["lead"]:
            error = error or (f"第 {len(rows)} 条规则：请填写主办单位", len(rows))
        rules.append(
            {
                "category_prefix": values["category_prefix"] or None,
                "region_code": values["region_code"] or None,
                "type": values["type"] or None,
                "keywords": _split(values["keywords"]) or None,
                "lead": values["lead"],
                "co_units": _split(values["co_units"]),
                "priority": priority,
                "active": values["active"],
                "note": values["note"] or None,
            }
        )
    note = str(form.get("note", "")).strip()[:200]
    base = _base_version(form)
    status = 422
    if error is None:
        previous = routing.current_catalogue(session)[0]
        try:
            edition = routing.replace_catalogue(session, rules=rules, actor=staff.actor.name, note=note or None, base_version=base)
        except DomainError as exc:
            session.rollback()
            found = _RULE_NUMBER.search(exc.message)
            error = (exc.message, int(found.group(1)) if found else None)
            status = exc.status_code
        else:
            if previous is not None and edition.version == previous.version:
                flash(request, "info", f"派单目录没有变化，仍为第 {edition.version} 版")
            else:
                flash(request, "success", f"已保存派单目录第 {edition.version} 版（{len(rules)} 条规则），新工单即按新版分拨")
            return redirect("/staff/admin/catalogue")
    message, row = error
    return _catalogue_page(request, session, rows=rows, error=message, error_row=row, note=note, base=base, status_code=status)


def _model_row(m) -> dict:
    metrics = m.metrics or {}
    return {**routing.model_out(m), "cv_macro_f1": metrics.get("cv_macro_f1"), "cv_macro_f1_l1": metrics.get("cv_macro_f1_l1"), "cv_left_out": metrics.get("cv_left_out") or [], "n_train": metrics.get("n_train")}


def _misroute_rows(rows: list[dict]) -> tuple[list[dict], list[dict]]:
    """The rows most corrected (被纠正 and 分类被改), then most decided, and the rest: listing the ~160 categories
    of the demo by code made the page 8,000 px tall on a desktop, with the few that need looking at anywhere in it.
    A rest of a handful of rows is not worth a click and is shown with the others."""
    ranked = sorted(rows, key=lambda r: (-(r["corrections"] + r.get("category_corrections", 0)), -r["decisions"]))
    if len(ranked) <= MISROUTE_ROWS_SHOWN + 5:
        return ranked, []
    return ranked[:MISROUTE_ROWS_SHOWN], ranked[MISROUTE_ROWS_SHOWN:]


@router.get("/models")
def models_page(request: Request, staff: Staff = Depends(admin_only), session: Session = Depends(get_db_session)):
    report = routing.misroute_report(session)
    misroute = {key: _misroute_rows(report[key]) for key in ("by_unit", "by_category")}
    return render(
        request,
        "staff/admin_models.html",
        {"nav": "/staff/admin/models", "models": [_model_row(m) for m in routing.list_models(session)], "report": report, "misroute": misroute, "labels": list(routing.TRAINING_LABELS.items())},
    )


@router.post("/models/{version}/activate")
def activate_model(version: str, request: Request, _form: FormData = Depends(checked_form), staff: Staff = Depends(admin_only), session: Session = Depends(get_db_session)):
    _attempt(request, session, lambda: routing.activate(session, version=version, actor=staff.actor.name), f"已启用模型 {version}，新工单即按该版本分拨")
    return redirect("/staff/admin/models")


@router.post("/models/retrain")
def retrain_model(request: Request, form: FormData = Depends(checked_form), staff: Staff = Depends(admin_only), session: Session = Depends(get_db_session)):
    label = str(form.get("label", ""))
    _attempt(
        request,
        session,
        lambda: routing.request_retrain(session, label=label, actor=staff.actor.name),
        "已提交重新训练任务：将用已办结工单训练新版本，完成后自动启用并出现在下表",
    )
    return redirect("/staff/admin/models")


def _sla_page(request: Request, session: Session, *, typed: dict | None = None, error: str | None = None, error_field: str | None = None, status_code: int = 200):
    """`typed` is what a refused form held, shown again beside `error`, with the focus on `error_field`."""
    return render(
        request,
        "staff/admin.html",
        {"section": "sla", "nav": "/staff/admin/sla", "policy": sla.current_policy(session), "stages": list(STAGE_LABELS.items()), "limit_units": LIMIT_UNITS,
         "channel_labels": CHANNEL_LABELS, "urgency_labels": URGENCY_LABELS, "typed": typed, "error": error, "error_field": error_field},
        status_code=status_code,
    )


@router.get("/sla")
def sla_policy(request: Request, staff: Staff = Depends(admin_only), session: Session = Depends(get_db_session)):
    return _sla_page(request, session)


@router.post("/sla")
def save_sla(request: Request, form: FormData = Depends(checked_form), staff: Staff = Depends(admin_only), session: Session = Depends(get_db_session)):
    """Each rule keeps its scope; the form edits the amount and unit of every stage it sets. A refused
    limit comes back with the whole table as typed and the focus on that limit: the policy has a dozen rules."""
    policy = sla.current_policy(session)
    typed = {key: str(form.get(key, "")).strip() for index in range(len(policy.rules)) for stage in Stage for key in (f"r{index}-{stage}-amount", f"r{index}-{stage}-unit")}
    typed |= {flag: bool(form.get(flag)) for flag in ("restart_on_redispatch", "pause_during_review", "pause_needs_approval", "clock_from_dispatch")}
    typed["note"] = str(form.get("note", "")).strip()[:200]
    rules = []
    for index, rule in enumerate(policy.rules):
        stages = {}
        for stage in Stage:
            amount, unit = typed[f"r{index}-{stage}-amount"], typed[f"r{index}-{stage}-unit"]
            if not amount:
                continue
            try:
                value = float(amount)
            except ValueError:
                value = math.nan
            if unit not in {u for u, _ in LIMIT_UNITS} or not math.isfinite(value) or value <= 0:
                error = f"“{rule['name']}”的{STAGE_LABELS[str(stage)]}时限须为正数，单位须为工作日、工作小时或自然小时；本次修改未保存"
                return _sla_page(request, session, typed=typed, error=error, error_field=f"r{index}-{stage}-amount", status_code=422)
            stages[str(stage)] = {"amount": value, "unit": unit}
        rules.append({**rule, "stages": stages})
    note = typed["note"] or None
    base = _base_version(form)
    # A refused form goes back with the version it was opened on: saved again on top of a colleague's newer
    # version, it is refused again instead of undoing theirs.
    typed["base_version"] = base
    try:
        sla.save_policy(
            session,
            rules=rules,
            working_hours=None,
            warning_share=None,
            restart_on_redispatch=bool(form.get("restart_on_redispatch")),
            pause_during_review=bool(form.get("pause_during_review")),
            pause_needs_approval=bool(form.get("pause_needs_approval")),
            clock_from_dispatch=bool(form.get("clock_from_dispatch")),
            actor=staff.actor,
            note=note,
            base_version=base,
        )
    except DomainError as exc:
        # Refused by the policy's own checks (a 办结 shorter than the 答复, no catch-all rule) or by a colleague's
        # newer version: the table comes back as typed, not as saved, with the focus on the rule named.
        session.rollback()
        named = _RULE_NAME.search(exc.message)
        index = next((i for i, rule in enumerate(policy.rules) if named and rule["name"] == named.group(1)), None)
        field = f"r{index}-{Stage.CLOSE}-amount" if index is not None and exc.code == "sla_close_before_reply" else None
        return _sla_page(request, session, typed=typed, error=exc.message, error_field=field, status_code=exc.status_code)
    flash(request, "success", "已保存新版时限策略，未办结工单的时限将重新计算")
    return redirect("/staff/admin/sla")


@router.get("/calendar")
def calendar(request: Request, year: int | None = None, staff: Staff = Depends(admin_only), session: Session = Depends(get_db_session)):
    from baishitong.tickets.service import local_today

    year = year if year and bounds.FIRST_YEAR <= year <= bounds.LAST_YEAR else local_today().year
    days = sla.calendar_days(session, year=year)
    months = {m: [] for m in range(1, 13)}
    for d in days:
        months[d.day.month].append(d)
    return _page(request, "calendar", year=year, months=months, estimated=not sla.year_entered(session, year=year) and any(d.source == "estimate" for d in days))


@router.post("/calendar")
def set_day(request: Request, form: FormData = Depends(checked_form), staff: Staff = Depends(admin_only), session: Session = Depends(get_db_session)):
    try:
        day = bounds.parse_day(str(form.get("day", "")))
    except ValueError as exc:
        flash(request, "error", str(exc))
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
    return _page(request, "templates", templates=notify.list_templates(session), refused=None)


@router.post("/templates/{code}")
def save_template(code: str, request: Request, form: FormData = Depends(checked_form), staff: Staff = Depends(admin_only), session: Session = Depends(get_db_session)):
    """A refused edit comes back in its own template's box, as typed, with the reason there and the focus on it:
    the page lists every template, so a message at the top would leave the admin looking for which one."""
    base, body = _base_version(form), str(form.get("body", ""))
    try:
        notify.save_template(session, code=code, body=body, actor=staff.actor.name, base_version=base)
    except DomainError as exc:
        session.rollback()
        refused = {"code": code, "body": body, "error": exc.message, "base_version": base}
        return render(
            request, "staff/admin.html", {"section": "templates", "nav": "/staff/admin/templates", "templates": notify.list_templates(session), "refused": refused}, status_code=exc.status_code
        )
    flash(request, "success", f"已保存模板 {code}")
    return redirect("/staff/admin/templates")


@router.post("/jobs/{job_id}/retry")
def retry_job(job_id: int, request: Request, form: FormData = Depends(checked_form), staff: Staff = Depends(admin_only), session: Session = Depends(get_db_session)):
    _attempt(request, session, lambda: jobs.retry(session, job_id=job_id, actor=staff.actor.name), f"后台任务 #{job_id} 已重新排队执行")
    return redirect("/staff/admin/outbox")


@router.get("/outbox")
def outbox(request: Request, status: str = "", staff: Staff = Depends(admin_only), session: Session = Depends(get_db_session)):
    """Unit messages are shown by the unit's name: a unit without an active account gets its messages
    addressed to unit:<id>, which says nothing to the admin who has to give it one. Background jobs given up
    after their last retry are listed above the messages: nothing else would show them."""
    status = status if status in ("pending", "sending", "sent", "retrying", "failed") else ""
    messages = notify.outbox(session, status=status or None, limit=200)
    unit_ids = {m.unit_id for m in messages if m.unit_id}
    unit_names = dict(session.execute(select(Unit.id, Unit.name).where(Unit.id.in_(unit_ids))).all()) if unit_ids else {}
    return _page(request, "outbox", outbox_messages=messages, readable=notify.readable, mask_phone=mask_phone, unit_names=unit_names, status=status, failed_jobs=jobs.failed(session))
