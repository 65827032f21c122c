"""Every action from every state by every kind of user: allowed, or refused with the right error.

The expectations below are written out by hand from the business rules, not
derived from the code's transition table.
"""

import pytest

from baishitong.errors import Conflict, Forbidden, NotFound
from baishitong.tickets import schemas, service
from tests.conftest import actor
from tests.tickets.factories import make_ticket

STATES = ["registered", "dispatched", "signed", "returned", "replied", "callback", "closed", "archived", "voided"]
USERS = ["t_operator", "t_supervisor", "t_admin", "t_ronggui", "t_ronggui_admin", "t_sjj", "t_daliang"]
CENTRE = {"t_operator", "t_supervisor", "t_admin"}
LEAD = {"t_ronggui", "t_ronggui_admin"}

# action: (who may take it, from which states, resulting status or None if unchanged)
RULES = {
    "dispatch": (CENTRE, {"registered", "dispatched"}, "dispatched"),
    "sign": (LEAD, {"dispatched"}, "signed"),
    "return": (LEAD, {"dispatched", "signed"}, "returned"),
    "approve-return": (CENTRE, {"returned"}, "registered"),
    "reject-return": (CENTRE, {"returned"}, None),
    "subdispatch": (LEAD, {"signed"}, None),
    "contact": (LEAD, {"dispatched", "signed"}, None),
    "pause": (LEAD, {"signed"}, None),
    "extend": (LEAD, {"signed"}, None),
    "note": (CENTRE | LEAD | {"t_sjj"}, {"dispatched", "signed"}, None),
    "contribute": ({"t_sjj"}, {"dispatched", "signed"}, None),
    "reply": (LEAD, {"signed"}, "replied"),
    "callback": ({"t_operator", "t_supervisor"}, {"replied"}, "callback"),
    "callback-missed": ({"t_operator", "t_supervisor"}, {"replied"}, None),
    "callback-declined": ({"t_operator", "t_supervisor"}, {"replied"}, None),
    # From 已答复 only without a callback that could still be made: see test_close_waits_for_the_callback.
    "close": (CENTRE, {"callback"}, "closed"),
    "archive": ({"t_supervisor", "t_admin"}, {"closed", "voided"}, "archived"),
    "urge": (CENTRE, {"dispatched", "signed", "returned"}, None),
    "supervise": ({"t_supervisor", "t_admin"}, {"dispatched", "signed", "returned", "replied"}, None),
    "merge": (CENTRE, {"registered", "dispatched"}, "merged"),
    "void": (CENTRE, {"registered"}, "voided"),
}

# Unit staff see a ticket once it has been dispatched to their unit (lead or co-handler).
DISPATCHED_STATES = set(STATES) - {"registered", "voided"}


def visible(user: str, state: str) -> bool:
    if user in CENTRE:
        return True
    if user in LEAD | {"t_sjj"}:
        return state in DISPATCHED_STATES
    return False


def body_for(action: str, version: int, master: str) -> schemas.ActionIn:
    extra = {
        "dispatch": {"lead_unit": "ronggui"},
        "return": {"reason": "不属于本单位职责"},
        "void": {"reason": "骚扰电话"},
        "extend": {"days": 5, "reason": "需要现场核查"},
        "reply": {"content": "已处理完毕。"},
        "contribute": {"content": "协办意见：已配合核查。"},
        "callback": {"solved": True, "satisfaction": "满意"},
        "merge": {"into": master},
        "subdispatch": {"unit": "440606006023"},
        "note": {"note": "已电话联系诉求人"},
        "pause": {"reason": "等待诉求人补充材料"},
        "reject-return": {"reason": "属于本单位职责范围"},
        "callback-missed": {"outcome": "无人接听"},
        "contact": {"outcome": "已联系"},
        "reject-extension": {"reason": "现有时限足够办理"},
    }.get(action, {})
    return schemas.ACTION_BODIES.get(action, schemas.ActionIn)(version=version, **extra)


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("action", sorted(RULES))
def test_action_from_state_for_every_user(session, action, state):
    ticket = make_ticket(session, state=state)
    master = make_ticket(session, state="registered")
    users, sources, result = RULES[action]
    for user in USERS:
        savepoint = session.begin_nested()
        try:
            before = ticket.status
            body = body_for(action, ticket.version, master.number)
            if not visible(user, state):
                with pytest.raises(NotFound):
                    service.act(session, number=ticket.number, action=action, actor=actor(session, user), body=body)
            elif user not in users:
                with pytest.raises(Forbidden):
                    service.act(session, number=ticket.number, action=action, actor=actor(session, user), body=body)
            elif state not in sources:
                with pytest.raises(Conflict):
                    service.act(session, number=ticket.number, action=action, actor=actor(session, user), body=body)
            else:
                service.act(session, number=ticket.number, action=action, actor=actor(session, user), body=body)
                expected = result or before
                if action == "reject-return":
                    expected = "dispatched"  # the factory returned it straight after dispatch
                assert ticket.status == expected, (action, state, user)
                assert ticket.events[-1].action == action and ticket.events[-1].actor == user
        finally:
            savepoint.rollback()
            session.expire_all()


def test_close_waits_for_the_callback(session):
    """已答复 → 办结 needs the callback, or MISSED_CALLBACKS_TO_CLOSE unanswered calls, or no phone to call."""
    operator = actor(session, "t_operator")
    ticket = make_ticket(session, state="replied")
    close = lambda: service.act(session, number=ticket.number, action="close", actor=operator, body=schemas.ActionIn(version=ticket.version))  # noqa: E731
    for attempt in range(3):
        with pytest.raises(Conflict, match="请先回访诉求人"):
            close()
        service.act(session, number=ticket.number, action="callback-missed", actor=operator, body=schemas.CallbackMissedIn(version=ticket.version, outcome="无人接听"))
    close()
    assert ticket.status == "closed"

    no_phone = make_ticket(session, state="replied")
    no_phone.requester_phone = None
    session.flush()
    service.act(session, number=no_phone.number, action="close", actor=operator, body=schemas.ActionIn(version=no_phone.version))
    assert no_phone.status == "closed"
