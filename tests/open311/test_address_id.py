"""Open311's address_id: a town's or community's code from our gazetteer (GET /api/v1/regions) places the request
on its own, the order is filed in that region, and reads return the code."""

from xml.etree import ElementTree

from sqlalchemy import func, select

from baishitong.tickets.models import Ticket
from tests.open311.test_open311 import BASE, FORM, _assert_open311_error, _mounted, _ticket, api_key, post_request  # noqa: F401 (fixtures)

GAOLI = "440606006023"  # 容桂街道高黎社区
RONGGUI = "440606006"  # 容桂街道
# The FORM's place, without any of the three ways to give one.
NOWHERE = {k: v for k, v in FORM.items() if k not in ("lat", "long", "address_string")}


def _post(client, api_key, **fields):
    return post_request(client, api_key, form=NOWHERE, **fields)


def test_a_community_code_alone_files_the_order_there_and_reads_return_it(client, session, api_key):
    response = _post(client, api_key, address_id=GAOLI)
    assert response.status_code == 201, response.text
    number = response.json()[0]["service_request_id"]
    ticket = _ticket(session, number)
    assert ticket.region.code == GAOLI
    # Staff pages have a readable address even though the client sent none.
    assert ticket.address == "容桂街道高黎社区"
    session.commit()
    read = client.get(f"{BASE}/requests/{number}.json").json()[0]
    assert read["address_id"] == GAOLI and read["address"] == "容桂高黎社区"
    listed = client.get(f"{BASE}/requests.json", params={"service_request_id": number}).json()
    assert [r["address_id"] for r in listed] == [GAOLI]
    assert ElementTree.fromstring(client.get(f"{BASE}/requests/{number}.xml").content).findtext("request/address_id") == GAOLI


def test_a_report_keeps_its_place_private_code_included(client, session, api_key):
    response = _post(client, api_key, address_id=GAOLI, **{"attribute[type]": "举报"})
    assert response.status_code == 201, response.text
    number = response.json()[0]["service_request_id"]
    assert _ticket(session, number).region.code == GAOLI
    session.commit()
    read = client.get(f"{BASE}/requests/{number}.json").json()[0]
    assert read["address"] is None and read["address_id"] is None


def test_the_code_decides_the_region_over_what_the_address_names_and_the_address_is_kept(client, session, api_key):
    response = client.post(f"{BASE}/requests.json", data={**FORM, "api_key": api_key, "address_string": "伦教街道三洲社区旁", "address_id": RONGGUI})
    assert response.status_code == 201, response.text
    ticket = _ticket(session, response.json()[0]["service_request_id"])
    assert ticket.region.code == RONGGUI and ticket.address == "伦教街道三洲社区旁"


def test_an_unknown_code_is_a_400_in_the_error_list_and_nothing_is_registered(client, session, api_key):
    before = session.scalar(select(func.count()).select_from(Ticket))
    description = _assert_open311_error(_post(client, api_key, address_id="440606999999"), 400)
    assert "address_id 440606999999" in description and "区域编码" in description
    # A code longer than any region's is refused the same way, without being echoed.
    description = _assert_open311_error(_post(client, api_key, address_id="4" * 5000), 400)
    assert "区域编码" in description and "4" * 17 not in description
    xml = client.post(f"{BASE}/requests.xml", data={**NOWHERE, "api_key": api_key, "address_id": "容桂"})
    assert xml.status_code == 400 and "address_id" in ElementTree.fromstring(xml.content).findtext("error/description")
    assert session.scalar(select(func.count()).select_from(Ticket)) == before


def test_without_any_place_the_request_is_refused_and_names_address_id(client, api_key):
    assert "address_id" in _assert_open311_error(_post(client, api_key), 400)


def test_a_code_sent_as_a_json_number_is_read_as_the_code(client, session, api_key):
    response = client.post(f"{BASE}/requests.json", json={**NOWHERE, "api_key": api_key, "address_id": int(GAOLI)})
    assert response.status_code == 201, response.text
    assert _ticket(session, response.json()[0]["service_request_id"]).region.code == GAOLI
