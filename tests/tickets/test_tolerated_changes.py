"""A handler's open form survives changes that do not touch what it changes (the centre deciding an
extension: `Transition.tolerates`), while a real change in between still gives 409."""

import pytest

from baishitong.errors import Conflict
from baishitong.tickets import schemas, service
from tests.conftest import actor
from tests.tickets.factories import make_ticket
from tests.web.test_pages import login as web_login, token

ANSWER = "已安排维修，路灯已恢复照明。"


def extension_requested(session, ticket) -> int:
    """A colleague asks for 3 more days; returns the version a form opened after the request carries."""
    service.act(session, number=ticket.number, action="extend", actor=actor(session, "t_ronggui2"), body=schemas.ExtendIn(version=ticket.version, days=3, reason="需协调供电部门"))
    return ticket.version


def extension_approved(session, ticket):
    extension_requested(session, ticket)
    service.act(session, number=ticket.number, action="approve-extension", actor=actor(session, "t_supervisor"), body=schemas.ActionIn(version=ticket.version))


def reply(session, ticket, version):
    return service.act(session, number=ticket.number, action="reply", actor=actor(session, "t_ronggui"), body=schemas.ContentIn(version=version, content=ANSWER))


def test_a_reply_typed_before_an_extension_was_decided_goes_through(session):
    ticket = make_ticket(session, state="signed")
    opened = ticket.version
    extension_approved(session, ticket)
    with pytest.raises(Conflict) as extend_is_not_tolerated:
        reply(session, ticket, opened)
    assert extend_is_not_tolerated.value.code == "version_conflict", "a colleague's 延期申请 is not the centre's decision"
    seen = ticket.version - 1  # after the colleague's request, before the approval
    service.act(session, number=ticket.number, action="extend", actor=actor(session, "t_ronggui2"), body=schemas.ExtendIn(version=ticket.version, days=2, reason="仍需协调"))
    service.act(session, number=ticket.number, action="reject-extension", actor=actor(session, "t_supervisor"), body=schemas.ReasonIn(version=ticket.version, reason="时限已延长过"))
    with pytest.raises(Conflict):
        reply(session, ticket, seen)
    reply(session, ticket, ticket.version - 1)  # opened after the second request, before its refusal
    assert ticket.status == "replied" and ticket.reply_content == ANSWER


@pytest.mark.parametrize("between", ["return-rejected", "contribution", "pause"])
def test_real_changes_in_between_still_conflict(session, between):
    ticket = make_ticket(session, state="signed")
    opened = ticket.version
    if between == "return-rejected":
        service.act(session, number=ticket.number, action="return", actor=actor(session, "t_ronggui2"), body=schemas.ReasonIn(version=ticket.version, reason="不属于本单位职责"))
        service.act(session, number=ticket.number, action="reject-return", actor=actor(session, "t_operator"), body=schemas.ReasonIn(version=ticket.version, reason="属于街道职责"))
    elif between == "pause":
        service.act(session, number=ticket.number, action="pause", actor=actor(session, "t_ronggui2"), body=schemas.ReasonIn(version=ticket.version, reason="等待供电所到场检修"))
    else:
        service.act(session, number=ticket.number, action="contribute", actor=actor(session, "t_sjj"), body=schemas.ContentIn(version=ticket.version, content="该路段无占道经营。"))
    assert ticket.status == "signed"
    with pytest.raises(Conflict) as conflict:
        reply(session, ticket, opened)
    assert conflict.value.code == "version_conflict" and conflict.value.details == {"current_version": ticket.version}


def test_an_approval_mixed_with_a_real_change_conflicts(session):
    ticket = make_ticket(session, state="signed")
    opened = extension_requested(session, ticket)
    service.act(session, number=ticket.number, action="approve-extension", actor=actor(session, "t_supervisor"), body=schemas.ActionIn(version=ticket.version))
    service.act(session, number=ticket.number, action="subdispatch", actor=actor(session, "t_ronggui2"), body=schemas.UnitIn(version=ticket.version, unit="440606006023"))
    with pytest.raises(Conflict):
        reply(session, ticket, opened)


def test_events_without_a_recorded_version_count_as_conflicts(session):
    ticket = make_ticket(session, state="signed")
    opened = extension_requested(session, ticket)
    service.act(session, number=ticket.number, action="approve-extension", actor=actor(session, "t_supervisor"), body=schemas.ActionIn(version=ticket.version))
    ticket.events[-1].version = None  # as written before migration 0021
    session.flush()
    with pytest.raises(Conflict):
        reply(session, ticket, opened)


def test_actions_that_tolerate_nothing_still_need_the_current_version(session):
    ticket = make_ticket(session, state="signed")
    opened = extension_requested(session, ticket)
    service.act(session, number=ticket.number, action="reject-extension", actor=actor(session, "t_supervisor"), body=schemas.ReasonIn(version=ticket.version, reason="理由不充分"))
    with pytest.raises(Conflict):
        service.act(session, number=ticket.number, action="extend", actor=actor(session, "t_ronggui"), body=schemas.ExtendIn(version=opened, days=3, reason="需协调供电部门"))


def test_api_reply_with_the_version_read_before_the_approval_is_accepted(client, login, session):
    ticket = make_ticket(session, state="signed")
    opened = extension_requested(session, ticket)
    approved = client.post(f"/api/v1/tickets/{ticket.number}/actions/approve-extension", json={"version": opened}, headers=login("t_supervisor"))
    assert approved.status_code == 200 and approved.json()["version"] == opened + 1
    replied = client.post(f"/api/v1/tickets/{ticket.number}/actions/reply", json={"version": opened, "content": ANSWER}, headers=login("t_ronggui"))
    assert replied.status_code == 200, replied.text
    assert replied.json()["status"] == "replied"


def test_reply_form_opened_before_the_approval_is_sent_from_the_page(web, session):
    ticket = make_ticket(session, state="signed")
    opened = extension_requested(session, ticket)
    session.flush()
    web_login(web, "t_ronggui")
    page = web.get(f"/staff/tickets/{ticket.number}").text
    service.act(session, number=ticket.number, action="approve-extension", actor=actor(session, "t_supervisor"), body=schemas.ActionIn(version=ticket.version))
    session.flush()
    sent = web.post(f"/staff/tickets/{ticket.number}/act/reply", data={"csrf_token": token(page), "version": opened, "content": ANSWER}, follow_redirects=True)
    assert f"工单 {ticket.number} 已答复" in sent.text and ticket.status == "replied"
