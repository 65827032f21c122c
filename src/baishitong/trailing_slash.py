"""An address with or without a trailing slash the routes do not declare (`/api/v1/units/` for `/api/v1/units`).

Starlette redirected such a request to an absolute URL built from what the app sees, `http://` behind an HTTPS
proxy, which a client then refuses or follows in the clear. An integration's call (`/api/`, `/open311/`) is now
answered where it is, without a redirect: a client that follows no redirects, or drops its token or its POST body
on one, gets its answer. A page is redirected with a relative Location, which the browser resolves against the
address it used, scheme and proxy included.
"""

from urllib.parse import quote

from fastapi import FastAPI
from starlette.responses import RedirectResponse
from starlette.routing import Match, Router
from starlette.types import Receive, Scope, Send

SERVED_AS_IS = ("/api/", "/open311/")
# What a path may carry unescaped in a Location; anything else (a backslash, a space, Chinese) is percent-encoded.
_SAFE = "/:@!$&'()*+,;=~"


class TrailingSlash:
    """The router's default, for what no route matched: the address tried with its trailing slash toggled."""

    def __init__(self, router: Router) -> None:
        self.router = router
        self.not_found = router.not_found

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route_path = _route_path(scope) if scope["type"] == "http" else "/"
        if route_path != "/":
            toggled = scope["path"].rstrip("/") if route_path.endswith("/") else scope["path"] + "/"
            other = {**scope, "path": toggled}
            # "//host" in a Location is another site's address: such a path is not found, never redirected.
            if not toggled.startswith("//") and any(route.matches(other)[0] is not Match.NONE for route in self.router.routes):
                if route_path.startswith(SERVED_AS_IS):
                    if "raw_path" in scope:
                        other["raw_path"] = quote(toggled, safe=_SAFE).encode("ascii")
                    await self.router.app(other, receive, send)
                    return
                query = scope.get("query_string", b"").decode("latin-1")
                location = quote(toggled, safe=_SAFE) + (f"?{query}" if query else "")
                await RedirectResponse(location, status_code=307)(scope, receive, send)
                return
        await self.not_found(scope, receive, send)


def _route_path(scope: Scope) -> str:
    """The path below the app's mount point (`root_path`), as the routes match it; Starlette's own helper for
    this is private."""
    path, root = scope["path"], scope.get("root_path", "")
    if not root or not path.startswith(root):
        return path
    if path == root:
        return ""
    return path[len(root):] if path[len(root)] == "/" else path


def install(app: FastAPI) -> None:
    app.router.redirect_slashes = False
    app.router.default = TrailingSlash(app.router)
