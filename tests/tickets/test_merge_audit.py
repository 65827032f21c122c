"""并单 leaves an audit row like every other action: the surviving order's 并入重复件, and each merged
order's 主工单已答复 / 主工单已办结, each naming who did it, with no number the caller said in clear."""

from sqlalchemy import select

from baishitong.audit.models import AuditEntry
from baishitong.tickets import schemas, service
from tests.conftest import actor
from tests.tickets.factories import intake, make_ticket

SAID = "13911112222"  # a number the repeat caller says in the call, and the unit repeats in its reply


def audit_rows(session, ticket, action):
    return session.scalars(select(AuditEntry).where(AuditEntry.object_type == "ticket", AuditEntry.object_id == ticket.number, AuditEntry.action == action)).all()


def merge_a_repeat_call(session, master):
    operator = actor(session, "t_operator")
    repeat, _ = service.create_ticket(session, data=intake(content=f"路灯还是不亮，请回电 {SAID}", requester={"phone": "13700005555"}), actor=operator, auto_dispatch=False)
    service.act(session, number=repeat.number, action="merge", actor=operator, body=schemas.MergeIn(version=repeat.version, into=master.number, note=f"同一路灯，来电人留号 {SAID}"))
    return repeat


def test_a_merge_into_an_order_not_yet_at_a_unit_is_audited_on_the_surviving_order(session):
    master = make_ticket(session)
    repeat = merge_a_repeat_call(session, master)
    (entry,) = audit_rows(session, master, "ticket.merged-in")
    assert (entry.actor, entry.data["duplicate"], entry.data["from"], entry.data["to"]) == ("t_operator", repeat.number, "registered", "registered")
    assert "还是不亮" in entry.data["content"] and "同一路灯" in entry.data["note"]
    assert SAID not in str(entry.data) and "13700005555" not in str(entry.data)
    assert [e.actor for e in audit_rows(session, repeat, "ticket.merge")] == ["t_operator"]


def test_the_masters_reply_and_close_are_audited_on_each_merged_order(session):
    master = make_ticket(session)
    repeat = merge_a_repeat_call(session, master)
    operator, handler = actor(session, "t_operator"), actor(session, "t_ronggui")
    service.act(session, number=master.number, action="dispatch", actor=operator, body=schemas.DispatchIn(version=master.version, lead_unit="ronggui"))
    service.act(session, number=master.number, action="sign", actor=handler, body=schemas.ActionIn(version=master.version))
    service.act(session, number=master.number, action="reply", actor=handler, body=schemas.ContentIn(version=master.version, content=f"已更换灯具，已致电 {SAID} 告知。"))
    (replied,) = audit_rows(session, repeat, "ticket.master-reply")
    assert (replied.actor, replied.data["master"], replied.data["from"], replied.data["to"]) == ("t_ronggui", master.number, "merged", "merged")
    assert "已更换灯具" in replied.data["content"] and SAID not in str(replied.data)
    assert SAID not in str(audit_rows(session, master, "ticket.reply")[0].data), "the master's own reply row is masked alike"
    service.act(session, number=master.number, action="callback", actor=operator, body=schemas.CallbackIn(version=master.version, solved=True, satisfaction="满意"))
    service.act(session, number=master.number, action="close", actor=operator, body=schemas.ActionIn(version=master.version))
    (closed,) = audit_rows(session, repeat, "ticket.master-close")
    assert (closed.actor, closed.data["master"], closed.data["to"]) == ("t_operator", master.number, "merged")
    # The order's own history still keeps the words in full for those who may reveal them.
    assert SAID in [e for e in repeat.events if e.action == "master-reply"][0].data["content"]
