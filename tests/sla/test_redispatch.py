"""改派后重新计时: an order sent on to another unit — after an approved 退单, or before the first unit
signed — gets a new clock there, unless the policy says otherwise; a dispatch to the same unit does not."""

import re

from baishitong.sla import service as sla
from baishitong.tickets import schemas, service
from tests.conftest import actor
from tests.sla.test_service import LOCAL_TZ, at, local
from tests.tickets.factories import PHONE, make_ticket
from tests.web.test_pages import login as sign_in


def redispatch(session, ticket, lead="daliang"):
    service.act(session, number=ticket.number, action="dispatch", actor=actor(session, "t_operator"), body=schemas.DispatchIn(version=ticket.version, lead_unit=lead))


def approve_return(session, ticket):
    service.act(session, number=ticket.number, action="approve-return", actor=actor(session, "t_supervisor"), body=schemas.ActionIn(version=ticket.version))


def test_an_order_sent_on_after_an_approved_return_gets_a_new_clock(session, monkeypatch):
    at(monkeypatch, "2026-12-01 09:00")  # a Tuesday
    ticket = make_ticket(session, state="returned", type="咨询")
    assert ticket.reply_due.astimezone(LOCAL_TZ) == local("2026-12-03 09:00")
    at(monkeypatch, "2026-12-07 09:00")
    approve_return(session, ticket)
    redispatch(session, ticket)
    # 咨询: 2 working days, now from the re-dispatch on Monday the 7th, not from registration on the 1st.
    assert ticket.reply_due.astimezone(LOCAL_TZ) == local("2026-12-09 09:00")
    assert ticket.events[-1].data["clock_restarted"] is True


def test_a_correction_before_signing_restarts_but_the_same_unit_keeps_its_clock(session, monkeypatch):
    at(monkeypatch, "2026-12-01 09:00")
    ticket = make_ticket(session, state="dispatched", type="咨询")
    at(monkeypatch, "2026-12-02 09:00")
    redispatch(session, ticket, lead="ronggui")
    assert ticket.reply_due.astimezone(LOCAL_TZ) == local("2026-12-03 09:00") and "clock_restarted" not in ticket.events[-1].data
    redispatch(session, ticket, lead="daliang")
    assert ticket.reply_due.astimezone(LOCAL_TZ) == local("2026-12-04 09:00")


def test_the_policy_can_keep_the_first_clock(session, monkeypatch):
    policy = sla.current_policy(session)
    sla.save_policy(session, rules=policy.rules, working_hours=None, warning_share=None, restart_on_redispatch=False, pause_during_review=False, actor=actor(session, "t_admin"))
    at(monkeypatch, "2026-12-01 09:00")
    ticket = make_ticket(session, state="returned", type="咨询")
    at(monkeypatch, "2026-12-07 09:00")
    approve_return(session, ticket)
    redispatch(session, ticket)
    assert ticket.reply_due.astimezone(LOCAL_TZ) == local("2026-12-03 09:00") and "clock_restarted" not in ticket.events[-1].data


def sla_form(page: str) -> dict[str, str]:
    """The policy form as the browser would send it, unchanged."""
    form = re.search(r'<form[^>]*action="/staff/admin/sla".*?</form>', page, re.S).group(0)
    fields = dict(re.findall(r'<input type="(?:number|hidden)"[^>]*name="([^"]+)"[^>]*value="([^"]*)"', form))
    for name, options in re.findall(r'<select name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        chosen = re.search(r'<option value="([^"]+)" selected>', options)
        fields[name] = chosen.group(1) if chosen else re.search(r'<option value="([^"]+)"', options).group(1)
    return fields


def test_the_admin_sets_it_on_the_sla_page_and_the_timeline_says_so(web, client, login, session):
    sign_in(web, "t_admin")
    page = web.get("/staff/admin/sla").text
    assert re.search(r'<input[^>]*name="restart_on_redispatch"[^>]*checked', page), "on by default"
    version = sla.current_policy(session).version
    web.post("/staff/admin/sla", data=sla_form(page) | {"note": "改派不重新计时"}, follow_redirects=True)
    saved = sla.current_policy(session)
    assert saved.version == version + 1 and saved.restart_on_redispatch is False, "an unticked box turns it off"
    assert client.get("/api/v1/sla/policy", headers=login("t_admin")).json()["restart_on_redispatch"] is False
    put = client.put("/api/v1/sla/policy", json={"rules": saved.rules, "restart_on_redispatch": True, "base_version": saved.version}, headers=login("t_admin"))
    assert put.status_code == 200 and put.json()["restart_on_redispatch"] is True

    ticket = make_ticket(session, state="returned", type="咨询")
    approve_return(session, ticket)
    redispatch(session, ticket)
    session.flush()
    sign_in(web, "t_operator")
    assert "改派：各环节时限自本次派单起重新计算" in web.get(f"/staff/tickets/{ticket.number}").text


def test_the_requester_reads_where_each_dispatch_went_after_the_order_moved_on(client, session):
    ticket = make_ticket(session, state="returned")
    approve_return(session, ticket)
    redispatch(session, ticket)
    texts = [e["text"] for e in client.get("/api/v1/track", params={"number": ticket.number, "phone": PHONE}).json()["timeline"]]
    assert [t for t in texts if t.startswith("已转交")] == ["已转交容桂街道办理", "已转交大良街道办理"]
