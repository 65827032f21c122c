"""CSRF protection for every form POST.

Staff forms carry the token bound to the staff session; public forms (and the
login form) use a double-submit token held in an HttpOnly cookie. Either way the
token travels as the `csrf_token` field or, for htmx, the X-CSRF-Token header.
"""

import hmac
import secrets

from fastapi import Request
from python_multipart.multipart import parse_options_header
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException, MultiPartParser

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


# More files than any form takes (3): the parser stores no more than this many.
MAX_FILES = 5


class _FormParser(MultiPartParser):
    """Starlette's parser, bounded for files as it is for fields. A file past MAX_FILES does not fail the whole form
    with a 400 page (the typed text lost with it): it is listed by name, empty, so the form's own count refuses it
    with its message on the form (only past Starlette's own 1,000 files is it a 400). A file's content is stored up
    to one byte past `max_file_size`, enough for the form to refuse it as too large: the public form would
    otherwise spool whatever size is sent to the disk."""

    def __init__(self, *args, max_file_size: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.max_file_size = max_file_size

    def on_part_begin(self) -> None:
        super().on_part_begin()
        self._room = self.max_file_size + 1

    def on_headers_finished(self) -> None:
        super().on_headers_finished()
        if self._current_part.file is not None and self._current_files > MAX_FILES:
            self._room = 0

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._current_part.file is None:
            super().on_part_data(data, start, end)
        elif self._room > 0:
            end = min(end, start + self._room)
            self._room -= end - start
            super().on_part_data(data, start, end)


async def _read_form(request: Request, *, max_part_size: int, max_file_size: int) -> FormData:
    if parse_options_header(request.headers.get("content-type", ""))[0] != b"multipart/form-data":
        return await request.form(max_files=MAX_FILES, max_part_size=max_part_size)
    try:
        form = await _FormParser(request.headers, request.stream(), max_part_size=max_part_size, max_file_size=max_file_size).parse()
    except MultiPartException as exc:
        raise HTTPException(status_code=400, detail=exc.message) from None
    request._form = form  # as request.form() keeps it: read again by anyone asking, closed with the request
    return form


async def checked_form(request: Request) -> FormData:
    """The submitted form, once its token has been verified."""
    settings = request.app.state.settings
    form = await _read_form(request, max_part_size=settings.upload_max_bytes + 64 * 1024, max_file_size=settings.upload_max_bytes)
    given = form.get("csrf_token") or request.headers.get("x-csrf-token") or ""
    if not isinstance(given, str) or not any(hmac.compare_digest(given, t) for t in _expected(request)):
        raise CsrfRejected()
    return form
