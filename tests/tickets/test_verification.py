"""我的诉求 codes: one-time, short-lived, hashed, bounded guessing and sending."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from baishitong.db import utcnow
from baishitong.errors import InvalidInput, RateLimited
from baishitong.notify.models import Message
from baishitong.tickets import verification
from baishitong.tickets.models import PhoneCode

PHONE = "13512340021"


def sent_code(session, phone: str = PHONE) -> str:
    body = session.scalars(select(Message.body).where(Message.recipient == phone).order_by(Message.id.desc())).first()
    return re.search(r"验证码 (\d{6})", body).group(1)


def test_a_code_proves_the_phone_once_and_is_stored_only_as_a_hash(session):
    verification.send_code(session, phone="135-1234-0021")
    code = sent_code(session)
    assert code not in session.scalar(select(PhoneCode.code_hash))
    assert verification.check_code(session, phone=PHONE, code=code) == PHONE
    with pytest.raises(InvalidInput, match="已失效"):
        verification.check_code(session, phone=PHONE, code=code)


def test_wrong_guesses_are_counted_and_the_code_locks(session):
    verification.send_code(session, phone=PHONE)
    code = sent_code(session)
    wrong = "000000" if code != "000000" else "111111"
    for left in range(verification.MAX_ATTEMPTS - 1, 0, -1):
        with pytest.raises(InvalidInput, match=f"还可以再试 {left} 次"):
            verification.check_code(session, phone=PHONE, code=wrong)
    with pytest.raises(InvalidInput, match="错误次数过多"):
        verification.check_code(session, phone=PHONE, code=wrong)
    with pytest.raises(InvalidInput, match="错误次数过多"):
        verification.check_code(session, phone=PHONE, code=code)


def test_a_code_expires(session):
    now = utcnow()
    verification.send_code(session, phone=PHONE, now=now)
    with pytest.raises(InvalidInput, match="已失效"):
        verification.check_code(session, phone=PHONE, code=sent_code(session), now=now + verification.CODE_TTL + timedelta(seconds=1))


def test_sending_is_limited_per_phone_and_says_how_long_to_wait(session):
    """As every other limit does: the wait in words and in seconds for Retry-After, not a fixed "60 秒" or "一小时"."""
    now = utcnow()
    verification.send_code(session, phone=PHONE, now=now)
    with pytest.raises(RateLimited) as refused:
        verification.send_code(session, phone=PHONE, now=now + timedelta(seconds=30))
    assert refused.value.message == "验证码已发送，请 30 秒后再重新获取" and refused.value.headers == {"Retry-After": "30"}
    for i in range(1, verification.MAX_PER_HOUR):
        verification.send_code(session, phone=PHONE, now=now + timedelta(minutes=2 * i))
    with pytest.raises(RateLimited) as refused:
        verification.send_code(session, phone=PHONE, now=now + timedelta(minutes=20, seconds=30))
    # The first code of the hour frees a place at now + 60 minutes: 39 minutes 30 seconds away, said as 40 分钟.
    assert refused.value.message == "验证码发送次数过多，请 40 分钟后再试" and refused.value.headers == {"Retry-After": str(39 * 60 + 30)}
    with pytest.raises(RateLimited) as refused:
        verification.send_code(session, phone=PHONE, now=now + timedelta(minutes=59, seconds=45))
    assert refused.value.message == "验证码发送次数过多，请 15 秒后再试" and refused.value.headers == {"Retry-After": "15"}
    verification.send_code(session, phone=PHONE, now=now + timedelta(minutes=60, seconds=1))


@pytest.mark.parametrize("phone", ["", "1351234002", "abc"])
def test_codes_go_to_mobiles_only(session, phone):
    with pytest.raises(InvalidInput, match="11 位手机号码"):
        verification.send_code(session, phone=phone)


def test_a_landline_is_pointed_to_track(session):
    with pytest.raises(InvalidInput, match="进度查询中用工单号") as refused:
        verification.send_code(session, phone="0757-22300001")
    assert refused.value.code == "landline"
