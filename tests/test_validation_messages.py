"""Bad input to the API is explained in Chinese, field by field, never in pydantic's English."""

import re

import pytest

ENGLISH = re.compile(r"[A-Za-z]{4,}")


def message(response) -> str:
    assert response.status_code in (400, 422), response.text
    text = response.json()["error"]["message"]
    # Field names are identifiers; the explanation after each colon must be Chinese.
    for part in text.removeprefix("请求内容有误：").split("；"):
        assert not ENGLISH.search(part.split("：", 1)[-1].replace("JSON", "")), text
    return text


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "expected"),
    [
        ("post", "/api/v1/tickets", {"json": {}}, "type：必填"),
        ("post", "/api/v1/tickets", {"content": b"not json", "headers": {"content-type": "application/json"}}, "请求内容有误：请求体不是合法的 JSON"),
        ("post", "/api/v1/tickets", {"json": {"type": "咨询", "content": "     ", "requester": {"phone": "13800138000"}}}, "至少 5 个字"),
        # Invisible: zero-width spaces, right-to-left overrides, a BOM and a word joiner are no content either.
        ("post", "/api/v1/tickets", {"json": {"type": "咨询", "content": "\u200b" * 6, "requester": {"phone": "13800138000"}}}, "content：至少 5 个字"),
        ("post", "/api/v1/tickets", {"json": {"type": "咨询", "content": "\u202e\u200f\ufeff\u2060\u200b\u202e路", "requester": {"phone": "13800138000"}}}, "content：至少 5 个字"),
        ("post", "/api/v1/tickets", {"json": {"type": "闲聊", "content": "路灯不亮了好几天", "requester": {"phone": "13800138000"}}}, "type：只能是 '咨询'、"),
        ("get", "/api/v1/points/nearest", {"params": {"lat": "abc", "lon": "113.2"}}, "lat：应为数字"),
        ("post", "/api/v1/auth/token", {"json": {"username": "admin"}}, "password：必填"),
    ],
)
def test_bad_input_is_explained_in_chinese(client, method, path, kwargs, expected):
    assert expected in message(getattr(client, method)(path, **kwargs))


@pytest.mark.parametrize(
    ("action", "body", "expected"),
    [
        ("dispatch", {"lead_unit": "U" * 1_000_000}, "lead_unit：最多 32 个字"),
        ("dispatch", {"lead_unit": "ronggui", "co_units": ["C" * 1_000_000]}, "co_units.0：最多 32 个字"),
        ("merge", {"into": "M" * 1_000_000}, "into：最多 20 个字"),
        ("subdispatch", {"unit": "U" * 1_000_000}, "unit：最多 32 个字"),
    ],
)
def test_a_unit_code_or_order_number_of_a_megabyte_is_refused_not_looked_up_and_echoed(client, login, action, body, expected):
    """These had no length limit: the code was looked up and the 404 saying it did not exist echoed all of it."""
    headers = login("t_operator")
    number = client.post("/api/v1/tickets", json={"type": "咨询", "content": "路灯不亮好几天了", "requester": {"phone": "13800138000"}}, headers=headers).json()["number"]
    response = client.post(f"/api/v1/tickets/{number}/actions/{action}", json={"version": 1, **body}, headers=headers)
    assert expected in message(response) and len(response.content) < 10_000


@pytest.mark.parametrize(
    ("method", "path", "body", "expected"),
    [
        ("put", "/api/v1/units/NEWUNIT", {"name": "新单位", "kind": "department", "parent": "U" * 1_000_000}, "parent：最多 32 个字"),
        ("put", "/api/v1/categories/9901", {"code": "9901", "name": "新分类", "parent": "9" * 1_000_000}, "parent：最多 16 个字"),
        ("post", "/api/v1/users", {"username": "newbie", "password": "demo12345678", "role": "handler", "unit": "U" * 1_000_000}, "unit：最多 32 个字"),
        ("patch", "/api/v1/users/t_operator", {"unit": "U" * 1_000_000}, "unit：最多 32 个字"),
    ],
)
def test_an_org_code_of_a_megabyte_is_refused_not_looked_up_and_echoed(client, login, method, path, body, expected):
    response = getattr(client, method)(path, json=body, headers=login("t_admin"))
    assert expected in message(response) and len(response.content) < 10_000
