"""Headers added to every response: security headers (the pages run only our own scripts and cannot be
framed) and the cookies queued during the request."""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from baishitong.web.cookies import queued_cookies

# Styles stay inline-capable (style attributes in templates, htmx's indicator style); scripts do not, so an
# injected <script> or on*= attribute does not run even if some escaping were missed.
PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
# FastAPI's Swagger UI page starts itself with an inline script.
DOCS_POLICY = PAGE_POLICY.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'")
_COMMON = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
]


class ResponseHeadersMiddleware:
    """Pure ASGI, so it adds no per-request task switching."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope.setdefault("state", {})  # the dict queue_cookie fills, shared with the request before it starts
        policy = (DOCS_POLICY if scope["path"] == "/docs" else PAGE_POLICY).encode()
        extra = [*_COMMON, (b"content-security-policy", policy)]
        if scope.get("scheme") == "https":
            extra.append((b"strict-transport-security", b"max-age=31536000"))

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in extra if name not in present]
                message = {**message, "headers": headers + queued_cookies(scope)}
            await send(message)

        await self.app(scope, receive, wrapped)
