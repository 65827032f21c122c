"""The REST API as an integrator and the public see it."""

from tests.conftest import TEST_PASSWORD
from tests.tickets.factories import PHONE

INTAKE = {
    "type": "投诉",
    "content": "大良街道鉴海北路18号附近餐馆油烟直排，严重影响居民生活，多次反映无果。",
    "address": "大良街道鉴海北路18号",
    "requester": {"name": "梁女士", "phone": "139 1234 5678"},
}


def test_public_intake_returns_201_with_number_and_masked_phone(client):
    response = client.post("/api/v1/tickets", json=INTAKE)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["number"].startswith("SD") and len(body["number"]) == 14
    assert body["status"] == "registered"
    assert body["requester"]["phone"] == "139****5678"


def test_same_idempotency_key_and_body_returns_the_same_ticket(client):
    headers = {"Idempotency-Key": "abc-123"}
    first = client.post("/api/v1/tickets", json=INTAKE, headers=headers)
    second = client.post("/api/v1/tickets", json=INTAKE, headers=headers)
    assert first.status_code == 201 and second.status_code == 200
    assert first.json()["number"] == second.json()["number"]


def test_same_idempotency_key_with_different_body_is_409(client):
    headers = {"Idempotency-Key": "abc-456"}
    assert client.post("/api/v1/tickets", json=INTAKE, headers=headers).status_code == 201
    changed = {**INTAKE, "content": INTAKE["content"] + "（补充：晚上更严重）"}
    response = client.post("/api/v1/tickets", json=changed, headers=headers)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "idempotency_key_reused"


def test_bad_intake_gets_chinese_json_error_not_500(client):
    for body in [
        {**INTAKE, "type": "吐槽"},
        {**INTAKE, "requester": {"phone": "12345"}},
        {**INTAKE, "content": ""},
        {**INTAKE, "requester": {"phone": PHONE, "id_number": "440606199001011234"}},
        {"nonsense": True},
    ]:
        response = client.post("/api/v1/tickets", json=body)
        assert response.status_code == 422, body
        error = response.json()["error"]
        assert error["code"] == "invalid_request"
        assert "请求内容有误" in error["message"]
    response = client.post("/api/v1/tickets", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 422


def test_track_shows_requester_timeline_and_hides_existence_on_wrong_phone(client):
    number = client.post("/api/v1/tickets", json=INTAKE).json()["number"]
    ok = client.get("/api/v1/track", params={"number": number, "phone": "13912345678"})
    assert ok.status_code == 200
    assert ok.json()["timeline"][0]["text"].startswith("您的诉求已受理")
    spaced = client.get("/api/v1/track", params={"number": number.lower(), "phone": "+86 139-1234-5678"})
    assert spaced.status_code == 200
    wrong = client.get("/api/v1/track", params={"number": number, "phone": "13900000000"})
    missing = client.get("/api/v1/track", params={"number": "SD209901010001", "phone": "13912345678"})
    assert wrong.status_code == missing.status_code == 404
    assert wrong.json() == missing.json()


def test_track_takes_the_phone_in_the_body_as_well_as_the_query(client):
    number = client.post("/api/v1/tickets", json=INTAKE).json()["number"]
    by_body = client.post("/api/v1/track", json={"number": number.lower(), "phone": "+86 139-1234-5678"})
    assert by_body.status_code == 200 and by_body.json() == client.get("/api/v1/track", params={"number": number, "phone": "13912345678"}).json()
    wrong = client.post("/api/v1/track", json={"number": number, "phone": "13900000000"})
    assert wrong.status_code == 404 and wrong.json()["error"]["code"] == "ticket_not_found"
    assert client.app.openapi()["paths"]["/api/v1/track"]["get"]["deprecated"] is True


def test_login_and_bearer_token(client, login):
    assert client.get("/api/v1/tickets").status_code == 401
    bad = client.post("/api/v1/auth/token", json={"username": "t_operator", "password": "wrong-password"})
    assert bad.status_code == 401 and bad.json()["error"]["message"] == "用户名或密码错误"
    assert client.get("/api/v1/tickets", headers=login("t_operator")).status_code == 200


def test_units_are_listed_by_code_with_kind_and_parent(client):
    units = {u["code"]: u for u in client.get("/api/v1/units").json()}
    assert units["ronggui"]["kind"] == "town"
    assert units["440606006023"]["parent"] == "ronggui"
    assert units["SJJ"]["kind"] == "department"
    assert {u["kind"] for u in units.values()} >= {"centre", "department", "town", "community", "utility"}
    assert sum(1 for u in units.values() if u["kind"] == "community") == 206
    assert sum(1 for u in units.values() if u["kind"] == "town") == 10


def test_full_life_through_the_api(client, login):
    operator, handler, supervisor = login("t_operator"), login("t_ronggui"), login("t_supervisor")
    number = client.post("/api/v1/tickets", json=INTAKE).json()["number"]

    def act(action, who, **body):
        version = client.get(f"/api/v1/tickets/{number}", headers=operator).json()["version"]
        return client.post(f"/api/v1/tickets/{number}/actions/{action}", json={"version": version, **body}, headers=who)

    assert act("dispatch", operator, lead_unit="ronggui", co_units=["SJJ"]).status_code == 200
    assert act("sign", handler).status_code == 200
    assert act("reply", handler, content="经现场核查，已责令餐馆加装油烟净化设施。").json()["status"] == "replied"
    track = client.get("/api/v1/track", params={"number": number, "phone": "13912345678"}).json()
    assert track["callback_due"] is True and "油烟净化" in track["reply"]
    rated = client.post("/api/v1/track/callback", json={"number": number, "phone": "13912345678", "solved": True, "satisfaction": "满意"})
    assert rated.status_code == 200 and rated.json()["status"] == "callback"
    assert act("close", operator).json()["status"] == "closed"
    detail = client.get(f"/api/v1/tickets/{number}", headers=supervisor).json()
    assert [e["action"] for e in detail["events"]] == ["register", "dispatch", "sign", "reply", "callback", "close"]
    assert detail["callback"]["satisfaction"] == "满意"


def test_stale_version_is_409_and_unknown_action_404(client, login):
    operator = login("t_operator")
    number = client.post("/api/v1/tickets", json=INTAKE).json()["number"]
    first = client.post(f"/api/v1/tickets/{number}/actions/dispatch", json={"version": 1, "lead_unit": "ronggui"}, headers=operator)
    assert first.status_code == 200
    stale = client.post(f"/api/v1/tickets/{number}/actions/dispatch", json={"version": 1, "lead_unit": "daliang"}, headers=operator)
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "version_conflict"
    assert client.post(f"/api/v1/tickets/{number}/actions/teleport", json={"version": 2}, headers=operator).status_code == 404
    missing_version = client.post(f"/api/v1/tickets/{number}/actions/dispatch", json={"lead_unit": "daliang"}, headers=operator)
    assert missing_version.status_code == 422 and missing_version.json()["error"]["code"] == "version_required"


def test_an_action_without_the_right_is_403_before_any_version_check(client, login):
    """Someone who may not act must not learn from a 409 that the order has moved on since the version they hold."""
    operator, handler, co_handler = login("t_operator"), login("t_ronggui"), login("t_daliang")
    number = client.post("/api/v1/tickets", json=INTAKE).json()["number"]
    dispatched = client.post(f"/api/v1/tickets/{number}/actions/dispatch", json={"version": 1, "lead_unit": "ronggui", "co_units": ["daliang"]}, headers=operator)
    assert dispatched.status_code == 200 and dispatched.json()["version"] == 2
    for who, action, fields, code in ((handler, "dispatch", {"lead_unit": "daliang"}, "role_not_allowed"), (co_handler, "sign", {}, "not_your_unit")):
        for body in ({"version": 1, **fields}, fields):
            refused = client.post(f"/api/v1/tickets/{number}/actions/{action}", json=body, headers=who)
            assert refused.status_code == 403 and refused.json()["error"]["code"] == code, refused.text
            assert "current_version" not in refused.text
    # Whoever may act still hears about the stale version.
    stale = client.post(f"/api/v1/tickets/{number}/actions/sign", json={"version": 1}, headers=handler)
    assert stale.status_code == 409 and stale.json()["error"]["details"]["current_version"] == 2


def test_handlers_see_only_their_units_tickets(client, login):
    operator = login("t_operator")
    number = client.post("/api/v1/tickets", json=INTAKE).json()["number"]
    client.post(f"/api/v1/tickets/{number}/actions/dispatch", json={"version": 1, "lead_unit": "ronggui"}, headers=operator)
    assert client.get(f"/api/v1/tickets/{number}", headers=login("t_ronggui")).status_code == 200
    assert client.get(f"/api/v1/tickets/{number}", headers=login("t_daliang")).status_code == 404
    listed = client.get("/api/v1/tickets", headers=login("t_daliang")).json()
    assert number not in [t["number"] for t in listed["items"]]
    refused = client.post(f"/api/v1/tickets/{number}/actions/sign", json={"version": 2}, headers=login("t_daliang"))
    assert refused.status_code == 404


def test_reveal_is_audited_and_confidential_hides_identity_from_units(client, login):
    operator, handler = login("t_operator"), login("t_ronggui")
    secret = client.post("/api/v1/tickets", json={**INTAKE, "confidential": True}).json()["number"]
    client.post(f"/api/v1/tickets/{secret}/actions/dispatch", json={"version": 1, "lead_unit": "ronggui"}, headers=operator)
    seen = client.get(f"/api/v1/tickets/{secret}", headers=handler).json()["requester"]
    assert seen["hidden"] is True and seen["phone"] is None and seen["name"] == "保密"
    assert client.post(f"/api/v1/tickets/{secret}/requester", json={}, headers=handler).status_code == 403

    revealed = client.post(f"/api/v1/tickets/{secret}/requester", json={"purpose": "回访"}, headers=operator)
    assert revealed.status_code == 200 and revealed.json()["phone"] == "13912345678"
    views = client.get(f"/api/v1/tickets/{secret}/personal-data-views", headers=operator).json()
    assert [(v["actor"], v["purpose"]) for v in views] == [("t_operator", "回访")]


def test_intake_is_rate_limited_per_client(client, app):
    app.state.settings.intake_rate_limit_per_minute = 3
    statuses = [client.post("/api/v1/tickets", json={**INTAKE, "address": f"大良街道鉴海北路{n}号"}).status_code for n in range(5)]
    assert statuses == [201, 201, 201, 429, 429]
    limited = client.post("/api/v1/tickets", json=INTAKE)
    assert limited.json()["error"]["code"] == "rate_limited" and "频繁" in limited.json()["error"]["message"]


def test_disabled_user_token_stops_working(client, login, session):
    from baishitong.org import service as org

    headers = login("t_daliang")
    assert client.get("/api/v1/tickets", headers=headers).status_code == 200
    org.disable_user(session, username="t_daliang")
    assert client.get("/api/v1/tickets", headers=headers).status_code == 401


def test_api_token_for_integrations(client, session):
    from baishitong.org import service as org

    token = org.create_api_token(session, username="t_operator", name="partner")
    assert token.startswith("bst_")
    assert client.get("/api/v1/tickets", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert client.get("/api/v1/tickets", headers={"Authorization": "Bearer bst_forged"}).status_code == 401


def test_request_taken_at_a_doorstep_point_records_the_point(client, session):
    from baishitong.points import service as points

    points.load_demo(session)
    code = points.list_points(session)[0].code
    created = client.post("/api/v1/tickets", json={**INTAKE, "point_code": code, "channel": "web"})
    assert created.status_code == 201 and created.json()["channel"] == "doorstep"
    unknown = client.post("/api/v1/tickets", json={**INTAKE, "point_code": "NO-SUCH-POINT"})
    assert unknown.status_code == 404 and unknown.json()["error"]["message"]


def test_staff_tokens_are_not_limited_as_anonymous_callers_and_intake_is_theirs(client, app, login):
    app.state.settings.intake_rate_limit_per_minute = 2
    headers = login("t_operator")
    responses = [client.post("/api/v1/tickets", json=INTAKE, headers=headers) for _ in range(4)]
    assert [r.status_code for r in responses] == [201] * 4
    detail = client.get(f"/api/v1/tickets/{responses[0].json()['number']}", headers=headers).json()
    assert detail["events"][0]["actor"] == "t_operator"


def test_login_attempts_are_limited_per_account_not_per_address(client, app):
    app.state.settings.login_attempts_per_minute = 3
    wrong = [client.post("/api/v1/auth/token", json={"username": "t_daliang", "password": "nope-nope"}).status_code for _ in range(4)]
    assert wrong == [401, 401, 401, 429]
    other = client.post("/api/v1/auth/token", json={"username": "t_sjj", "password": TEST_PASSWORD})
    assert other.status_code == 200


def test_invalid_utf8_and_lone_surrogates_get_a_json_error_not_500(client, login):
    broken = '{"version": "x", "\\ud800": "\\udfff"}'.encode()
    raw = b'{"content": "\xed\xa0\x80\xff"}'
    for path in ("/api/v1/tickets", "/api/v1/tickets/SD000000000000/actions/reply"):
        for body in (broken, raw):
            response = client.post(path, content=body, headers={"content-type": "application/json", **login("t_operator")})
            assert response.status_code in (400, 404, 422), (path, body, response.text)
            assert response.json()["error"]["message"]


def test_an_anonymous_request_cannot_claim_what_staff_decide(client):
    base = {"type": "投诉", "content": "路灯不亮好几天了", "requester": {"phone": "13800138000"}}
    for extra, code in (({"channel": "hotline"}, "channel_not_allowed"), ({"urgency": "urgent"}, "urgency_not_allowed"), ({"category_code": "0101"}, "classification_not_allowed")):
        refused = client.post("/api/v1/tickets", json=base | extra)
        assert refused.status_code == 422 and refused.json()["error"]["code"] == code
    assert client.post("/api/v1/tickets", json=base | {"channel": "wechat"}).status_code == 201


def test_an_unknown_list_filter_is_refused_naming_the_allowed_values(client, session, login):
    from tests.tickets.factories import make_ticket

    make_ticket(session, state="signed")
    headers = login("t_operator")
    for params, named in [
        ({"status": "bogus"}, "registered（已受理）"),
        ({"status": ["signed", "bogus"]}, "signed（办理中）"),
        ({"type": "吐槽"}, "咨询、求助、投诉"),
        ({"channel": "fax"}, "hotline（12345热线）"),
    ]:
        response = client.get("/api/v1/tickets", params=params, headers=headers)
        assert response.status_code == 422, params
        error = response.json()["error"]
        assert error["code"] == "invalid_filter" and named in error["message"] and "无效" in error["message"]
    assert client.get("/api/v1/tickets", params={"status": "signed", "type": "投诉", "channel": "hotline"}, headers=headers).status_code == 200


def test_a_number_typed_in_lower_case_finds_the_order(client, login, session):
    from tests.tickets.factories import make_ticket

    ticket = make_ticket(session, state="signed")
    session.flush()
    operator = login("t_operator")
    typed = f" {ticket.number.lower()} "
    found = client.get(f"/api/v1/tickets/{typed}", headers=operator)
    assert found.status_code == 200 and found.json()["number"] == ticket.number
    listed = client.get("/api/v1/tickets", params={"q": typed}, headers=operator).json()
    assert [t["number"] for t in listed["items"]] == [ticket.number]
    noted = client.post(f"/api/v1/tickets/{ticket.number.lower()}/actions/note", json={"version": ticket.version, "note": "已电话告知诉求人办理进度"}, headers=operator)
    assert noted.status_code == 200


def test_an_automatic_title_cut_short_says_so(client):
    long_sentence = "容桂街道高黎社区桂洲大道东路段的工地每天晚上十一点以后还在施工，噪音很大，影响居民休息"
    made = client.post("/api/v1/tickets", json={**INTAKE, "content": long_sentence + "。请尽快处理。"}).json()
    assert made["title"] == long_sentence[:39] + "…" and len(made["title"]) == 40
    short = client.post("/api/v1/tickets", json={**INTAKE, "content": "高黎社区路灯不亮。已经一周了。"}).json()
    assert short["title"] == "高黎社区路灯不亮"
