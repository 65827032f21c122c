"""A NUL character (\\u0000) in what an integration sends is refused in Chinese, on the API and on Open311 in
its own error format, and nothing is stored: PostgreSQL cannot hold or look one up (psycopg refused the
statement, a 500 on Open311), and SQLite kept it, so an order would differ by database."""

from xml.etree import ElementTree

import pytest
from sqlalchemy import func, select

from baishitong.tickets.models import Ticket
from tests.open311.test_open311 import _mounted, api_key  # noqa: F401 (fixtures)
from tests.open311.test_open311 import BASE, FORM

INTAKE = {"type": "咨询", "content": "小区门口路灯\x00不亮好几天了", "requester": {"name": "张三", "phone": "13800138000"}}


def _tickets(session) -> int:
    return session.scalar(select(func.count()).select_from(Ticket))


def _refused(response) -> None:
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "nul_character"
    assert "空字符" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    "body",
    [
        INTAKE,
        {**INTAKE, "content": "小区门口路灯不亮好几天了", "requester": {"name": "张\x00三", "phone": "13800138000"}},
        {**INTAKE, "content": "小区门口路灯不亮好几天了", "address": "容桂\x00大道"},
    ],
)
def test_an_intake_with_a_nul_character_is_refused_and_nothing_is_stored(client, session, body):
    before = _tickets(session)
    _refused(client.post("/api/v1/tickets", json=body, headers={"Idempotency-Key": "nul-1"}))
    assert _tickets(session) == before
    # The key was not spent on the refusal: the corrected request goes through with it.
    clean = {**INTAKE, "content": "小区门口路灯不亮好几天了"}
    assert client.post("/api/v1/tickets", json=clean, headers={"Idempotency-Key": "nul-1"}).status_code == 201


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("get", "/api/v1/tickets/SD%00", {}),
        ("get", "/api/v1/tickets?q=%00", {}),
        ("post", "/api/v1/track", {"json": {"number": "SD\x00", "phone": "13800138000"}}),
    ],
)
def test_a_look_up_with_a_nul_character_is_refused_not_answered_by_chance(client, login, method, path, kwargs):
    _refused(getattr(client, method)(path, headers=login("t_admin"), **kwargs))


def test_open311_refuses_a_nul_character_in_a_posted_request_as_a_400(client, session, api_key):  # noqa: F811
    before = _tickets(session)
    response = client.post(f"{BASE}/requests.json", data={**FORM, "api_key": api_key, "description": "路灯\x00连续三晚不亮"})
    assert response.status_code == 400, response.text
    assert response.json()[0]["code"] == 400 and "空字符" in response.json()[0]["description"]
    assert _tickets(session) == before


@pytest.mark.parametrize(
    "path",
    [f"{BASE}/requests/SD%00.xml", f"{BASE}/requests.xml?service_code=%00", f"{BASE}/tokens/%00.xml"],
)
def test_open311_reads_with_a_nul_character_are_a_400_in_xml(client, path):
    response = client.get(path)
    assert response.status_code == 400, response.text
    error = ElementTree.fromstring(response.content).find("error")
    assert error.findtext("code") == "400" and "空字符" in error.findtext("description")
