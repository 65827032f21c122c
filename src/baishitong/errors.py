"""One domain error type; the API turns it into {"error": {"code", "message"}}."""

import math
from typing import Any

from pydantic import BaseModel, Field


class DomainError(Exception):
    status_code = 400

    def __init__(self, code: str, message: str, *, status_code: int | None = None, details: dict | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or {}
        self.headers: dict[str, str] = {}  # sent with the answer, page or JSON
        if status_code is not None:
            self.status_code = status_code


class NotFound(DomainError):
    status_code = 404


class Conflict(DomainError):
    status_code = 409


class Forbidden(DomainError):
    status_code = 403


class Unauthorized(DomainError):
    status_code = 401


class InvalidInput(DomainError):
    status_code = 422


class BadChoice(InvalidInput):
    """A value outside a fixed list. The API names the codes an integrator sends, each with its name; a page, whose
    picker shows names only, says `page_message`, the names alone."""

    def __init__(self, code: str, *, field: str, what: str, value: str, choices: dict[str, str]):
        allowed = "、".join(c if c == label else f"{c}（{label}）" for c, label in choices.items())
        super().__init__(code, f"{what}“{value}”无效，可选：{allowed}", details={"field": field})
        self.page_message = f"{what}“{value}”无效，只能是：{'、'.join(choices.values())}"


def wait_text(seconds: int) -> str:
    """How long to wait, as put in a message after 请: " 25 秒", or " 12 分钟" (rounded up) from a minute on (a space
    between Chinese text and a number)."""
    return f" {seconds} 秒" if seconds < 60 else f" {math.ceil(seconds / 60)} 分钟"


class RateLimited(DomainError):
    status_code = 429

    def __init__(self, code: str, message: str, *, retry_after: int | None = None):
        """retry_after: the seconds until the request would be let through, sent as Retry-After."""
        super().__init__(code, message)
        self.retry_after = retry_after
        if retry_after is not None:
            self.headers["Retry-After"] = str(retry_after)


class ErrorDetail(BaseModel):
    code: str = Field(description="错误代码，供程序判断，如 invalid_request、version_conflict、idempotency_key_reused")
    message: str = Field(description="中文说明，可直接展示给用户")
    details: dict[str, Any] | None = Field(None, description="补充信息，如 422 的逐项错误、409 的 current_version；没有时不出现")


class ErrorOut(BaseModel):
    """The body of every /api/v1 error."""

    error: ErrorDetail


# Every /api/v1 operation can answer with these; documented once for the app instead of FastAPI's default 422
# ({"detail": [...]}), which is not what a client receives.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {
        "model": ErrorOut,
        "description": "请求未完成：400 请求格式有误，401 未登录或令牌无效，403 无权操作，404 不存在，"
        "409 冲突（工单刚刚已被更新、状态不允许、幂等键冲突），422 参数有误或超出范围，429 请求过于频繁",
    },
    "5XX": {
        "model": ErrorOut,
        "description": "500 系统繁忙（internal_error），请稍后重试；503 数据库暂时无法访问（database_unavailable）或附件无法保存"
        "（storage_unavailable），本次请求未保存，请按 Retry-After 稍后重试（带同一 Idempotency-Key 不会重复登记）",
    },
}
