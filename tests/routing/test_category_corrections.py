"""A dispatcher who puts an order under another category than the router proposed: the 分类纠正率 of the misroute report."""

import re

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, select, text

from baishitong import migrate
from baishitong.actors import REQUESTER
from baishitong.routing import service
from baishitong.routing.models import RoutingDecision
from baishitong.tickets import service as tickets
from tests.conftest import actor, create_fresh_database, drop_fresh_database, insert_ticket_row
from tests.tickets.factories import intake
from tests.web.test_console_after import intake as console_intake
from tests.web.test_console_after import ticket_of
from tests.web.test_pages import login as staff_login
from tests.web.test_pages import token


@pytest.fixture
def waiting(session, model):
    """A street-light order the router files under 城乡建设 (01) for ronggui, held for review as the console's 派单 is."""
    ticket, _ = tickets.create_ticket(session, data=intake(content="路灯不亮，井盖缺失，道路破损，希望尽快处理。", address="容桂街道"), actor=REQUESTER, auto_dispatch=False)
    session.commit()
    decision = decision_of(session, ticket)
    assert (decision.status, decision.category_code, decision.lead_unit) == ("review", "01", "ronggui")
    return ticket


def decision_of(session, ticket) -> RoutingDecision:
    return session.scalars(select(RoutingDecision).where(RoutingDecision.ticket_id == ticket.id)).one()


def dispatch(client, login, ticket, *, lead: str, category: str | None, user: str = "t_operator"):
    body = {"version": ticket.version, "lead_unit": lead} | ({"category_code": category} if category else {})
    return client.post(f"/api/v1/tickets/{ticket.number}/actions/dispatch", json=body, headers=login(user))


def test_a_category_changed_on_the_order_page_at_review_is_recorded_on_the_decision(web, session, waiting):
    staff_login(web, "t_operator")
    page = web.get(f"/staff/tickets/{waiting.number}").text
    form = re.search(rf'<form[^>]*action="/staff/tickets/{waiting.number}/act/dispatch".*?</form>', page, re.S).group(0)
    assert re.search(r'<select name="category_code"[^>]*>.*?<option value="01" selected>城乡建设</option>', form, re.S), "the order's category is preselected"

    done = web.post(
        f"/staff/tickets/{waiting.number}/act/dispatch",
        data={"csrf_token": token(page), "version": str(waiting.version), "lead_unit": "RSJ", "category_code": "020101"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    session.expire_all()
    assert waiting.category.code == "020101" and waiting.lead_unit.code == "RSJ"
    d = decision_of(session, waiting)
    assert d.corrected_category == "020101" and (d.status, d.corrected_to) == ("corrected", "RSJ")
    entry = d.evidence["corrections"][-1]
    assert (entry["category"], entry["from"], entry["source"]) == ("020101", "01", "operator")
    dispatched = waiting.events[-1]
    assert (dispatched.data["previous_category"], dispatched.data["category"]) == ("01", "020101")
    timeline = web.get(f"/staff/tickets/{waiting.number}").text
    assert f"问题分类改为：{waiting.category.path}" in timeline, "the order's timeline says what it was re-filed under"


def test_a_finer_category_in_the_proposed_branch_is_no_correction(client, login, session, waiting):
    r = dispatch(client, login, waiting, lead="ronggui", category="010101")
    assert r.status_code == 200, r.text
    assert r.json()["category"]["code"] == "010101"
    d = decision_of(session, waiting)
    assert d.status == "accepted" and d.corrected_category is None and "corrections" not in d.evidence
    shown = client.get(f"/api/v1/tickets/{waiting.number}", headers=login("t_operator")).json()
    assert shown["routing"]["status"] == "accepted" and shown["routing"]["corrected_category"] is None


def test_dispatching_without_a_category_leaves_it_and_records_nothing(client, login, session, waiting):
    assert dispatch(client, login, waiting, lead="ronggui", category=None).status_code == 200
    d = decision_of(session, waiting)
    assert waiting.category.code == "01" and d.corrected_category is None and d.status == "accepted"


def test_moving_back_into_the_proposed_branch_withdraws_the_correction(client, login, session, waiting):
    assert dispatch(client, login, waiting, lead="RSJ", category="020101").status_code == 200
    assert decision_of(session, waiting).corrected_category == "020101"
    r = dispatch(client, login, waiting, lead="ronggui", category="0101")
    assert r.status_code == 200, r.text
    d = decision_of(session, waiting)
    assert d.corrected_category is None and [e.get("category") for e in d.evidence["corrections"] if "category" in e] == ["020101", "0101"]


def test_the_deadlines_follow_the_category_the_order_is_re_filed_under(client, login, session, waiting):
    """A category with a time limit of its own (here 劳动关系 replies in 3 working days) governs the order from the
    dispatch that puts it there: the unit is not held to the limit of the category the router had guessed."""
    from baishitong.sla import service as sla

    policy = sla.current_policy(session)
    tight = {"name": "劳动关系", "type": None, "channel": None, "urgency": None, "category_prefix": "0201",
             "stages": {"reply": {"amount": 3, "unit": "working_days"}, "close": {"amount": 3, "unit": "working_days"}}}
    sla.save_policy(session, rules=[*policy.rules, tight], working_hours=None, warning_share=None, actor=actor(session, "t_admin"))
    session.commit()
    assert dispatch(client, login, waiting, lead="ronggui", category=None).status_code == 200
    session.expire_all()
    guessed = waiting.reply_due
    r = dispatch(client, login, waiting, lead="RSJ", category="020101")
    assert r.status_code == 200, r.text
    session.expire_all()
    assert waiting.reply_due < guessed, (waiting.reply_due, guessed)


def test_a_category_unknown_is_refused_and_changes_nothing(client, login, session, waiting):
    r = dispatch(client, login, waiting, lead="RSJ", category="9999")
    assert r.status_code == 404 and r.json()["error"]["code"] == "category_not_found"
    session.expire_all()
    assert waiting.status == "registered" and waiting.category.code == "01" and decision_of(session, waiting).corrected_category is None


def test_the_report_counts_category_corrections_per_proposed_category(client, login, session, model, web):
    orders = []
    for _ in range(4):
        ticket, _ = tickets.create_ticket(session, data=intake(content="路灯不亮，井盖缺失，道路破损，希望尽快处理。", address="容桂街道"), actor=REQUESTER, auto_dispatch=False)
        orders.append(ticket)
    session.commit()
    assert dispatch(client, login, orders[0], lead="RSJ", category="020101").status_code == 200
    assert dispatch(client, login, orders[1], lead="ronggui", category="010101").status_code == 200  # same branch
    for ticket in orders[2:]:
        assert dispatch(client, login, ticket, lead="ronggui", category=None).status_code == 200

    report = client.get("/api/v1/routing/misroutes", headers=login("t_supervisor"))
    assert report.status_code == 200, report.text
    row = next(r for r in report.json()["by_category"] if r["code"] == "01")
    assert (row["decisions"], row["category_corrections"], row["category_misroute_rate"]) == (4, 1, 0.25)
    assert row["corrections"] == 1 and row["misroute_rate"] == 0.25  # the unit moved with it on the first order only
    total = report.json()["total"]
    assert (total["category_corrections"], total["category_misroute_rate"]) == (1, 0.25)
    assert service.misroute_report(session)["by_category"] == report.json()["by_category"]

    staff_login(web, "t_admin")
    page = web.get("/staff/admin/models").text
    assert "分类纠正率 25.0%" in page
    table = re.search(r"<th[^>]*>分类纠正率</th>.*?</table>", page, re.S).group(0)
    cells = r"<td[^>]*>{}</td>"
    assert re.search("城乡建设.*?" + "".join(cells.format(v) for v in ("4", "1", r"25\.0%", "1", r"25\.0%")), table, re.S)


def test_an_operator_who_files_the_call_outside_the_models_branch_at_intake_counts_against_the_models_category(web, session, model, client, login):
    """The console's 问题分类: 环境保护 chosen where the model said 城乡建设 is the router's miss, in 城乡建设's row."""
    staff_login(web, "t_operator")
    console_intake(web, "13800007001", after="dispatch", category_code="050102")  # to the unit proposed
    console_intake(web, "13800007002", after="dispatch", category_code="0101")  # finer, same branch
    missed, finer = (decision_of(session, ticket_of(session, phone)) for phone in ("13800007001", "13800007002"))
    assert (missed.category_code, missed.corrected_category) == ("050102", "050102") and missed.status in ("auto", "accepted")
    entry = missed.evidence["corrections"][-1]
    assert (entry["category"], entry["from"], entry["source"]) == ("050102", "01", "intake")
    assert finer.corrected_category is None and "corrections" not in finer.evidence

    report = client.get("/api/v1/routing/misroutes", headers=login("t_supervisor")).json()
    assert [r["code"] for r in report["by_category"]] == ["01"], "keyed by what the model proposed, not the operator's 050102 or 0101"
    row = report["by_category"][0]
    assert (row["decisions"], row["category_corrections"], row["category_misroute_rate"]) == (2, 1, 0.5)
    assert (row["corrections"], report["total"]["corrections"]) == (0, 0)  # both went to the unit proposed for the operator's category
    assert (report["total"]["category_corrections"], report["total"]["category_misroute_rate"]) == (1, 0.5)


def test_a_dispatcher_refiling_an_intake_correction_is_judged_against_the_models_category(client, login, session, model):
    ticket, _ = tickets.create_ticket(
        session, data=intake(content="路灯不亮，井盖缺失，道路破损，希望尽快处理。", address="容桂街道", category_code="020101"), actor=actor(session, "t_operator"), auto_dispatch=False
    )
    session.commit()
    d = decision_of(session, ticket)
    assert (d.status, d.category_code, d.corrected_category, d.evidence["category_suggested"]["code"]) == ("review", "020101", "020101", "01")

    assert dispatch(client, login, ticket, lead="ronggui", category="010101").status_code == 200  # the model was right after all
    d = decision_of(session, ticket)
    assert d.corrected_category is None
    assert [(e["category"], e["from"], e["source"]) for e in d.evidence["corrections"] if "category" in e] == [("020101", "01", "intake"), ("010101", "01", "operator")]

    assert dispatch(client, login, ticket, lead="RSJ", category="050102").status_code == 200
    d = decision_of(session, ticket)
    assert d.corrected_category == "050102" and d.evidence["corrections"][-1]["from"] == "01"
    row = service.misroute_report(session)["by_category"]
    assert [(r["code"], r["decisions"], r["category_corrections"]) for r in row] == [("01", 1, 1)]


def test_a_category_the_citizen_chose_is_no_correction_of_the_router(session, model):
    """A citizen's (or a partner's, or an Open311 service_code's) own category is what they think the matter is, not
    a correction by the centre: it does not count in the 分类纠正率."""
    ticket, _ = tickets.create_ticket(
        session, data=intake(content="路灯不亮，井盖缺失，道路破损，希望尽快处理。", address="容桂街道", category_code="020101"), actor=REQUESTER, auto_dispatch=False
    )
    session.commit()
    d = decision_of(session, ticket)
    assert (d.category_code, d.evidence["category_suggested"]["code"], d.corrected_category) == ("020101", "01", None)
    assert "corrections" not in d.evidence


def test_the_migration_adds_the_column_and_takes_it_away_keeping_the_decisions(tmp_path):
    url = create_fresh_database(tmp_path)
    engine = create_engine(url)
    config = migrate.alembic_config(url)
    try:
        command.upgrade(config, "heads")
        with engine.begin() as conn:
            insert_ticket_row(conn, status="dispatched", title="路灯不亮", version=2)
            conn.execute(text(
                "INSERT INTO routing_decisions (id, ticket_id, created_at, top3, category_code, co_units, auto_dispatched, status, evidence, corrected_category)"
                " VALUES (1, 1, CURRENT_TIMESTAMP, '[]', '01', '[]', false, 'accepted', '{}', '020101')"
            ))

        command.downgrade(config, "0037_ticket_assistant_session")
        assert "corrected_category" not in {c["name"] for c in inspect(engine).get_columns("routing_decisions")}
        assert {"ix_routing_decisions_status_created", "ix_routing_decisions_ticket_id"} <= {i["name"] for i in inspect(engine).get_indexes("routing_decisions")}
        with engine.connect() as conn:
            assert conn.execute(text("SELECT category_code FROM routing_decisions")).scalars().all() == ["01"]

        command.upgrade(config, "heads")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT corrected_category FROM routing_decisions")).scalars().all() == [None]
    finally:
        engine.dispose()
        drop_fresh_database(url)
