from datetime import timedelta

import pytest

from baishitong.db import utcnow
from baishitong.routing import duplicates
from baishitong.routing.duplicates import find_duplicates
from tests.tickets.factories import make_ticket

GAOLI = "440606006023"  # 容桂街道高黎社区
RONGGUI = "440606006"
LIGHT = "容桂街道高黎社区桂洲大道东路段路灯连续一周不亮，晚上行人很不安全。"
LIGHT_AGAIN = "高黎社区桂洲大道东那一段的路灯坏了好几天，一到晚上黑漆漆的，走路很不安全，请尽快维修。"


def aged(ticket, days: float):
    ticket.created_at = utcnow() - timedelta(days=days)
    return ticket


def numbers(found) -> list[str]:
    return [c.number for c in found]


def test_same_matter_in_the_same_community_is_found_with_reasons(session):
    earlier = aged(make_ticket(session, title="桂洲大道东路灯不亮"), 2)
    session.flush()
    found = find_duplicates(session, text=LIGHT_AGAIN, title="路灯坏了", region_code=GAOLI)
    assert numbers(found) == [earlier.number]
    c = found[0]
    assert c.status == "registered" and c.region == "高黎社区" and c.title == "桂洲大道东路灯不亮"
    assert duplicates.THRESHOLD <= c.similarity <= 1
    assert c.reasons[0] == "同一社区" and c.reasons[-1] == f"内容相似度 {c.similarity:.0%}"
    assert c.distance_m == 0.0 and "相距 0 米" in c.reasons  # both placed at the community's centroid
    assert c.as_dict()["merge"] == {"action": "merge", "into": earlier.number}


def test_town_only_request_matches_its_communities(session):
    earlier = aged(make_ticket(session), 1)
    session.flush()
    found = find_duplicates(session, text=LIGHT_AGAIN, region_code=RONGGUI)
    assert numbers(found) == [earlier.number] and found[0].reasons[0] == "同一镇街"


@pytest.mark.parametrize("state", ["dispatched", "signed", "returned"])
def test_every_open_status_counts(session, state):
    earlier = aged(make_ticket(session, state=state), 3)
    session.flush()
    assert numbers(find_duplicates(session, text=LIGHT_AGAIN, region_code=GAOLI)) == [earlier.number]


def test_other_town_closed_and_old_tickets_are_not_candidates(session):
    aged(make_ticket(session, content="大良街道府又社区凤山中路路灯连续一周不亮，晚上行人很不安全。", address="大良街道府又社区凤山中路", lead="daliang"), 2)
    aged(make_ticket(session, state="closed"), 2)
    aged(make_ticket(session, state="voided"), 2)
    aged(make_ticket(session), 31)
    session.flush()
    assert find_duplicates(session, text=LIGHT, region_code=GAOLI) == []
    assert len(find_duplicates(session, text=LIGHT, region_code=GAOLI, window_days=40)) == 1


def test_coordinates_within_the_radius(session):
    near = aged(make_ticket(session, content=LIGHT, location={"lat": 22.7450, "lon": 113.2580}), 1)
    aged(make_ticket(session, content=LIGHT, address="勒流街道", location={"lat": 22.8600, "lon": 113.1500}), 1)
    session.flush()
    found = find_duplicates(session, text=LIGHT_AGAIN, lat=22.7470, lon=113.2590)
    assert numbers(found) == [near.number]
    assert 200 < found[0].distance_m < 300 and f"相距 {found[0].distance_m:.0f} 米" in found[0].reasons
    assert find_duplicates(session, text=LIGHT_AGAIN, lat=22.7470, lon=113.2590, radius_m=100) == []


def test_different_matter_in_the_same_community_scores_low(session):
    noise = aged(make_ticket(session, content="容桂街道高黎社区文华路有餐馆深夜占道经营，油烟和噪音扰民，希望城管处理。"), 1)
    session.flush()
    assert find_duplicates(session, text=LIGHT, region_code=GAOLI) == []
    low = find_duplicates(session, text=LIGHT, region_code=GAOLI, threshold=0.0)
    assert numbers(low) == [noise.number] and low[0].similarity < 0.2


def test_existing_ticket_excludes_itself(session):
    earlier = aged(make_ticket(session), 2)
    later = make_ticket(session, content=LIGHT_AGAIN)
    session.flush()
    assert numbers(duplicates.duplicates_of(session, ticket=later)) == [earlier.number]
    assert numbers(duplicates.duplicates_of(session, ticket=earlier)) == [later.number]


def test_no_place_means_no_candidates(session):
    make_ticket(session)
    session.flush()
    assert find_duplicates(session, text=LIGHT) == []


def test_similarity_is_symmetric_in_spirit_and_bounded():
    same = duplicates.similarities(LIGHT, [LIGHT, LIGHT_AGAIN, "社保断缴怎么补缴"])
    assert same[0] == pytest.approx(1.0) and duplicates.THRESHOLD < same[1] < 1 and same[2] == 0.0


def test_api_for_an_operator(client, login, session):
    earlier = aged(make_ticket(session), 2)
    later = make_ticket(session, content=LIGHT_AGAIN)
    session.flush()
    r = client.post("/api/v1/routing/duplicates", json={"text": LIGHT_AGAIN, "address": "容桂高黎社区桂洲大道东"}, headers=login("t_operator"))
    assert r.status_code == 200, r.text
    got = r.json()["candidates"]
    assert [c["number"] for c in got] == [later.number, earlier.number]
    assert got[1]["merge"] == {"action": "merge", "into": earlier.number} and "同一社区" in got[1]["reasons"]

    r = client.get(f"/api/v1/routing/duplicates/{later.number}", headers=login("t_operator"))
    assert r.status_code == 200 and [c["number"] for c in r.json()["candidates"]] == [earlier.number]

    # The hint is the existing merge action, which the console then calls.
    r = client.post(f"/api/v1/tickets/{later.number}/actions/merge", json={"version": later.version, "into": earlier.number}, headers=login("t_operator"))
    assert r.status_code == 200, r.text
    r = client.get(f"/api/v1/routing/duplicates/{earlier.number}", headers=login("t_operator"))
    assert r.json()["candidates"] == []


def test_api_text_locates_the_place_and_region_code_overrides(client, login, session):
    earlier = aged(make_ticket(session), 2)
    session.flush()
    r = client.post("/api/v1/routing/duplicates", json={"text": LIGHT_AGAIN}, headers=login("t_supervisor"))
    assert [c["number"] for c in r.json()["candidates"]] == [earlier.number]
    r = client.post("/api/v1/routing/duplicates", json={"text": LIGHT_AGAIN, "region_code": "440606005"}, headers=login("t_supervisor"))
    assert r.json()["candidates"] == []


def test_api_is_refused_without_login_and_to_units(client, login, session):
    ticket = make_ticket(session)
    session.flush()
    assert client.post("/api/v1/routing/duplicates", json={"text": LIGHT}).status_code == 401
    assert client.get(f"/api/v1/routing/duplicates/{ticket.number}").status_code == 401
    assert client.post("/api/v1/routing/duplicates", json={"text": LIGHT}, headers=login("t_ronggui")).status_code == 403
    r = client.post("/api/v1/routing/duplicates", json={"text": LIGHT, "region_code": "nowhere"}, headers=login("t_operator"))
    assert r.status_code == 404
