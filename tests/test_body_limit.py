"""No request body beyond BAISHITONG_REQUEST_MAX_BYTES is read: file routes that spool before checking who is
calling cannot be used to fill the server's disk."""

import pytest
from fastapi.testclient import TestClient

from baishitong.app import create_app
from baishitong.deps import get_db_session

LIMIT = 1024 * 1024


@pytest.fixture
def small(settings, database, session):
    application = create_app(settings.model_copy(update={"request_max_bytes": LIMIT}), database=database)

    def override():
        yield session

    application.dependency_overrides[get_db_session] = override
    with TestClient(application) as client:
        yield client


def _refused(response) -> None:
    assert response.status_code == 413, response.text
    error = response.json()["error"]
    assert error["code"] == "payload_too_large"
    assert "提交的内容过大（上限 1 MB）" in error["message"]


def test_an_anonymous_upload_over_the_ceiling_is_refused_before_anything_is_read(small):
    big = b"\xff\xd8" + b"0" * (2 * LIMIT)
    _refused(small.post("/api/v1/tickets/SD0000000001/reply/attachments", files=[("files", ("a.jpg", big, "image/jpeg"))]))


def test_a_chunked_open311_post_without_a_length_is_cut_off_at_the_ceiling_in_open311s_format(small):
    def chunks():
        for _ in range(40):
            yield b"description=" + b"a" * 64 * 1024 + b"&"

    response = small.post("/open311/v2/requests.json", content=chunks(), headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 413
    assert response.json() == [{"code": 413, "description": "提交的内容过大（上限 1 MB），请减少或压缩附件后重试"}]


def test_a_chunked_json_body_over_the_ceiling_is_refused_not_a_400(small):
    def chunks():
        yield b'{"username": "'
        for _ in range(20):
            yield b"a" * 64 * 1024
        yield b'", "password": "x"}'

    _refused(small.post("/api/v1/auth/token", content=chunks(), headers={"Content-Type": "application/json"}))


def test_requests_under_the_ceiling_are_served_as_before(small):
    response = small.post("/api/v1/auth/token", json={"username": "nobody", "password": "x" * 100})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_credentials"


def test_a_declared_length_over_the_ceiling_gets_open311s_format_too(small):
    response = small.post("/open311/v2/requests.xml", content=b"description=x", headers={"Content-Type": "application/x-www-form-urlencoded", "Content-Length": str(2 * LIMIT)})
    assert response.status_code == 413
    assert "提交的内容过大" in response.text and response.text.lstrip().startswith("<?xml")


def test_a_page_form_over_the_ceiling_is_an_error_page_in_chinese_leading_back_to_the_form(small):
    big = b"\xff\xd8" + b"0" * (2 * LIMIT)
    response = small.post("/submit", data={"content": "路灯不亮"}, files=[("photos", ("a.jpg", big, "image/jpeg"))], headers={"Referer": "http://testserver/submit"})
    assert response.status_code == 413
    assert "text/html" in response.headers["content-type"]
    assert "提交的内容过大（上限 1 MB），请减少或压缩附件后重试" in response.text
    assert 'href="/submit"' in response.text
