"""Staff sign-in for the pages: a signed, HttpOnly session cookie with an idle timeout.

The cookie holds the user id, the account's token generation (so disabling a
user ends their sessions), the session's id (so signing out ends it on the
server too), its CSRF token and the time of the last request. Time comes from
baishitong.clock so tests can move it forward.
"""

import secrets
from dataclasses import dataclass
from datetime import timedelta

from fastapi import Depends, Request
from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from baishitong import clock
from baishitong.actors import Actor
from baishitong.audit import service as audit
from baishitong.deps import client_id, get_db_session
from baishitong.org import service as org
from baishitong.org.models import User
from baishitong.security import keyed_tag
from baishitong.web.cookies import queue_cookie
from baishitong.web.models import EndedStaffSession

SESSION_COOKIE = "bst_staff"
# A browser's proof that accounts have signed in on it, sent only to the sign-in page (deps.throttle_login).
DEVICE_COOKIE = "bst_device"
_DEVICE_MAX_AGE = 180 * 24 * 3600
_DEVICE_ACCOUNTS = 8  # a shared desk's shifts
# Re-issuing the cookie on every hit is wasted work; a minute of slack is invisible next to a 30-minute timeout.
_REFRESH_AFTER_SECONDS = 60


class LoginRequired(Exception):
    def __init__(self, reason: str | None = None):
        self.reason = reason


class RoleForbidden(Exception):
    """Signed in, but this page is not for the user's role: the 403 page."""


@dataclass
class Staff:
    user: User
    actor: Actor
    csrf: str

    @property
    def role(self) -> str:
        return self.user.role

    @property
    def view(self) -> dict:
        """What base_staff.html shows in the top bar."""
        return {"display_name": self.user.display_name, "role_label": org.ROLES.get(self.user.role, self.user.role), "unit_name": self.user.unit.name if self.user.unit else None}


def _serializer(request: Request) -> URLSafeSerializer:
    return URLSafeSerializer(request.app.state.settings.secret_key, salt="baishitong.staff-session")


def _now() -> int:
    return int(clock.now().timestamp())


def peek_session(request: Request) -> dict | None:
    """The decoded, unexpired session payload, without touching the database."""
    if hasattr(request.state, "staff_session"):
        return request.state.staff_session
    payload = None
    raw = request.cookies.get(SESSION_COOKIE)
    if raw:
        try:
            payload = _serializer(request).loads(raw)
        except BadSignature:
            payload = None
    if payload is not None:
        idle = request.app.state.settings.staff_session_idle_minutes * 60
        if _now() - int(payload.get("seen", 0)) > idle:
            request.state.session_expired = True
            payload = None
    request.state.staff_session = payload
    return payload


def _write(request: Request, payload: dict) -> None:
    queue_cookie(request, SESSION_COOKIE, _serializer(request).dumps(payload))
    request.state.staff_session = payload


def _device_serializer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(request.app.state.settings.secret_key, salt="baishitong.device")


def _account_tag(request: Request, username: str) -> str:
    """Names the account without its name: a shared PC's cookie does not list who signs in there."""
    return keyed_tag(request.app.state.settings.secret_key, username)


def _device(request: Request) -> dict | None:
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw:
        return None
    try:
        device = _device_serializer(request).loads(raw, max_age=_DEVICE_MAX_AGE)
    except (BadSignature, SignatureExpired):
        return None
    return device if isinstance(device, dict) and isinstance(device.get("d"), str) and isinstance(device.get("a"), list) else None


def known_device(request: Request, username: str) -> str | None:
    """This browser's id if `username` has signed in on it within 180 days (a "device cookie", as OWASP
    describes against guessing): its sign-in attempts for that account are then counted apart from everyone
    else's, so no one can lock the account's owner out by typing wrong passwords for it."""
    device = _device(request)
    return device["d"] if device and _account_tag(request, username) in device["a"] else None


def _remember_device(request: Request, username: str) -> None:
    device = _device(request) or {"d": secrets.token_urlsafe(12), "a": []}
    tag = _account_tag(request, username)
    accounts = [tag] + [a for a in device["a"] if a != tag][: _DEVICE_ACCOUNTS - 1]
    value = _device_serializer(request).dumps({"d": device["d"], "a": accounts})
    queue_cookie(request, DEVICE_COOKIE, value, max_age=_DEVICE_MAX_AGE, path="/staff/login")


def start_session(request: Request, session: Session, user: User) -> None:
    _write(request, {"uid": user.id, "gen": user.token_generation, "sid": secrets.token_urlsafe(16), "csrf": secrets.token_urlsafe(24), "seen": _now()})
    _remember_device(request, user.username)
    audit.record(session, actor=user.username, action="auth.login", object_type="user", object_id=user.username, data={"via": "web", "client": client_id(request)})


def end_session(request: Request, session: Session) -> None:
    payload = peek_session(request)
    if payload:
        user = session.get(User, payload["uid"])
        if user is not None:
            audit.record(session, actor=user.username, action="auth.logout", object_type="user", object_id=user.username, data={"via": "web"})
        if payload.get("sid") and session.get(EndedStaffSession, payload["sid"]) is None:
            # Past the idle timeout every copy of an ended session's cookie has expired by itself.
            idle = timedelta(minutes=request.app.state.settings.staff_session_idle_minutes)
            session.execute(delete(EndedStaffSession).where(EndedStaffSession.ended_at < clock.now() - idle))
            try:
                with session.begin_nested():  # two 退出 of one session at once (two tabs): the first one ends it
                    session.add(EndedStaffSession(sid=payload["sid"], ended_at=clock.now()))
            except IntegrityError:
                pass
    queue_cookie(request, SESSION_COOKIE, "", delete=True)
    request.state.staff_session = None


def current_staff(request: Request, session: Session = Depends(get_db_session)) -> Staff:
    payload = peek_session(request)
    if payload is None:
        if getattr(request.state, "session_expired", False):
            queue_cookie(request, SESSION_COOKIE, "", delete=True)
            raise LoginRequired("登录已超时，请重新登录")
        raise LoginRequired()
    if "sid" not in payload or session.get(EndedStaffSession, payload["sid"]) is not None:
        queue_cookie(request, SESSION_COOKIE, "", delete=True)
        raise LoginRequired()
    user = session.get(User, payload["uid"])
    if user is None or not user.active or user.token_generation != payload.get("gen"):
        queue_cookie(request, SESSION_COOKIE, "", delete=True)
        raise LoginRequired("账号状态已变更，请重新登录")
    if _now() - int(payload["seen"]) >= _REFRESH_AFTER_SECONDS:
        _write(request, {**payload, "seen": _now()})
    staff = Staff(user=user, actor=Actor.for_user(user), csrf=payload["csrf"])
    request.state.staff = staff
    request.state.db_session = session
    return staff


def require(*roles: str):
    """A dependency admitting only the given roles."""

    def dependency(staff: Staff = Depends(current_staff)) -> Staff:
        if staff.role not in roles:
            raise RoleForbidden()
        return staff

    return dependency
