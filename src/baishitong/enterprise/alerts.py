"""新政策提醒: enterprises subscribe with a profile and a mobile; a newly published policy that fits is sent by SMS.

Double opt-in keeps strangers' phones out: the confirmation SMS carries the subscription's token,
and only following it activates the subscription. Each (subscription, policy) pair is alerted at
most once, so the alert job can run after every publication or edit of a policy.
"""

import re
import secrets
import unicodedata
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from baishitong import clock
from baishitong.audit import service as audit
from baishitong.enterprise import matching
from baishitong.enterprise.models import Policy, PolicyAlert, PolicySubscription
from baishitong.enterprise.schemas import ProfileIn
from baishitong.enterprise.service import profile, today
from baishitong.errors import Conflict, InvalidInput, NotFound
from baishitong.notify import service as notify
from baishitong.org.service import town_names
from baishitong.security import mask_phone

MOBILE = re.compile(r"^1[3-9]\d{9}$", re.ASCII)
CONFIRM_WITHIN = timedelta(hours=24)
# A second request for the same phone within this time sends no second SMS (no SMS bombing).
RESEND_AFTER = timedelta(minutes=10)
STATUS_LABELS = {"pending": "待确认", "active": "已订阅", "cancelled": "已退订"}


def normalise_mobile(phone: str) -> str:
    # NFKC: a full-width １３８… is the same number (tickets.validation.normalise_phone does the same).
    digits = re.sub(r"[\s-]", "", unicodedata.normalize("NFKC", phone or "")).removeprefix("+86")
    if not MOBILE.match(digits):
        raise InvalidInput("invalid_mobile", "请填写 11 位手机号码，提醒以短信发送")
    return digits


def _actor(phone: str) -> str:
    return f"enterprise:{mask_phone(phone)}"


def subscribe(session: Session, *, data: ProfileIn, phone: str, now: datetime | None = None) -> tuple[PolicySubscription, bool]:
    """A pending subscription and whether a confirmation SMS went out (not when one did a moment ago)."""
    phone = normalise_mobile(phone)
    now = now or clock.now()
    profile(data, towns=town_names(session))
    recent = session.scalar(
        select(PolicySubscription)
        .where(PolicySubscription.phone == phone, PolicySubscription.status == "pending", PolicySubscription.created_at > now - RESEND_AFTER)
        .order_by(PolicySubscription.id.desc())
        .limit(1)
    )
    fields = {"industry": data.industry, "size": data.size, "town": data.town, "year_established": data.year_established, "tags": list(data.tags), "name": data.name}
    if recent is not None:
        for key, value in fields.items():
            setattr(recent, key, value)
        session.flush()
        return recent, False
    row = PolicySubscription(token=secrets.token_urlsafe(16), phone=phone, status="pending", created_at=now, **fields)
    session.add(row)
    session.flush()
    notify.to_requester(session, phone=phone, template_code="policy_alert_confirm", context={"token": row.token})
    audit.record(session, actor=_actor(phone), action="policy_subscription.create", object_type="policy_subscription", object_id=str(row.id), data={"phone": mask_phone(phone)})
    return row, True


def get_by_token(session: Session, *, token: str) -> PolicySubscription:
    row = session.scalar(select(PolicySubscription).where(PolicySubscription.token == token[:32]))
    if row is None:
        raise NotFound("subscription_not_found", "订阅不存在，链接可能有误")
    return row


def lapsed(row: PolicySubscription, *, now: datetime | None = None) -> bool:
    return row.status == "pending" and (now or clock.now()) - row.created_at > CONFIRM_WITHIN


def confirm(session: Session, *, token: str, now: datetime | None = None) -> PolicySubscription:
    """Activates the subscription and cancels the phone's earlier one: one profile per phone."""
    now = now or clock.now()
    row = get_by_token(session, token=token)
    if row.status == "active":
        return row
    if row.confirmed_at is None and now - row.created_at > CONFIRM_WITHIN:  # pending, or already expired by the worker
        raise Conflict("subscription_lapsed", "确认链接已过期（24 小时内有效），请重新订阅")
    if row.status == "cancelled":
        raise Conflict("subscription_cancelled", "该订阅已退订，如需提醒请重新订阅")
    for earlier in session.scalars(select(PolicySubscription).where(PolicySubscription.phone == row.phone, PolicySubscription.status == "active")):
        _cancel(session, earlier, now=now, reason="replaced")
    row.status, row.confirmed_at = "active", now
    session.flush()
    audit.record(session, actor=_actor(row.phone), action="policy_subscription.confirm", object_type="policy_subscription", object_id=str(row.id), data={})
    return row


def cancel(session: Session, *, token: str, now: datetime | None = None) -> PolicySubscription:
    row = get_by_token(session, token=token)
    if row.status != "cancelled":
        _cancel(session, row, now=now or clock.now(), reason="requested")
    return row


def expire_lapsed(session: Session, *, now: datetime) -> int:
    """Unconfirmed subscriptions past CONFIRM_WITHIN are cancelled with their phone masked, so a
    mistyped or someone else's number is not kept for good; run by the worker every minute."""
    rows = session.scalars(select(PolicySubscription).where(PolicySubscription.status == "pending", PolicySubscription.created_at < now - CONFIRM_WITHIN)).all()
    for row in rows:
        _cancel(session, row, now=now, reason="lapsed")
    return len(rows)


def _cancel(session: Session, row: PolicySubscription, *, now: datetime, reason: str) -> None:
    """The phone is masked on the way out: nothing is kept that could still reach the enterprise."""
    actor = _actor(row.phone)
    row.status, row.cancelled_at, row.phone = "cancelled", now, mask_phone(row.phone) or ""
    session.flush()
    audit.record(session, actor=actor, action="policy_subscription.cancel", object_type="policy_subscription", object_id=str(row.id), data={"reason": reason})


def send_alerts(session: Session, *, policy_id: int) -> int:
    """Texts every active subscription the policy fully fits and that has not heard of it; returns how many."""
    policy = session.get(Policy, policy_id)
    on = today()
    if policy is None or policy.status != "published" or (policy.apply_to is not None and policy.apply_to < on):
        return 0
    names = town_names(session)
    told = set(session.scalars(select(PolicyAlert.subscription_id).where(PolicyAlert.policy_id == policy_id)))
    sent = 0
    for row in session.scalars(select(PolicySubscription).where(PolicySubscription.status == "active").order_by(PolicySubscription.id)):
        if row.id in told:
            continue
        wanted = matching.Profile(industry=row.industry, size=row.size, town=row.town, year_established=row.year_established, tags=frozenset(row.tags))
        _, missing = matching.explain(policy.eligibility, wanted, today=on, town_names=names)
        if missing:
            continue
        message = notify.to_requester(
            session, phone=row.phone, template_code="policy_alert",
            context={"title": policy.title, "unit": policy.unit.name, "benefit": policy.benefit, "policy_id": policy.id, "token": row.token},
        )
        session.add(PolicyAlert(subscription_id=row.id, policy_id=policy.id, message_id=message.id))
        sent += 1
    session.flush()
    return sent


def counts(session: Session) -> dict[str, int]:
    """Subscriptions by status, and alerts sent per policy id (for the admin's page)."""
    by_status = dict(session.execute(select(PolicySubscription.status, func.count()).group_by(PolicySubscription.status)).all())
    return {status: by_status.get(status, 0) for status in STATUS_LABELS}


def alerts_sent(session: Session) -> dict[int, int]:
    return dict(session.execute(select(PolicyAlert.policy_id, func.count()).group_by(PolicyAlert.policy_id)).all())
