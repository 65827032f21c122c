"""What a careless 311 client posts as JSON — a number thousands of digits long, arrays nested thousands
deep, a media type in capitals — is answered in the spec's error format, or read, never a 500."""

import json

import pytest
from sqlalchemy import func, select

from baishitong.tickets.models import Ticket
from tests.open311.test_open311 import BASE, FORM, _assert_open311_error, _mounted, api_key  # noqa: F401 (fixtures)

JSON = {"content-type": "application/json"}


@pytest.mark.parametrize(
    "body",
    [
        '{"service_code": "010101", "lat": ' + "9" * 5000 + ', "long": 113.2}',
        "[" * 100_000 + "]" * 100_000,
        '{"attribute": ' + '{"a": ' * 5000 + "1" + "}" * 5001,
    ],
    ids=["huge-number", "deep-array", "deep-object"],
)
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_json_the_parser_gives_up_on_is_a_400_not_a_500(client, session, api_key, body, fmt):
    before = session.scalar(select(func.count()).select_from(Ticket))
    response = client.post(f"{BASE}/requests.{fmt}", content=body.encode(), headers={**JSON, "X-Api-Key": api_key})
    assert response.status_code == 400, response.text
    assert "JSON" in response.text and "请求体" in response.text
    assert response.headers["content-type"].startswith("application/json" if fmt == "json" else "text/xml")
    assert session.scalar(select(func.count()).select_from(Ticket)) == before


def test_a_json_media_type_in_capitals_is_read_as_json(client, api_key):
    body = json.dumps({**FORM, "api_key": api_key}, ensure_ascii=False).encode()
    response = client.post(f"{BASE}/requests.json", content=body, headers={"content-type": "Application/JSON; charset=UTF-8"})
    assert response.status_code == 201, response.text
    assert response.json()[0]["service_request_id"].startswith("SD")


@pytest.mark.parametrize("description", ["\u200b" * 6, "\u202e\u200f\ufeff\u2060\u200b路"])
def test_a_description_of_invisible_characters_is_refused_as_too_short(client, session, api_key, description):
    before = session.scalar(select(func.count()).select_from(Ticket))
    response = client.post(f"{BASE}/requests.json", data={**FORM, "api_key": api_key, "description": description})
    assert "description 为诉求内容，须为 5 至 5000 字" in _assert_open311_error(response, 400)
    assert session.scalar(select(func.count()).select_from(Ticket)) == before
