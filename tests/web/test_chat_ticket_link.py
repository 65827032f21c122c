"""来源会话: an order made from a 在线咨询 conversation links to its whole transcript, and the conversation to the order."""

import re

from alembic import command
from sqlalchemy import create_engine, inspect, text

from baishitong import migrate
from baishitong.tickets.models import Ticket
from tests.conftest import create_fresh_database, drop_fresh_database, insert_ticket_row
from tests.web.test_chat import _citizen
from tests.web.test_console_after import intake, ticket_of
from tests.web.test_pages import login, token

MATTER = "容桂桂洲大道中88号旁边的排水沟堵了，臭味很大，我电话13812345678"


def _submit(client, page: str, **overrides) -> str:
    """Sends the public form as shown (with its hidden fields) and returns the order number."""
    data = {"csrf_token": token(page), "type": "投诉", "content": MATTER, "town": "440606006", "address": "桂洲大道中88号", "phone": "13812345678", "consent": "1"}
    data |= dict(re.findall(r'<input type="hidden" name="(idempotency_key|source)" value="([^"]*)"', page)) | overrides
    done = client.post("/submit", data=data, follow_redirects=False)
    assert done.status_code == 303, done.text
    return done.headers["location"].split("?")[0].rsplit("/", 1)[-1]


def _ticket(session, number: str) -> Ticket:
    session.expire_all()
    return session.query(Ticket).filter_by(number=number).one()


def test_the_citizens_own_conversation_is_linked_when_they_turn_it_into_an_order(client, web, session):
    session_id = _citizen(client, MATTER)
    number = _submit(client, client.get("/submit?from=assistant").text)
    assert _ticket(session, number).assistant_session_id == session_id

    login(web, "t_operator")
    chat = web.get(f"/staff/chat/{session_id}").text
    assert re.search(rf'id="chat-orders">本会话已转为<a href="/staff/tickets/{number}">工单 {number}</a>', chat)


def test_a_form_not_filled_in_from_the_conversation_links_none_and_nobody_links_anothers(client, session):
    _citizen(client, MATTER)
    plain = client.get("/submit").text
    assert 'name="source"' not in plain
    assert _ticket(session, _submit(client, plain, content="另一件事：桂洲大道东路灯一周不亮")).assistant_session_id is None
    # A visitor without a conversation who claims to come from one: there is no conversation of theirs to link.
    client.cookies.clear()
    assert _ticket(session, _submit(client, client.get("/submit").text, source="assistant", phone="13800003999")).assistant_session_id is None


def test_the_operator_taking_it_at_the_console_links_the_order_shown_to_the_centre_not_the_unit(client, web, session):
    session_id = _citizen(client, MATTER)
    login(web, "t_operator")
    console = web.get(f"/staff/console?chat={session_id}").text
    assert f'<input type="hidden" name="chat" value="{session_id}">' in console
    intake(web, "13812345678", chat=session_id, after="dispatch", lead_unit="ronggui")
    ticket = ticket_of(session, "13812345678")
    assert ticket.assistant_session_id == session_id and ticket.lead_unit.code == "ronggui"

    order = web.get(f"/staff/tickets/{ticket.number}").text
    assert re.search(rf'<th scope="row">来源会话</th><td><a href="/staff/chat/{session_id}" id="source-chat">', order)
    assert f'href="/staff/tickets/{ticket.number}">工单 {ticket.number}</a>' in web.get(f"/staff/chat/{session_id}").text
    login(web, "t_supervisor")
    assert f'href="/staff/chat/{session_id}"' in web.get(f"/staff/tickets/{ticket.number}").text

    # The unit's handler may not open 在线咨询: the order page neither links to it nor gives its id away.
    login(web, "t_ronggui")
    assert web.get(f"/staff/chat/{session_id}").status_code == 403
    seen = web.get(f"/staff/tickets/{ticket.number}")
    assert seen.status_code == 200 and "来源会话" not in seen.text and session_id not in seen.text
    # Nor does the API tell anyone.
    assert session_id not in web.get(f"/api/v1/tickets/{ticket.number}").text


def test_a_console_opened_from_a_conversation_since_gone_still_registers_the_call(web, session):
    login(web, "t_operator")
    response = intake(web, "13800003998", chat="nosuchconversation", after="none")
    ticket = ticket_of(session, "13800003998")
    assert f"工单 {ticket.number} 已受理" in response.text and ticket.assistant_session_id is None


def test_the_migration_adds_the_link_and_takes_it_away_keeping_the_orders(tmp_path):
    url = create_fresh_database(tmp_path)
    engine = create_engine(url)
    config = migrate.alembic_config(url)
    try:
        command.upgrade(config, "heads")
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO assistant_sessions (id, status, created_at, updated_at) VALUES ('c1', 'open', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
            insert_ticket_row(conn, assistant_session_id="c1")
        assert "ix_tickets_assistant_session_id" in {i["name"] for i in inspect(engine).get_indexes("tickets")}
        assert [fk["referred_table"] for fk in inspect(engine).get_foreign_keys("tickets") if fk["constrained_columns"] == ["assistant_session_id"]] == ["assistant_sessions"]

        command.downgrade(config, "0036_unit_desk_indexes")
        assert "assistant_session_id" not in {c["name"] for c in inspect(engine).get_columns("tickets")}
        with engine.connect() as conn:
            assert conn.execute(text("SELECT number FROM tickets")).scalars().all() == ["SD1"]

        command.upgrade(config, "heads")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT assistant_session_id FROM tickets")).scalars().all() == [None]
    finally:
        engine.dispose()
        drop_fresh_database(url)
