"""新政策提醒: double opt-in subscriptions, and one SMS per fitting policy after it is published."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from baishitong import clock
from baishitong.audit.models import AuditEntry
from baishitong.enterprise import alerts, service
from baishitong.enterprise.models import Policy, PolicySubscription
from baishitong.enterprise.schemas import PolicyIn, ProfileIn
from baishitong.errors import Conflict, InvalidInput
from baishitong.jobs.models import OutboxJob
from baishitong.jobs.registry import run_handler
from baishitong.notify.models import Message
from tests.conftest import actor
from tests.enterprise.factories import BEIJIAO, RONGGUI, make_policy

MAKER = ProfileIn(industry="manufacturing", size="small", town=BEIJIAO, year_established=2018, name="北滘某电器有限公司")
PHONE = "13800138000"


def texts_to(session, phone: str) -> list[str]:
    return list(session.scalars(select(Message.body).where(Message.recipient == phone).order_by(Message.id)))


def run_alert_jobs(session) -> None:
    for job in session.scalars(select(OutboxJob).where(OutboxJob.name == "enterprise.policy_alerts", OutboxJob.done_at.is_(None))).all():
        run_handler(session, job.name, job.payload)
        job.done_at = clock.now()
    session.flush()


def active_subscription(session, data: ProfileIn = MAKER, phone: str = PHONE) -> PolicySubscription:
    row, _ = alerts.subscribe(session, data=data, phone=phone)
    return alerts.confirm(session, token=row.token)


def test_subscribing_texts_a_confirmation_link_and_alerts_wait_for_it(session):
    row, sent = alerts.subscribe(session, data=MAKER, phone="138 0013 8000")
    assert sent and row.status == "pending" and row.phone == PHONE
    [confirmation] = texts_to(session, PHONE)
    assert f"/enterprise/alerts/{row.token}" in confirmation and "确认" in confirmation
    make_policy(session, title="智能化改造扶持", industries=["manufacturing"])
    run_alert_jobs(session)
    assert len(texts_to(session, PHONE)) == 1, "an unconfirmed subscription gets no alerts"


def test_a_published_policy_that_fits_is_texted_once_with_links(session):
    sub = active_subscription(session)
    policy = make_policy(session, title="智能化改造扶持", industries=["manufacturing"], towns=[BEIJIAO], benefit="最高补贴50万元")
    run_alert_jobs(session)
    alert = texts_to(session, PHONE)[-1]
    assert "智能化改造扶持" in alert and "最高补贴50万元" in alert
    assert f"/enterprise/policies/{policy.id}" in alert and f"/enterprise/alerts/{sub.token}" in alert
    # An edit runs the job again; nobody hears of the same policy twice.
    service.update(session, Policy, actor=actor(session, "t_admin"), row_id=policy.id, data=PolicyIn(title="智能化改造扶持", unit="GXJ", summary="s", benefit="最高补贴60万元", status="published", industries=["manufacturing"]))
    run_alert_jobs(session)
    assert len(texts_to(session, PHONE)) == 2


def test_policies_that_do_not_fully_fit_or_are_not_public_send_nothing(session):
    active_subscription(session)
    make_policy(session, title="容桂专项", towns=[RONGGUI])
    make_policy(session, title="高企奖励", tags=["high_tech"])
    make_policy(session, title="草稿", status="draft")
    make_policy(session, title="已截止", apply_to=service.today() - timedelta(days=1))
    run_alert_jobs(session)
    assert len(texts_to(session, PHONE)) == 1  # the confirmation only


def test_widening_a_policy_reaches_the_enterprises_it_now_fits(session):
    active_subscription(session)
    policy = make_policy(session, title="镇街专项", towns=[RONGGUI])
    run_alert_jobs(session)
    service.update(session, Policy, actor=actor(session, "t_admin"), row_id=policy.id, data=PolicyIn(title="镇街专项", unit="GXJ", summary="s", benefit="b", status="published", towns=[RONGGUI, BEIJIAO]))
    run_alert_jobs(session)
    assert "镇街专项" in texts_to(session, PHONE)[-1]


def test_cancelling_stops_alerts_and_masks_the_phone(session):
    sub = active_subscription(session)
    alerts.cancel(session, token=sub.token)
    assert sub.status == "cancelled" and sub.phone == "138****8000"
    make_policy(session, industries=["manufacturing"])
    run_alert_jobs(session)
    assert len(texts_to(session, PHONE)) == 1
    with pytest.raises(Conflict, match="已退订"):
        alerts.confirm(session, token=sub.token)
    actions = [e.action for e in session.scalars(select(AuditEntry).where(AuditEntry.object_type == "policy_subscription", AuditEntry.object_id == str(sub.id)))]
    assert actions == ["policy_subscription.create", "policy_subscription.confirm", "policy_subscription.cancel"]
    assert all(PHONE not in str(e.data) + e.actor for e in session.scalars(select(AuditEntry).where(AuditEntry.object_type == "policy_subscription")))


def test_confirming_a_new_profile_replaces_the_phones_earlier_one(session):
    first = active_subscription(session)
    second = active_subscription(session, ProfileIn(industry="food", size="micro", town=RONGGUI, year_established=2022))
    assert first.status == "cancelled" and second.status == "active"
    make_policy(session, title="食品企业专项", industries=["food"])
    run_alert_jobs(session)
    assert sum("食品企业专项" in t for t in texts_to(session, PHONE)) == 1


def test_a_repeated_request_sends_no_second_sms_and_links_lapse_after_a_day(session):
    first, sent = alerts.subscribe(session, data=MAKER, phone=PHONE)
    again, sent_again = alerts.subscribe(session, data=MAKER, phone=PHONE)
    assert sent and not sent_again and again.id == first.id and len(texts_to(session, PHONE)) == 1
    with pytest.raises(Conflict, match="已过期"):
        alerts.confirm(session, token=first.token, now=clock.now() + alerts.CONFIRM_WITHIN + timedelta(minutes=1))


def test_an_unconfirmed_subscription_keeps_no_phone_after_it_lapses(session):
    row, _ = alerts.subscribe(session, data=MAKER, phone="13800138111")
    fresh, _ = alerts.subscribe(session, data=MAKER, phone="13800138222")
    row.created_at -= alerts.CONFIRM_WITHIN + timedelta(minutes=1)
    session.flush()
    assert alerts.expire_lapsed(session, now=clock.now()) == 1
    assert row.status == "cancelled" and row.phone == "138****8111"
    assert fresh.status == "pending" and fresh.phone == "13800138222"
    with pytest.raises(Conflict, match="已过期"):
        alerts.confirm(session, token=row.token)
    assert alerts.expire_lapsed(session, now=clock.now()) == 0


@pytest.mark.parametrize("phone", ["", "0757-22300001", "1380013800", "23800138000", "1380013800a"])
def test_alerts_need_a_mobile_number(session, phone):
    with pytest.raises(InvalidInput, match="11 位手机号码"):
        alerts.subscribe(session, data=MAKER, phone=phone)


def test_a_mobile_typed_in_full_width_is_the_same_mobile():
    """１３８… from a keyboard in full-width mode was refused; 13９… was kept with its ９, which no SMS reaches."""
    assert alerts.normalise_mobile("＋８６ １３８１２３４５６７８") == "13812345678"
    assert alerts.normalise_mobile("13９12345678") == "13912345678"
    with pytest.raises(InvalidInput):
        alerts.normalise_mobile("١٣٨١٢٣٤٥٦٧٨")  # another script's digits are no number an SMS reaches
