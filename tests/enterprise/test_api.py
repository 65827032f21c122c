"""POST /api/v1/enterprise/match and the admin CRUD under /api/v1/enterprise/."""

import json
from datetime import timedelta

from sqlalchemy import select

from baishitong.enterprise import service
from baishitong.notify.models import Message
from tests.enterprise.factories import BEIJIAO, make_policy

PROFILE = {"industry": "manufacturing", "size": "small", "town": BEIJIAO, "year_established": 2018}
POLICY = {"title": "专精特新培育奖励", "unit": "GXJ", "summary": "奖励新认定的专精特新企业。", "benefit": "最高奖励100万元", "tags": ["specialised"], "status": "published"}


def test_match_returns_reasons_full_matches_first(client, session):
    soon = service.today() + timedelta(days=3)
    make_policy(session, title="差一项", tags=["high_tech"])
    make_policy(session, title="完全符合", industries=["manufacturing"], apply_to=soon)
    response = client.post("/api/v1/enterprise/match", json={**PROFILE, "credit_code": "91350100M000100Y43"})
    assert response.status_code == 200
    first, second = response.json()["policies"]
    assert (first["title"], first["full"], first["reason"], first["closing_soon"], first["days_left"]) == ("完全符合", True, "符合：制造业", True, 3)
    assert first["url"] == f"/enterprise/policies/{first['id']}" and first["issuer"] == "顺德区工业和信息化局"
    assert (second["full"], second["missing"]) == (False, ["需具备高新技术企业资质"])


def test_bad_profiles_get_422_with_a_chinese_message(client):
    response = client.post("/api/v1/enterprise/match", json={**PROFILE, "industry": "mining", "credit_code": "91350100M000100Y44"})
    assert response.status_code == 422
    message = response.json()["error"]["message"]
    assert "请选择所属行业" in message and "统一社会信用代码校验位不正确" in message
    response = client.post("/api/v1/enterprise/match", json={**PROFILE, "town": "440606999"})
    assert response.status_code == 422 and response.json()["error"] == {"code": "town_not_found", "message": "请选择企业所在镇街"}



def test_a_code_holding_a_lone_surrogate_is_refused_not_a_server_error(client, login):
    """JSON may spell half a UTF-16 pair ("\\ud800"); the refusal names the code escaped instead of failing with a 500."""
    json_body = {"content-type": "application/json"}
    response = client.post("/api/v1/enterprise/match", content=json.dumps({**PROFILE, "tags": ["x\ud800"]}), headers=json_body)
    assert response.status_code == 422 and "x\\ud800" in response.json()["error"]["message"]
    policy = client.post("/api/v1/enterprise/policies", content=json.dumps({**POLICY, "sizes": ["\udc00"]}), headers={**login("t_admin"), **json_body})
    assert policy.status_code == 422 and "企业规模" in policy.json()["error"]["message"]


def test_a_retried_create_with_the_same_idempotency_key_makes_one_policy(client, login):
    admin = {**login("t_admin"), "Idempotency-Key": "policy-1"}
    first = client.post("/api/v1/enterprise/policies", json=POLICY, headers=admin)
    again = client.post("/api/v1/enterprise/policies", json=POLICY, headers=admin)
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert len(client.get("/api/v1/enterprise/policies").json()) == 1


def test_admin_creates_updates_and_retires_a_policy(client, login):
    admin = login("t_admin")
    created = client.post("/api/v1/enterprise/policies", json=POLICY, headers=admin)
    assert created.status_code == 201, created.text
    policy = created.json()
    assert policy["unit_name"] == "顺德区工业和信息化局" and policy["tags"] == ["specialised"]
    assert [p["id"] for p in client.get("/api/v1/enterprise/policies").json()] == [policy["id"]]

    updated = client.put(f"/api/v1/enterprise/policies/{policy['id']}", json={**POLICY, "benefit": "最高奖励50万元", "status": "draft"}, headers=admin)
    assert updated.status_code == 200 and updated.json()["benefit"] == "最高奖励50万元"
    assert client.get("/api/v1/enterprise/policies").json() == []
    assert client.get(f"/api/v1/enterprise/policies/{policy['id']}").status_code == 404
    assert client.get(f"/api/v1/enterprise/policies/{policy['id']}", headers=admin).json()["status"] == "draft"

    retired = client.post(f"/api/v1/enterprise/policies/{policy['id']}/retire", headers=admin)
    assert retired.json()["status"] == "retired"
    assert [p["status"] for p in client.get("/api/v1/enterprise/policies?status=retired", headers=admin).json()] == ["retired"]


def test_admin_keeps_financing_products(client, login):
    admin = login("t_admin")
    body = {"institution": "建设银行顺德分行", "name": "小微快贷", "amount_min": 1, "amount_max": 300, "rate": "年化3.6%起", "term": "1年", "contact": "0757-22300003", "sizes": ["micro", "small"], "status": "published"}
    created = client.post("/api/v1/enterprise/products", json=body, headers=admin)
    assert created.status_code == 201 and created.json()["amount"] == "1万至300万元"
    match = client.post("/api/v1/enterprise/match", json=PROFILE).json()
    assert [(p["title"], p["reason"], p["benefit"]) for p in match["products"]] == [("小微快贷", "符合：小型企业", "1万至300万元")]
    product_id = created.json()["id"]
    assert client.post(f"/api/v1/enterprise/products/{product_id}/retire", headers=admin).json()["status"] == "retired"
    assert client.get("/api/v1/enterprise/products").json() == []


def test_non_admins_get_403_and_anonymous_callers_401(client, login):
    for username in ("t_operator", "t_ronggui_admin", "t_supervisor"):
        response = client.post("/api/v1/enterprise/policies", json=POLICY, headers=login(username))
        assert response.status_code == 403 and response.json()["error"]["code"] == "enterprise_forbidden"
    assert client.post("/api/v1/enterprise/policies", json=POLICY).status_code == 401


def test_bad_policies_get_422_with_chinese_messages(client, login):
    admin = login("t_admin")
    response = client.post("/api/v1/enterprise/policies", json={**POLICY, "title": " ", "industries": ["mining"], "apply_from": "2026-12-10", "apply_to": "2026-12-01"}, headers=admin)
    assert response.status_code == 422
    message = response.json()["error"]["message"]
    assert "请填写政策标题" in message and "行业“mining”无效" in message
    response = client.post("/api/v1/enterprise/policies", json={**POLICY, "apply_from": "2026-12-10", "apply_to": "2026-12-01"}, headers=admin)
    assert response.status_code == 422 and "申报截止日期不能早于开始日期" in response.json()["error"]["message"]
    response = client.post("/api/v1/enterprise/policies", json={**POLICY, "unit": "NOPE"}, headers=admin)
    assert response.status_code == 422 and response.json()["error"]["message"] == "单位 NOPE 不存在"


def test_subscribing_through_the_api_texts_a_confirmation_once(client, session):
    body = {**PROFILE, "phone": "13700137000"}
    first = client.post("/api/v1/enterprise/subscriptions", json=body)
    assert first.status_code == 202 and first.json() == {"status": "pending", "phone": "137****7000", "confirmation_sent": True}
    again = client.post("/api/v1/enterprise/subscriptions", json=body)
    assert again.status_code == 202 and again.json()["confirmation_sent"] is False
    assert len(session.scalars(select(Message.id).where(Message.recipient == "13700137000")).all()) == 1
    refused = client.post("/api/v1/enterprise/subscriptions", json={**PROFILE, "phone": "12345"})
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "invalid_mobile" and "12345" not in refused.text


def test_an_edit_made_on_a_stale_version_is_refused(client, login):
    admin = login("t_admin")
    policy = client.post("/api/v1/enterprise/policies", json=POLICY, headers=admin).json()
    first = client.put(f"/api/v1/enterprise/policies/{policy['id']}", json={**POLICY, "benefit": "最高奖励50万元", "version": policy["version"]}, headers=admin)
    assert first.status_code == 200 and first.json()["version"] == policy["version"] + 1
    stale = client.put(f"/api/v1/enterprise/policies/{policy['id']}", json={**POLICY, "summary": "另一位管理员的修改", "version": policy["version"]}, headers=admin)
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "version_conflict"
    assert client.get(f"/api/v1/enterprise/policies/{policy['id']}", headers=admin).json()["benefit"] == "最高奖励50万元"


def test_a_flood_of_unknown_codes_is_refused_in_a_few_words_not_echoed_whole(client):
    """100,000 unknown tags (or one a megabyte long) were all echoed back, twice, in a refusal of megabytes."""
    many = client.post("/api/v1/enterprise/match", json={**PROFILE, "tags": [f"t{i}" for i in range(100_000)]})
    assert many.status_code == 422 and len(many.content) < 10_000
    assert "企业资质“t0、t1、t2、t3、t4” 等 100000 项无效" in many.json()["error"]["message"]
    long = client.post("/api/v1/enterprise/match", json={**PROFILE, "tags": ["x" * 1_000_000]})
    assert long.status_code == 422 and len(long.content) < 10_000 and "x" * 32 + "…" in long.json()["error"]["message"]
