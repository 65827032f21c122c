"""本单位人员: a unit admin keeps the handler accounts of their unit and the units under it, so the district
admin need not create every handler of some 44 units. The rules are org.service's AccountScope."""

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from baishitong.deps import get_db_session
from baishitong.errors import DomainError
from baishitong.org import service as org
from baishitong.org.models import Unit
from baishitong.web.auth import Staff, require
from baishitong.web.csrf import checked_form
from baishitong.web.views import flash, redirect, render

router = APIRouter(include_in_schema=False)
unit_admin = require("unit_admin")
PAGE = "/staff/unit/users"


def _page(request: Request, session: Session, staff: Staff, scope: org.AccountScope, *, edit: str = "", edit_form: dict | None = None, edit_error: str | None = None,
          new_user: dict | None = None, new_user_error: str | None = None, status_code: int = 200):
    """A refused form comes back as typed (never the password) with the reason inside it."""
    users = org.list_users(session, scope=scope)
    editing = next((u for u in users if u.username == edit and org.can_manage(u, scope)), None)
    if editing is not None and edit_form is None:
        edit_form = {"display_name": editing.display_name, "phone": editing.phone or "", "unit": editing.unit.code}
    units = session.scalars(select(Unit).where(Unit.id.in_(scope.unit_ids), Unit.active.is_(True)).order_by(Unit.id))
    return render(
        request,
        "staff/unit_users.html",
        {"rows": [{"user": u, "manageable": org.can_manage(u, scope)} for u in users], "roles": org.ROLES, "unit_options": [(u.code, u.name) for u in units],
         "editing": editing, "editing_state": org.account_state(editing) if editing else "", "edit_form": edit_form or {}, "edit_error": edit_error,
         "new_user": new_user or {"unit": staff.actor.unit_code}, "new_user_error": new_user_error, "nav": PAGE},
        status_code=status_code,
    )


def _scope(session: Session, staff: Staff) -> org.AccountScope:
    scope = org.account_scope(session, actor=staff.actor)
    assert scope is not None  # the page admits unit admins only
    return scope


@router.get(PAGE)
def unit_users(request: Request, edit: str = "", staff: Staff = Depends(unit_admin), session: Session = Depends(get_db_session)):
    return _page(request, session, staff, _scope(session, staff), edit=edit)


@router.post(PAGE)
def create_user(request: Request, form: FormData = Depends(checked_form), staff: Staff = Depends(unit_admin), session: Session = Depends(get_db_session)):
    values = {k: str(form.get(k, "")).strip() for k in ("username", "display_name", "phone", "unit")}
    scope = _scope(session, staff)
    try:
        org.create_user(
            session, username=values["username"], password=str(form.get("password", "")), role="handler", unit_code=values["unit"] or None,
            display_name=values["display_name"] or None, phone=values["phone"], actor=staff.actor.name, scope=scope,
        )
    except DomainError as exc:
        session.rollback()
        return _page(request, session, staff, scope, new_user=values, new_user_error=exc.message, status_code=exc.status_code)
    flash(request, "success", f"已创建承办人账号 {values['username']}，请将用户名和初始密码告知本人")
    return redirect(PAGE)


@router.post(PAGE + "/{username}")
def update_user(username: str, request: Request, form: FormData = Depends(checked_form), staff: Staff = Depends(unit_admin), session: Session = Depends(get_db_session)):
    values = {k: str(form.get(k, "")).strip() for k in ("display_name", "phone", "unit")}
    password = str(form.get("password", ""))
    scope = _scope(session, staff)
    try:
        change = org.update_user(
            session, username=username, display_name=values["display_name"], role="handler", unit_code=values["unit"] or None, password=password or None,
            phone=values["phone"], actor=staff.actor.name, base_state=str(form.get("base_state", "")) or None, scope=scope,
        )
    except DomainError as exc:
        session.rollback()
        if exc.code in ("user_not_found", "account_not_managed"):
            flash(request, "error", exc.message)
            return redirect(PAGE)
        # The form keeps what was typed; after a colleague's save it now carries their state, so saving again is deliberate.
        return _page(request, session, staff, scope, edit=username, edit_form=values, edit_error=exc.message, status_code=exc.status_code)
    flash(request, "success", f"已保存 {username}" + ("，新密码已生效，其登录会话已失效" if password else "") + org.released_text(change, moved=True))
    return redirect(PAGE)


@router.post(PAGE + "/{username}/disable")
def disable_user(username: str, request: Request, _form: FormData = Depends(checked_form), staff: Staff = Depends(unit_admin), session: Session = Depends(get_db_session)):
    return _set_active(request, session, staff, username, active=False)


@router.post(PAGE + "/{username}/enable")
def enable_user(username: str, request: Request, _form: FormData = Depends(checked_form), staff: Staff = Depends(unit_admin), session: Session = Depends(get_db_session)):
    return _set_active(request, session, staff, username, active=True)


def _set_active(request: Request, session: Session, staff: Staff, username: str, *, active: bool):
    try:
        if active:
            org.enable_user(session, username=username, actor=staff.actor.name, scope=_scope(session, staff))
            done = f"已启用 {username}，需重新登录"
        else:
            change = org.disable_user(session, username=username, actor=staff.actor.name, scope=_scope(session, staff))
            done = f"已停用 {username}，其登录会话立即失效" + org.released_text(change)
    except DomainError as exc:
        session.rollback()
        flash(request, "error", exc.message)
    else:
        flash(request, "success", done)
    return redirect(PAGE)
