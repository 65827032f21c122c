"""The OpenAPI document describes what an integrator's generated client will actually receive."""

import pytest

from baishitong.errors import ErrorOut
from baishitong.open311.schemas import ErrorItem

REF = "#/components/schemas/"
# The README's POSTs that create something and answer a retried Idempotency-Key with 200 and the first result.
CREATES = ["/api/v1/tickets", "/api/v1/kb/articles", "/api/v1/appointments", "/api/v1/enterprise/policies", "/api/v1/enterprise/products", "/open311/v2/requests.{fmt}"]


@pytest.fixture
def document(client) -> dict:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    return response.json()


def _operations(document: dict, prefix: str):
    for path, operations in document["paths"].items():
        if path.startswith(prefix):
            for method, operation in operations.items():
                yield f"{method.upper()} {path}", operation


def _json_schema(response: dict) -> dict:
    return response["content"]["application/json"]["schema"]


def test_every_api_error_is_documented_as_the_error_body_clients_receive(client, login, document):
    """FastAPI's default 422 says {"detail": [...]}; the API answers {"error": {"code", "message"}}, for every 4xx."""
    assert "HTTPValidationError" not in document["components"]["schemas"]
    operations = dict(_operations(document, "/api/v1/"))
    assert operations
    for name, operation in operations.items():
        assert "422" not in operation["responses"], name
        assert _json_schema(operation["responses"]["4XX"]) == {"$ref": REF + "ErrorOut"}, name
    error = document["components"]["schemas"]["ErrorDetail"]
    assert document["components"]["schemas"]["ErrorOut"]["required"] == ["error"] and set(error["required"]) == {"code", "message"}

    for response in (
        client.get("/api/v1/tickets"),
        client.get("/api/v1/tickets", params={"page": "first"}, headers=login("t_operator")),
        client.get("/api/v1/tickets/SD000000000000", headers=login("t_operator")),
        client.post("/api/v1/tickets", json={}),
    ):
        assert 400 <= response.status_code < 500
        ErrorOut.model_validate(response.json())


def test_open311_documents_the_spec_error_list_and_the_form_it_reads(client, document):
    operations = dict(_operations(document, "/open311/v2/"))
    assert operations
    for name, operation in operations.items():
        errors = operation["responses"]["4XX"]
        assert _json_schema(errors)["items"] == {"$ref": REF + "ErrorItem"} and "text/xml" in errors["content"], name
        success = next(r for code, r in operation["responses"].items() if code.startswith("2"))
        assert _json_schema(success) != {} and "text/xml" in success["content"], name
    assert _json_schema(operations["GET /open311/v2/requests/{service_request_id}.{fmt}"]["responses"]["200"])["items"] == {"$ref": REF + "RequestOut"}

    form = operations["POST /open311/v2/requests.{fmt}"]["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    assert {"service_code", "description", "phone"} <= set(form["required"])
    assert {"api_key", "lat", "long", "address_string", "attribute[type]"} <= set(form["properties"])
    # The key in the form or, kept out of access logs, in a header.
    assert {"X-Api-Key"} <= {p["name"] for p in operations["POST /open311/v2/requests.{fmt}"]["parameters"] if p["in"] == "header"}
    refused = client.post("/open311/v2/requests.json", data={"service_code": "010101"})
    assert refused.status_code == 403
    [ErrorItem.model_validate(e) for e in refused.json()]


@pytest.mark.parametrize("path", CREATES)
def test_a_create_documents_the_200_a_retried_idempotency_key_answers(document, path):
    responses = document["paths"][path]["post"]["responses"]
    retried, created = ({k: v for k, v in _json_schema(responses[code]).items() if k != "title"} for code in ("200", "201"))
    assert retried == created != {}


def test_a_calendar_day_documents_the_kinds_it_takes_and_refuses_others_by_them(client, login, document):
    """The API takes off or workday; it documented them bare, while a refusal named the form's words, which it refuses too."""
    kind = document["components"]["schemas"]["DayIn"]["properties"]["kind"]
    assert kind["description"] == "off：休息日（节假日）；workday：工作日（调休上班）；null：恢复按周一至周五计算"
    assert {"$ref": REF + "DayKind"} in kind["anyOf"] and set(document["components"]["schemas"]["DayKind"]["enum"]) == {"off", "workday"}
    refused = client.put("/api/v1/sla/calendar/days/2026-12-08", json={"kind": "休息日（节假日）"}, headers=login("t_admin"))
    assert refused.status_code == 422 and "'off'" in refused.json()["error"]["message"] and "'workday'" in refused.json()["error"]["message"]
    saved = client.put("/api/v1/sla/calendar/days/2026-12-08", json={"kind": "off", "name": "测试"}, headers=login("t_admin"))
    assert saved.status_code == 200 and saved.json()["kind"] == "off"


def test_schema_names_are_plain_class_names_a_client_generator_can_use(document):
    """Two models of one name, or a route's unnamed body, came out as baishitong__sla__api__PolicyIn or
    Body_reveal_requester_api_v1_tickets__number__requester_post, and generated clients carried those as type names."""
    names = set(document["components"]["schemas"])
    assert not {name for name in names if "__" in name or name.startswith("Body_")}
    assert {"PolicyIn", "SlaPolicyIn", "RequestTokenOut", "AccessTokenOut", "RequesterRevealIn", "ReplyFilesIn", "ArticleImportIn", "PointImportIn", "ArticleImportOut", "PointImportOut"} <= names
    # Names shared by models of different modules (one of them silently standing for both) or too vague to tell apart.
    assert not {"ImportOut", "TokenOut"} & names
    paths = document["paths"]
    assert paths["/api/v1/sla/policy"]["put"]["requestBody"]["content"]["application/json"]["schema"] == {"$ref": REF + "SlaPolicyIn"}
    assert _json_schema(paths["/api/v1/auth/token"]["post"]["responses"]["200"]) == {"$ref": REF + "AccessTokenOut"}
    for kind in ("reply", "answer", "contribution"):
        assert paths[f"/api/v1/tickets/{{number}}/{kind}/attachments"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"] == {"$ref": REF + "ReplyFilesIn"}


def test_a_work_order_action_documents_the_actions_and_the_body_each_reads(client, login, document):
    """The route validates its body by action; it was documented as any object at all, with `action` any string,
    so a generated client knew neither the actions nor that dispatch needs lead_unit or a callback its rating."""
    operation = document["paths"]["/api/v1/tickets/{number}/actions/{action}"]["post"]
    action = next(p for p in operation["parameters"] if p["name"] == "action")["schema"]
    assert {"dispatch", "sign", "reply", "callback", "callback-declined", "close", "void"} <= set(action["enum"])
    assert "register" not in action["enum"]
    variants = {v["title"]: v for v in _json_schema(operation["requestBody"])["anyOf"]}
    used_by = {name: variant for variant in variants.values() for name in variant["description"].removeprefix("用于：").split("、")}
    assert set(used_by) == set(action["enum"])
    assert used_by["dispatch"]["required"] == ["lead_unit"] and used_by["dispatch"]["additionalProperties"] is False
    assert set(used_by["callback"]["required"]) == {"solved", "satisfaction"}
    assert "required" not in used_by["sign"] and set(used_by["sign"]["properties"]) == {"version", "note"}

    # As documented: an action outside the list is unknown, and a field a body does not list is refused.
    headers = login("t_operator")
    number = client.post("/api/v1/tickets", json={"type": "咨询", "content": "路灯不亮好几天了", "requester": {"phone": "13800138000"}}, headers=headers).json()["number"]
    assert client.post(f"/api/v1/tickets/{number}/actions/register", json={"version": 1}, headers=headers).json()["error"]["code"] == "unknown_action"
    refused = client.post(f"/api/v1/tickets/{number}/actions/dispatch", json={"version": 1, "lead_unit": "ronggui", "urgent": True}, headers=headers)
    assert refused.status_code == 422 and "urgent：不支持该字段" in refused.json()["error"]["message"]


def test_hot_topics_document_the_periods_they_take(client, login, document):
    """window_days was documented as any integer; anything but 1, 7 or 30 is refused."""
    from baishitong.analytics.service import HOT_WINDOWS

    read = next(p for p in document["paths"]["/api/v1/stats/hot-topics"]["get"]["parameters"] if p["name"] == "window_days")
    assert read["schema"]["enum"] == list(HOT_WINDOWS) == [1, 7, 30]
    assert document["components"]["schemas"]["RefreshIn"]["properties"]["window_days"]["enum"] == list(HOT_WINDOWS)
    refused = client.get("/api/v1/stats/hot-topics", params={"window_days": 2}, headers=login("t_admin"))
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "invalid_window"
