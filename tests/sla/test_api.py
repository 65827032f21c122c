"""The time-limit policy API: a save made on top of a colleague's newer version is refused, as on the page."""


def test_a_policy_save_on_top_of_a_newer_version_is_refused(client, login):
    admin = login("t_admin")
    seen = client.get("/api/v1/sla/policy", headers=admin).json()
    theirs = client.put("/api/v1/sla/policy", json={"rules": seen["rules"], "note": "A", "base_version": seen["version"]}, headers=admin)
    assert theirs.status_code == 200 and theirs.json()["version"] == seen["version"] + 1
    mine = client.put("/api/v1/sla/policy", json={"rules": seen["rules"], "note": "B", "base_version": seen["version"]}, headers=admin)
    assert mine.status_code == 409 and mine.json()["error"]["code"] == "sla_policy_changed"
    assert f"第 {seen['version'] + 1} 版" in mine.json()["error"]["message"]
    assert client.get("/api/v1/sla/policy", headers=admin).json()["note"] == "A"


def test_a_policy_field_the_api_does_not_know_is_refused_not_ignored(client, login):
    admin = login("t_admin")
    rules = client.get("/api/v1/sla/policy", headers=admin).json()["rules"]
    response = client.put("/api/v1/sla/policy", json={"rules": rules, "base_versoin": 1}, headers=admin)
    assert response.status_code == 422 and "base_versoin：不支持该字段" in response.json()["error"]["message"]
