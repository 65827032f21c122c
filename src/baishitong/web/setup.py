"""Mounts the pages, the static assets and the HTML error pages on the application."""

import logging

from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DataError
from starlette.datastructures import QueryParams
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from baishitong.body_limit import BodyTooLarge
from baishitong.db import DATABASE_RETRY_AFTER, database_unavailable, unavailable_reason
from baishitong.errors import DomainError
from baishitong.open311 import api as open311
from baishitong.web import assets
from baishitong.web.auth import LoginRequired, RoleForbidden
from baishitong.web.csrf import CsrfRejected
from baishitong.web.headers import ResponseHeadersMiddleware
from baishitong.web.views import flash, login_url, redirect, render

log = logging.getLogger(__name__)

_ERROR_TEXT = {
    403: ("无权访问", "您没有访问该页面的权限。如需开通，请联系系统管理员。"),
    404: ("页面不存在", "您访问的页面不存在，或您无权查看该内容。"),
    405: ("不支持的请求", "请通过页面上的按钮和表单操作。"),
    413: ("提交的内容过大", "请减少或压缩附件后再提交。"),
    422: ("提交内容有误", "请返回上一页检查填写的内容。"),
    429: ("操作过于频繁", "请稍等一分钟后再试。"),
    500: ("系统繁忙", "系统暂时无法处理您的请求，请稍后再试，或拨打 12345 热线。"),
    503: ("系统暂时无法使用", "系统暂时无法访问数据库，这次的操作没有完成，提交的内容也没有保存。请稍后再试，或拨打 12345 热线。"),
}


def _is_page(request: Request) -> bool:
    path = request.url.path
    return not (path.startswith("/api/") or path.startswith("/static/") or path == "/healthz")


def error_page(
    request: Request,
    status: int,
    message: str | None = None,
    *,
    title: str | None = None,
    back: str | None = None,
    show_code: bool = True,
):
    """back: the form page of this site to offer as 返回填写页面; show_code: the 错误代码 line, for when someone phones about it."""
    default_title, text = _ERROR_TEXT.get(status, _ERROR_TEXT[500])
    # The public layout: by now the request's transaction has rolled back and closed, so the signed-in
    # user is detached and the staff sidebar could not be loaded.
    context = {"status": status, "title": title or default_title, "text": message or text, "back": back, "show_code": show_code}
    return render(request, "public/error.html", context, status_code=status, staff_chrome=False)


def _referring_page(request: Request) -> str | None:
    """The page of this site the form was sent from, as a path; None when it came from elsewhere."""
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc != request.url.netloc or not referer.path.startswith("/") or referer.path.startswith("//"):
        return None
    return referer.path + (f"?{referer.query}" if referer.query else "")


def _form_page(request: Request) -> str | None:
    """Where a refused form can be filled in again: the page it was sent from, else the page at its own address
    (a browser may send no Referer); None when neither is known."""
    referring = _referring_page(request)
    if referring:
        return referring
    as_get = {**request.scope, "method": "GET"}
    if any(route.matches(as_get)[0] is Match.FULL for route in request.app.router.routes):
        return request.url.path
    return None


class VersionedStaticFiles(StaticFiles):
    """Assets requested with the current hash of the file (?v=…, see assets.static_url) are cached for a
    year; any other request is revalidated (ETag → 304), so no page is drawn with yesterday's CSS."""

    def file_response(self, full_path, stat_result, scope, status_code: int = 200):
        response = super().file_response(full_path, stat_result, scope, status_code)
        version = QueryParams(scope["query_string"]).get("v")
        current = version is not None and version == assets.file_version(str(full_path))
        response.headers["Cache-Control"] = assets.IMMUTABLE if current else assets.REVALIDATE
        return response


def install_web(app: FastAPI) -> None:
    """Call once, after the API routers and error handlers are installed."""
    from baishitong.web import admin, assistant, chat, enterprise, enterprise_admin, exports, kb, kb_admin, mine, operator, phrases, points, points_admin, public, stats, supervisor, ticket, unit, unit_users, uploads
    from baishitong.web import login as login_pages

    app.mount("/static", VersionedStaticFiles(packages=[("baishitong", "static")]), name="static")
    modules = (public, mine, assistant, kb, points, points_admin, enterprise, enterprise_admin, login_pages, operator, chat, unit, unit_users, supervisor, stats, kb_admin, admin, phrases, exports, ticket, uploads)
    for module in modules:
        app.include_router(module.router)
    # Links and home tiles point only at pages that exist (app.routes hides paths behind included routers).
    app.state.page_paths = frozenset(route.path for module in modules for route in module.router.routes)
    app.add_middleware(ResponseHeadersMiddleware)

    api_domain = app.exception_handlers.get(DomainError)
    api_http = app.exception_handlers.get(StarletteHTTPException)
    api_validation = app.exception_handlers.get(RequestValidationError)
    api_out_of_range = app.exception_handlers.get(OverflowError)
    api_unexpected = app.exception_handlers.get(Exception)

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired):
        if exc.reason:
            flash(request, "warning", exc.reason)
        if request.headers.get("hx-request"):
            response = redirect(login_url("/staff"))
            response.headers["HX-Redirect"] = login_url("/staff")
            return response
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return redirect(login_url(target if request.method == "GET" else "/staff"))

    @app.exception_handler(RoleForbidden)
    async def _forbidden(request: Request, _exc: RoleForbidden):
        return error_page(request, 403)

    @app.exception_handler(CsrfRejected)
    async def _csrf(request: Request, _exc: CsrfRejected):
        # Nothing the citizen did wrong, so no error code: what happened and the way back. Opening the form
        # page again (a new request, not the browser's Back) issues a fresh token.
        text = "为保护您的信息安全，页面打开时间较长或在其他窗口重新登录后，需要重新打开才能提交，这次填写的内容还没有提交。请返回填写页面，再提交一次。"
        return error_page(request, 403, text, title="页面已过期", back=_form_page(request), show_code=False)

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError):
        if not _is_page(request) and api_domain is not None:
            return await api_domain(request, exc)
        response = error_page(request, exc.status_code, exc.message)
        response.headers.update(exc.headers)
        return response

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        if request.url.path.startswith(open311.router.prefix + "/"):
            return open311.unmatched(request, exc)
        if not _is_page(request) and api_http is not None:
            return await api_http(request, exc)
        if isinstance(exc, BodyTooLarge):
            return error_page(request, 413, exc.detail, back=_form_page(request))
        return error_page(request, exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        """A page address with a malformed part (/enterprise/policies/abc) is a page that does not exist."""
        if not _is_page(request) and api_validation is not None:
            return await api_validation(request, exc)
        in_path = any(error["loc"] and error["loc"][0] == "path" for error in exc.errors())
        return error_page(request, 404 if in_path else 422)

    @app.exception_handler(OverflowError)
    @app.exception_handler(DataError)
    async def _out_of_range(request: Request, exc: OverflowError | DataError):
        if not _is_page(request) and api_out_of_range is not None:
            return await api_out_of_range(request, exc)
        log.warning("out-of-range input on %s: %s", request.url.path, exc)
        return error_page(request, 422)

    def _unavailable(request: Request, exc: Exception):
        """The database is down or restarting (app.unavailable_response for the API): a page saying nothing was saved."""
        if request.url.path.startswith(open311.router.prefix + "/"):
            return open311.unavailable(request, exc)
        log.warning("database unavailable on %s %s: %s", request.method, request.url.path, unavailable_reason(exc))
        response = error_page(request, 503, back=_form_page(request) if request.method == "POST" else None)
        response.headers["Retry-After"] = str(DATABASE_RETRY_AFTER)
        return response

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        if not _is_page(request) and api_unexpected is not None:
            return await api_unexpected(request, exc)
        if database_unavailable(exc):
            return _unavailable(request, exc)
        log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return error_page(request, 500)
