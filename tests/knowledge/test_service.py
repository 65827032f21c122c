import io
from datetime import timedelta

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from baishitong.audit import service as audit
from baishitong.audit.models import AuditEntry
from baishitong.errors import Conflict, Forbidden, InvalidInput, NotFound
from baishitong.jobs.models import OutboxJob
from baishitong.jobs.registry import run_handler
from baishitong.knowledge import service as kb
from baishitong.notify.models import Message
from tests.conftest import actor

ARTICLES = [
    {"id": "SB01", "title": "社会保险卡丢了怎么补办", "body": "社会保险卡遗失后，可到镇街社保窗口申请补办，需要携带本人居民身份证。", "keywords": "社保卡、补办"},
    {"id": "GJJ01", "title": "住房公积金提取指南", "body": "职工购买自住住房，可以申请提取住房公积金，需要购房合同和身份证。", "keywords": "公积金、提取"},
    {"id": "HK01", "title": "户口迁入顺德需要什么条件", "body": "符合条件的人员可以申请户口迁入，需要提供居民身份证和户口簿。", "keywords": "落户"},
]


def csv_bytes(rows: list[dict], columns=("id", "title", "body", "keywords")) -> bytes:
    lines = [",".join(columns)] + [",".join(r.get(c, "") for c in columns) for r in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


@pytest.fixture
def admin(session):
    return actor(session, "t_admin")


def publish_all(session, admin, rows=ARTICLES):
    return kb.import_rows(session, rows=[dict(r) for r in rows], actor=admin)


def test_each_save_is_a_version_and_a_stale_version_conflicts(session, admin):
    article = kb.create_article(session, actor=admin, external_id="T1", title="初稿", body="正文一")
    assert article.version == 1 and article.status == "draft"
    kb.update_article(session, external_id="T1", version=1, actor=admin, title="二稿", body="正文二")
    with pytest.raises(Conflict) as stale:
        kb.update_article(session, external_id="T1", version=1, actor=admin, title="过期的编辑", body="x")
    assert stale.value.status_code == 409
    kb.publish(session, external_id="T1", actor=admin, version=2)
    versions = kb.history(session, external_id="T1")
    assert [(v.version, v.action, v.title, v.status) for v in versions] == [
        (1, "create", "初稿", "draft"),
        (2, "update", "二稿", "draft"),
        (3, "publish", "二稿", "published"),
    ]
    assert versions[1].body == "正文二" and versions[1].saved_by == "t_admin"


def test_every_saved_version_is_in_the_audit_trail_without_its_text(session, admin):
    """Edits, publishing, retiring and imports were only in the version table, outside the hash-chained trail."""
    kb.create_article(session, actor=admin, external_id="T1", title="初稿", body="正文一")
    kb.update_article(session, external_id="T1", version=1, actor=admin, title="二稿", body="正文二")
    kb.publish(session, external_id="T1", actor=admin, version=2)
    kb.retire(session, external_id="T1", actor=actor(session, "t_supervisor"), version=3)
    kb.import_file(session, filename="kb.csv", content=csv_bytes(ARTICLES[:1]), actor=admin)
    session.commit()
    entries = session.scalars(select(AuditEntry).where(AuditEntry.object_type == "kb_article").order_by(AuditEntry.id)).all()
    assert [(e.actor, e.action, e.object_id, e.data["version"], e.data["status"]) for e in entries] == [
        ("t_admin", "kb_article.create", "T1", 1, "draft"),
        ("t_admin", "kb_article.update", "T1", 2, "draft"),
        ("t_admin", "kb_article.publish", "T1", 3, "published"),
        ("t_supervisor", "kb_article.retire", "T1", 4, "retired"),
        ("t_admin", "kb_article.import", "SB01", 1, "published"),
    ]
    assert all(e.seq is not None for e in entries) and audit.verify(session).ok, "chained like every other change"
    logged = "".join(str(e.data) for e in entries)
    assert "正文" not in logged and ARTICLES[0]["body"] not in logged


def test_unit_admin_edits_only_own_unit(session):
    unit_admin = actor(session, "t_ronggui_admin")
    kb.create_article(session, actor=unit_admin, external_id="RG1", title="容桂办事指南", unit_code="ronggui")
    with pytest.raises(Forbidden):
        kb.create_article(session, actor=unit_admin, external_id="DL1", title="大良办事指南", unit_code="daliang")
    with pytest.raises(Forbidden):
        kb.create_article(session, actor=actor(session, "t_ronggui"), external_id="RG2", title="承办人不能写", unit_code="ronggui")


def test_csv_import_is_idempotent_and_reports_counts(session, admin):
    first = kb.import_file(session, filename="kb.csv", content=csv_bytes(ARTICLES), actor=admin)
    assert first.as_dict() == {"created": 3, "updated": 0, "unchanged": 0, "stale": []}
    again = kb.import_file(session, filename="kb.csv", content=csv_bytes(ARTICLES), actor=admin)
    assert again.as_dict() == {"created": 0, "updated": 0, "unchanged": 3, "stale": []}
    changed = [dict(ARTICLES[0], body="社会保险卡遗失后可在粤省事线上补办。"), *ARTICLES[1:]]
    third = kb.import_file(session, filename="kb.csv", content=csv_bytes(changed), actor=admin)
    assert third.as_dict() == {"created": 0, "updated": 1, "unchanged": 2, "stale": []}
    article = kb.get_article(session, external_id="SB01")
    assert article.version == 2 and article.status == "published" and article.keywords == ["社保卡", "补办"]


def test_exported_csv_imports_back_unchanged(session, admin):
    publish_all(session, admin)
    result = kb.import_file(session, filename="export.csv", content=kb.export_csv(session), actor=admin)
    assert result.created == 0 and result.updated == 0 and result.unchanged >= 3


def test_an_export_keeps_statuses_and_cannot_undo_a_later_edit(session, admin):
    publish_all(session, admin)
    kb.retire(session, external_id="SB01", actor=admin)
    exported = kb.export_csv(session)
    article = kb.get_article(session, external_id="GJJ01", include_unpublished=True)
    fields = {name: getattr(article, name) for name in kb.ARTICLE_FIELDS} | {"body": "公积金提取改为全程网办。"}
    kb.update_article(session, external_id="GJJ01", version=article.version, actor=admin, **fields)
    edited_in_the_file = exported.decode("utf-8-sig").replace("需要购房合同和身份证", "需要购房合同").encode()
    result = kb.import_file(session, filename="old-export.csv", content=edited_in_the_file, actor=admin)
    assert result.stale == ["GJJ01"] and "跳过 1 篇" in result.summary()
    assert kb.get_article(session, external_id="GJJ01", include_unpublished=True).body == "公积金提取改为全程网办。"
    elsewhere = exported.decode("utf-8-sig").replace("SB01", "SB09").encode()
    kb.import_file(session, filename="into-another.csv", content=elsewhere, actor=admin)
    assert kb.get_article(session, external_id="SB09", include_unpublished=True).status == "retired"


def test_xlsx_import_and_missing_columns(session, admin):
    workbook = Workbook()
    workbook.active.append(["编号", "标题", "正文", "单位"])
    workbook.active.append([1001, "老年人优待证办理", "年满60周岁的本区户籍老人可申请优待证。", "ronggui"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert kb.import_file(session, filename="kb.xlsx", content=buffer.getvalue(), actor=admin).created == 1
    assert kb.get_article(session, external_id="1001").unit_code == "ronggui"
    with pytest.raises(InvalidInput) as missing:
        kb.import_file(session, filename="bad.csv", content="id,title\nX,标题\n".encode(), actor=admin)
    assert "body" in missing.value.message and "缺少" in missing.value.message


def test_markdown_folder_import(session, admin, tmp_path):
    (tmp_path / "jzz.md").write_text("# 居住证怎么办理\n\n在顺德居住满半年，可以申请**居住证**。\n", "utf-8")
    (tmp_path / "ylbx.md").write_text("---\nunit: RSJ\nkeywords: 养老, 退休\n---\n# 养老保险怎么缴\n\n灵活就业人员可以按月缴纳。\n", "utf-8")
    result = kb.import_path(session, path=tmp_path, actor=admin)
    assert result.created == 2
    jzz = kb.get_article(session, external_id="jzz")
    assert jzz.title == "居住证怎么办理" and jzz.body.startswith("在顺德居住满半年")
    ylbx = kb.get_article(session, external_id="ylbx")
    assert ylbx.unit_code == "RSJ" and ylbx.keywords == ["养老", "退休"]
    assert kb.import_path(session, path=tmp_path, actor=admin).unchanged == 2


def test_search_matches_synonyms_and_sees_new_articles(session, admin):
    publish_all(session, admin)
    assert kb.search(session, query="社保卡丢了", top_k=3)[0].id == "SB01"
    assert kb.search(session, query="社会保障卡补办", top_k=3)[0].id == "SB01"
    kb.create_article(session, actor=admin, external_id="JZ01", title="居住证签注", body="居住证每年签注一次。", status="published")
    assert kb.search(session, query="居住证签注", top_k=1)[0].id == "JZ01"


def test_drafts_and_expired_articles_are_not_public(session, admin):
    today = kb.today()
    kb.create_article(session, actor=admin, external_id="D1", title="残疾人证办理草稿", body="草稿内容")
    kb.create_article(session, actor=admin, external_id="E1", title="残疾人补贴旧政策", body="旧政策", status="published", valid_to=today - timedelta(days=1))
    kb.create_article(session, actor=admin, external_id="F1", title="残疾人补贴新政策", body="新政策", status="published", valid_from=today + timedelta(days=3))
    assert kb.search(session, query="残疾人", top_k=5) == []
    assert {h.id for h in kb.search(session, query="残疾人", top_k=5, include_unpublished=True)} == {"D1", "E1", "F1"}
    assert [a.external_id for a in kb.list_articles(session)] == []
    with pytest.raises(Exception):
        kb.get_article(session, external_id="D1")


def test_review_reminders_notify_the_unit_once_per_due_date(session, admin):
    today = kb.today()
    kb.create_article(session, actor=admin, external_id="R1", title="容桂停车收费标准", unit_code="ronggui", status="published", review_due=today + timedelta(days=5))
    kb.create_article(session, actor=admin, external_id="R2", title="远期复核", unit_code="ronggui", status="published", review_due=today + timedelta(days=40))
    assert kb.review_reminders(session, today=today) == 1
    assert kb.review_reminders(session, today=today + timedelta(days=1)) == 0
    jobs = session.scalars(select(OutboxJob).where(OutboxJob.name == kb.REVIEW_JOB)).all()
    assert len(jobs) == 1
    run_handler(session, jobs[0].name, jobs[0].payload)
    messages = session.scalars(select(Message).where(Message.template_code == "kb_review_due")).all()
    assert messages and {m.recipient for m in messages} >= {"t_ronggui_admin"}
    assert "容桂停车收费标准" in messages[0].body


def test_service_items_and_demo_load(session):
    counts = kb.load_demo(session)
    assert counts["items"] > 10 and counts["articles"] > 10
    assert kb.load_demo(session) == {"items": 0, "articles": 0}
    item = kb.get_item(session, code="GA001")
    assert "居民户口簿" in item.materials
    assert kb.search_items(session, query="身份证换领", top_k=1)[0].id == "GA001"


@pytest.mark.parametrize(
    ("question", "item"),
    [("身份证丢了怎么补办", "GA002"), ("身份证过期了怎么换", "GA001"), ("社保卡丢了怎么补办", "RS002"), ("驾驶证到期了怎么换", None)],
)
def test_guide_finds_the_item_a_citizen_names_though_most_items_ask_for_an_id_card(session, question, item):
    kb.load_demo(session)
    best = kb.search_items(session, query=question, top_k=1)[0].id
    if item:
        assert best == item
    else:
        assert kb.get_item(session, code=best).name.startswith("机动车驾驶证")


def test_an_edit_reanalyses_only_that_article_and_search_sees_it_at_once(session, admin, monkeypatch):
    from baishitong.knowledge.search import SearchIndex

    publish_all(session, admin)
    before = kb.article_index(session)
    assert kb.search(session, query="公积金提取")[0].id == "GJJ01"
    analysed: list[str] = []
    original = SearchIndex._analyze_doc
    monkeypatch.setattr(SearchIndex, "_analyze_doc", lambda self, doc: analysed.append(doc["id"]) or original(self, doc))

    gjj = kb.get_article(session, external_id="GJJ01")
    kb.update_article(session, external_id="GJJ01", version=gjj.version, actor=admin, title="住房公积金提取指南", body="职工租房也可以提取住房公积金，凭租赁合同办理。")
    assert kb.search(session, query="租赁合同")[0].id == "GJJ01"
    assert kb.article_index(session) is before and analysed == ["GJJ01"]

    kb.retire(session, external_id="HK01", actor=admin)
    assert all(hit.id != "HK01" for hit in kb.search(session, query="户口迁入"))


def test_an_import_row_with_an_unknown_category_is_refused_by_its_line(session):
    from baishitong.actors import SYSTEM

    rows = [{"id": "OK1", "title": "已知分类", "body": "正文", "category": ""}, {"id": "BAD1", "title": "未知分类", "body": "正文", "category": "999999"}]
    with pytest.raises(InvalidInput, match=r"第 3 行（id BAD1）：分类编码 999999 不存在"):
        kb.import_rows(session, rows=rows, actor=SYSTEM)


def test_an_import_row_with_an_overlong_title_or_an_unknown_unit_is_refused_by_its_line(session, admin):
    """PostgreSQL refused such a row only at the database (a page saying the input was out of range, no row
    named); SQLite stored it, and an article of an unknown unit is listed under a code no one can filter by."""
    long_title = [{"id": "LONG1", "title": "关于" * 101, "body": "正文"}]
    with pytest.raises(InvalidInput, match=r"第 2 行（id LONG1）：文章标题不能超过 200 个字"):
        kb.import_rows(session, rows=long_title, actor=admin)
    unknown_unit = [{"id": "OK1", "title": "已知单位", "body": "正文", "unit": "GJJ"}, {"id": "UNIT1", "title": "未知单位", "body": "正文", "unit": "NOPE"}]
    with pytest.raises(InvalidInput, match=r"第 3 行（id UNIT1）：单位编码 NOPE 不存在"):
        kb.import_rows(session, rows=unknown_unit, actor=admin)


def test_validity_and_review_dates_edited_in_an_exported_sheet_are_imported(session, admin):
    """The export has 失效日期 and 复核日期 columns; changed in Excel and imported back they were ignored,
    the import saying 未变 while the article kept its old dates."""
    from datetime import date, datetime

    publish_all(session, admin)
    exported = load_workbook(io.BytesIO(kb.export_xlsx(session)))
    sheet = exported.active
    header = [c.value for c in sheet[1]]
    assert {"valid_from", "valid_to", "review_due"} <= set(header)
    for row in sheet.iter_rows(min_row=2):
        if row[0].value == "SB01":
            row[header.index("valid_to")].value = datetime(2027, 6, 30)  # as Excel stores a date typed in a cell
            row[header.index("review_due")].value = "2027-03-01"
    buffer = io.BytesIO()
    exported.save(buffer)
    result = kb.import_file(session, filename="kb.xlsx", content=buffer.getvalue(), actor=admin)
    assert result.updated == 1
    article = kb.get_article(session, external_id="SB01")
    assert (article.valid_to, article.review_due) == (date(2027, 6, 30), date(2027, 3, 1))
    assert kb.import_file(session, filename="export.csv", content=kb.export_csv(session), actor=admin).updated == 0
    bad = "id,title,body,失效日期\nSB01,社会保险卡丢了怎么补办,正文,2027-02-30\n".encode()
    with pytest.raises(InvalidInput, match=r"第 2 行（id SB01）：失效日期不存在"):
        kb.import_file(session, filename="bad.csv", content=bad, actor=admin)


@pytest.mark.parametrize("title", ["\u200b", "\u200f\u200b\ufeff", "  \u2060 "])
def test_an_article_whose_title_is_only_invisible_characters_is_refused(session, admin, title):
    """strip() keeps zero-width spaces, marks and BOMs: such a title would list the article with nothing to read."""
    with pytest.raises(InvalidInput) as refused:
        kb.create_article(session, actor=admin, external_id="T9", title=title, body="正文")
    assert refused.value.code == "title_required"
    assert kb.create_article(session, actor=admin, external_id="T9", title="\u200b社保卡补办", body="正文").title


def test_an_article_saved_from_the_browser_goes_through_an_excel_round_trip_unchanged(session, admin):
    """A textarea sends its lines as CRLF, and Excel keeps only LF: an article once saved in the editor came
    back from its own exported sheet as 更新 1 篇, with a new version that changed nothing anyone could see."""
    article = kb.create_article(session, actor=admin, external_id="CR1", title="犬只登记", body="## 办理条件\r\n- 已接种狂犬疫苗\r\n- 佩戴犬牌", status="published")
    assert "\r" not in article.body
    result = kb.import_file(session, filename="kb.xlsx", content=kb.export_xlsx(session), actor=admin)
    assert (result.created, result.updated, result.unchanged) == (0, 0, 1)
    assert kb.get_article(session, external_id="CR1").version == 1


def test_saving_an_article_without_changing_it_adds_no_version(session, admin):
    """Saving the editor as it was opened added a version identical to the one before, so the history filled
    with versions in which nothing had changed."""
    article = kb.create_article(session, actor=admin, external_id="NC1", title="初稿", body="第一行\n第二行", keywords="社保、补办")
    fields = {name: getattr(article, name) for name in kb.ARTICLE_FIELDS} | {"body": "第一行\r\n第二行", "keywords": "社保，补办"}
    saved = kb.update_article(session, external_id="NC1", version=1, actor=admin, **fields)
    assert saved.version == 1 and [v.version for v in kb.history(session, external_id="NC1")] == [1]


def test_a_status_changed_in_an_exported_sheet_is_imported(session, admin):
    """The sheet has a 状态 column and the import page lists it, yet an article marked 已下线 in the file stayed
    published, the import saying 未变: a retired policy kept being answered to citizens."""
    publish_all(session, admin)
    exported = kb.export_csv(session).decode("utf-8-sig")
    edited = exported.replace(",published,", ",已下线,", 1)  # the first row is SB01's neighbour in id order: GJJ01
    result = kb.import_file(session, filename="export.csv", content=edited.encode("utf-8-sig"), actor=admin)
    assert (result.updated, result.unchanged) == (1, 2)
    retired = kb.get_article(session, external_id="GJJ01", include_unpublished=True)
    assert retired.status == "retired" and kb.history(session, external_id="GJJ01")[-1].action == "retire"
    assert kb.import_file(session, filename="again.csv", content=kb.export_csv(session), actor=admin).updated == 0
    old = kb.import_file(session, filename="export.csv", content=exported.encode("utf-8-sig"), actor=admin)
    assert old.stale == ["GJJ01"], "the file exported before the retirement cannot publish it again"
    assert kb.get_article(session, external_id="GJJ01", include_unpublished=True).status == "retired"


def test_a_markdown_folder_export_keeps_status_and_dates_when_imported(session, admin, tmp_path):
    """`kb export --out folder` wrote the status but the import never read it, and left out the dates: a
    retired article with an end date came back from its own file published, for good."""
    from datetime import date

    kb.create_article(session, actor=admin, external_id="OLD1", title="旧补贴政策", body="已停止受理。", status="published", valid_from=date(2025, 1, 1), valid_to=date(2025, 12, 31), review_due=date(2025, 6, 1))
    kb.retire(session, external_id="OLD1", actor=admin)
    assert kb.export_markdown(session, folder=tmp_path / "out") == 1
    exported = (tmp_path / "out" / "OLD1.md").read_text("utf-8")
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "OLD2.md").write_text(exported, "utf-8")  # the same file under another id, as into a new system
    assert kb.import_path(session, path=tmp_path / "in", actor=admin).created == 1
    copy = kb.get_article(session, external_id="OLD2", include_unpublished=True)
    assert copy.status == "retired"
    assert (copy.valid_from, copy.valid_to, copy.review_due) == (date(2025, 1, 1), date(2025, 12, 31), date(2025, 6, 1))
    assert kb.import_path(session, path=tmp_path / "out", actor=admin).unchanged == 1


def test_who_reads_which_article_is_one_rule_for_every_way_of_reading(session, admin):
    """Who sees what, stated once in `visible_to`, over every role × status × unit: a unit's staff their own unit's
    articles in every status and other units' published ones; an operator (no unit, answers callers from the
    knowledge base) published articles only, since a draft is not approved content; admins and supervisors all.
    The single article, its history, the list, the export and the staff search must all agree with it."""
    statuses, units = ("draft", "published", "retired"), ("ronggui", "daliang", None)
    for status in statuses:
        for unit in units:
            kb.create_article(session, actor=admin, external_id=f"{status}-{unit}", title=f"养犬登记须知 {status} {unit}", body="养犬登记办理。", unit_code=unit, status=status)

    def expected(role: str, own: str | None, status: str, unit: str | None) -> bool:
        if role in ("admin", "supervisor"):
            return True
        return status == "published" or (role in ("handler", "unit_admin") and unit == own)

    everyone = (
        ("t_admin", "admin", None), ("t_supervisor", "supervisor", None), ("t_operator", "operator", None),
        ("t_ronggui", "handler", "ronggui"), ("t_ronggui_admin", "unit_admin", "ronggui"), ("t_daliang", "handler", "daliang"),
    )  # fmt: skip
    for username, role, own in everyone:
        viewer = actor(session, username)
        wanted = {f"{s}-{u}" for s in statuses for u in units if expected(role, own, s, u)}
        assert {a.external_id for a in kb.list_articles(session, include_unpublished=True, limit=None, viewer=viewer)} == wanted, username
        assert kb.article_ids(session, include_unpublished=True, viewer=viewer) == wanted, username
        assert {row[0] for row in kb.export_rows(session, actor=viewer)[1:]} == wanted, username
        for status in statuses:
            for unit in units:
                external_id = f"{status}-{unit}"
                try:
                    kb.get_article(session, external_id=external_id, include_unpublished=True, viewer=viewer)
                    kb.history(session, external_id=external_id, viewer=viewer)
                    seen = True
                except NotFound:
                    seen = False
                assert seen == (external_id in wanted), (username, external_id)
        among = kb.article_ids(session, include_unpublished=True, viewer=viewer)
        found = {h.id for h in kb.search(session, query="养犬登记", top_k=50, include_unpublished=True, among=among, cut_tail=False)}
        assert found == {i for i in wanted if not i.startswith("retired")}, username  # retired articles are never searched
