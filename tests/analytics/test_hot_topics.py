"""Hot topics as users see them: computed by the worker, read through the API and the 热点诉求 page."""

from datetime import timedelta

from sqlalchemy import select

from baishitong.analytics import service as analytics
from baishitong.db import utcnow
from baishitong.jobs.models import OutboxJob
from baishitong.jobs.registry import run_handler
from tests.tickets.factories import make_ticket
from tests.web.test_pages import login, token

SMELL = [
    "高黎社区桂洲大道垃圾站臭味很大，附近居民无法开窗，请尽快处理垃圾站臭味。",
    "高黎社区桂洲大道垃圾站每天散发臭味，垃圾清运不及时，居民多次反映。",
    "桂洲大道垃圾站臭味严重，蚊蝇很多，请环卫部门处理高黎社区垃圾站。",
]


def _smell_tickets(session, *, voided_too: bool = False):
    numbers = []
    for i, text in enumerate(SMELL):
        ticket = make_ticket(session, content=text, requester={"name": "居民", "phone": f"1380013800{i}"})
        numbers.append(ticket.number)
    make_ticket(session, content="咨询新生儿入户需要哪些材料。", requester={"name": "市民", "phone": "13900139000"})
    if voided_too:
        make_ticket(session, state="voided", content=SMELL[0], requester={"name": "测试", "phone": "13700137000"})
    return numbers


def test_worker_snapshot_groups_the_requests_of_one_matter(session):
    numbers = _smell_tickets(session, voided_too=True)
    snapshot = analytics.compute_hot_topics(session, window_days=7)
    top = snapshot.topics[0]
    assert sorted(top["keys"]) == sorted(numbers)
    assert top["people"] == 3 and top["size"] == 3 and top["recent"] == 3
    assert top["region"] == "容桂·高黎社区" and "垃圾站" in "".join(top["phrases"])
    assert snapshot.n_tickets == 4  # the voided one is left out
    assert "13800138000" not in str(snapshot.topics)


def test_a_snapshot_only_covers_its_window(session):
    _smell_tickets(session)
    later = utcnow() + timedelta(days=3)
    assert analytics.compute_hot_topics(session, window_days=7, now=later).topics
    day = analytics.compute_hot_topics(session, window_days=1, now=later)
    assert day.topics == [] and day.n_tickets == 0


def test_periodic_refresh_recomputes_only_stale_windows(session):
    now = utcnow()
    assert analytics.refresh_stale_hot_topics(session, now=now) == len(analytics.HOT_WINDOWS)
    assert analytics.refresh_stale_hot_topics(session, now=now + timedelta(minutes=30)) == 0
    assert analytics.refresh_stale_hot_topics(session, now=now + timedelta(minutes=61)) == len(analytics.HOT_WINDOWS)
    assert analytics.latest_hot_topics(session, window_days=7).computed_at == now + timedelta(minutes=61)


def test_api_serves_the_latest_snapshot_to_the_centre_but_not_to_departments(client, login, session):
    numbers = _smell_tickets(session)
    empty = client.get("/api/v1/stats/hot-topics?window_days=7", headers=login("t_operator"))
    assert empty.status_code == 200 and empty.json()["computed_at"] is None and empty.json()["topics"] == []

    queued = client.post("/api/v1/stats/hot-topics/refresh", json={"window_days": 7}, headers=login("t_supervisor"))
    assert queued.status_code == 202 and queued.json()["queued"] is True
    job = session.scalars(select(OutboxJob).where(OutboxJob.name == analytics.HOT_JOB)).one()
    run_handler(session, job.name, job.payload)

    body = client.get("/api/v1/stats/hot-topics?window_days=7", headers=login("t_operator")).json()
    assert body["computed_at"] is not None and body["n_tickets"] == 4
    assert sorted(body["topics"][0]["examples"]) == sorted(numbers)

    denied = client.get("/api/v1/stats/hot-topics", headers=login("t_ronggui"))
    assert denied.status_code == 403 and "热点" in denied.json()["error"]["message"]
    bad = client.get("/api/v1/stats/hot-topics?window_days=5", headers=login("t_operator"))
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_window"



def test_hot_topics_page_lists_topics_with_links_to_the_tickets(web, session):
    numbers = _smell_tickets(session)
    login(web, "t_supervisor")
    assert "尚未计算该周期的热点" in web.get("/staff/hot-topics").text
    analytics.compute_hot_topics(session, window_days=7)
    page = web.get("/staff/hot-topics?window=7")
    assert page.status_code == 200 and "热点排行（共分析 4 件工单" in page.text
    assert all(f'href="/staff/tickets/{n}"' in page.text for n in numbers)
    assert "容桂·高黎社区" in page.text and 'href="/staff/hot-topics"' in page.text

    done = web.post("/staff/hot-topics/refresh", data={"csrf_token": token(page.text), "window": "30"}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/staff/hot-topics?window=30"
    assert session.scalars(select(OutboxJob).where(OutboxJob.name == analytics.HOT_JOB)).one().payload == {"window_days": 30}


def test_department_staff_do_not_get_the_hot_topics_page(web):
    login(web, "t_ronggui")
    assert web.get("/staff/hot-topics", follow_redirects=False).status_code == 403


def test_hot_topics_page_links_every_order_behind_a_topic_not_only_the_five_examples(web, session):
    """工单数 8 is a figure a supervisor follows to the orders: the page lists all of them (the newest five first)."""
    from baishitong.analytics.models import HotTopicSnapshot

    keys = [f"SD2026120600{i:02d}" for i in range(8)]
    now = utcnow()
    topic = {
        "label": "桂洲大道垃圾站臭味", "phrases": [], "size": 8, "people": 8, "heat": 8.0, "recent": 2, "first_at": now.isoformat(), "last_at": now.isoformat(),
        "region": "容桂·高黎社区", "category": "城乡建设", "keys": keys, "examples": keys[: analytics.HOT_EXAMPLES],
    }
    session.add(HotTopicSnapshot(window_days=7, computed_at=now, n_tickets=8, truncated=False, threshold=0.5, topics=[topic]))
    session.flush()
    login(web, "t_supervisor")
    page = web.get("/staff/hot-topics?window=7").text
    assert all(f'href="/staff/tickets/{n}"' in page for n in keys)
    assert "其余 3 件" in page


def test_hot_topics_and_the_stats_page_each_say_what_they_count(web, session):
    """A merged repeat call is analysed on 热点诉求 but not received on 统计分析: each page says how it counts."""
    from baishitong.analytics import report as reports
    from baishitong.tickets.models import Ticket
    from baishitong.tickets.service import local_today

    numbers = _smell_tickets(session)
    session.scalar(select(Ticket).where(Ticket.number == numbers[2])).status = "merged"
    session.flush()
    analytics.compute_hot_topics(session, window_days=30)
    assert reports.period_report(session, start=local_today() - timedelta(days=29), end=local_today()).received == 3
    login(web, "t_supervisor")
    hot = web.get("/staff/hot-topics?window=30").text
    assert "共分析 4 件工单" in hot and "从计算时起往前滚动 720 小时，并单的重复来电也计入，不含作废；统计分析按受理日期整日计" in hot
    assert "往前滚动 24 小时" in web.get("/staff/hot-topics?window=1").text
    stats = web.get("/staff/stats").text
    assert "按受理日期整日计，不含并单和作废；热点诉求按最近 24 小时、7 天或 30 天滚动计，并单的重复来电也计入" in stats
