"""Open311's media_url, a link to the citizen's photo held elsewhere: kept with the order (never fetched), shown to
staff as 市民提供的图片链接 and returned to clients; only an http or https address of a sane length is taken."""

from xml.etree import ElementTree

import pytest
from sqlalchemy import func, select

from baishitong.open311 import service as open311
from baishitong.tickets.models import Ticket
from tests.open311.test_open311 import BASE, _mounted, _ticket, api_key, post_request  # noqa: F401 (fixtures)
from tests.tickets.factories import make_ticket
from tests.web.test_pages import login

PHOTO = "https://img.example.cn/upload/2026/12/路灯.jpg?size=large&sig=a1b2"


def test_the_photo_link_is_kept_and_returned_to_clients_in_json_and_xml(client, session, api_key):
    response = post_request(client, api_key, media_url=PHOTO)
    assert response.status_code == 201, response.text
    number = response.json()[0]["service_request_id"]
    assert _ticket(session, number).media_url == PHOTO
    session.commit()
    assert client.get(f"{BASE}/requests/{number}.json").json()[0]["media_url"] == PHOTO
    assert ElementTree.fromstring(client.get(f"{BASE}/requests/{number}.xml").content).findtext("request/media_url") == PHOTO
    plain = post_request(client, api_key, description="容桂街道文海路井盖缺失，夜间容易踩空。")
    assert client.get(f"{BASE}/requests/{plain.json()[0]['service_request_id']}.json").json()[0]["media_url"] is None


def test_staff_open_the_link_from_the_order_page_and_the_linked_site_is_not_told_where_from(client, web, session, api_key):
    number = post_request(client, api_key, media_url=PHOTO).json()[0]["service_request_id"]
    session.commit()
    login(web, "t_operator")
    page = web.get(f"/staff/tickets/{number}").text
    card = page[page.index('id="media-url"') :]
    assert "市民提供的图片链接" in page and 'href="https://img.example.cn/upload/2026/12/路灯.jpg?size=large&amp;sig=a1b2"' in card
    assert 'rel="noopener noreferrer nofollow"' in card and 'referrerpolicy="no-referrer"' in card
    # Nothing is fetched: no image of it is embedded in the page.
    assert '<img src="https://' not in page
    other = make_ticket(session)
    session.commit()
    assert 'id="media-url"' not in web.get(f"/staff/tickets/{other.number}").text


@pytest.mark.parametrize(
    "media_url",
    ["javascript:alert(1)", "file:///etc/passwd", "ftp://example.cn/a.jpg", "https://", "/uploads/a.jpg", "https://example.cn/a b.jpg", "https://example.cn/" + "a" * 2048],
)
def test_a_link_that_is_not_http_or_https_or_too_long_is_a_400_and_nothing_is_registered(client, session, api_key, media_url):
    before = session.scalar(select(func.count()).select_from(Ticket))
    response = post_request(client, api_key, media_url=media_url)
    assert response.status_code == 400, response.text
    assert "media_url" in response.json()[0]["description"]
    assert session.scalar(select(func.count()).select_from(Ticket)) == before


def test_a_reports_photo_link_is_not_published(session):
    ticket = make_ticket(session, type="举报")
    ticket.media_url = PHOTO
    assert open311.request_out(ticket).media_url is None
