import io
from datetime import date

import pytest
from openpyxl import load_workbook

from baishitong.knowledge import service as kb
from tests.conftest import actor


@pytest.fixture
def articles(session):
    admin = actor(session, "t_admin")
    kb.create_article(session, actor=admin, external_id="SB01", title="社会保险卡丢了怎么补办", body="可到镇街社保窗口申请补办，需要携带居民身份证。", status="published", unit_code="RSJ")
    kb.create_article(session, actor=admin, external_id="RG01", title="容桂老旧小区加装电梯", body="加装电梯需业主表决同意。", unit_code="ronggui")
    kb.save_item(session, code="T001", name="社会保障卡补领", department="RSJ", channels=["窗口"], materials=["居民身份证"], fee="不收费", time_limit_days=5, promised_days=0, online_url="/items/T001", description="社会保障卡遗失补领。")


def test_public_search_and_list_show_published_only(client, articles, login):
    hits = client.get("/api/v1/kb/search", params={"q": "社保卡补办", "top": 3}).json()
    assert hits[0]["id"] == "SB01" and hits[0]["url"] == "/kb/SB01"
    assert client.get("/api/v1/kb/search", params={"q": "加装电梯"}).json() == []
    for nonsense in ("asdfgh", "火星移民签证"):
        assert client.get("/api/v1/kb/search", params={"q": nonsense}).json() == [], nonsense
    assert {a["id"] for a in client.get("/api/v1/kb/articles").json()} == {"SB01"}
    assert client.get("/api/v1/kb/articles/RG01").status_code == 404
    unit = client.get("/api/v1/kb/articles", params={"include_drafts": True}, headers=login("t_ronggui")).json()
    assert {a["id"] for a in unit} == {"SB01", "RG01"}
    assert client.get("/api/v1/kb/articles/RG01", headers=login("t_ronggui")).json()["status"] == "draft"


@pytest.fixture
def retired(session, articles):
    admin = actor(session, "t_admin")
    kb.create_article(session, actor=admin, external_id="SB00", title="社会保险卡补办（旧流程）", body="社保卡丢失须先到银行网点挂失，再到区社保局补办。", status="retired", unit_code="RSJ")
    kb.create_article(session, actor=admin, external_id="RG00", title="容桂社保卡补办（旧流程）", body="容桂街道社保卡丢失到街道社保所补办。", status="retired", unit_code="ronggui")


def test_staff_find_retired_articles_only_when_they_ask_and_only_those_they_may_read(client, retired, login):
    """Staff look up what citizens were told before (or an article to publish again); the public, and staff who did
    not ask, still find only the articles in force."""
    def search(headers=None, **params):
        response = client.get("/api/v1/kb/search", params={"q": "社保卡补办", **params}, headers=headers or {})
        assert response.status_code == 200, response.text
        return {h["id"]: h["status"] for h in response.json()}

    assert search() == search(include_retired=True) == {"SB01": "published"}
    assert search(login("t_admin")) == {"SB01": "published"}
    assert search(login("t_admin"), include_retired=True) == {"SB01": "published", "SB00": "retired", "RG00": "retired"}
    assert search(login("t_ronggui_admin"), include_retired=True) == {"SB01": "published", "RG00": "retired"}, "another unit's retired article is not theirs to read"
    assert search(login("t_operator"), include_retired=True) == {"SB01": "published"}, "operators read only what is in force"
    hits = client.get("/api/v1/kb/search", params={"q": "社保卡补办", "include_retired": True}, headers=login("t_admin")).json()
    urls = {h["id"]: h["url"] for h in hits}
    assert (urls["SB01"], urls["SB00"]) == ("/kb/SB01", "/staff/kb/SB00/edit"), "a retired article has no public page to link to"
    # The staff index that now holds the retired articles is not the one the assistant answers from.
    reply = client.post("/api/v1/assistant/ask", json={"question": "社保卡丢了到银行网点挂失吗"}).json()
    assert {c["id"] for c in reply["citations"]} <= {"SB01", "T001"}


def test_an_operator_reads_no_draft_through_the_api_and_another_unit_not_its_history(client, articles, login):
    """Operators answer callers from the knowledge base, so a draft (not approved) is not theirs to read; another
    unit's draft history was open to every staff token."""
    operator = login("t_operator")
    assert {a["id"] for a in client.get("/api/v1/kb/articles", params={"include_drafts": True}, headers=operator).json()} == {"SB01"}
    for path in ("/api/v1/kb/articles/RG01", "/api/v1/kb/articles/RG01/history"):
        refused = client.get(path, headers=operator)
        assert refused.status_code == 404 and refused.json()["error"]["code"] == "article_not_found", path
    assert client.get("/api/v1/kb/articles/RG01/history", headers=login("t_daliang")).status_code == 404
    assert [h["action"] for h in client.get("/api/v1/kb/articles/RG01/history", headers=login("t_ronggui")).json()] == ["create"]
    assert client.get("/api/v1/kb/articles/SB01/history", headers=operator).status_code == 200


def test_edit_with_versions_roles_and_history(client, articles, login):
    body = {"title": "容桂加装电梯指南", "body": "需三分之二业主同意。", "unit_code": "ronggui", "version": 1, "status": "published"}
    assert client.put("/api/v1/kb/articles/RG01", json=body, headers=login("t_operator")).status_code == 403
    saved = client.put("/api/v1/kb/articles/RG01", json=body, headers=login("t_ronggui_admin"))
    assert saved.status_code == 200, saved.text
    assert saved.json()["version"] == 3 and saved.json()["status"] == "published"
    stale = client.put("/api/v1/kb/articles/RG01", json=body, headers=login("t_supervisor"))
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "version_conflict"
    other_unit = client.put("/api/v1/kb/articles/SB01", json=dict(body, unit_code="RSJ", version=1), headers=login("t_ronggui_admin"))
    assert other_unit.status_code == 403 and other_unit.json()["error"]["code"] == "not_own_unit"
    history = client.get("/api/v1/kb/articles/RG01/history", headers=login("t_supervisor")).json()
    assert [h["action"] for h in history] == ["create", "update", "publish"]
    created = client.post("/api/v1/kb/articles", json={"id": "NEW1", "title": "新文章", "body": "内容"}, headers=login("t_admin"))
    assert created.status_code == 201 and created.json()["status"] == "draft"
    assert client.post("/api/v1/kb/articles", json={"id": "NEW1", "title": "重复"}, headers=login("t_admin")).status_code == 409


def test_a_retried_create_with_the_same_idempotency_key_makes_one_draft(client, articles, login):
    admin = {**login("t_admin"), "Idempotency-Key": "kb-new-1"}
    body = {"title": "新生儿入户办理", "body": "携带出生医学证明到派出所办理。"}
    first = client.post("/api/v1/kb/articles", json=body, headers=admin)
    again = client.post("/api/v1/kb/articles", json=body, headers=admin)
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    drafts = client.get("/api/v1/kb/articles", params={"include_drafts": True}, headers=login("t_admin")).json()
    assert [a["title"] for a in drafts].count("新生儿入户办理") == 1
    reused = client.post("/api/v1/kb/articles", json={**body, "title": "新生儿落户"}, headers=admin)
    assert reused.status_code == 409 and reused.json()["error"]["code"] == "idempotency_key_reused"


def test_import_and_export(client, articles, login):
    csv = "id,title,body\nIMP1,居住证办理,在顺德居住满半年可申请居住证。\nSB01,社会保险卡丢了怎么补办,可到镇街社保窗口申请补办，需要携带居民身份证。\n"
    files = {"file": ("kb.csv", csv.encode(), "text/csv")}
    assert client.post("/api/v1/kb/import", files=files, headers=login("t_supervisor")).status_code == 403
    result = client.post("/api/v1/kb/import", files=files, headers=login("t_admin"))
    assert result.json() == {"created": 1, "updated": 0, "unchanged": 1}
    bad = client.post("/api/v1/kb/import", files={"file": ("kb.csv", b"id,name\n1,x\n", "text/csv")}, headers=login("t_admin"))
    assert bad.status_code == 422 and "缺少" in bad.json()["error"]["message"]
    exported = client.get("/api/v1/kb/export", params={"format": "xlsx"}, headers=login("t_admin"))
    rows = list(load_workbook(io.BytesIO(exported.content)).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("id", "title", "body") and {r[0] for r in rows[1:]} >= {"IMP1", "SB01", "RG01"}
    assert client.get("/api/v1/kb/export", params={"format": "csv"}, headers=login("t_admin")).content.startswith(b"\xef\xbb\xbfid,title,body")
    assert client.get("/api/v1/kb/export").status_code == 401


def test_service_items(client, articles):
    assert client.get("/api/v1/items/T001").json()["materials"] == ["居民身份证"]
    assert client.get("/api/v1/items/NOPE").status_code == 404
    hits = client.get("/api/v1/items", params={"q": "社保卡补领"}).json()
    assert hits[0]["id"] == "T001" and hits[0]["item"]["fee"] == "不收费"


def test_a_unit_admins_export_holds_no_other_units_draft(client, articles, login, session, tmp_path):
    kb.create_article(session, actor=actor(session, "t_admin"), external_id="DL01", title="大良草稿", body="未发布", unit_code="daliang")
    session.commit()
    unit_admin = login("t_ronggui_admin")
    exported = client.get("/api/v1/kb/export", params={"format": "csv"}, headers=unit_admin).content.decode("utf-8-sig")
    assert "RG01" in exported and "SB01" in exported and "DL01" not in exported
    listed = client.get("/api/v1/kb/articles", params={"include_drafts": True, "limit": 1000}, headers=unit_admin).json()
    assert {a["id"] for a in listed} == {"RG01", "SB01"}, "the export is what the list shows"
    assert client.get("/api/v1/kb/articles/DL01", headers=login("t_ronggui")).status_code == 404
    everything = client.get("/api/v1/kb/export", params={"format": "csv"}, headers=login("t_admin")).content.decode("utf-8-sig")
    assert all(i in everything for i in ("RG01", "SB01", "DL01"))
    assert kb.export_markdown(session, folder=tmp_path / "md", actor=actor(session, "t_ronggui_admin")) == 2
    assert not (tmp_path / "md" / "DL01.md").exists()


def test_a_unit_admin_putting_another_units_draft_finds_no_article_as_reading_it_does(client, articles, login, session):
    """A 403 not_own_unit told them that another unit's draft of that id exists."""
    admin = actor(session, "t_admin")
    kb.create_article(session, actor=admin, external_id="DL01", title="大良未发布的草稿", body="大良", unit_code="daliang")
    session.commit()
    headers = login("t_ronggui_admin")
    body = {"title": "改别人的", "body": "改", "unit_code": "daliang", "version": 1, "status": "published"}
    for answer in (client.get("/api/v1/kb/articles/DL01", headers=headers), client.put("/api/v1/kb/articles/DL01", json=body, headers=headers)):
        assert answer.status_code == 404 and answer.json()["error"]["code"] == "article_not_found"
    article = kb.get_article(session, external_id="DL01", include_unpublished=True)
    assert (article.title, article.status) == ("大良未发布的草稿", "draft")


def test_a_taken_article_id_names_the_article_only_to_whom_may_read_it(client, articles, login, session):
    """The 409 for an id another unit's draft holds confirmed and named that unpublished draft to a unit admin."""
    kb.create_article(session, actor=actor(session, "t_admin"), external_id="DL01", title="大良未发布的草稿", body="大良", unit_code="daliang")
    session.commit()
    body = {"id": "DL01", "title": "容桂的新文章", "body": "正文", "unit_code": "ronggui"}
    taken = client.post("/api/v1/kb/articles", json=body, headers=login("t_ronggui_admin"))
    assert taken.status_code == 409 and taken.json()["error"]["code"] == "article_exists"
    assert "DL01" not in taken.text and "大良未发布的草稿" not in taken.text and "其他单位" in taken.json()["error"]["message"]
    for taken_id, who in (("RG01", "t_ronggui_admin"), ("SB01", "t_ronggui_admin"), ("DL01", "t_admin")):
        seen = client.post("/api/v1/kb/articles", json={**body, "id": taken_id}, headers=login(who))
        assert seen.status_code == 409 and seen.json()["error"]["message"] == f"知识库文章 {taken_id} 已存在", (taken_id, who)


def test_an_operator_lists_only_articles_in_force_and_reads_only_published_versions(client, articles, login, session):
    """A hotline operator reads an article out to a caller as current policy: an expired one was listed to them,
    and a published article's history showed them the drafts before it."""
    admin = actor(session, "t_admin")
    kb.create_article(session, actor=admin, external_id="OLD1", title="2020年社保补贴标准", body="旧标准", status="published", valid_to=date(2020, 12, 31))
    kb.create_article(session, actor=admin, external_id="YB01", title="医保报销比例", body="初稿：报销七成", unit_code="RSJ")
    kb.update_article(session, external_id="YB01", version=1, actor=admin, title="医保报销比例", body="审定：报销六成", unit_code="RSJ")
    kb.publish(session, external_id="YB01", actor=admin)
    session.commit()
    operator = login("t_operator")
    listed = client.get("/api/v1/kb/articles", params={"include_drafts": True}, headers=operator).json()
    assert {a["id"] for a in listed} == {"SB01", "YB01"}
    opened = client.get("/api/v1/kb/articles/OLD1", headers=operator).json()
    assert opened["validity_note"] == "已过期"
    assert client.get("/api/v1/kb/articles/SB01", headers=operator).json()["validity_note"] is None
    versions = client.get("/api/v1/kb/articles/YB01/history", headers=operator).json()
    assert [(v["version"], v["status"]) for v in versions] == [(3, "published")] and "七成" not in str(versions)
    assert len(client.get("/api/v1/kb/articles/YB01/history", headers=login("t_supervisor")).json()) == 3
    assert "OLD1" in {a["id"] for a in client.get("/api/v1/kb/articles", params={"include_drafts": True}, headers=login("t_supervisor")).json()}


def test_the_public_list_shows_the_last_updated_first_and_pages_through_without_repeats(client, session, monkeypatch):
    """The list was sorted by id: a newly published article was somewhere in the middle of the last page."""
    admin = actor(session, "t_admin")
    monkeypatch.setenv("BAISHITONG_FAKE_NOW", "2026-03-01T08:00:00+08:00")
    for n in range(5):  # one import: saved in the same instant
        kb.create_article(session, actor=admin, external_id=f"a-{n}", title=f"旧文章 {n}", body="正文", status="published")
    monkeypatch.setenv("BAISHITONG_FAKE_NOW", "2026-03-02T08:00:00+08:00")
    kb.create_article(session, actor=admin, external_id="0-new", title="新发布的文章", body="正文", status="published")
    monkeypatch.setenv("BAISHITONG_FAKE_NOW", "2026-03-03T08:00:00+08:00")
    kb.update_article(session, external_id="a-2", version=1, actor=admin, title="刚修改的旧文章", body="新正文")
    session.commit()
    monkeypatch.delenv("BAISHITONG_FAKE_NOW")
    ids = [a["id"] for a in client.get("/api/v1/kb/articles").json()]
    assert ids == ["a-2", "0-new", "a-4", "a-3", "a-1", "a-0"]
    paged = [a["id"] for offset in (0, 2, 4) for a in client.get("/api/v1/kb/articles", params={"limit": 2, "offset": offset}).json()]
    assert paged == ids
    described = client.get("/openapi.json").json()["paths"]["/api/v1/kb/articles"]["get"]["description"]
    assert "最近更新" in described and "后创建的在前" in described
