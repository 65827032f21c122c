"""The ASGI application: API, pages and static assets in one process."""

import json
import logging
import threading
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import JSONResponse, RedirectResponse
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from baishitong import __version__, trailing_slash, validation_text
from baishitong.body_limit import BodyLimitMiddleware, BodyTooLarge
from baishitong.bounds import OUT_OF_RANGE
from baishitong.config import Settings, get_settings
from baishitong.db import DATABASE_RETRY_AFTER, DATABASE_UNAVAILABLE, Database, database_unavailable, unavailable_reason
from baishitong.deps import RateLimiter, ResponseAfterCommit
from baishitong.errors import ERROR_RESPONSES, DomainError
from baishitong.head_requests import HeadAsGet
from baishitong.logs import mask_personal_data
from baishitong.web.assets import static_url

log = logging.getLogger(__name__)

_HTTP_MESSAGES = {
    400: ("bad_request", "请求格式有误，请使用 UTF-8 编码的 JSON"),
    404: ("not_found", "请求的资源不存在"),
    405: ("method_not_allowed", "不支持该请求方法"),
    401: ("unauthorized", "请先登录"),
    403: ("forbidden", "无权访问"),
}


class ErrorResponse(JSONResponse):
    """Error JSON that renders whatever the client sent: a lone surrogate echoed back in a field
    location must not turn a 422 into a 500."""

    def render(self, content) -> bytes:
        return json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8", "replace")


class ErrorsAnswered:
    """Answers a request that failed with an error no handler took (the database being away, a bug) with the app's own
    answer (its `Exception` handler: a 503 or the 500), here rather than in Starlette's outermost handler: that one
    sends the same answer but then raises the error on to the server, which logs its whole traceback again — a second
    traceback for each real 500, and one per request while the database is down, flooding a small server's log where
    the handler's own line says it all. A commit failing as the database goes away surfaces here too: the response
    held until then is dropped. An error after the answer has begun goes on to the server, which ends the connection."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            started = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:
            if started:
                raise
            response = await scope["app"].exception_handlers[Exception](Request(scope, receive), exc)
            await response(scope, receive, send)


def error_body(code: str, message: str, details: dict | None = None) -> dict:
    body = {"error": {"code": code, "message": message}}
    if details:
        body["error"]["details"] = details
    return body


def _validation_message(exc: RequestValidationError) -> str:
    return validation_text.summary(exc.errors())


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(_request: Request, exc: DomainError):
        return ErrorResponse(error_body(exc.code, exc.message, exc.details), status_code=exc.status_code, headers=exc.headers or None)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError):
        errors = [{"loc": e["loc"], "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
        return ErrorResponse(error_body("invalid_request", _validation_message(exc), {"errors": errors}), status_code=422)

    @app.exception_handler(OverflowError)
    @app.exception_handler(DataError)
    async def _out_of_range(request: Request, exc: OverflowError | DataError):
        """What the edges did not refuse (an id of 21 digits): bad input all the same, not a fault of ours.
        SQLite's driver refuses such a number in Python (OverflowError), PostgreSQL in the server (DataError)."""
        log.warning("out-of-range input on %s: %s", request.url.path, exc)
        return ErrorResponse(error_body("out_of_range", OUT_OF_RANGE), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException):
        code, message = ("payload_too_large", exc.detail) if isinstance(exc, BodyTooLarge) else _HTTP_MESSAGES.get(exc.status_code, ("http_error", "请求无法处理"))
        return ErrorResponse(error_body(code, message), status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        # Handled here rather than by a handler of its own: a commit failing as the database goes away is raised
        # after the route has (to its knowledge) answered, where a route-level handler could no longer answer.
        if database_unavailable(exc):
            return unavailable_response(request, exc)
        log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return ErrorResponse(error_body("internal_error", "系统繁忙，请稍后再试"), status_code=500)


def unavailable_response(request: Request, exc: Exception) -> ErrorResponse:
    """The database is down or restarting: 503 with Retry-After, so a client (or the citizen) tries again later
    knowing nothing was stored, instead of a 500 that reads like a fault in what they sent."""
    log.warning("database unavailable on %s %s: %s", request.method, request.url.path, unavailable_reason(exc))
    headers = {"Retry-After": str(DATABASE_RETRY_AFTER)}
    return ErrorResponse(error_body("database_unavailable", DATABASE_UNAVAILABLE), status_code=503, headers=headers)


def warm_up(db: Database) -> None:
    """Loads the router and builds the search indexes (and the question encoder) in the background
    after a start, so the first operators after a restart in the morning peak do not wait about a
    second each for them."""
    from baishitong.knowledge import service as knowledge
    from baishitong.routing import service as routing

    try:
        with db.session(write=False) as session:
            routing.reference(session)
            knowledge.combined_index(session)
            knowledge.article_index(session)
    except Exception:
        log.exception("warm-up failed; the first requests build what they need")


def create_app(settings: Settings | None = None, *, database: Database | None = None) -> FastAPI:
    settings = settings or get_settings()
    mask_personal_data()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if settings.warm_up:
            threading.Thread(target=warm_up, args=(app.state.db,), name="warm-up", daemon=True).start()
        yield

    app = FastAPI(
        lifespan=lifespan,
        title="百事通 Baishitong API",
        version=__version__,
        description="顺德区政务服务便民平台：12345 工单受理、分拨、办理、回访。",
        # The default pages load Swagger UI and ReDoc from a CDN; /docs is served from our own static files.
        docs_url=None,
        redoc_url=None,
        responses=ERROR_RESPONSES,
    )
    app.state.settings = settings
    app.state.db = database or Database(settings.effective_database_url)
    from baishitong.jobs import queue

    queue.use_database(app.state.db)
    app.state.rate_limiter = RateLimiter()
    app.add_middleware(ResponseAfterCommit)
    app.add_middleware(ErrorsAnswered)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.request_max_bytes)
    app.add_middleware(HeadAsGet)
    install_error_handlers(app)
    trailing_slash.install(app)

    from baishitong import routers

    routers.include_all(app)

    @app.get("/docs", include_in_schema=False)
    def docs():
        return get_swagger_ui_html(
            openapi_url=app.openapi_url,
            title=f"{app.title} · 接口文档",
            swagger_js_url=static_url("vendor/swagger-ui/swagger-ui-bundle.js"),
            swagger_css_url=static_url("vendor/swagger-ui/swagger-ui.css"),
            swagger_favicon_url=static_url("vendor/swagger-ui/favicon-32x32.png"),
        )

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon():
        # Browsers, feed readers and the API's own /docs ask for this address whatever the page declares.
        return RedirectResponse(static_url("img/favicon.svg"), status_code=301)

    @app.get("/healthz", include_in_schema=False)
    def healthz():
        return {"status": "ok", "version": __version__}

    return app
