"""Request-scoped dependencies: the transaction, the current actor, rate limits."""

import math
import threading
import time
from collections import defaultdict, deque
from collections.abc import Iterator

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from baishitong import security
from baishitong.actors import Actor
from baishitong.config import Settings
from baishitong.db import Database
from baishitong.errors import RateLimited, Unauthorized, wait_text
from baishitong.org import service as org
from baishitong.org.models import User

_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_database(request: Request) -> Database:
    return request.app.state.db


def _mark_read_only(request: Request) -> None:
    request.state.read_only = True


# For POST endpoints that only read (routing suggestions, duplicate search): on SQLite they must not
# take the write lock, or 30 operators typing would queue behind every intake.
read_only = Depends(_mark_read_only)


def _mark_writes(request: Request) -> None:
    request.state.writes = True


# For GET endpoints that write (an audited download): on SQLite a read that then writes fails outright if another
# writer committed in between, so they take the write lock up front like a POST.
writes = Depends(_mark_writes)


def get_db_session(request: Request) -> Iterator[Session]:
    """One transaction per request: commit on success, roll back on error, then after-commit work."""
    db: Database = request.app.state.db
    write = (request.method not in _SAFE_METHODS or getattr(request.state, "writes", False)) and not getattr(request.state, "read_only", False)
    request.state.holds_response = True
    with db.session(write=write) as session:
        yield session


class ResponseAfterCommit:
    """Holds back the response of a request with a session until that session has committed.

    FastAPI closes yield dependencies only after the response is sent, so without this a client
    could get 201 for a ticket whose commit then fails, or follow a redirect (or send the next
    action) before the row is visible. A failed commit now reaches the client as a 500.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        held: list[Message] = []

        async def hold(message: Message) -> None:
            if scope.get("state", {}).get("holds_response"):
                held.append(message)
            else:
                await send(message)

        await self.app(scope, receive, hold)
        for message in held:
            await send(message)


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return None


def user_from_token(session: Session, settings: Settings, token: str) -> User | None:
    if token.startswith(security.API_TOKEN_PREFIX):
        return org.user_for_api_token(session, token=token)
    claims = security.read_access_token(settings.secret_key, token, max_age_seconds=settings.token_ttl_minutes * 60)
    if claims is None:
        return None
    user = session.get(User, claims["uid"])
    if user is None or not user.active or user.token_generation != claims["gen"]:
        return None
    return user


def current_actor(
    request: Request,
    session: Session = Depends(get_db_session),
    settings: Settings = Depends(get_settings),
) -> Actor:
    token = _bearer(request)
    user = user_from_token(session, settings, token) if token else None
    if user is None:
        raise Unauthorized("unauthorized", "请先登录或提供有效的访问令牌")
    return Actor.for_user(user)


def optional_actor(
    request: Request,
    session: Session = Depends(get_db_session),
    settings: Settings = Depends(get_settings),
) -> Actor | None:
    """The staff user or integration behind a bearer token on a public endpoint, else None."""
    token = _bearer(request)
    user = user_from_token(session, settings, token) if token else None
    return Actor.for_user(user) if user is not None else None


class RateLimiter:
    """Sliding window per client and bucket, in process memory (one app process per server)."""

    WINDOW = 60.0  # seconds: every limit is per minute

    def __init__(self) -> None:
        self._hits: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()
        self._swept = time.monotonic()

    def __len__(self) -> int:
        return len(self._hits)

    def hit(self, bucket: str, client: str, *, limit: int, message: str = "请求过于频繁，请{wait}后再试") -> None:
        self.hit_all([(bucket, client, limit, message)])

    def hit_all(self, checks: list[tuple[str, str, int, str]]) -> None:
        """Counts one request in every (bucket, client, limit, message) given, or in none: the first full bucket
        refuses it with its message, its {wait} filled in with how long until a slot frees up
        (请{wait}后再试: 请 25 秒后再试) and that many seconds sent as Retry-After. A refused request counts nowhere, so refusals never extend a wait (nor
        hitting the wall keep a sign-in locked): what is held back is what was let through in the last minute."""
        now, window = time.monotonic(), self.WINDOW
        with self._lock:
            # Once a window, forget clients with no hit inside it: made-up usernames must not grow it without end.
            if now - self._swept > window:
                for key in [k for k, v in self._hits.items() if not v or v[-1] <= now - window]:
                    del self._hits[key]
                self._swept = now
            buckets = []
            for bucket, client, limit, message in checks:
                hits = self._hits[(bucket, client)]
                while hits and hits[0] <= now - window:
                    hits.popleft()
                if len(hits) >= limit:
                    # Free once the oldest hit is a window old; a limit of 0 frees nothing, so a full window.
                    seconds = max(1, math.ceil(hits[0] + window - now)) if hits else int(window)
                    raise RateLimited("rate_limited", message.replace("{wait}", wait_text(seconds)), retry_after=seconds)
                buckets.append(hits)
            for hits in buckets:
                hits.append(now)


def client_id(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def throttle_login(request: Request, username: str, *, device: str | None = None) -> None:
    """Counts a sign-in attempt (pages and API alike), per minute.

    From a browser this account has signed in on before (`device`, the id in its device cookie, see
    web/auth.known_device) only that browser's own attempts count: guesses from anywhere else, or a colleague
    behind the call centre's one NAT address typing wrong passwords, never lock the owner out at their desk.
    From anywhere else, per address and account, since a whole call centre logs in at 9:00 behind one NAT
    address; an account tried from many addresses, or many accounts tried from one, are held at limits no one
    signing in for themselves reaches — the ceiling that stops a botnet guessing one password, and that
    only browsers the account has not used before meet."""
    limiter, limit, address = request.app.state.rate_limiter, request.app.state.settings.login_attempts_per_minute, client_id(request)
    if device is not None:
        limiter.hit("login-device", f"{device}|{username}", limit=limit, message="登录尝试过于频繁，请{wait}后再试")
        return
    # Counted in all three or, refused by any, in none: a refusal by the account's or the address's ceiling
    # counted per address and account made the wait outlast the ceiling it met.
    limiter.hit_all(
        [
            ("login", f"{address}|{username}", limit, "登录尝试过于频繁，请{wait}后再试"),
            ("login-account", username, 3 * limit, "该账号 1 分钟内登录尝试过多，请{wait}后再试；在此前登录过该账号的浏览器上可照常登录"),
            ("login-address", address, 10 * limit, "本网络 1 分钟内登录尝试过多，请{wait}后再试"),
        ]
    )


def rate_limit(bucket: str, setting: str):
    """Limits anonymous callers per IP. Staff and integrations with a valid token are accountable
    (every action is audited) and often share one NAT address, so they are not limited here."""

    def dependency(request: Request, actor: Actor | None = Depends(optional_actor)) -> None:
        if actor is not None:
            return
        limit = getattr(request.app.state.settings, setting)
        request.app.state.rate_limiter.hit(bucket, client_id(request), limit=limit)

    return Depends(dependency)
