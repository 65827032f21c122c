"""Factories for work orders in a given state, through the real service."""

from sqlalchemy.orm import Session

from baishitong.actors import REQUESTER
from baishitong.tickets import schemas, service
from baishitong.tickets.models import Ticket
from tests.conftest import actor

PHONE = "13812345678"


def intake(**overrides) -> schemas.TicketCreate:
    body = {
        "type": "投诉",
        "content": "容桂街道高黎社区桂洲大道东路段路灯连续一周不亮，晚上行人很不安全。",
        "address": "容桂街道高黎社区桂洲大道东",
        "channel": "web",
        "requester": {"name": "陈先生", "phone": PHONE, "id_number": "440606199001011232"},
    }
    body.update(overrides)
    return schemas.TicketCreate.model_validate(body)


def make_ticket(session: Session, *, state: str = "registered", lead: str = "ronggui", **overrides) -> Ticket:
    """A ticket walked to `state` by the right people: registered … archived, returned, voided."""
    ticket, _ = service.create_ticket(session, data=intake(**overrides), actor=REQUESTER)
    steps = {
        "registered": [],
        "dispatched": ["dispatch"],
        "signed": ["dispatch", "sign"],
        "returned": ["dispatch", "return"],
        "replied": ["dispatch", "sign", "reply"],
        "callback": ["dispatch", "sign", "reply", "callback"],
        "callback_unsatisfied": ["dispatch", "sign", "reply", "callback_bad"],
        "closed": ["dispatch", "sign", "reply", "callback", "close"],
        "archived": ["dispatch", "sign", "reply", "callback", "close", "archive"],
        "voided": ["void"],
    }[state]
    handler = "t_ronggui" if lead == "ronggui" else {"daliang": "t_daliang", "SJJ": "t_sjj"}[lead]
    for step in steps:
        body: schemas.ActionIn
        who = "t_operator"
        action = step
        if step == "dispatch":
            body = schemas.DispatchIn(version=ticket.version, lead_unit=lead, co_units=["SJJ"] if lead == "ronggui" else [])
        elif step in ("sign",):
            body, who = schemas.ActionIn(version=ticket.version), handler
        elif step == "return":
            body, who = schemas.ReasonIn(version=ticket.version, reason="不属于本单位职责"), handler
        elif step == "reply":
            body, who = schemas.ContentIn(version=ticket.version, content="已安排维修，路灯已恢复。"), handler
        elif step == "callback":
            body = schemas.CallbackIn(version=ticket.version, solved=True, satisfaction="满意")
        elif step == "callback_bad":
            action = "callback"
            body = schemas.CallbackIn(version=ticket.version, solved=False, satisfaction="不满意")
        elif step == "archive":
            body, who = schemas.ActionIn(version=ticket.version), "t_supervisor"
        elif step == "void":
            body = schemas.ReasonIn(version=ticket.version, reason="骚扰电话")
        else:
            body = schemas.ActionIn(version=ticket.version)
        service.act(session, number=ticket.number, action=action, actor=actor(session, who), body=body)
    return ticket
