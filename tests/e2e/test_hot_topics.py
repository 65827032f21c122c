"""热点诉求 in headless Chromium: a supervisor recomputes the topics and opens one of the tickets behind one."""

import pytest

from tests.e2e.test_story import staff_page

pytestmark = pytest.mark.e2e

COMPLAINTS = [
    "容桂街道高黎社区桂洲大道垃圾站臭味很大，附近居民无法开窗，请尽快处理垃圾站臭味。",
    "高黎社区桂洲大道垃圾站每天散发臭味，垃圾清运不及时，居民多次反映没有改善。",
    "桂洲大道垃圾站臭味严重，蚊蝇很多，请环卫部门处理高黎社区垃圾站。",
    "高黎社区垃圾站太臭了，桂洲大道一带夏天根本没法走，请处理垃圾站臭味。",
]
NUMBERS: list[str] = []


def seed_server(session) -> None:
    from baishitong.actors import REQUESTER
    from baishitong.tickets import schemas, service

    for i, text in enumerate(COMPLAINTS):
        data = schemas.TicketCreate.model_validate(
            {"type": "投诉", "content": text, "address": "容桂街道高黎社区桂洲大道", "channel": "web", "requester": {"name": "居民", "phone": f"1380013810{i}"}}
        )
        NUMBERS.append(service.create_ticket(session, data=data, actor=REQUESTER)[0].number)


def test_supervisor_refreshes_hot_topics_and_opens_a_ticket(server, browser, shot):
    page = staff_page(browser, server, "supervisor", shot)
    page.click("nav.staff-sidebar a:has-text('热点诉求')")
    page.wait_for_url("**/staff/hot-topics")
    with page.expect_navigation():
        page.click("button:has-text('立即重新计算')")
    assert "已提交重新计算" in page.inner_text("#flash")
    # The job runs after the redirect, as in production where the worker takes it: reload until it is done.
    for _ in range(60):
        page.reload()
        if page.locator("#hot-topics").count():
            break
        page.wait_for_timeout(500)
    table = page.locator("#hot-topics")
    first = table.locator("tbody tr").first
    assert first.locator("[data-label=反映人数]").inner_text().strip() == str(len(COMPLAINTS))
    assert "容桂·高黎社区" in first.inner_text() and "垃圾站" in first.inner_text()
    shot(page, "hot-topics")
    with page.expect_navigation():
        first.locator(f"a:has-text('{NUMBERS[-1]}')").click()
    assert NUMBERS[-1] in page.inner_text("h1, .page-title, main")
    page.context.close()
