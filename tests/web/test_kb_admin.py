"""知识库管理 pages: edit with version checks, publish to the public search, unit ownership, history, import, gaps."""

import re
from datetime import date


from baishitong.knowledge import service as kb
from tests.conftest import actor
from tests.web.test_pages import login, token



def article_form(page: str, **overrides) -> dict:
    data = {
        "csrf_token": token(page),
        "title": "犬只登记办理指南",
        "body": "## 办理条件\n- 已接种狂犬疫苗\n- 佩戴犬牌",
        "category_code": "",
        "unit_code": "",
        "keywords": "养狗、犬证",
        "synonyms": "狗证",
        "valid_from": "",
        "valid_to": "",
        "review_due": "",
        "status": "draft",
    }
    version = re.search(r'name="version" value="(\d+)"', page)
    if version:
        data["version"] = version.group(1)
    data.update(overrides)
    return data


def test_create_edit_stale_edit_publish_and_public_search(web, session):
    login(web, "t_admin")
    page = web.get("/staff/kb/new")
    created = web.post("/staff/kb/new", data=article_form(page.text, external_id="dog-01"), follow_redirects=False)
    assert created.status_code == 303 and created.headers["location"] == "/staff/kb/dog-01/edit"
    assert "犬只登记" in web.get("/staff/kb?q=犬证").text, "drafts are found by staff search"
    assert "未找到与“asdfgh”相关的文章" in web.get("/staff/kb?q=asdfgh").text
    assert "dog-01" not in web.get("/kb?q=犬证").text

    editor = web.get("/staff/kb/dog-01/edit").text
    stale = article_form(editor)
    saved = web.post("/staff/kb/dog-01/edit", data=article_form(editor, body="## 办理条件\n- 已接种狂犬疫苗\n- 需提供住址证明"), follow_redirects=False)
    assert saved.status_code == 303
    assert kb.get_article(session, external_id="dog-01", include_unpublished=True).version == 2

    conflict = web.post("/staff/kb/dog-01/edit", data={**stale, "body": "我的修改：新增收费标准 50 元"})
    assert conflict.status_code == 409
    assert "文章已被修改（可能是您在其他窗口的操作或他人的操作）：下方并列显示最新版本和您的修改" in conflict.text
    assert "我的修改：新增收费标准 50 元" in conflict.text and "需提供住址证明" in conflict.text
    assert kb.get_article(session, external_id="dog-01", include_unpublished=True).body.endswith("需提供住址证明")

    editor = web.get("/staff/kb/dog-01/edit").text
    version = re.search(r'name="version" value="(\d+)"', editor).group(1)
    published = web.post("/staff/kb/dog-01/status", data={"csrf_token": token(editor), "version": version, "status": "published"}, follow_redirects=False)
    assert published.status_code == 303
    after = web.get("/staff/kb/dog-01/edit").text
    assert "》已发布" in after and "已已" not in after
    public = web.get("/kb?q=犬证").text
    assert "/kb/dog-01" in public


def test_preview_renders_markdown_escaped(web):
    login(web, "t_supervisor")
    page = web.get("/staff/kb/new").text
    preview = web.post("/staff/kb/preview", data={"csrf_token": token(page), "body": "## 材料\n- **身份证**\n<script>x</script>"}, headers={"HX-Request": "true"})
    assert "<h3>材料</h3>" in preview.text and "<strong>身份证</strong>" in preview.text
    assert "<script>" not in preview.text and "&lt;script&gt;" in preview.text


def test_unit_admin_edits_only_own_unit(web, session):
    admin = actor(session, "t_admin")
    kb.create_article(session, actor=admin, external_id="dl-01", title="大良街道办事指南", unit_code="daliang", body="大良", status="published")
    kb.create_article(session, actor=admin, external_id="rg-01", title="容桂街道办事指南", unit_code="ronggui", body="容桂")
    session.commit()
    login(web, "t_ronggui_admin")
    listing = web.get("/staff/kb").text
    assert 'href="/staff/kb/rg-01/edit"' in listing and 'href="/staff/kb/dl-01/edit"' not in listing
    # Another unit's published article is theirs to read, not to edit.
    forbidden = web.get("/staff/kb/dl-01/edit")
    assert forbidden.status_code == 403 and "单位管理员只能编辑本单位" in forbidden.text
    own = web.get("/staff/kb/rg-01/edit")
    assert own.status_code == 200
    other = web.post("/staff/kb/dl-01/edit", data=article_form(own.text, title="改别人的", version="1"))
    assert other.status_code == 403
    assert kb.get_article(session, external_id="dl-01", include_unpublished=True).title == "大良街道办事指南"
    # A unit admin's new article always belongs to their unit, whatever the form says.
    created = web.post("/staff/kb/new", data=article_form(own.text, external_id="rg-02", unit_code="daliang"), follow_redirects=False)
    assert created.status_code == 303
    assert kb.get_article(session, external_id="rg-02", include_unpublished=True).unit_code == "ronggui"


def test_editing_another_units_draft_finds_no_article_as_reading_it_does(web, session):
    """A 403 "只能编辑本单位" told a unit admin that another unit's draft of that number exists."""
    admin = actor(session, "t_admin")
    kb.create_article(session, actor=admin, external_id="dl-draft", title="大良未发布的草稿", unit_code="daliang", body="大良")
    kb.create_article(session, actor=admin, external_id="rg-01", title="容桂街道办事指南", unit_code="ronggui", body="容桂")
    session.commit()
    login(web, "t_ronggui_admin")
    own = web.get("/staff/kb/rg-01/edit").text
    attempts = {
        "edit page": web.get("/staff/kb/dl-draft/edit"),
        "edit": web.post("/staff/kb/dl-draft/edit", data=article_form(own, title="改别人的", version="1")),
        "publish": web.post("/staff/kb/dl-draft/status", data={"csrf_token": token(own), "status": "published", "version": "1"}),
        "reading": web.get("/staff/kb/dl-draft/history"),
    }
    for what, answer in attempts.items():
        assert answer.status_code == 404, what
        assert "单位管理员只能编辑本单位" not in answer.text and "大良未发布的草稿" not in answer.text, what
    article = kb.get_article(session, external_id="dl-draft", include_unpublished=True)
    assert (article.title, article.status, article.version) == ("大良未发布的草稿", "draft", 1)


def test_operator_reads_published_articles_only_and_cannot_edit(web, session):
    """Operators answer callers from the knowledge base: they read every unit's drafts, content nobody had approved."""
    admin = actor(session, "t_admin")
    kb.create_article(session, actor=admin, external_id="op-01", title="只读文章", body="正文", status="published")
    kb.create_article(session, actor=admin, external_id="op-draft", title="未审定的草稿文章", body="正文", unit_code="ronggui")
    kb.create_article(session, actor=admin, external_id="op-old", title="已下线的旧文章", body="正文", status="retired")
    session.commit()
    login(web, "t_operator")
    listing = web.get("/staff/kb")
    assert listing.status_code == 200 and "只读文章" in listing.text and "/staff/kb/op-01/edit" not in listing.text
    assert "未审定的草稿文章" not in listing.text and "已下线的旧文章" not in listing.text
    assert "未审定的草稿文章" not in web.get("/staff/kb?q=文章").text and "只读文章" in web.get("/staff/kb?q=文章").text
    assert web.get("/staff/kb/new").status_code == 403
    assert web.get("/staff/kb/op-01/history").status_code == 200
    assert web.get("/staff/kb/op-draft/history").status_code == 404
    login(web, "t_ronggui")
    assert web.get("/staff/kb").status_code == 403


def test_history_lists_versions_and_shows_an_old_one(web, session):
    admin = actor(session, "t_admin")
    kb.create_article(session, actor=admin, external_id="h-01", title="第一稿标题", body="最初的正文")
    kb.update_article(session, external_id="h-01", version=1, actor=admin, title="第二稿标题", body="修改后的正文")
    kb.publish(session, external_id="h-01", actor=admin)
    session.commit()
    login(web, "t_supervisor")
    page = web.get("/staff/kb/h-01/history").text
    assert all(f"第 {n} 版" in page for n in (1, 2, 3))
    assert "新建" in page and "修改" in page and "发布" in page and "t_admin" in page
    old = web.get("/staff/kb/h-01/history?v=1").text
    assert "第 1 版内容" in old and "最初的正文" in old and "第一稿标题" in old


def test_import_csv_reports_created_updated_unchanged_and_export(web, session):
    kb.create_article(session, actor=actor(session, "t_admin"), external_id="imp-1", title="旧标题", body="旧正文", status="published")
    kb.create_article(session, actor=actor(session, "t_admin"), external_id="imp-2", title="不变", body="不变的正文", status="published")
    session.commit()
    login(web, "t_admin")
    page = web.get("/staff/kb/import").text
    csv = "id,title,body\nimp-1,新标题,新正文\nimp-2,不变,不变的正文\nimp-3,新文章,全新的正文\n".encode("utf-8-sig")
    result = web.post("/staff/kb/import", data={"csrf_token": token(page)}, files={"file": ("kb.csv", csv, "text/csv")})
    assert result.status_code == 200
    stats = re.findall(r'<p class="stat-label">(\S+)</p>\s*<p class="stat-value">(\d+)</p>', result.text)
    assert stats == [("新建", "1"), ("更新", "1"), ("未变化", "1")]
    assert kb.get_article(session, external_id="imp-1").title == "新标题"
    bad = web.post("/staff/kb/import", data={"csrf_token": token(page)}, files={"file": ("kb.csv", b"name,text\na,b\n", "text/csv")})
    assert bad.status_code == 422 and "导入文件缺少必需的列" in bad.text
    word = web.post("/staff/kb/import", data={"csrf_token": token(page)}, files={"file": ("kb.docx", b"PK", "application/octet-stream")})
    assert word.status_code == 422 and "仅支持导入 CSV、Excel（.xlsx）文件（表头为 id,title,body，可加 category,unit），或一篇文章的 Markdown（.md）文件" in word.text
    assert "文件夹" not in word.text, "a folder cannot be uploaded here"
    exported = web.get("/staff/kb/export?format=csv")
    assert exported.headers["content-type"].startswith("text/csv") and "imp-3" in exported.content.decode("utf-8-sig")
    login(web, "t_ronggui_admin")
    assert web.get("/staff/kb/import").status_code == 403


def test_unanswered_groups_with_new_article_prefill(web, session):
    for question in ("小区停车位被占怎么办", "小区停车位总被占用", "消防通道被占用怎么投诉"):
        web.post("/api/v1/assistant/ask", json={"question": question})
    login(web, "t_supervisor")
    page = web.get("/staff/kb/unanswered").text
    assert "小区停车位" in page and "据此新建文章" in page
    link = re.search(r'href="(/staff/kb/new\?title=[^"]+)"', page).group(1).replace("&amp;", "&")
    prefilled = web.get(link).text
    assert re.search(r'name="title" id="f-title" value="[^"]*停车位', prefilled)


def test_an_article_the_system_saved_reads_as_saved_by_xitong_not_system(web, session):
    from baishitong.actors import SYSTEM

    kb.create_article(session, actor=SYSTEM, external_id="sys-01", title="导入的文章", body="由导入生成的正文", status="published")
    session.commit()
    login(web, "t_supervisor")
    for page in (web.get("/staff/kb").text, web.get("/staff/kb/sys-01/edit").text, web.get("/staff/kb/sys-01/history").text):
        assert "系统" in page and not re.search(r">\s*system\b|\bsystem\s*(于|<)", page)


def test_an_article_written_in_markdown_is_imported_from_the_page(web, session):
    """The command line read Markdown only from a folder; the page refused a .md file outright."""
    login(web, "t_admin")
    page = web.get("/staff/kb/import").text
    assert 'accept=".csv,.xlsx,.md"' in page
    text = "---\nid: jzz-01\nunit: ronggui\nkeywords: 居住证、积分\n---\n# 居住证怎么办理\n\n在顺德居住满半年，可以申请**居住证**。\n"
    done = web.post("/staff/kb/import", data={"csrf_token": token(page)}, files={"file": ("居住证.md", text.encode(), "text/markdown")})
    assert done.status_code == 200 and re.search(r'<p class="stat-label">新建</p>\s*<p class="stat-value">1</p>', done.text)
    article = kb.get_article(session, external_id="jzz-01")
    assert (article.title, article.unit_code, article.keywords, article.status) == ("居住证怎么办理", "ronggui", ["居住证", "积分"], "published")
    assert article.body == "在顺德居住满半年，可以申请**居住证**。"
    again = web.post("/staff/kb/import", data={"csrf_token": token(page)}, files={"file": ("居住证.md", text.encode(), "text/markdown")})
    assert re.search(r'<p class="stat-label">未变化</p>\s*<p class="stat-value">1</p>', again.text)


def test_the_article_list_pages_through_every_article_keeping_the_filter(web, session):
    """The list stopped at 500 articles and said 共 500 篇, whatever the knowledge base held."""
    admin = actor(session, "t_admin")
    for n in range(120):
        kb.create_article(session, actor=admin, external_id=f"pg-{n:03d}", title=f"分页测试文章 {n}", body="正文", unit_code="ronggui" if n % 2 else "GJJ")
    session.commit()
    login(web, "t_admin")
    first = web.get("/staff/kb?unit=ronggui").text
    assert "共 60 篇" in first and first.count("<strong>分页测试文章") == 50 and "pg-119" in first
    assert 'href="/staff/kb?unit=ronggui&amp;page=2"' in first
    second = web.get("/staff/kb?unit=ronggui&page=2").text
    assert second.count("<strong>分页测试文章") == 10 and "pg-001" in second and "pg-119" not in second
    assert "第 51–60 篇，共 60 篇" in second
    past = web.get("/staff/kb?unit=ronggui&page=9").text
    assert "pg-001" in past, "past the last page is the last page"


def test_an_unanswered_question_shows_the_article_that_now_answers_it(web, session):
    """A gap filled by a new article stayed on the list for 30 days, looking as open as the rest."""
    for question in ("电动自行车上牌要带什么材料", "外星人入侵怎么报警"):
        web.post("/api/v1/assistant/ask", json={"question": question})
    login(web, "t_supervisor")
    before = web.get("/staff/kb/unanswered").text
    assert "现在会引用" not in before
    kb.create_article(
        session, actor=actor(session, "t_admin"), external_id="ddc-01", title="电动自行车上牌需要哪些材料", status="published",
        body="电动自行车上牌须本人携带居民身份证、购车发票和车辆合格证，到交警车管所或指定网点办理。", keywords=["电动自行车", "上牌", "材料"],
    )
    session.commit()
    after = web.get("/staff/kb/unanswered").text
    row = after.split("电动自行车上牌要带什么材料", 1)[1].split("</tr>", 1)[0]
    assert "现在会引用" in row and 'href="/staff/kb/ddc-01/history"' in row and "电动自行车上牌需要哪些材料" in row
    other = after.split("外星人入侵怎么报警", 1)[1].split("</tr>", 1)[0]
    assert "现在会引用" not in other


def test_saving_the_editor_unchanged_says_so_and_adds_no_version(web, session):
    """The browser sends the body's lines as CRLF: saving an article as opened said 当前为第 2 版 and added a
    version identical to the first, so the history listed edits that changed nothing."""
    admin = actor(session, "t_admin")
    kb.create_article(session, actor=admin, external_id="same-01", title="犬只登记办理指南", body="## 办理条件\n- 已接种狂犬疫苗", keywords="养狗、犬证")
    session.commit()
    login(web, "t_admin")
    editor = web.get("/staff/kb/same-01/edit").text
    saved = web.post("/staff/kb/same-01/edit", data=article_form(editor, body="## 办理条件\r\n- 已接种狂犬疫苗", keywords="养狗、犬证", synonyms=""))
    assert "文章没有修改，仍为第 1 版" in saved.text
    assert [v.version for v in kb.history(session, external_id="same-01")] == [1]


def test_history_says_what_each_version_changed_and_shows_the_body_lines_changed(web, session):
    """The history listed versions with a title, a name and a time: to learn what a 修改 had changed, one opened
    two versions and compared them by eye."""
    admin = actor(session, "t_admin")
    kb.create_article(session, actor=admin, external_id="d-01", title="犬只登记", body="## 办理条件\n- 已接种狂犬疫苗\n- 佩戴犬牌", keywords="养狗")
    kb.update_article(session, external_id="d-01", version=1, actor=admin, title="犬只登记", body="## 办理条件\n- 已接种狂犬疫苗\n- 提供住址证明", keywords="养狗、犬证")
    kb.publish(session, external_id="d-01", actor=admin)
    session.commit()
    login(web, "t_supervisor")
    listing = web.get("/staff/kb/d-01/history").text
    assert "<th scope=\"col\">改动</th>" in listing
    row = {n: re.search(rf"<td>第 {n} 版.*?</tr>", listing, re.S).group(0) for n in (1, 2, 3)}
    assert "<td>正文、关键词</td>" in row[2] and "<td>状态</td>" in row[3]
    shown = web.get("/staff/kb/d-01/history?v=2").text
    assert "与第 1 版相比改动：</strong>正文、关键词" in shown
    assert re.search(r"<del[^>]*>.*?佩戴犬牌</del>", shown) and re.search(r"<ins[^>]*>.*?提供住址证明</ins>", shown)
    assert not re.search(r"<(del|ins)[^>]*>.*?已接种狂犬疫苗", shown), "an unchanged line is context, not a change"


def test_a_unit_admin_lists_and_exports_their_units_work_and_only_the_published_of_others(web, session):
    """A unit admin's export held every unit's articles, drafts included."""
    from io import BytesIO

    from openpyxl import load_workbook

    admin = actor(session, "t_admin")
    kb.create_article(session, actor=admin, external_id="rg-draft", title="容桂未发布的草稿", unit_code="ronggui", body="容桂")
    kb.create_article(session, actor=admin, external_id="dl-draft", title="大良未发布的草稿", unit_code="daliang", body="大良")
    kb.create_article(session, actor=admin, external_id="dl-pub", title="大良已发布的指南", unit_code="daliang", body="大良", status="published")
    session.commit()
    login(web, "t_ronggui_admin")
    listing = web.get("/staff/kb").text
    assert "容桂未发布的草稿" in listing and "大良已发布的指南" in listing and "大良未发布的草稿" not in listing
    assert "大良未发布的草稿" not in web.get("/staff/kb?q=草稿").text
    assert web.get("/staff/kb/dl-draft/history").status_code == 404
    exported = web.get("/staff/kb/export?format=csv").content.decode("utf-8-sig")
    assert "rg-draft" in exported and "dl-pub" in exported and "dl-draft" not in exported
    sheet = load_workbook(BytesIO(web.get("/staff/kb/export?format=xlsx").content)).active
    assert {r[0] for r in sheet.iter_rows(min_row=2, values_only=True)} >= {"rg-draft", "dl-pub"}
    assert "dl-draft" not in {r[0] for r in sheet.iter_rows(min_row=2, values_only=True)}
    login(web, "t_admin")
    everything = web.get("/staff/kb/export?format=csv").content.decode("utf-8-sig")
    assert all(i in everything for i in ("rg-draft", "dl-draft", "dl-pub"))


def test_the_article_list_shows_the_last_updated_first_so_a_new_article_is_on_the_first_page(web, session, monkeypatch):
    """The list was sorted by id: a new article's generated kb-… id put it on some other page."""
    admin = actor(session, "t_admin")
    monkeypatch.setenv("BAISHITONG_FAKE_NOW", "2026-03-01T08:00:00+08:00")
    for n in range(60):  # one import: every article saved in the same instant
        kb.create_article(session, actor=admin, external_id=f"a-{n:03d}", title=f"旧文章 {n}", body="正文")
    monkeypatch.setenv("BAISHITONG_FAKE_NOW", "2026-03-02T08:00:00+08:00")
    new = kb.create_article(session, actor=admin, title="刚写的新文章", body="正文")
    monkeypatch.setenv("BAISHITONG_FAKE_NOW", "2026-03-03T08:00:00+08:00")
    kb.update_article(session, external_id="a-005", version=1, actor=admin, title="刚修改的旧文章", body="新正文")
    session.commit()
    monkeypatch.delenv("BAISHITONG_FAKE_NOW")
    login(web, "t_admin")
    first = web.get("/staff/kb").text
    titles = re.findall(r"<strong>([^<]+)</strong>", first)
    assert titles[:2] == ["刚修改的旧文章", "刚写的新文章"] and new.external_id.startswith("kb-")
    # Ties keep one order from page to page: the later created first, none shown twice or lost.
    assert titles[2:5] == ["旧文章 59", "旧文章 58", "旧文章 57"]
    second = re.findall(r"<strong>([^<]+)</strong>", web.get("/staff/kb?page=2").text)
    assert len(set(titles + second)) == 61 and second[-1] == "旧文章 0"


def test_a_unit_admin_searching_finds_their_own_draft_though_100_drafts_of_other_units_rank_higher(web, session):
    """The staff search took its best 100 hits and then dropped what the user may not see: a unit admin whose own
    draft ranked 101st behind other units' drafts was told 未找到; a status filter lost articles the same way."""
    admin = actor(session, "t_admin")
    for n in range(105):
        kb.create_article(session, actor=admin, external_id=f"dl-{n:03d}", title=f"犬只登记办理指南 {n}", body="犬只登记需要犬只免疫证明。", keywords="犬只登记", unit_code="daliang")
    kb.create_article(session, actor=admin, external_id="rg-dog", title="容桂街道养犬须知", body="办理犬只登记请到容桂街道。", unit_code="ronggui")
    kb.create_article(session, actor=admin, external_id="dl-pub", title="大良养犬须知", body="办理犬只登记请到大良街道。", unit_code="daliang", status="published")
    session.commit()
    best_100 = [h.id for h in kb.search(session, query="犬只登记", top_k=100, include_unpublished=True)]
    assert "rg-dog" not in best_100 and "dl-pub" not in best_100, "the other drafts must outrank both, or this test shows nothing"

    login(web, "t_ronggui_admin")
    found = web.get("/staff/kb?q=犬只登记").text
    assert "/staff/kb/rg-dog/edit" in found and "大良养犬须知" in found
    assert "犬只登记办理指南" not in found
    login(web, "t_admin")
    published = web.get("/staff/kb?q=犬只登记&status=published").text
    assert "大良养犬须知" in published and "犬只登记办理指南" not in published


def test_history_compares_a_body_saved_with_crlf_line_by_line(web, session):
    """Bodies saved before line ends were normalised kept the browser's CRLF: the next version's diff must show
    the one line that changed, not every line as removed and added again."""
    admin = actor(session, "t_admin")
    kb.create_article(session, actor=admin, external_id="crlf-01", title="犬只登记", body="第一行\n第二行\n第三行")
    session.flush()
    first = kb.history(session, external_id="crlf-01")[0]
    first.body = "第一行\r\n第二行\r\n第三行"
    kb.update_article(session, external_id="crlf-01", version=1, actor=admin, title="犬只登记", body="第一行\n第二行改了\n第三行")
    session.commit()
    login(web, "t_supervisor")
    shown = web.get("/staff/kb/crlf-01/history?v=2").text
    changed = [(kind, re.sub(r"<[^>]+>", "", line)) for kind, line in re.findall(r"<(del|ins)[^>]*>(.*?)</\1>", shown)]
    assert changed == [("del", "− 删去：第二行"), ("ins", "+ 新增：第二行改了")], "unchanged lines are context, not changes"


def test_the_category_picker_names_categories_under_their_parent_not_by_code(web, session):
    from baishitong.org.models import Category
    from sqlalchemy import select

    child = session.scalar(select(Category).where(Category.level == 2).order_by(Category.code))
    login(web, "t_admin")
    for page in (web.get("/staff/kb/new").text, web.get("/staff/kb").text):
        assert f'<option value="{child.code}">{child.parent.name} › {child.name}</option>' in page
        assert f">{child.code} " not in page, "the code is the option's value, not its text"


def test_an_operator_finds_no_expired_article_and_sees_only_published_versions_marked_when_opened(web, session):
    """An operator reads articles out to callers: an expired policy was in their list and search as if current,
    and an article's history showed them its unapproved drafts."""
    admin = actor(session, "t_admin")
    kb.create_article(session, actor=admin, external_id="old-01", title="2020年高龄津贴标准", body="旧标准", status="published", valid_to=date(2020, 12, 31))
    kb.create_article(session, actor=admin, external_id="cur-01", title="高龄津贴申领", body="初稿：每月一百元")
    kb.update_article(session, external_id="cur-01", version=1, actor=admin, title="高龄津贴申领", body="审定：每月两百元")
    kb.publish(session, external_id="cur-01", actor=admin)
    session.commit()
    login(web, "t_operator")
    for page in (web.get("/staff/kb").text, web.get("/staff/kb?q=高龄津贴").text):
        assert "高龄津贴申领" in page and "2020年高龄津贴标准" not in page
    history = web.get("/staff/kb/cur-01/history").text
    assert "第 3 版" in history and "第 1 版" not in history and "第 2 版" not in history
    assert "每月一百元" not in web.get("/staff/kb/cur-01/history?v=1").text
    opened = web.get("/staff/kb/old-01/history")
    assert opened.status_code == 200 and "已过期" in opened.text and "不能作为现行规定" in opened.text
    login(web, "t_supervisor")
    assert "第 1 版" in web.get("/staff/kb/cur-01/history").text


def test_an_operators_search_does_not_claim_to_hold_drafts_nor_offers_filters_that_find_nothing(web, session):
    """An operator's list and search hold only the articles in force: their search said 含草稿, and 状态 草稿 / 已下线
    or 提醒 已过期 could only ever find nothing."""
    login(web, "t_operator")
    page = web.get("/staff/kb?q=社保").text
    assert "（仅现行有效的文章）" in page and "含草稿" not in page
    assert 'name="status"' not in page and ">已过期</option>" not in page and ">即将到期</option>" in page
    login(web, "t_supervisor")
    page = web.get("/staff/kb?q=社保").text
    assert "含草稿" in page and 'name="status"' in page and ">已过期</option>" in page


def test_staff_search_finds_a_retired_article_when_含已下线_is_ticked_and_marks_it(web, session):
    """A retired article was never found by search, so staff could not look up what citizens had been told."""
    admin = actor(session, "t_admin")
    kb.create_article(session, actor=admin, external_id="dog-now", title="犬只登记办理指南", body="犬只登记到街道办理。", status="published")
    kb.create_article(session, actor=admin, external_id="dog-old", title="犬只登记旧办法", body="犬只登记须到区公安分局办理。", status="retired")
    session.commit()
    login(web, "t_admin")
    plain = web.get("/staff/kb?q=犬只登记").text
    assert "犬只登记办理指南" in plain and "犬只登记旧办法" not in plain and "已下线文章不参与搜索" in plain
    assert re.search(r'<input type="checkbox" name="include_retired" id="f-include_retired" value="1"(?! checked)>', plain)
    ticked = web.get("/staff/kb?q=犬只登记&include_retired=1").text
    row = re.search(r'<tr>\s*<td class="title-cell"><strong>犬只登记旧办法</strong>.*?</tr>', ticked, re.S)
    assert row and "已下线" in row.group(0) and "犬只登记办理指南" in ticked
    assert 'name="include_retired" id="f-include_retired" value="1" checked' in ticked and "含已下线文章" in ticked
    login(web, "t_operator")
    operator = web.get("/staff/kb?q=犬只登记&include_retired=1").text
    assert "犬只登记旧办法" not in operator and 'name="include_retired"' not in operator


def test_含已下线_adds_retired_articles_and_keeps_every_article_the_search_showed_without_it(web, session):
    """The list is cut below a share of the best hit's score: a retired article matching far better than those in
    force (the old text staff look for) set that bar, so ticking 含已下线 hid articles the plain search showed."""
    admin = actor(session, "t_admin")
    kb.create_article(session, actor=admin, external_id="dog-old", title="犬只登记年检办法", keywords=["犬只登记", "年检"], body="犬只登记年检须到区公安分局办理，犬只登记年检每年一次。", status="retired")
    kb.create_article(session, actor=admin, external_id="dog-now", title="犬只登记办理指南", body="犬只登记到街道办理。", status="published")
    kb.create_article(session, actor=admin, external_id="pets", title="养宠须知", body="养犬须办理犬只登记，遛狗要牵绳。", status="published")
    session.commit()
    login(web, "t_admin")
    plain = re.findall(r'<td class="title-cell"><strong>(.*?)</strong>', web.get("/staff/kb?q=犬只登记年检").text)
    ticked = re.findall(r'<td class="title-cell"><strong>(.*?)</strong>', web.get("/staff/kb?q=犬只登记年检&include_retired=1").text)
    assert "养宠须知" in plain and "犬只登记年检办法" not in plain
    assert ticked[0] == "犬只登记年检办法" and ticked[1:] == plain
