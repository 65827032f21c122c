"""常用答复语 page: the system admin keeps the shared phrases (and any unit's); a unit admin keeps their unit's."""

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from baishitong.deps import get_db_session
from baishitong.errors import DomainError
from baishitong.org.models import Unit
from baishitong.phrases import service as phrases
from baishitong.web.auth import Staff, require
from baishitong.web.csrf import checked_form
from baishitong.web.views import flash, redirect, render

router = APIRouter(include_in_schema=False)
managers = require(*phrases.MANAGER_ROLES)
PAGE = "/staff/phrases"


def _page(request: Request, session: Session, staff: Staff, *, form: dict, error: str | None = None, status_code: int = 200):
    is_admin = staff.role == "admin"
    unit_options = [(u.code, u.name) for u in session.scalars(select(Unit).where(Unit.active.is_(True), Unit.kind != "community").order_by(Unit.id))] if is_admin else []
    rows = [{"phrase": p, "editable": phrases.can_manage(staff.actor, p)} for p in phrases.listed(session, actor=staff.actor)]
    return render(
        request,
        "staff/phrases.html",
        {"rows": rows, "form": form, "error": error, "is_admin": is_admin, "unit_options": unit_options, "title_max": phrases.TITLE_MAX, "body_max": phrases.BODY_MAX, "nav": PAGE},
        status_code=status_code,
    )


@router.get(PAGE)
def phrases_page(request: Request, edit: str = "", staff: Staff = Depends(managers), session: Session = Depends(get_db_session)):
    form = {"id": "", "version": "", "title": "", "body": "", "unit": "" if staff.role == "admin" else staff.actor.unit_code}
    if edit.isdigit():
        phrase = phrases.get(session, phrase_id=int(edit))
        if phrases.can_manage(staff.actor, phrase):
            form = {"id": str(phrase.id), "version": str(phrase.version), "title": phrase.title, "body": phrase.body, "unit": phrase.unit.code if phrase.unit else ""}
    return _page(request, session, staff, form=form)


@router.post(PAGE)
def save_phrase(request: Request, form: FormData = Depends(checked_form), staff: Staff = Depends(managers), session: Session = Depends(get_db_session)):
    """Adds a phrase, or saves the one being edited; a refused form comes back with what was typed."""
    values = {k: str(form.get(k, "")) for k in ("id", "version", "title", "body", "unit")}
    # A unit admin's phrases always belong to their own unit, whatever the form says.
    unit_code = (values["unit"].strip() or None) if staff.role == "admin" else staff.actor.unit_code
    try:
        if values["id"].isdigit():
            version = int(values["version"]) if values["version"].isdigit() else None
            phrase = phrases.update(session, actor=staff.actor, phrase_id=int(values["id"]), title=values["title"], body=values["body"], unit_code=unit_code, version=version)
        else:
            phrase = phrases.create(session, actor=staff.actor, title=values["title"], body=values["body"], unit_code=unit_code)
    except DomainError as exc:
        session.rollback()
        return _page(request, session, staff, form=values, error=exc.message, status_code=exc.status_code)
    flash(request, "success", f"已保存常用答复语“{phrase.title}”")
    return redirect(PAGE)


@router.post(PAGE + "/{phrase_id}/disable")
def disable_phrase(phrase_id: int, request: Request, _form: FormData = Depends(checked_form), staff: Staff = Depends(managers), session: Session = Depends(get_db_session)):
    return _set_active(request, session, staff, phrase_id, active=False)


@router.post(PAGE + "/{phrase_id}/enable")
def enable_phrase(phrase_id: int, request: Request, _form: FormData = Depends(checked_form), staff: Staff = Depends(managers), session: Session = Depends(get_db_session)):
    return _set_active(request, session, staff, phrase_id, active=True)


def _set_active(request: Request, session: Session, staff: Staff, phrase_id: int, *, active: bool):
    try:
        phrase = phrases.set_active(session, actor=staff.actor, phrase_id=phrase_id, active=active)
    except DomainError as exc:
        session.rollback()
        flash(request, "error", exc.message)
    else:
        flash(request, "success", f"已{'启用' if active else '停用'}“{phrase.title}”" + ("" if active else "，答复表单中不再列出"))
    return redirect(PAGE)
