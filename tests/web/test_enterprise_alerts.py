"""新政策提醒 pages: subscribe from the results, confirm from the SMS link, cancel; all without JS."""

import re

from sqlalchemy import select

from baishitong.enterprise import alerts
from baishitong.enterprise.models import PolicySubscription
from baishitong.enterprise.schemas import ProfileIn
from baishitong.notify.models import Message
from tests.enterprise.factories import make_policy
from tests.enterprise.test_alerts import run_alert_jobs
from tests.web.test_enterprise import PROFILE
from tests.web.test_pages import login, token

PHONE = "13900139000"


def sms_link(session, phone: str) -> str:
    body = session.scalars(select(Message.body).where(Message.recipient == phone).order_by(Message.id.desc())).first()
    return re.search(r"/enterprise/alerts/[\w-]+", body).group(0)


def subscribe(web, phone: str, **extra):
    page = web.get(f"/enterprise?{PROFILE}&tags=tech_sme&name=北滘某电器")
    assert "新政策提醒" in page.text and 'action="/enterprise/alerts#alert-signup"' in page.text
    form = {"csrf_token": token(page.text), "industry": "manufacturing", "size": "small", "town": "440606102", "year": "2018", "name": "北滘某电器", "tags": ["tech_sme"], "phone": phone, **extra}
    return web.post("/enterprise/alerts", data=form)


def test_an_enterprise_subscribes_confirms_hears_of_a_new_policy_and_cancels(web, session):
    done = subscribe(web, "139 0013 9000")
    assert done.status_code == 200 and "确认短信已发送到 139****9000" in done.text and PHONE not in done.text
    link = sms_link(session, PHONE)

    pending = web.get(link)
    assert "待确认" in pending.text and "北滘某电器" in pending.text and "科技型中小企业" in pending.text
    assert "139****9000" in pending.text and PHONE not in pending.text
    confirmed = web.post(link, data={"csrf_token": token(pending.text), "action": "confirm"})
    assert confirmed.status_code == 200 and "订阅成功" in confirmed.text and "已订阅" in confirmed.text

    make_policy(session, title="北滘科技型企业研发补助", industries=["manufacturing"], tags=["tech_sme"])
    run_alert_jobs(session)
    latest = session.scalars(select(Message.body).where(Message.recipient == PHONE).order_by(Message.id.desc())).first()
    assert "北滘科技型企业研发补助" in latest and link in latest

    cancelled = web.post(link, data={"csrf_token": token(confirmed.text), "action": "cancel"})
    assert "已退订" in cancelled.text and 'value="cancel"' not in cancelled.text
    assert "139****9000" in cancelled.text and "139****9000" in web.get(link).text
    assert session.scalar(select(PolicySubscription.phone)) == "139****9000"


def test_a_wrong_phone_comes_back_on_the_results_page_with_what_was_typed(web, session):
    page = subscribe(web, "0757-2230")
    assert page.status_code == 422 and "请填写 11 位手机号码" in page.text and 'value="0757-2230"' in page.text
    assert "适合贵企业的惠企政策（完全符合" in page.text
    assert session.scalar(select(PolicySubscription.id)) is None


def test_a_confirmation_link_is_a_page_not_an_action(web, session):
    subscribe(web, PHONE)
    web.get(sms_link(session, PHONE))
    assert session.scalar(select(PolicySubscription.status)) == "pending"


def test_an_unknown_link_is_a_clear_404(web):
    page = web.get("/enterprise/alerts/nope")
    assert page.status_code == 404 and "订阅不存在" in page.text


def test_the_admin_sees_how_many_enterprises_subscribe_and_were_alerted(web, session):
    row, _ = alerts.subscribe(session, data=ProfileIn(industry="food", size="micro", town="440606102", year_established=2020), phone=PHONE)
    alerts.confirm(session, token=row.token)
    policy = make_policy(session, title="食品企业扶持", industries=["food"])
    run_alert_jobs(session)
    login(web, "t_admin")
    page = web.get("/staff/enterprise")
    stats = page.text[page.text.index('id="alert-stats"') : page.text.index('id="policies"')]
    assert "订阅新政策提醒的企业" in stats and ">1<" in stats.replace(" ", "")
    assert "已提醒 1 家企业" in page.text[page.text.index(f'data-policy="{policy.id}"') :]
