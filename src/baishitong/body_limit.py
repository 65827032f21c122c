"""A ceiling on every request body, before any route reads it.

Routes that take files (the reply-attachment API, Open311's form post, imports) let the framework spool the
whole body to a temporary file before checking who is calling; without a ceiling an anonymous client could
fill the server's disk. A declared Content-Length over it (browsers always send one) is refused before its
first byte is read; a chunked body is counted as it streams and cut off at the ceiling. The refusal is raised
where the route reads its body, so it is answered in that route's format: JSON, Open311's list, or a page.
"""

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLarge(HTTPException):
    """An HTTPException, so FastAPI's body parsing passes it on instead of turning it into a 400."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, detail=f"提交的内容过大（上限 {max(1, max_bytes // (1024 * 1024))} MB），请减少或压缩附件后重试")


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        counted = int(declared) if declared.isdigit() else 0

        async def counted_receive() -> Message:
            nonlocal counted
            if counted > self.max_bytes:
                raise BodyTooLarge(self.max_bytes)
            message = await receive()
            if message["type"] == "http.request" and not declared.isdigit():
                counted += len(message.get("body", b""))
                if counted > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        await self.app(scope, counted_receive, send)
