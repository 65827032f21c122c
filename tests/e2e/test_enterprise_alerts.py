"""新政策提醒 at phone width, against a real server and queue: subscribe, confirm from the SMS, get an alert, cancel."""

import re

import httpx
import pytest

from baishitong.enterprise.schemas import PolicyIn
from tests.e2e.conftest import PASSWORD, SCREENSHOTS

pytestmark = pytest.mark.e2e

MOBILE = {"width": 390, "height": 844}
PHONE = "13600136000"


def seed_server(session) -> None:
    from baishitong.org import service as org

    org.create_user(session, username="e2e_admin", password=PASSWORD, role="admin", unit_code=None, display_name="系统管理员")


def api_headers(server: str, username: str) -> dict[str, str]:
    token = httpx.post(server + "/api/v1/auth/token", json={"username": username, "password": PASSWORD}).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def texts(database_url: str, template: str) -> list[str]:
    """The SMS as sent: 消息发件箱 shows the link as ******, since it confirms or cancels for whoever holds it."""
    from sqlalchemy import select

    from baishitong.db import Database
    from baishitong.notify.models import Message

    db = Database(database_url)
    try:
        with db.session(write=False) as session:
            return list(session.scalars(select(Message.body).where(Message.template_code == template, Message.recipient == PHONE).order_by(Message.id)))
    finally:
        db.dispose()


def test_an_enterprise_subscribes_confirms_is_alerted_and_cancels(server, server_database_url, browser):
    admin = api_headers(server, "e2e_admin")
    context = browser.new_context(locale="zh-CN", viewport=MOBILE, device_scale_factor=2, is_mobile=True, has_touch=True)
    page = context.new_page()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.goto(server + "/enterprise")
    page.select_option("#f-industry", "food")
    page.select_option("#f-size", "micro")
    page.select_option("#f-town", label="容桂街道")
    page.fill("#f-year", "2021")
    page.click("form[action^='/enterprise'] button[type=submit]")
    page.wait_for_selector("#alert-signup")
    page.fill("#f-phone", PHONE)
    page.locator("#alert-signup button[type=submit]").click()
    page.wait_for_selector("text=确认短信已发送到 136****6000")
    assert PHONE not in page.content()

    [confirmation] = texts(server_database_url, "policy_alert_confirm")
    link = re.search(r"/enterprise/alerts/[\w-]+", confirmation).group(0)
    outbox = httpx.get(server + "/api/v1/notifications/outbox", params={"audience": "requester"}, headers=admin).json()
    assert [m["body"] for m in outbox if m["template"] == "policy_alert_confirm"] == [confirmation.replace(link, "/enterprise/alerts/******")]
    page.goto(server + link)
    page.click("#confirm")
    page.wait_for_selector("text=订阅成功")
    page.screenshot(path=str(SCREENSHOTS / "e03-enterprise-alerts.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= MOBILE["width"]

    policy = PolicyIn(title="容桂食品小微企业贷款贴息", unit="GXJ", summary="对食品小微企业贷款给予贴息。", benefit="贴息最高5万元", status="published", industries=["food"], sizes=["micro"])
    created = httpx.post(server + "/api/v1/enterprise/policies", json=policy.model_dump(mode="json"), headers=admin)
    assert created.status_code == 201, created.text
    [alert] = texts(server_database_url, "policy_alert")
    assert "容桂食品小微企业贷款贴息" in alert and link in alert

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#cancel")
    page.wait_for_selector("text=已退订")
    context.close()
