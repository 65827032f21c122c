"""我的诉求: a requester proves they hold a phone with a one-time SMS code, then sees every order filed with it.

Tracking one order needs its number and phone; someone who lost the number needs the phone alone,
and a phone alone is not proof, hence the code. Codes are six digits, valid for CODE_TTL, used once,
stored only as a keyed hash, and guessing is bounded: MAX_ATTEMPTS per code, and SEND_GAP between
codes and MAX_PER_HOUR per phone so nobody can flood a phone with SMS.
"""

import hashlib
import hmac
import math
import secrets
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from baishitong.config import get_settings
from baishitong.db import utcnow
from baishitong.errors import InvalidInput, RateLimited, wait_text
from baishitong.notify import service as notify
from baishitong.tickets.models import PhoneCode, Ticket
from baishitong.tickets.validation import normalise_phone

CODE_TTL = timedelta(minutes=5)
SEND_GAP = timedelta(seconds=60)
MAX_PER_HOUR = 5
MAX_ATTEMPTS = 5
SHOWN = 50


def _hash(phone: str, code: str) -> str:
    return hmac.new(get_settings().secret_key.encode(), f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def mobile(phone: str) -> str:
    """The normalised mobile number; codes go by SMS, so a landline cannot receive one."""
    try:
        digits = normalise_phone(phone)
    except ValueError:
        digits = ""
    if digits and not digits.startswith("1"):
        # A caller who left a landline can still follow an order by its number in 进度查询.
        raise InvalidInput("landline", "固定电话收不到短信验证码：请在进度查询中用工单号和这个电话号码查询，忘记工单号可拨打 12345")
    if len(digits) != 11:
        raise InvalidInput("invalid_mobile", "请填写反映诉求时留下的 11 位手机号码")
    return digits


def _seconds_until(free_at: datetime, now: datetime) -> int:
    return max(1, math.ceil((free_at - now).total_seconds()))


def send_code(session: Session, *, phone: str, now: datetime | None = None) -> PhoneCode:
    digits, now = mobile(phone), now or utcnow()
    recent = session.scalars(select(PhoneCode.created_at).where(PhoneCode.phone == digits, PhoneCode.created_at > now - timedelta(hours=1))).all()
    if len(recent) >= MAX_PER_HOUR:
        # Free once the oldest code of the hour is an hour old.
        seconds = _seconds_until(min(recent) + timedelta(hours=1), now)
        raise RateLimited("too_many_codes", f"验证码发送次数过多，请{wait_text(seconds)}后再试", retry_after=seconds)
    if recent and max(recent) > now - SEND_GAP:
        seconds = _seconds_until(max(recent) + SEND_GAP, now)
        raise RateLimited("code_sent_recently", f"验证码已发送，请{wait_text(seconds)}后再重新获取", retry_after=seconds)
    code = f"{secrets.randbelow(10**6):06d}"
    row = PhoneCode(phone=digits, code_hash=_hash(digits, code), created_at=now, expires_at=now + CODE_TTL)
    session.add(row)
    session.flush()
    # Sent whether or not the phone has orders, so the reply does not tell a stranger which numbers have called.
    notify.to_requester(session, phone=digits, template_code="phone_code", context={"code": code})
    return row


def check_code(session: Session, *, phone: str, code: str, now: datetime | None = None) -> str:
    """The verified phone; a wrong, used or expired code is refused and counts against the latest code."""
    digits, now = mobile(phone), now or utcnow()
    row = session.scalar(select(PhoneCode).where(PhoneCode.phone == digits).order_by(PhoneCode.id.desc()).limit(1))
    if row is None or row.used_at is not None or row.expires_at < now:
        raise InvalidInput("code_expired", "验证码已失效，请重新获取")
    if row.attempts >= MAX_ATTEMPTS:
        raise InvalidInput("code_locked", "验证码错误次数过多，请重新获取")
    row.attempts += 1
    if not hmac.compare_digest(row.code_hash, _hash(digits, code.strip())):
        session.flush()
        left = MAX_ATTEMPTS - row.attempts
        raise InvalidInput("code_wrong", f"验证码不正确，还可以再试 {left} 次" if left else "验证码错误次数过多，请重新获取")
    row.used_at = now
    session.flush()
    return digits


def tickets_of(session: Session, *, phone: str) -> tuple[list[Ticket], int]:
    """The newest orders filed with the phone (merged duplicates left out: their master carries the matter)."""
    condition = (Ticket.requester_phone == phone, Ticket.status != "merged")
    total = session.scalar(select(func.count()).select_from(Ticket).where(*condition)) or 0
    return list(session.scalars(select(Ticket).where(*condition).order_by(Ticket.created_at.desc()).limit(SHOWN))), total
