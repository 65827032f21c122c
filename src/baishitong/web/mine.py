"""我的诉求: phone → SMS code → every order filed with that phone; each opens in 进度查询 (with its rating form).

The verified phone rides in a signed, HTTP-only cookie for MINE_MINUTES, so a shared or borrowed
phone browser does not stay signed in; 退出 clears it.
"""

from fastapi import APIRouter, Depends, Request
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from baishitong.deps import client_id, get_db_session
from baishitong.errors import DomainError, RateLimited
from baishitong.security import mask_phone
from baishitong.tickets import verification
from baishitong.web.cookies import queue_cookie
from baishitong.web.csrf import checked_form
from baishitong.web.views import redirect, render

router = APIRouter(include_in_schema=False)

COOKIE = "bst_mine"
MINE_MINUTES = 30


def _signer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(request.app.state.settings.secret_key, salt="baishitong.mine")


def verified_phone(request: Request) -> str | None:
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    try:
        return _signer(request).loads(token, max_age=MINE_MINUTES * 60)
    except (BadSignature, SignatureExpired):
        return None


def _page(request: Request, context: dict, *, status_code: int = 200):
    return render(request, "public/mine.html", {"nav": "/track", **context}, status_code=status_code)


@router.get("/mine")
def mine(request: Request, session: Session = Depends(get_db_session)):
    phone = verified_phone(request)
    if phone is None:
        return _page(request, {"step": "phone", "values": {}})
    tickets, total = verification.tickets_of(session, phone=phone)
    return _page(request, {"step": "list", "tickets": tickets, "total": total, "phone": phone, "masked": mask_phone(phone), "minutes": MINE_MINUTES})


@router.post("/mine/code")
def send_code(request: Request, form: FormData = Depends(checked_form), session: Session = Depends(get_db_session)):
    # A bucket of its own: opening the orders listed here (each a POST to /track) must not use up the code step's.
    request.app.state.rate_limiter.hit("mine", client_id(request), limit=request.app.state.settings.track_rate_limit_per_minute)
    phone = str(form.get("phone", "")).strip()[:20]
    try:
        row = verification.send_code(session, phone=phone)
    except RateLimited as exc:
        # Already sent: let them type the code they have.
        response = _page(request, {"step": "code", "values": {"phone": phone}, "errors": {"form": exc.message}, "masked": mask_phone(phone)}, status_code=429)
        response.headers.update(exc.headers)
        return response
    except DomainError as exc:
        return _page(request, {"step": "phone", "values": {"phone": phone}, "errors": {"phone": exc.message}}, status_code=422)
    return _page(request, {"step": "code", "values": {"phone": row.phone}, "masked": mask_phone(row.phone), "sent": True})


@router.post("/mine/verify")
def verify(request: Request, form: FormData = Depends(checked_form), session: Session = Depends(get_db_session)):
    request.app.state.rate_limiter.hit("mine", client_id(request), limit=request.app.state.settings.track_rate_limit_per_minute)
    phone, code = str(form.get("phone", "")).strip()[:20], str(form.get("code", "")).strip()[:10]
    try:
        digits = verification.check_code(session, phone=phone, code=code)
    except DomainError as exc:
        # Not rolled back: the failed attempt must count.
        return _page(request, {"step": "code", "values": {"phone": phone}, "errors": {"code": exc.message}, "masked": mask_phone(phone)}, status_code=422)
    queue_cookie(request, COOKIE, _signer(request).dumps(digits), max_age=MINE_MINUTES * 60)
    return redirect("/mine")


@router.post("/mine/logout")
def logout(request: Request, _form: FormData = Depends(checked_form)):
    queue_cookie(request, COOKIE, "", delete=True)
    return redirect("/mine")
