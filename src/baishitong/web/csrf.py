"""CSRF protection for every form POST.

Staff forms carry the token bound to the staff session; public forms (and the
login form) use a double-submit token held in an HttpOnly cookie. Either way the
token travels as the `csrf_token` field or, for htmx, the X-CSRF-Token header.
"""

import hmac
import secrets

from fastapi import Request
from starlette.datastructures import FormData

from baishitong.web import auth
from baishitong.web.cookies import queue_cookie

PUBLIC_COOKIE = "bst_csrf"


class CsrfRejected(Exception):
    """A POST without a valid token: answered with the 403 page."""


def public_token(request: Request) -> str:
    """The double-submit token, issuing the cookie on first visit."""
    token = getattr(request.state, "csrf_public", None) or request.cookies.get(PUBLIC_COOKIE)
    if not token or len(token) < 20:
        token = secrets.token_urlsafe(24)
        queue_cookie(request, PUBLIC_COOKIE, token, max_age=7 * 24 * 3600)
    request.state.csrf_public = token
    return token


def token_for(request: Request) -> str:
    session = auth.peek_session(request)
    return session["csrf"] if session else public_token(request)


def _expected(request: Request) -> list[str]:
    tokens = []
    session = auth.peek_session(request)
    if session:
        tokens.append(session["csrf"])
    cookie = request.cookies.get(PUBLIC_COOKIE)
    if cookie:
        tokens.append(cookie)
    return tokens


async def checked_form(request: Request) -> FormData:
    """The submitted form, once its token has been verified."""
    settings = request.app.state.settings
    form = await request.form(max_files=5, max_part_size=settings.upload_max_bytes + 64 * 1024)
    given = form.get("csrf_token") or request.headers.get("x-csrf-token") or ""
    if not isinstance(given, str) or not any(hmac.compare_digest(given, t) for t in _expected(request)):
        raise CsrfRejected()
    return form
