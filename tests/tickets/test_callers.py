"""来电历史: a caller's earlier orders for the operator, open ones first, each lookup audited once."""

import pytest
from sqlalchemy import select

from baishitong.audit.models import AuditEntry
from baishitong.errors import Forbidden
from baishitong.tickets import callers
from tests.conftest import actor
from tests.tickets.factories import make_ticket

# Numbers no other test files under: some tests commit tickets with the factory's default phone.
PHONE, OTHER = "13512340002", "13512340003"
CALLER = {"name": "陈先生", "phone": PHONE}


def lookups(session) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(AuditEntry.object_type == "caller")))


def test_a_repeat_caller_s_orders_come_open_first_and_the_lookup_is_audited(session):
    closed = make_ticket(session, state="closed", requester=CALLER)
    signed = make_ticket(session, state="signed", requester=CALLER)
    other = make_ticket(session, state="dispatched", requester={"name": "李女士", "phone": OTHER})
    operator = actor(session, "t_operator")
    history = callers.caller_history(session, phone="135-1234-0002", actor=operator)
    assert (history.total, history.open) == (2, 1)
    assert [t.number for t in history.recent] == [signed.number, closed.number]
    assert other.number not in [t.number for t in history.recent]
    [entry] = lookups(session)
    assert entry.actor == "t_operator" and entry.action == "personal_data.view" and entry.data["purpose"] == "来电历史"
    assert entry.object_id.startswith("135****0002#") and PHONE not in entry.object_id + str(entry.data)
    assert entry.data["tickets"] == [signed.number, closed.number]
    # The console refreshes as the operator types: the same lookup is not audited again at once.
    callers.caller_history(session, phone=PHONE, actor=operator)
    assert len(lookups(session)) == 1
    callers.caller_history(session, phone=PHONE, actor=actor(session, "t_supervisor"))
    assert len(lookups(session)) == 2


def test_an_incomplete_or_new_number_shows_no_history_and_audits_nothing(session):
    operator = actor(session, "t_operator")
    assert callers.caller_history(session, phone="1381234", actor=operator) is None
    fresh = callers.caller_history(session, phone="13512340009", actor=operator)
    assert (fresh.total, fresh.recent) == (0, [])
    assert lookups(session) == []


def test_only_the_centre_sees_caller_history(session):
    make_ticket(session, state="dispatched", requester=CALLER)
    with pytest.raises(Forbidden):
        callers.caller_history(session, phone=PHONE, actor=actor(session, "t_ronggui"))
