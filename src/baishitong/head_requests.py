"""HEAD answered as GET is, without the body.

Monitoring tools and link checkers ask with HEAD, and FastAPI's routes declared with GET answered them 405. The
request goes through as a GET, once: the same route, the same sign-in and permission checks, the same read-only
transaction, one audit row where a GET writes one; only the body is not sent. A route that takes no GET (a
POST-only action) still answers 405, as its GET does.
"""

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGet:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                # The headers (Content-Length included) stay what the GET's are, as HTTP asks of a HEAD.
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, without_body)
