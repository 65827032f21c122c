"""HEAD, as monitoring tools and link checkers send it, is answered as GET is, without the body."""

from sqlalchemy import func, select

from baishitong.audit.models import AuditEntry
from tests.web.test_pages import login as sign_in


def test_head_answers_pages_and_the_api_as_get_does_without_a_body(client, login):
    for path, headers in (("/healthz", {}), ("/", {}), ("/api/v1/units", login("t_operator")), ("/open311/v2/services.json", {})):
        got, head = client.get(path, headers=headers), client.head(path, headers=headers)
        assert got.status_code == head.status_code == 200, (path, head.status_code)
        assert head.content == b"" and got.content
        assert head.headers["content-type"] == got.headers["content-type"]
        assert head.headers["content-length"] == got.headers["content-length"]


def test_head_is_signed_in_and_checked_as_get_is(client, web):
    refused = client.head("/api/v1/tickets")
    assert refused.status_code == 401 and refused.content == b""
    page = web.head("/staff/tickets", follow_redirects=False)
    assert page.status_code == web.get("/staff/tickets", follow_redirects=False).status_code
    assert page.headers["location"].startswith("/staff/login")


def test_head_on_a_route_that_takes_no_get_stays_405(client):
    refused = client.head("/api/v1/auth/token")
    assert refused.status_code == 405 and "POST" in refused.headers["allow"]


def test_an_audited_download_asked_for_with_head_is_audited_once(web, session):
    sign_in(web, "t_supervisor")
    exports = select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "tickets.export")
    response = web.head("/staff/exports/tickets.csv")
    assert response.status_code == 200 and response.content == b""
    assert session.scalar(exports) == 1
