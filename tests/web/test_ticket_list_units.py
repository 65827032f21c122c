"""工单查询's 承办单位 lists the units no longer in use (停用) under 已停用, still selectable, so a retired unit's old
orders can be found by it; dispatch offers only the units in use."""

import re

from sqlalchemy import select

from baishitong.org.models import Unit
from tests.tickets.factories import make_ticket
from tests.web.test_pages import login


def _unit_select(page: str) -> str:
    return re.search(r'<select name="unit".*?</select>', page, re.S).group(0)


def test_a_retired_units_old_orders_are_found_under_its_name_in_the_retired_group(web, session):
    ticket = make_ticket(session, state="signed", lead="daliang")
    other = make_ticket(session, state="signed")
    unit = session.scalar(select(Unit).where(Unit.code == "daliang"))
    unit.active = False
    session.commit()

    login(web, "t_supervisor")
    units = _unit_select(web.get("/staff/tickets").text)
    retired = re.search(r'<optgroup label="已停用">(.*?)</optgroup>', units, re.S).group(1)
    assert f'<option value="daliang">{unit.name}</option>' in retired
    assert units.count('value="daliang"') == 1, "listed once, under 已停用 only"
    assert 'value="ronggui"' in units and 'value="ronggui"' not in retired

    found = web.get("/staff/tickets?unit=daliang").text
    assert '<option value="daliang" selected>' in _unit_select(found)
    listed = re.findall(r'<tr data-ticket="([^"]+)"', found)
    assert ticket.number in listed and other.number not in listed

    # Dispatch still offers only the units in use.
    login(web, "t_operator")
    dispatch = web.get(f"/staff/tickets/{make_ticket(session).number}").text
    assert 'value="ronggui"' in dispatch and 'value="daliang"' not in dispatch


def test_without_a_retired_unit_there_is_no_empty_group(web, session):
    login(web, "t_supervisor")
    assert "已停用" not in _unit_select(web.get("/staff/tickets").text)
