"""Staff sign-in and sign-out pages, and /staff sending each role to its workbench."""

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from baishitong.audit import service as audit
from baishitong.deps import client_id, get_db_session, throttle_login
from baishitong.errors import Forbidden, RateLimited
from baishitong.org import service as org
from baishitong.web import auth
from baishitong.web.auth import Staff, current_staff
from baishitong.web.csrf import checked_form
from baishitong.web.views import flash, redirect, render, safe_next

router = APIRouter(include_in_schema=False)

HOME_OF_ROLE = {
    "operator": "/staff/console",
    "handler": "/staff/unit",
    "unit_admin": "/staff/unit",
    "supervisor": "/staff/supervise",
    "admin": "/staff/admin/users",
}


# Why someone was sent here, by a fixed key: the page never echoes text from the address.
NOTICES = {"password": "您的密码已修改，登录会话已全部结束，请用新密码重新登录。"}


@router.get("/staff/login")
def login_form(request: Request, next: str = "/staff", notice: str = ""):
    if auth.peek_session(request) and notice not in NOTICES:  # with a notice the old session has just ended
        return redirect(safe_next(next, "/staff"))
    return render(request, "staff/login.html", {"next": safe_next(next, "/staff"), "values": {}, "notice": NOTICES.get(notice)})


@router.post("/staff/login")
def login(request: Request, form: FormData = Depends(checked_form), session: Session = Depends(get_db_session)):
    username, password = str(form.get("username", "")).strip(), str(form.get("password", ""))
    target = safe_next(str(form.get("next", "")), "/staff")
    try:
        throttle_login(request, username, device=auth.known_device(request, username))
    except RateLimited as exc:
        response = render(request, "staff/login.html", {"next": target, "values": {"username": username}, "error": exc.message}, status_code=429)
        response.headers.update(exc.headers)
        return response
    try:
        user = org.authenticate(session, username=username, password=password) if username and password else None
    except Forbidden as exc:
        audit.record(session, actor=username[:64], action="auth.login_refused", object_type="user", object_id=username[:64], data={"via": "web", "reason": exc.code})
        return render(request, "staff/login.html", {"next": target, "values": {"username": username}, "error": exc.message}, status_code=403)
    if user is None:
        name = org.name_of_failed_sign_in(session, typed=username)
        audit.record(session, actor=name or "anonymous", action="auth.login_failed", object_type="user", object_id=name, data={"via": "web", "client": client_id(request)})
        return render(request, "staff/login.html", {"next": target, "values": {"username": username}, "error": "用户名或密码错误"})
    auth.start_session(request, session, user)
    return redirect(target if target != "/staff" else HOME_OF_ROLE.get(user.role, "/staff/tickets"))


@router.post("/staff/logout")
def logout(request: Request, _form: FormData = Depends(checked_form), session: Session = Depends(get_db_session)):
    auth.end_session(request, session)
    flash(request, "success", "您已安全退出")
    return redirect("/staff/login")


@router.get("/staff")
def staff_home(staff: Staff = Depends(current_staff)):
    return redirect(HOME_OF_ROLE.get(staff.role, "/staff/tickets"))
