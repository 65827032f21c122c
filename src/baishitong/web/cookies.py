"""Cookies set by dependencies and helpers, added by ResponseHeadersMiddleware to whatever response the route returns."""

from fastapi import Request
from starlette.responses import Response

_STATE_KEY = "bst_cookies"


def queue_cookie(request: Request, name: str, value: str, *, max_age: int | None = None, delete: bool = False, path: str = "/") -> None:
    probe = Response()
    if delete:
        probe.delete_cookie(name, path=path, httponly=True, samesite="lax")
    else:
        probe.set_cookie(name, value, max_age=max_age, path=path, httponly=True, samesite="lax", secure=request.url.scheme == "https")
    pending = request.scope.setdefault("state", {}).setdefault(_STATE_KEY, {})
    pending[name] = probe.headers["set-cookie"]


def queued_cookies(scope: dict) -> list[tuple[bytes, bytes]]:
    """The Set-Cookie headers queued during this request, for ResponseHeadersMiddleware to add."""
    pending = scope.get("state", {}).get(_STATE_KEY) or {}
    return [(b"set-cookie", value.encode("latin-1")) for value in pending.values()]
