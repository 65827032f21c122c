import random

import pytest

from baishitong.routing import service

TOPICS = {
    "城乡建设": ["路灯不亮", "井盖缺失", "道路破损", "排水管道堵塞", "垃圾没人清运", "绿化带", "公共厕所"],
    "劳动和社会保障": ["拖欠工资", "社保断缴", "劳动合同", "工伤认定", "养老保险", "加班费", "失业金"],
    "商贸旅游": ["预付卡退费", "商品质量", "网购纠纷", "缺斤短两", "价格欺诈", "虚假宣传", "商家不退货"],
}


def corpus_csv(per_class: int = 30) -> bytes:
    rng = random.Random(3)
    rows = ["text,label"]
    for i in range(per_class * len(TOPICS)):
        label = list(TOPICS)[i % len(TOPICS)]
        rows.append(f"{'，'.join(rng.sample(TOPICS[label], 3))}，希望尽快处理。,{label}")
    return "\n".join(rows).encode()


@pytest.fixture(autouse=True)
def mounted(app):
    """Mounts the routing API until routers.include_all does."""
    from baishitong.routing.api import router

    if not any(getattr(r, "path", "") == "/api/v1/routing/suggest" for r in app.routes):
        app.include_router(router)


@pytest.fixture
def model(session):
    service.ensure_default_catalogue(session)
    return service.train_from_file(session, data=corpus_csv(), filename="t.csv", text_columns=["text"], label_column="label", actor="test")


def test_suggest(client, login, model):
    body = {"text": "路灯不亮，井盖缺失，道路破损。", "address": "容桂街道高黎社区", "type": "投诉"}
    r = client.post("/api/v1/routing/suggest", json=body, headers=login("t_operator"))
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["category"]["code"] == "01" and data["label"] == "城乡建设"
    assert data["lead_unit"]["code"] == "ronggui" and data["region"]["town"]["name"].startswith("容桂")
    assert data["model_version"] == model.version and data["auto_dispatch"] is True
    assert len(data["top3"]) == 3 and data["rule"]["catalogue_version"] == 1
    assert data["evidence"]["locate"]["source"] == "address"


def test_each_candidate_names_its_category_whether_the_model_learnt_names_or_codes(client, login, model, session):
    """Models learnt from a CSV say 城乡建设, those from the database say 0101: integrators get both spelled out."""
    r = client.post("/api/v1/routing/suggest", json={"text": "路灯不亮，井盖缺失，道路破损。"}, headers=login("t_operator"))
    first = r.json()["top3"][0]
    assert first == {"label": "城乡建设", "score": first["score"], "code": "01", "name": "城乡建设", "path": "城乡建设"}
    assert {c["code"] for c in r.json()["top3"]} == {"01", "02", service.reference(session).by_label["商贸旅游"].code}

    by_code = corpus_csv().decode().replace(",城乡建设", ",0101").replace(",劳动和社会保障", ",0201").replace(",商贸旅游", ",目录里没有的分类")
    service.train_from_file(session, data=by_code.encode(), filename="codes.csv", text_columns=["text"], label_column="label", actor="test")
    top3 = client.post("/api/v1/routing/suggest", json={"text": "路灯不亮，井盖缺失，道路破损。"}, headers=login("t_operator")).json()["top3"]
    assert top3[0]["label"] == "0101"
    named = {c["label"]: (c["code"], c["name"], c["path"]) for c in top3}
    assert named == {
        "0101": ("0101", "市政设施", "城乡建设 › 市政设施"),
        "0201": ("0201", "劳动关系", "劳动和社会保障 › 劳动关系"),
        "目录里没有的分类": (None, None, None),
    }


def test_a_unit_model_s_candidates_name_no_category(client, login, session):
    service.ensure_default_catalogue(session)
    by_unit = corpus_csv().decode().replace(",城乡建设", ",ronggui").replace(",劳动和社会保障", ",RSJ").replace(",商贸旅游", ",01")
    service.train_from_file(session, data=by_unit.encode(), filename="units.csv", text_columns=["text"], label_column="label", kind="unit", actor="test")
    top3 = client.post("/api/v1/routing/suggest", json={"text": "拖欠工资，社保断缴。"}, headers=login("t_operator")).json()["top3"]
    assert top3[0]["label"] == "RSJ" and {c["label"] for c in top3} == {"ronggui", "RSJ", "01"}
    assert all(c["code"] is None and c["name"] is None and c["path"] is None for c in top3)


def test_suggest_needs_a_login(client, model):
    r = client.post("/api/v1/routing/suggest", json={"text": "路灯不亮"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"


def test_suggest_with_coordinates_only(client, login, model):
    r = client.post("/api/v1/routing/suggest", json={"text": "拖欠工资，社保断缴。", "location": {"lat": 22.78, "lon": 113.28}}, headers=login("t_ronggui"))
    assert r.status_code == 200 and r.json()["lead_unit"]["code"] == "RSJ"


def test_models_and_activation(client, login, model, session):
    older = model.version
    newer = service.train_from_file(session, data=corpus_csv(per_class=20), filename="t2.csv", text_columns=["text"], label_column="label", actor="test").version
    r = client.get("/api/v1/routing/models", headers=login("t_operator"))
    assert r.status_code == 200 and [m["version"] for m in r.json() if m["active"]] == [newer]
    assert client.post(f"/api/v1/routing/models/{older}/activate", headers=login("t_operator")).status_code == 403
    r = client.post(f"/api/v1/routing/models/{older}/activate", headers=login("t_admin"))
    assert r.status_code == 200 and r.json()["active"] is True
    assert client.post("/api/v1/routing/models/r19990101-9/activate", headers=login("t_admin")).status_code == 404


def test_catalogue_replace(client, login, model):
    current = client.get("/api/v1/routing/catalogue", headers=login("t_ronggui")).json()
    assert current["version"] == 1
    rules = [{"category_prefix": "01", "lead": "@town"}, {"category_prefix": "02", "lead": "RSJ", "keywords": ["工资"], "co_units": ["@town"]}]
    assert client.put("/api/v1/routing/catalogue", json={"rules": rules}, headers=login("t_supervisor")).status_code == 403
    r = client.put("/api/v1/routing/catalogue", json={"rules": rules, "note": "精简"}, headers=login("t_admin"))
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 2 and len(r.json()["rules"]) == 2
    bad = client.put("/api/v1/routing/catalogue", json={"rules": [{"lead": "NOPE"}]}, headers=login("t_admin"))
    assert bad.status_code == 422 and "NOPE" in bad.json()["error"]["message"]
    s = client.post("/api/v1/routing/suggest", json={"text": "拖欠工资，社保断缴。", "address": "容桂街道"}, headers=login("t_operator")).json()
    assert s["lead_unit"]["code"] == "RSJ" and [u["code"] for u in s["co_units"]] == ["ronggui"]


def test_review_queue_and_misroutes(client, login, model):
    body = {
        "type": "咨询",
        "content": "你好，我想问一下这个事情怎么办。",
        "address": "容桂街道",
        "requester": {"name": "陈先生", "phone": "13812345678"},
    }
    number = client.post("/api/v1/tickets", json=body).json()["number"]
    queue = client.get("/api/v1/routing/review", headers=login("t_operator"))
    assert queue.status_code == 200 and number in [item["number"] for item in queue.json()]
    assert client.get("/api/v1/routing/review", headers=login("t_ronggui")).status_code == 403
    ticket = client.get(f"/api/v1/tickets/{number}", headers=login("t_operator")).json()
    assert ticket["routing"]["status"] == "review" and ticket["routing"]["model_version"] == model.version
    assert client.get("/api/v1/routing/misroutes", headers=login("t_operator")).status_code == 403
    report = client.get("/api/v1/routing/misroutes", params={"since": "2020-01-01T00:00:00"}, headers=login("t_supervisor"))
    assert report.status_code == 200 and set(report.json()) == {"since", "total", "by_unit", "by_category"}


def test_locate(client, login):
    r = client.get("/api/v1/routing/locate", params={"text": "容桂街道高黎社区桂洲大道"}, headers=login("t_operator"))
    assert r.status_code == 200
    data = r.json()
    assert data["town"]["name"].startswith("容桂") and data["community"] is not None and data["method"] == "community_name"


def test_suggest_body_matches_its_response_model(client, login, model):
    from baishitong.routing.schemas import SuggestOut

    r = client.post("/api/v1/routing/suggest", json={"text": "路灯不亮，井盖缺失。", "address": "容桂街道"}, headers=login("t_operator"))
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    assert SuggestOut.model_validate(r.json()).model_dump(mode="json") == r.json()


def test_putting_the_same_catalogue_twice_keeps_one_edition(client, login, model):
    rules = [{"category_prefix": "01", "lead": "@town"}, {"category_prefix": "02", "lead": "RSJ", "keywords": ["工资"]}]
    first = client.put("/api/v1/routing/catalogue", json={"rules": rules}, headers=login("t_admin")).json()
    again = client.put("/api/v1/routing/catalogue", json={"rules": rules}, headers=login("t_admin")).json()
    assert again["version"] == first["version"] == 2
    changed = client.put("/api/v1/routing/catalogue", json={"rules": rules[:1]}, headers=login("t_admin")).json()
    assert changed["version"] == 3


def test_the_catalogue_read_can_be_edited_and_put_back_as_it_came(client, login, model):
    """An integrator's GET → change one rule → PUT: the rules come back with their ids, which the save ignores."""
    admin = login("t_admin")
    seen = client.get("/api/v1/routing/catalogue", headers=admin).json()
    rules = seen["rules"]
    rules[0]["note"] = "由接口修改"
    saved = client.put("/api/v1/routing/catalogue", json={"rules": rules, "base_version": seen["version"]}, headers=admin)
    assert saved.status_code == 200, saved.text
    assert saved.json()["version"] == seen["version"] + 1 and saved.json()["rules"][0]["note"] == "由接口修改"
    assert len(saved.json()["rules"]) == len(rules)


def test_a_catalogue_save_on_top_of_a_newer_edition_is_refused(client, login, model):
    admin = login("t_admin")
    seen = client.get("/api/v1/routing/catalogue", headers=admin).json()
    rules = seen["rules"]
    theirs = client.put("/api/v1/routing/catalogue", json={"rules": rules[1:], "note": "删去一条", "base_version": seen["version"]}, headers=admin)
    assert theirs.status_code == 200 and theirs.json()["version"] == seen["version"] + 1
    mine = client.put("/api/v1/routing/catalogue", json={"rules": rules, "note": "B", "base_version": seen["version"]}, headers=admin)
    assert mine.status_code == 409 and mine.json()["error"]["code"] == "catalogue_changed"
    assert f"第 {seen['version'] + 1} 版" in mine.json()["error"]["message"]
    assert len(client.get("/api/v1/routing/catalogue", headers=admin).json()["rules"]) == len(rules) - 1
