"""Cookies set by dependencies and helpers, added to whatever response the route returns."""

from fastapi import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_STATE_KEY = "bst_cookies"


def queue_cookie(request: Request, name: str, value: str, *, max_age: int | None = None, delete: bool = False) -> None:
    probe = Response()
    if delete:
        probe.delete_cookie(name, path="/", httponly=True, samesite="lax")
    else:
        probe.set_cookie(name, value, max_age=max_age, path="/", httponly=True, samesite="lax", secure=request.url.scheme == "https")
    pending = request.scope.setdefault("state", {}).setdefault(_STATE_KEY, {})
    pending[name] = probe.headers["set-cookie"]


class CookieMiddleware:
    """Pure ASGI, so it adds no per-request task switching."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                pending = state.get(_STATE_KEY)
                if pending:
                    headers = list(message.get("headers", []))
                    headers += [(b"set-cookie", value.encode("latin-1")) for value in pending.values()]
                    message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, wrapped)
