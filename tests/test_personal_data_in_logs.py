"""A citizen's mobile and ID number never reach the server's output: not the access log's request lines
(`?phone=` of the deprecated track query and the phone system's screen pop), not an error's log line or
traceback, not a database error's text; and an error answer never repeats them."""

import logging

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from baishitong.tickets import service as tickets
from tests.server import Server

PHONE, ID_NUMBER = "13912345678", "440681199001015671"
MASKED_PHONE, MASKED_ID = "139****5678", "440681********5671"
INTAKE = {
    "type": "投诉",
    "content": f"容桂街道高黎社区路口的路灯坏了一个月，我的电话{PHONE}，身份证{ID_NUMBER}。",
    "requester": {"name": "周九", "phone": PHONE, "id_number": ID_NUMBER},
}


def test_a_running_servers_access_log_masks_the_phone_in_request_lines(own_database, tmp_path):
    printed = tmp_path / "server.log"
    with printed.open("w") as output:
        server = Server(own_database.url, tmp_path / "var", output=output).start()
        try:
            with httpx.Client(base_url=server.base, timeout=10) as http:
                number = http.post("/api/v1/tickets", json=INTAKE).json()["number"]
                assert http.get("/api/v1/track", params={"number": number, "phone": PHONE}).status_code == 200
                assert http.post("/api/v1/track", json={"number": number, "phone": PHONE}).status_code == 200
                assert http.get("/api/v1/track", params={"number": "X" * 30, "phone": PHONE}).status_code == 422
                http.get("/staff/console", params={"phone": PHONE})  # the phone system's screen pop
        finally:
            server.stop()
    log = printed.read_text()
    assert f'"GET /api/v1/track?number={number}&phone={MASKED_PHONE} HTTP/1.1" 200' in log
    assert f'"GET /staff/console?phone={MASKED_PHONE} HTTP/1.1"' in log
    assert PHONE not in log and ID_NUMBER not in log


def test_an_unexpected_errors_log_line_and_traceback_are_masked(app, session, monkeypatch, caplog):
    def failing_track(session, *, number, phone):
        raise RuntimeError(f"look-up failed for {number} / {phone} ({ID_NUMBER})")

    monkeypatch.setattr(tickets, "track", failing_track)
    with caplog.at_level(logging.ERROR), TestClient(app, raise_server_exceptions=False) as client:
        response = client.post("/api/v1/track", json={"number": "SD202612050001", "phone": PHONE})
    assert response.status_code == 500
    [record] = [r for r in caplog.records if r.name == "baishitong.app"]
    assert "RuntimeError: look-up failed for SD202612050001 / 139****5678 (440681********5671)" in record.exc_text
    assert PHONE not in caplog.text and ID_NUMBER not in caplog.text


def test_a_log_lines_arguments_are_masked_and_other_numbers_kept(app, caplog):
    with caplog.at_level(logging.INFO, logger="uvicorn.access"):
        logging.getLogger("uvicorn.access").info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", f"/staff/console?phone={PHONE}&n=20261205", "1.1", 200)
    [record] = caplog.records
    assert record.args == ("127.0.0.1:5000", "GET", f"/staff/console?phone={MASKED_PHONE}&n=20261205", "1.1", 200)


def test_keys_and_links_that_work_for_whoever_reads_them_are_masked_in_log_lines(app, caplog):
    """Open311 takes `api_key` in the query string, a policy alert SMS links to its subscription and a reply
    file's link opens it for 30 minutes: each request line printed them for anyone reading the log."""
    access = logging.getLogger("uvicorn.access")
    lines = [
        ("/open311/v2/requests.json?status=open&api_key=bst_AbC-123_xyz&page=2", "/open311/v2/requests.json?status=open&api_key=******&page=2"),
        ("/open311/v2/services.xml?API_KEY=bst_AbC-123_xyz", "/open311/v2/services.xml?API_KEY=******"),
        ("/enterprise/alerts/Tok_en-1234567890abcd?x=1", "/enterprise/alerts/******?x=1"),
        ("/track/files/eyJ0Ijo.x-Y_z", "/track/files/******"),
        ("/open311/v2/requests/SD202612050001.json", "/open311/v2/requests/SD202612050001.json"),
    ]
    with caplog.at_level(logging.INFO, logger="uvicorn.access"):
        for path, _ in lines:
            access.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", path, "1.1", 200)
        logging.getLogger("baishitong.test").warning("token bst_AbC-123_xyzABC refused")
    assert [r.args[2] for r in caplog.records[:-1]] == [masked for _, masked in lines]
    assert caplog.records[-1].getMessage() == "token bst_****** refused"


def test_a_database_errors_text_leaves_out_the_values_of_its_statement(database):
    with pytest.raises(DBAPIError) as failed, database.session() as session:
        session.execute(text("SELECT id FROM no_such_table WHERE phone = :phone AND id_number = :id"), {"phone": PHONE, "id": ID_NUMBER})
    assert "no_such_table" in str(failed.value)
    assert PHONE not in str(failed.value) and ID_NUMBER not in str(failed.value)


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("POST", "/api/v1/tickets", {**INTAKE, "requester": {"phone": PHONE + "0", "id_number": ID_NUMBER[:-1] + "2"}}),
        ("POST", "/api/v1/tickets", {**INTAKE, "requester": {"phone": PHONE, "id_number": ID_NUMBER}, "unknown": PHONE}),
        ("POST", "/api/v1/track", {"number": ID_NUMBER * 2, "phone": PHONE}),
        ("POST", "/api/v1/track/callback", {"number": "SD202612050001", "phone": PHONE, "solved": "perhaps", "satisfaction": ID_NUMBER}),
        ("POST", "/api/v1/enterprise/subscriptions", {"phone": PHONE, "industry": ID_NUMBER}),
        ("POST", "/api/v1/appointments/YY202612050001/cancel", {"phone": PHONE * 3}),
    ],
)
def test_a_refused_public_request_is_not_answered_with_the_numbers_it_carried(client, method, path, body):
    response = client.request(method, path, json=body)
    assert response.status_code == 422, response.text
    assert PHONE not in response.text and ID_NUMBER not in response.text and ID_NUMBER[:-1] not in response.text
