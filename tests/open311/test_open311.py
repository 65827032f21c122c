"""Open311 GeoReport v2 as a stock 311 client sees it."""

from datetime import timedelta
from xml.etree import ElementTree

import pytest
from sqlalchemy import func, select

from baishitong.db import utcnow
from baishitong.open311.api import router
from baishitong.org import service as org
from baishitong.org.models import Category
from baishitong.tickets import service as tickets
from baishitong.tickets.models import Ticket
from tests.conftest import actor
from tests.tickets.factories import PHONE, make_ticket

BASE = "/open311/v2"
STREETLIGHT = "010101"
FORM = {
    "service_code": STREETLIGHT,
    "lat": "22.7765",
    "long": "113.2651",
    "address_string": "容桂街道桂洲大道东",
    "description": "桂洲大道东路段路灯连续三晚不亮，行人很不安全。",
    "first_name": "大文",
    "last_name": "陈",
    "phone": "139 1234 5678",
    "email": "chen@example.com",
}


@pytest.fixture(autouse=True)
def _mounted(app):
    if not any(getattr(r, "path", "") == f"{BASE}/services.{{fmt}}" for r in app.routes):
        app.include_router(router)


@pytest.fixture
def api_key(session):
    """Stored before the requests, as an integration's is: a refused request rolls back only what it began."""
    key = org.create_api_token(session, username="t_operator", name="open311 test")
    session.commit()
    return key


def post_request(client, api_key, *, form=FORM, **fields):
    """A service request POSTed as a client sends it: `form` (FORM by default) with the token and `fields`."""
    return client.post(f"{BASE}/requests.json", data={**form, "api_key": api_key, **fields})


def _ticket(session, number: str) -> Ticket:
    return session.scalar(select(Ticket).where(Ticket.number == number))


def _assert_open311_error(response, code: int):
    assert response.status_code == code, response.text
    body = response.json()
    assert isinstance(body, list) and body[0]["code"] == code and body[0]["description"]
    return body[0]["description"]


def test_services_are_the_active_categories_and_requests_go_under_leaves(client, session, api_key):
    response = client.get(f"{BASE}/services.json")
    assert response.status_code == 200
    services = response.json()
    active = session.scalar(select(func.count()).select_from(Category).where(Category.active.is_(True)))
    assert len(services) == active
    # A heading is listed (an order the router placed only under it carries its code) but takes no requests.
    heading = next(s for s in services if s["service_code"] == STREETLIGHT[:2])
    assert heading["metadata"] is False and "请选择其下的具体事项" in heading["description"]
    light = next(s for s in services if s["service_code"] == STREETLIGHT)
    assert light == {
        "service_code": STREETLIGHT,
        "service_name": "路灯",
        "description": "城乡建设 › 市政设施 › 路灯",
        "metadata": True,
        "type": "realtime",
        "keywords": "市政设施, 路灯",
        "group": "城乡建设",
    }
    # Posting under a heading is refused with a pointer to its leaves.
    refused = client.post(f"{BASE}/requests.json", data={**FORM, "service_code": STREETLIGHT[:2], "api_key": api_key})
    assert refused.status_code == 400 and "service_code" in refused.text


def test_service_definition_offers_the_ticket_types(client):
    definition = client.get(f"{BASE}/services/{STREETLIGHT}.json").json()
    assert definition["service_code"] == STREETLIGHT
    (attribute,) = definition["attributes"]
    assert attribute["code"] == "type" and attribute["datatype"] == "singlevaluelist" and attribute["required"] is False
    assert [v["key"] for v in attribute["values"]] == ["咨询", "求助", "投诉", "举报", "建议", "表扬"]
    assert "投诉" in attribute["datatype_description"]
    heading = client.get(f"{BASE}/services/0101.json")
    _assert_open311_error(heading, 404)
    assert "是分类标题" in heading.json()[0]["description"] and "以 0101 开头" in heading.json()[0]["description"]
    _assert_open311_error(client.get(f"{BASE}/services/{STREETLIGHT}.csv"), 404)


def test_xml_uses_the_spec_element_names(client):
    services = ElementTree.fromstring(client.get(f"{BASE}/services.xml").content)
    assert services.tag == "services"
    light = next(s for s in services.findall("service") if s.findtext("service_code") == STREETLIGHT)
    assert light.findtext("service_name") == "路灯" and light.findtext("metadata") == "true"
    definition = ElementTree.fromstring(client.get(f"{BASE}/services/{STREETLIGHT}.xml").content)
    assert definition.tag == "service_definition"
    assert [v.findtext("key") for v in definition.find("attributes/attribute/values").findall("value")][0] == "咨询"
    error = client.post(f"{BASE}/requests.xml", data={**FORM})
    assert error.status_code == 403 and error.headers["content-type"].startswith("text/xml")
    assert ElementTree.fromstring(error.content).findtext("error/code") == "403"


def test_form_post_creates_an_api_ticket(client, session, api_key):
    response = client.post(f"{BASE}/requests.json", data={**FORM, "api_key": api_key})
    assert response.status_code == 201, response.text
    (created,) = response.json()
    assert created["account_id"] is None and created["service_request_id"] in created["service_notice"]
    ticket = _ticket(session, created["service_request_id"])
    assert ticket.channel == "api" and ticket.type == "投诉"
    assert ticket.category.code == STREETLIGHT
    assert ticket.address == FORM["address_string"] and (ticket.lat, ticket.lon) == (22.7765, 113.2651)
    assert ticket.requester_name == "陈大文" and ticket.requester_phone == "13912345678"
    assert ticket.events[0].actor == "t_operator"
    another = {**FORM, "description": "桂洲大道东公交站旁路灯也不亮。"}  # the same request again would be the order above
    multipart = client.post(f"{BASE}/requests.xml", data={**another, "api_key": api_key}, files={"media": ("a.jpg", b"jpeg", "image/jpeg")})
    assert multipart.status_code == 201, multipart.text
    assert ElementTree.fromstring(multipart.content).findtext("request/service_request_id").startswith("SD")
    session.commit()
    # A heading's code finds the requests filed under its leaves.
    under_heading = client.get(f"{BASE}/requests.json", params={"service_code": STREETLIGHT[:2]}).json()
    assert created["service_request_id"] in [r["service_request_id"] for r in under_heading]


def test_a_form_with_chinese_left_unescaped_is_stored_as_written(client, session, api_key):
    """`curl -d "description=…"` sends UTF-8 without %-escapes; it used to be read as Latin-1 (桂洲 → æ¡æ´²)."""
    fields = {**FORM, "api_key": api_key}
    raw = "&".join(f"{k}={v}" for k, v in fields.items() if k not in ("phone", "api_key")) + f"&phone=13912345678&api_key={api_key}"
    headers = {"content-type": "application/x-www-form-urlencoded"}
    response = client.post(f"{BASE}/requests.json", content=raw.encode("utf-8"), headers=headers)
    assert response.status_code == 201, response.text
    ticket = _ticket(session, response.json()[0]["service_request_id"])
    assert (ticket.content, ticket.address, ticket.requester_name) == (FORM["description"], FORM["address_string"], "陈大文")
    gbk = client.post(f"{BASE}/requests.json", content=raw.encode("gb18030"), headers=headers)
    assert _assert_open311_error(gbk, 400) == "请求内容须为 UTF-8 编码"


def test_json_post_with_type_attribute(client, session, api_key):
    body = {**FORM, "api_key": api_key, "lat": 22.8, "long": 113.2, "attribute": {"type": "求助"}}
    response = client.post(f"{BASE}/requests.json", json=body)
    assert response.status_code == 201, response.text
    assert _ticket(session, response.json()[0]["service_request_id"]).type == "求助"
    flat = {**FORM, "api_key": api_key, "attribute[type]": "咨询"}
    number = client.post(f"{BASE}/requests.json", json=flat).json()[0]["service_request_id"]
    assert _ticket(session, number).type == "咨询"
    bad = client.post(f"{BASE}/requests.json", json={**flat, "attribute[type]": "吐槽"})
    assert "attribute[type]" in _assert_open311_error(bad, 400)


def test_api_key_is_required_and_must_belong_to_intake_staff(client, session):
    before = session.scalar(select(func.count()).select_from(Ticket))
    _assert_open311_error(client.post(f"{BASE}/requests.json", data=FORM), 403)
    _assert_open311_error(client.post(f"{BASE}/requests.json", data={**FORM, "api_key": "bst_nonsense"}), 403)
    handler_key = org.create_api_token(session, username="t_ronggui", name="unit")
    _assert_open311_error(client.post(f"{BASE}/requests.json", data={**FORM, "api_key": handler_key}), 403)
    assert session.scalar(select(func.count()).select_from(Ticket)) == before


def test_bad_input_is_a_400_in_chinese(client, api_key):
    form = {**FORM, "api_key": api_key}
    no_code = {k: v for k, v in form.items() if k != "service_code"}
    assert "service_code" in _assert_open311_error(client.post(f"{BASE}/requests.json", data=no_code), 400)
    assert "分类标题" in _assert_open311_error(client.post(f"{BASE}/requests.json", data={**form, "service_code": "0101"}), 400)
    no_phone = {k: v for k, v in form.items() if k != "phone"}
    assert "联系电话" in _assert_open311_error(client.post(f"{BASE}/requests.json", data=no_phone), 400)
    assert "phone" in _assert_open311_error(client.post(f"{BASE}/requests.json", data={**form, "phone": "12345"}), 400)
    nowhere = {k: v for k, v in form.items() if k not in ("lat", "long", "address_string")}
    assert "位置" in _assert_open311_error(client.post(f"{BASE}/requests.json", data=nowhere), 400)
    _assert_open311_error(client.post(f"{BASE}/requests.json", data={**form, "lat": "north"}), 400)
    _assert_open311_error(client.post(f"{BASE}/requests.json", data={**form, "description": "灯"}), 400)
    _assert_open311_error(client.post(f"{BASE}/requests.json", content=b"{oops", headers={"content-type": "application/json"}), 400)


def test_a_service_code_not_found_is_a_404_as_the_spec_says(client, session, api_key):
    """GeoReport v2: 404 for a service_code not found, 400 for one not provided; a client tells the two apart."""
    before = session.scalar(select(func.count()).select_from(Ticket))
    response = client.post(f"{BASE}/requests.xml", data={**FORM, "api_key": api_key, "service_code": "999999"})
    assert response.status_code == 404
    error = ElementTree.fromstring(response.content).find("error")
    assert error.findtext("code") == "404" and "999999" in error.findtext("description")
    assert session.scalar(select(func.count()).select_from(Ticket)) == before


def test_a_service_code_of_any_length_not_found_is_echoed_cut_short(client, api_key):
    """The error repeats the code so the client sees which one; not all 5,000 characters of it."""
    code = "9" * 5000
    posted = _assert_open311_error(post_request(client, api_key, service_code=code), 404)
    defined = _assert_open311_error(client.get(f"{BASE}/services/{code}.json"), 404)
    for message in (posted, defined):
        assert "9" * 63 + "…" in message and "9" * 64 not in message and len(message) < 100


def test_idempotent_retry_returns_the_same_request(client, session, api_key):
    headers = {"Idempotency-Key": "o311-retry-1"}
    first = client.post(f"{BASE}/requests.json", data={**FORM, "api_key": api_key}, headers=headers)
    second = client.post(f"{BASE}/requests.json", data={**FORM, "api_key": api_key}, headers=headers)
    assert (first.status_code, second.status_code) == (201, 200)
    number = first.json()[0]["service_request_id"]
    assert second.json()[0]["service_request_id"] == number
    assert session.scalar(select(func.count()).select_from(Ticket).where(Ticket.number == number)) == 1
    changed = client.post(f"{BASE}/requests.json", data={**FORM, "api_key": api_key, "description": FORM["description"] + "补充"}, headers=headers)
    _assert_open311_error(changed, 409)
    assert client.get(f"{BASE}/tokens/o311-retry-1.json").json() == [{"service_request_id": number, "token": "o311-retry-1"}]
    _assert_open311_error(client.get(f"{BASE}/tokens/unknown-token.json"), 404)


def test_get_by_id_shows_status_and_agency_but_no_personal_data(client, session, api_key):
    number = client.post(f"{BASE}/requests.json", data={**FORM, "api_key": api_key}).json()[0]["service_request_id"]
    ticket = _ticket(session, number)
    tickets.dispatch_to(session, ticket, actor=actor(session, "t_operator"), lead_code="ronggui")
    session.commit()
    response = client.get(f"{BASE}/requests/{number}.json")
    assert response.status_code == 200
    (request,) = response.json()
    unit = org.get_unit(session, code="ronggui").name
    assert request["status"] == "open" and request["agency_responsible"] == unit
    assert request["status_notes"] == f"已转交{unit}办理"
    assert request["service_notice"] == "已派单"
    assert request["service_code"] == STREETLIGHT and request["service_name"] == "路灯"
    assert request["requested_datetime"].endswith("+08:00") and request["expected_datetime"].endswith("+08:00")
    # Only the town and community and ~100 m coordinates are published, never the free address.
    assert request["address"].startswith("容桂") and request["address"] != FORM["address_string"]
    assert abs(request["lat"] - 22.7765) < 0.001 and abs(request["long"] - 113.2651) < 0.001
    assert len(str(request["lat"]).split(".")[1]) <= 3
    assert request["media_url"] is None and request["description"] is None
    for private in ("13912345678", "1234 5678", "陈大文", "大文", "chen@example.com"):
        assert private not in response.text
    _assert_open311_error(client.get(f"{BASE}/requests/SD000000000000.json"), 404)
    xml = ElementTree.fromstring(client.get(f"{BASE}/requests/{number}.xml").content)
    assert xml.tag == "service_requests" and xml.findtext("request/agency_responsible") == unit


def test_list_filters_by_status_date_code_and_id(client, session):
    open_ticket = make_ticket(session, state="signed", category_code="010201")
    closed_ticket = make_ticket(session, state="closed")
    old_ticket = make_ticket(session, state="registered")
    old_ticket.created_at = utcnow() - timedelta(days=120)
    secret = make_ticket(session, state="registered", confidential=True)
    session.commit()

    def numbers(**params) -> set[str]:
        response = client.get(f"{BASE}/requests.json", params=params)
        assert response.status_code == 200, response.text
        assert PHONE not in response.text and "陈先生" not in response.text
        return {r["service_request_id"] for r in response.json()}

    default = numbers()
    assert {open_ticket.number, closed_ticket.number} <= default
    assert old_ticket.number not in default and secret.number not in default
    assert open_ticket.number in numbers(status="open") and closed_ticket.number not in numbers(status="open")
    assert closed_ticket.number in numbers(status="closed") and open_ticket.number not in numbers(status="closed")
    start = (utcnow() - timedelta(days=150)).isoformat()
    end = (utcnow() - timedelta(days=100)).isoformat()
    assert numbers(start_date=start, end_date=end) == {old_ticket.number}
    by_code = client.get(f"{BASE}/requests.json", params={"service_code": f"010201,{STREETLIGHT}"}).json()
    assert open_ticket.number in {r["service_request_id"] for r in by_code}
    assert {r["service_code"] for r in by_code} <= {"010201", STREETLIGHT}
    assert numbers(service_request_id=f"{open_ticket.number},{old_ticket.number},{secret.number}", status="closed") == {open_ticket.number, old_ticket.number}
    _assert_open311_error(client.get(f"{BASE}/requests.json", params={"status": "pending"}), 400)
    _assert_open311_error(client.get(f"{BASE}/requests.json", params={"start_date": "yesterday"}), 400)
    _assert_open311_error(client.get(f"{BASE}/requests/{secret.number}.json"), 404)


def test_a_blank_idempotency_key_is_refused_in_the_specs_format(client, session, api_key):
    before = session.scalar(select(func.count()).select_from(Ticket))
    refused = client.post(f"{BASE}/requests.json", data={**FORM, "api_key": api_key}, headers={"Idempotency-Key": " "})
    assert _assert_open311_error(refused, 400) == "Idempotency-Key 不能为空"
    assert session.scalar(select(func.count()).select_from(Ticket)) == before


def test_a_window_that_ends_before_it_starts_is_an_error_not_an_empty_list(client, session):
    make_ticket(session, state="registered")
    session.commit()
    start, end = utcnow().isoformat(), (utcnow() - timedelta(days=3)).isoformat()
    assert "start_date" in _assert_open311_error(client.get(f"{BASE}/requests.json", params={"start_date": start, "end_date": end}), 400)
    xml = client.get(f"{BASE}/requests.xml", params={"start_date": start, "end_date": end})
    assert xml.status_code == 400 and ElementTree.fromstring(xml.content).findtext("error/code") == "400"
    # The same instant at both ends is a window of one moment, not an error.
    assert client.get(f"{BASE}/requests.json", params={"start_date": start, "end_date": start}).status_code == 200


def test_a_date_with_its_plus_left_unescaped_in_the_url_still_filters(client, session):
    """`?start_date=2026-01-01T00:00:00+08:00` typed as is: the query string turns the + into a space."""
    old_ticket = make_ticket(session, state="registered")
    old_ticket.created_at = utcnow() - timedelta(days=120)
    session.commit()
    start = (utcnow() - timedelta(days=121)).astimezone(tickets.LOCAL_TZ).strftime("%Y-%m-%dT%H:%M:%S+08:00")
    end = (utcnow() - timedelta(days=119)).astimezone(tickets.LOCAL_TZ).strftime("%Y-%m-%dT%H:%M:%S+08:00")
    response = client.get(f"{BASE}/requests.json?start_date={start}&end_date={end}")
    assert response.status_code == 200, response.text
    assert [r["service_request_id"] for r in response.json()] == [old_ticket.number]


def test_a_mirroring_client_walks_the_window_page_by_page(client, session):
    made = [make_ticket(session, state="registered") for _ in range(5)]
    session.commit()

    def page(number: int, size: int) -> list[str]:
        response = client.get(f"{BASE}/requests.json", params={"page": number, "page_size": size})
        assert response.status_code == 200, response.text
        return [r["service_request_id"] for r in response.json()]

    everything, walked, number = page(1, 1000), [], 1
    while chunk := page(number, 2):
        assert len(chunk) <= 2
        walked, number = walked + chunk, number + 1
    assert walked == everything and {t.number for t in made} <= set(walked) and number > 3
    for bad in ({"page": 0}, {"page_size": 1001}, {"page_size": "十"}):
        _assert_open311_error(client.get(f"{BASE}/requests.json", params=bad), 400)


def test_public_reads_are_rate_limited_in_open311_format_by_their_own_limit_not_the_tracking_one(client, app):
    app.state.settings.track_rate_limit_per_minute = 1
    app.state.settings.open311_read_rate_limit_per_minute = 3
    for path in ("services.json", f"services/{STREETLIGHT}.json", "requests.json"):
        assert client.get(f"{BASE}/{path}").status_code == 200
    _assert_open311_error(client.get(f"{BASE}/services.json"), 429)
    # A citizen's progress look-up from the same address still has its own allowance.
    assert client.post("/api/v1/track", json={"number": "SD000000000", "phone": PHONE}).status_code == 404


def test_an_integration_polling_with_a_valid_api_key_gets_the_higher_read_limit_counted_per_key(client, app, api_key):
    app.state.settings.open311_read_rate_limit_per_minute = 2
    app.state.settings.open311_api_key_read_rate_limit_per_minute = 5
    for _ in range(2):
        assert client.get(f"{BASE}/requests.json").status_code == 200
    _assert_open311_error(client.get(f"{BASE}/requests.json"), 429)
    # The same address with its key is counted apart from the anonymous callers there, up to the key's limit.
    for _ in range(5):
        assert client.get(f"{BASE}/requests.json", params={"api_key": api_key}).status_code == 200
    assert "请求过于频繁" in _assert_open311_error(client.get(f"{BASE}/requests.json", params={"api_key": api_key}), 429)
    # A made-up key is an anonymous caller.
    _assert_open311_error(client.get(f"{BASE}/requests.json", params={"api_key": "bst_not-a-key"}), 429)


def test_an_integration_with_a_valid_api_key_is_not_held_to_the_anonymous_intake_limit(client, app, api_key):
    """A relay posting many citizens' requests from one address is accountable through its key."""
    app.state.settings.intake_rate_limit_per_minute = 2
    for n in range(4):
        response = client.post(f"{BASE}/requests.json", data={**FORM, "description": f"{FORM['description']}（第 {n} 条）", "api_key": api_key})
        assert response.status_code == 201, response.text
    for _ in range(2):
        _assert_open311_error(client.post(f"{BASE}/requests.json", data={**FORM, "api_key": "bst_not-a-key"}), 403)
    assert "请求过于频繁" in _assert_open311_error(client.post(f"{BASE}/requests.json", data={**FORM, "api_key": "bst_not-a-key"}), 429)


def test_an_address_no_endpoint_serves_answers_in_the_spec_format_not_as_a_web_page(client):
    for path in ("/discovery.json", "/requests/SD1/comments.json", "/nothing"):
        response = client.get(BASE + path)
        assert response.headers["content-type"].startswith("application/json")
        assert _assert_open311_error(response, 404) == "请求的资源不存在"
    xml = client.get(f"{BASE}/discovery.xml")
    assert xml.status_code == 404 and xml.headers["content-type"].startswith("text/xml")
    assert ElementTree.fromstring(xml.text).find("error/description").text == "请求的资源不存在"


def test_reports_publish_no_place(client, session):
    from baishitong.open311 import service as open311
    from tests.tickets.factories import make_ticket

    ticket = make_ticket(session, type="举报")
    published = open311.request_out(ticket)
    assert published.address is None and published.lat is None and published.long is None


def test_attribute_sent_as_a_plain_value_is_a_400_not_a_server_error(client, session, api_key):
    """`attribute=投诉` (or JSON "attribute": "投诉") instead of attribute[type]=投诉 used to crash the request with 500."""
    before = session.scalar(select(func.count()).select_from(Ticket))
    for response in (
        client.post(f"{BASE}/requests.json", data={**FORM, "api_key": api_key, "attribute": "投诉"}),
        client.post(f"{BASE}/requests.json", json={**FORM, "api_key": api_key, "attribute": "投诉"}),
    ):
        assert "attribute[代码]" in _assert_open311_error(response, 400)
    assert session.scalar(select(func.count()).select_from(Ticket)) == before


def test_a_refused_post_keeps_nothing_it_began(client, session, api_key, monkeypatch):
    """A retry overlapping the first attempt is told 409 idempotency_in_progress once its own order is written;
    that order must go with the refusal, not be committed behind the client's back as a second one."""
    from baishitong.errors import Conflict

    def overlapping(*_args, **_kwargs):
        raise Conflict("idempotency_in_progress", "相同 Idempotency-Key 的请求正在处理，请稍后重试")

    monkeypatch.setattr(tickets.idempotency, "remember", overlapping)
    before = session.scalar(select(func.count()).select_from(Ticket))
    response = client.post(f"{BASE}/requests.json", data={**FORM, "api_key": api_key}, headers={"Idempotency-Key": "o311-overlap"})
    assert "正在处理" in _assert_open311_error(response, 409)
    assert session.scalar(select(func.count()).select_from(Ticket)) == before


def test_xml_stays_well_formed_whatever_the_text_holds(client, session):
    """A control character (a vertical tab pasted from Word into a reply, a %01 in an address) cannot be written
    in XML 1.0; ElementTree wrote it as it was and a 311 client could not parse the document at all."""
    assert ElementTree.fromstring(client.get(f"{BASE}/services/%01%0B.xml").content).findtext("error/code") == "404"
    ticket = make_ticket(session)
    ticket.lead_unit = org.get_unit(session, code="ronggui")
    ticket.lead_unit.name = "容桂\x0b街道"
    session.flush()
    document = ElementTree.fromstring(client.get(f"{BASE}/requests/{ticket.number}.xml").content)
    assert document.findtext("request/agency_responsible") == "容桂街道"


def test_two_integrations_with_the_same_token_each_get_their_own_request(client, session, api_key):
    """Keys count per account: a second integration's request with the same token used to come back 200 as the first
    one's and was never registered. The token lookup lists both."""
    other_key = org.create_api_token(session, username="t_supervisor", name="second integration")
    session.commit()
    headers = {"Idempotency-Key": "shared-token-1"}
    first = client.post(f"{BASE}/requests.json", data={**FORM, "api_key": api_key}, headers=headers)
    second = client.post(f"{BASE}/requests.json", data={**FORM, "api_key": other_key}, headers=headers)
    assert (first.status_code, second.status_code) == (201, 201)
    numbers = [first.json()[0]["service_request_id"], second.json()[0]["service_request_id"]]
    assert numbers[0] != numbers[1]
    listed = client.get(f"{BASE}/tokens/shared-token-1.json").json()
    assert listed == [{"service_request_id": n, "token": "shared-token-1"} for n in numbers]


def test_discovery_points_clients_at_the_v2_endpoint_in_json_and_xml(client, app):
    from baishitong.open311.api import discovery_router

    if not any(getattr(r, "path", "") == "/open311/discovery.{fmt}" for r in app.routes):
        app.include_router(discovery_router)
    found = client.get("/open311/discovery.json")
    assert found.status_code == 200, found.text
    assert found.json()["changeset"] >= "2026-12-06"  # requests gained address_id that day: clients look again
    (endpoint,) = found.json()["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2" and endpoint["url"].endswith(BASE)
    assert set(endpoint["formats"]) == {"application/json", "text/xml"}
    assert client.get(endpoint["url"].removeprefix(str(app.state.settings.public_url).rstrip("/")) + "/services.json").status_code == 200
    xml = ElementTree.fromstring(client.get("/open311/discovery.xml").content)
    assert xml.tag == "discovery" and [f.text for f in xml.find("endpoints/endpoint/formats")] == ["application/json", "text/xml"]
    assert client.get("/open311/discovery.yaml").status_code == 404


def test_the_api_key_may_come_in_an_x_api_key_header_for_posts_and_reads(client, session, app, api_key):
    """A key in the address stays in access logs, proxies and browser histories; the header does not."""
    created = client.post(f"{BASE}/requests.json", data=FORM, headers={"X-Api-Key": api_key})
    assert created.status_code == 201, created.text
    assert _ticket(session, created.json()[0]["service_request_id"]).events[0].actor == "t_operator"
    _assert_open311_error(client.post(f"{BASE}/requests.json", data=FORM, headers={"X-Api-Key": "bst_not-a-key"}), 403)
    app.state.settings.open311_read_rate_limit_per_minute = 1
    assert client.get(f"{BASE}/requests.json").status_code == 200
    # Counted per key, apart from the anonymous callers at the same address.
    assert client.get(f"{BASE}/requests.json", headers={"X-Api-Key": api_key}).status_code == 200
    _assert_open311_error(client.get(f"{BASE}/requests.json"), 429)


def test_a_request_sent_again_from_the_app_is_the_request_already_registered(client, session, api_key):
    """A citizen's app resending the request (a retry without a token, or the user tapping send again) made a second
    order; the very same request from the same phone within minutes is the first one, answered 200."""
    first = client.post(f"{BASE}/requests.json", data={**FORM, "api_key": api_key})
    again = client.post(f"{BASE}/requests.json", data={**FORM, "phone": "13912345678", "api_key": api_key})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()[0]["service_request_id"] == first.json()[0]["service_request_id"]
    other = client.post(f"{BASE}/requests.json", data={**FORM, "description": "桂洲大道东公交站旁路灯也不亮。", "api_key": api_key})
    assert other.status_code == 201 and other.json()[0]["service_request_id"] != first.json()[0]["service_request_id"]
