"""GET /api/v1/reply-phrases: what an integration may insert on behalf of the token's user."""

from baishitong.phrases import service as phrases
from tests.conftest import actor


def test_integrators_list_the_phrases_of_the_tokens_user(client, login, session):
    admin = actor(session, "t_admin")
    phrases.create(session, actor=admin, title="结束语", body="感谢您对我区工作的支持。", unit_code=None)
    phrases.create(session, actor=admin, title="路灯已修复", body="路灯恢复照明。", unit_code="ronggui")
    response = client.get("/api/v1/reply-phrases", headers=login("t_ronggui"))
    assert response.status_code == 200
    assert [(p["title"], p["unit"]) for p in response.json()] == [("路灯已修复", "ronggui"), ("结束语", None)]
    assert [p["title"] for p in client.get("/api/v1/reply-phrases", headers=login("t_daliang")).json()] == ["结束语"]
    assert client.get("/api/v1/reply-phrases").status_code == 401
