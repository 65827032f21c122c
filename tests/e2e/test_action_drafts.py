"""Two handlers on one ticket in headless Chromium: the one who loses the race gets the conflict message
and finds the reply they typed still in the form."""

import httpx
import pytest

from tests.e2e.conftest import PASSWORD
from tests.e2e.test_story import open_action, staff_page

pytestmark = pytest.mark.e2e

REPLY = "您好，经现场核查，路灯控制器已更换，照明已恢复正常。"


def api(server: str, username: str) -> httpx.Client:
    token = httpx.post(server + "/api/v1/auth/token", json={"username": username, "password": PASSWORD}).json()["access_token"]
    return httpx.Client(base_url=server + "/api/v1", headers={"Authorization": f"Bearer {token}"})


CALLERS = iter(range(13800138111, 13800138200))


def signed_ticket(server: str, caller: str | None = None) -> str:
    # A caller of its own each time: the same request sent again within minutes is the order already registered.
    caller = caller or str(next(CALLERS))
    created = httpx.post(server + "/api/v1/tickets", json={"type": "求助", "content": "容桂街道高黎社区桂洲大道东路灯不亮。", "address": "容桂街道高黎社区", "requester": {"phone": caller}}).json()
    number = created["number"]
    with api(server, "operator1") as operator:
        ticket = operator.get(f"/tickets/{number}").json()
        if ticket["status"] == "registered":
            ticket = operator.post(f"/tickets/{number}/actions/dispatch", json={"version": ticket["version"], "lead_unit": "ronggui"}).json()
    with api(server, "ronggui") as handler:
        handler.post(f"/tickets/{number}/actions/sign", json={"version": ticket["version"]}).raise_for_status()
    return number


def two_handlers_on_one_order(server, browser, shot):
    """The same signed order open in two handlers' browsers."""
    number = signed_ticket(server)
    pages = []
    for _ in range(2):
        page = staff_page(browser, server, "ronggui", shot)
        page.goto(f"{server}/staff/tickets/{number}")
        pages.append(page)
    return pages


def submit(page, action: str, field: str, text: str) -> None:
    """Opens an action's form, types into it and sends it."""
    form = open_action(page, action)
    form.locator(f"textarea[name={field}]").fill(text)
    with page.expect_navigation():
        form.locator(f"button[data-action={action}]").click()


def test_reply_typed_before_a_conflict_is_kept(server, browser, shot):
    first, second = two_handlers_on_one_order(server, browser, shot)
    # A change to the order (not an append-only note, which would not conflict) by a colleague.
    submit(second, "pause", "reason", "等待供电所到场检修。")

    submit(first, "reply", "content", REPLY)
    assert "工单刚刚已被更新" in first.inner_text("#flash")
    kept = first.locator("form[data-action-form=reply] textarea[name=content]")
    assert kept.input_value() == REPLY and kept.is_visible()
    shot(first, "reply-draft-kept")

    # The order opened again (no failure reported): the draft is gone, so it cannot leak into a later, unrelated form.
    # (The refusal is the order page answering the POST, 422, so a reload would send the reply again.)
    assert first.url.endswith("/act/reply")
    first.goto(f"{server}/staff/tickets/{first.url.split('/')[-3]}")
    assert first.locator("form[data-action-form=reply] textarea[name=content]").input_value() == ""


def test_a_reply_typed_while_a_colleague_replied_first_is_still_shown(server, browser, shot):
    first, second = two_handlers_on_one_order(server, browser, shot)
    submit(second, "reply", "content", "同事的答复：已处理。")

    submit(first, "reply", "content", REPLY)
    # The order is 已答复 now, so there is no reply form to put the text back into: it is shown to copy.
    assert first.locator("form[data-action-form=reply]").count() == 0
    assert REPLY in first.inner_text(".draft-kept")
