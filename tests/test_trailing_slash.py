"""An address with a trailing slash the routes do not declare: the API answers it, a page redirects relatively.

Starlette's redirect went to an absolute http:// URL, which behind the HTTPS proxy a client refuses or follows
in the clear."""

from fastapi.testclient import TestClient

from tests.conftest import TEST_PASSWORD


def test_the_api_answers_an_address_with_a_trailing_slash_without_a_redirect(client, login):
    headers = login("t_operator")
    plain, slashed = client.get("/api/v1/units", headers=headers), client.get("/api/v1/units/", headers=headers, follow_redirects=False)
    assert slashed.status_code == 200 and slashed.json() == plain.json()
    # A POST keeps its body and its answer: a client that follows no redirect still signs in.
    token = client.post("/api/v1/auth/token/", json={"username": "t_operator", "password": TEST_PASSWORD}, follow_redirects=False)
    assert token.status_code == 200 and token.json()["access_token"]
    services = client.get("/open311/v2/services.json/", follow_redirects=False)
    assert services.status_code == 200 and services.json() == client.get("/open311/v2/services.json").json()
    missing = client.get("/api/v1/no-such-thing/", headers=headers, follow_redirects=False)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_a_page_with_a_trailing_slash_redirects_to_a_relative_address_that_keeps_the_scheme(app):
    with TestClient(app, base_url="https://12345.example.gov.cn") as browser:
        response = browser.get("/track/?from=sms", follow_redirects=False)
        assert response.status_code == 307 and response.headers["location"] == "/track?from=sms"
        followed = browser.get("/track/")
        assert followed.status_code == 200 and str(followed.url) == "https://12345.example.gov.cn/track"
    assert TestClient(app).get("/no-such-page/", follow_redirects=False).status_code == 404


def test_behind_a_path_prefix_the_address_is_matched_below_it(app):
    """Served under a prefix (`--root-path /rexian`, the proxy forwarding /rexian/...), the routes match the path
    below it: the toggled address is found, and a page's redirect stays relative."""
    with TestClient(app, root_path="/rexian") as browser:
        response = browser.get("/rexian/track/?from=sms", follow_redirects=False)
        assert response.status_code == 307 and response.headers["location"] == "/rexian/track?from=sms"
        assert browser.get("/rexian/no-such-page/", follow_redirects=False).status_code == 404
        services = browser.get("/rexian/open311/v2/services.json/", follow_redirects=False)
        assert services.status_code == 200 and services.json() == browser.get("/rexian/open311/v2/services.json").json()
