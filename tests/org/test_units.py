"""Units: create and edit with validation, history kept on disable, the admin-only API."""

import re

import pytest
from sqlalchemy import select

from baishitong.audit.models import AuditEntry
from baishitong.errors import InvalidInput
from baishitong.org import service as org


def save(session, code, **overrides):
    values = {"name": f"测试单位 {code}", "kind": "department", "parent_code": None, "phone": None, "active": True, "actor": "t_admin"} | overrides
    return org.save_unit(session, code=code, **values)


def test_create_then_update_records_audit(session):
    unit = save(session, "TEST_DEPT", phone="0757-1234")
    assert unit.id and unit.kind == "department" and unit.phone == "0757-1234"
    save(session, "TEST_DEPT", name="测试单位（改）", active=False)
    assert org.get_unit(session, code="TEST_DEPT").name == "测试单位（改）"
    assert not org.get_unit(session, code="TEST_DEPT").active
    actions = session.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "unit", AuditEntry.object_id == "TEST_DEPT").order_by(AuditEntry.id)).all()
    assert actions == ["unit.create", "unit.update"]


def test_community_goes_under_a_town(session):
    unit = save(session, "TEST_CUN", kind="community", parent_code="ronggui", name="测试社区")
    assert unit.parent.code == "ronggui"
    with pytest.raises(InvalidInput, match="镇街"):
        save(session, "TEST_CUN2", kind="community", parent_code="SJJ")


@pytest.mark.parametrize(
    ("code", "overrides", "message"),
    [
        ("TEST_X", {"kind": "club"}, "单位类型"),
        ("TEST_X", {"parent_code": "NO_SUCH_UNIT"}, "上级单位 NO_SUCH_UNIT 不存在"),
        ("坏 编码", {}, "单位编码"),
        ("TEST_X", {"name": " "}, "单位名称"),
    ],
)
def test_rejects_bad_input(session, code, overrides, message):
    with pytest.raises(InvalidInput, match=message):
        save(session, code, **overrides)


def test_rejects_a_cycle(session):
    save(session, "TEST_A")
    save(session, "TEST_B", parent_code="TEST_A")
    save(session, "TEST_C", parent_code="TEST_B")
    with pytest.raises(InvalidInput, match="下属单位"):
        save(session, "TEST_A", parent_code="TEST_C")
    with pytest.raises(InvalidInput, match="本单位"):
        save(session, "TEST_A", parent_code="TEST_A")


def test_api_put_unit_is_admin_only(client, login, session):
    body = {"name": "区测试局", "kind": "department", "phone": "0757-0000"}
    assert client.put("/api/v1/units/TEST_API", json=body, headers=login("t_ronggui")).status_code == 403
    created = client.put("/api/v1/units/TEST_API", json=body, headers=login("t_admin"))
    assert created.status_code == 201, created.text
    assert created.json() == {"code": "TEST_API", "name": "区测试局", "kind": "department", "parent": None, "state": org.unit_state(org.get_unit(session, code="TEST_API"))}
    assert client.put("/api/v1/units/TEST_API", json=body, headers=login("t_admin")).status_code == 200
    moved = client.put("/api/v1/units/TEST_API", json=body | {"parent": "TEST_API"}, headers=login("t_admin"))
    assert moved.status_code == 422 and "本单位" in moved.text


def test_new_town_unit_is_linked_to_its_region_so_routing_finds_it(session):
    from baishitong.org.models import Region

    town = session.scalar(select(Region).where(Region.code == "440606006"))
    unit = org.save_unit(session, code="RG-NEW", name="容桂新片区", kind="town", parent_code=None, phone=None, active=True, actor="t_admin", region_code=town.code)
    assert unit.region_code == "440606006"
    with pytest.raises(InvalidInput):
        org.save_unit(session, code="RG-BAD", name="错配", kind="department", parent_code=None, phone=None, active=True, actor="t_admin", region_code="440606006")
    village = org.save_unit(session, code="440606006023", name="高黎社区", kind="community", parent_code="ronggui", phone=None, active=True, actor="t_admin")
    assert village.region_code == "440606006023"


def test_a_category_cannot_become_its_own_ancestor_or_leave_its_code_family(session):
    org.save_category(session, code="99", name="测试", parent_code=None, actor="t")
    org.save_category(session, code="9901", name="测试子类", parent_code="99", actor="t")
    with pytest.raises(InvalidInput, match="须以上级分类编码 9901 开头"):
        org.save_category(session, code="99", name="测试", parent_code="9901", actor="t")
    with pytest.raises(InvalidInput, match="须以上级分类编码 99 开头"):
        org.save_category(session, code="9801", name="别家", parent_code="99", actor="t")
    with pytest.raises(InvalidInput, match="2–6 位数字"):
        org.save_category(session, code="zz-not-digits", name="x", parent_code=None, actor="t")
    assert org.get_category(session, code="9901").path == "测试 › 测试子类"


def test_the_category_api_refuses_a_cycle_in_chinese(client, login):
    admin = login("t_admin")
    assert client.put("/api/v1/categories/99", json={"code": "99", "name": "测试"}, headers=admin).status_code == 201
    assert client.put("/api/v1/categories/9901", json={"code": "9901", "name": "子类", "parent": "99"}, headers=admin).status_code == 201
    assert client.put("/api/v1/categories/9901", json={"code": "9901", "name": "子类（改）", "parent": "99"}, headers=admin).status_code == 200
    looped = client.put("/api/v1/categories/99", json={"code": "99", "name": "测试", "parent": "9901"}, headers=admin)
    assert looped.status_code == 422 and "上级分类编码" in looped.json()["error"]["message"]
    assert client.get("/api/v1/categories", headers=admin).status_code == 200


def test_a_unit_edit_on_top_of_a_colleagues_change_is_refused(session):
    from baishitong.errors import Conflict

    save(session, "TEST_DEPT")
    seen = org.unit_state(org.find_unit(session, code="TEST_DEPT"))
    save(session, "TEST_DEPT", phone="0757-2222", base_state=seen)
    with pytest.raises(Conflict, match="刚刚已被修改（可能是您在其他窗口的操作或他人的操作）"):
        save(session, "TEST_DEPT", name="测试单位（改名）", base_state=seen)
    assert org.find_unit(session, code="TEST_DEPT").phone == "0757-2222"


def test_a_category_edit_on_top_of_a_colleagues_change_is_refused(session):
    from baishitong.errors import Conflict

    org.save_category(session, code="99", name="测试", parent_code=None, actor="t")
    seen = org.category_state(org.get_category(session, code="99"))
    org.save_category(session, code="99", name="测试（改）", parent_code=None, actor="t", base_state=seen)
    with pytest.raises(Conflict, match="刚刚已被修改（可能是您在其他窗口的操作或他人的操作）"):
        org.save_category(session, code="99", name="测试", parent_code=None, actor="t", active=False, base_state=seen)
    with pytest.raises(Conflict, match="已被“测试（改）”使用"):
        org.save_category(session, code="99", name="新分类", parent_code=None, actor="t", create_only=True)
    category = org.get_category(session, code="99")
    assert (category.name, category.active) == ("测试（改）", True)


def test_the_categories_page_creates_and_edits_without_overwriting(web, session):
    from tests.web.test_pages import login, token

    login(web, "t_admin")
    page = web.get("/staff/admin/categories").text
    created = web.post("/staff/admin/categories", data={"csrf_token": token(page), "code": "99", "name": "测试分类", "parent": "", "active": "1"})
    assert "已保存分类 99 测试分类" in created.text and 'data-category="99"' in created.text
    # Typing an existing code into 新增分类 names the category it belongs to instead of renaming it.
    clash = web.post("/staff/admin/categories", data={"csrf_token": token(page), "code": "99", "name": "另一个分类", "parent": "", "active": "1"})
    assert "分类编码 99 已被“测试分类”使用" in clash.text and org.get_category(session, code="99").name == "测试分类"
    first = web.get("/staff/admin/categories?edit=99").text
    second = web.get("/staff/admin/categories?edit=99").text
    assert "修改分类：测试分类" in first and 'name="base_state"' in first and 'readonly' in first
    state = re.search(r'name="base_state" value="([0-9a-f]+)"', first).group(1)
    saved = web.post("/staff/admin/categories", data={"csrf_token": token(first), "code": "99", "name": "测试分类（一）", "parent": "", "active": "1", "base_state": state})
    assert "已保存分类 99 测试分类（一）" in saved.text
    stale = web.post("/staff/admin/categories", data={"csrf_token": token(second), "code": "99", "name": "测试分类（二）", "parent": "", "base_state": state})
    assert "分类 99 刚刚已被修改（可能是您在其他窗口的操作或他人的操作）" in stale.text and "修改分类：测试分类（一）" in stale.text
    session.expire_all()
    category = org.get_category(session, code="99")
    assert (category.name, category.active) == ("测试分类（一）", True)


def test_a_refused_category_comes_back_as_typed_beside_the_reason(web, session):
    """A new sub-category whose code does not start with its parent's used to return an empty form."""
    from tests.web.test_pages import login, token

    login(web, "t_admin")
    page = web.get("/staff/admin/categories").text
    refused = web.post("/staff/admin/categories", data={"csrf_token": token(page), "code": "990101", "name": "彩灯亮化", "parent": "0101", "active": "1"})
    assert refused.status_code == 422
    form = refused.text.split('id="category-form"', 1)[1].split("</form>", 1)[0]
    assert "未保存" in form and "下级分类的编码须以上级分类编码 0101 开头" in form
    assert 'value="990101"' in form and 'value="彩灯亮化"' in form and '<option value="0101" selected' in form
    assert org.find_category(session, code="990101") is None


def test_the_unit_api_refuses_a_save_on_top_of_a_colleagues_change(client, login):
    admin = login("t_admin")
    body = {"name": "区测试局", "kind": "department", "phone": "0757-0000"}
    seen = client.put("/api/v1/units/TEST_API", json=body, headers=admin).json()["state"]
    assert seen == next(u["state"] for u in client.get("/api/v1/units").json() if u["code"] == "TEST_API")
    theirs = client.put("/api/v1/units/TEST_API", json=body | {"phone": "0757-2222", "base_state": seen}, headers=admin)
    assert theirs.status_code == 200 and theirs.json()["state"] != seen
    mine = client.put("/api/v1/units/TEST_API", json=body | {"name": "区测试局（改名）", "base_state": seen}, headers=admin)
    assert mine.status_code == 409 and mine.json()["error"]["code"] == "unit_changed" and "刚刚已被修改（可能是您在其他窗口的操作或他人的操作）" in mine.json()["error"]["message"]
    assert next(u["name"] for u in client.get("/api/v1/units").json() if u["code"] == "TEST_API") == "区测试局"


@pytest.mark.parametrize("name", ["分类" * 40, "\u200b\u200f"])
def test_a_category_name_too_long_for_its_column_or_with_nothing_to_read_is_refused(web, session, name):
    """The page's maxlength stops neither a pasted form nor a script: SQLite stored an 80-character name that
    PostgreSQL refuses at the database, and a name of zero-width characters listed a category with no name."""
    from tests.web.test_pages import login, token

    login(web, "t_admin")
    page = web.get("/staff/admin/categories").text
    refused = web.post("/staff/admin/categories", data={"csrf_token": token(page), "code": "98", "name": name, "parent": "", "active": "1"})
    assert refused.status_code == 422 and "分类名称须为 1–64 个字" in refused.text
    assert org.find_category(session, code="98") is None


def test_a_second_active_unit_of_the_same_name_is_refused_naming_the_first(session):
    """Two units called 容桂街道 made every unit picker ambiguous."""
    with pytest.raises(InvalidInput, match="单位名称“容桂街道”已被单位 ronggui 使用"):
        save(session, "TEST_DUP", name="容桂街道", kind="town")
    save(session, "TEST_OLD", name="旧单位名", active=False)
    assert save(session, "TEST_NEW", name="旧单位名").active, "a disabled unit's name may be taken again"
    with pytest.raises(InvalidInput, match="已被单位 TEST_NEW 使用"):
        save(session, "TEST_OLD", name="旧单位名", active=True)
    assert save(session, "ronggui", name="容桂街道", kind="town", phone="0757-22810003").name == "容桂街道", "saving a unit under its own name"


@pytest.mark.parametrize("phone", ["abc", "0757-22", "0757-2280-1001-2280-1001", "----------", "0757_22801001"])
def test_a_unit_phone_that_is_not_a_phone_number_is_refused(session, phone):
    with pytest.raises(InvalidInput, match="联系电话须为 7–20 个字符的电话号码"):
        save(session, "TEST_TEL", phone=phone)


@pytest.mark.parametrize("phone", ["0757-22801001", "(0757) 2280 1001", "13800138000", "95598", "12345"])
def test_a_unit_phone_with_dashes_spaces_brackets_or_a_service_hotline_is_kept(session, phone):
    assert save(session, "TEST_TEL", phone=phone).phone == phone


def test_api_refuses_a_duplicate_unit_name_and_a_phone_of_letters(client, login, session):
    admin = login("t_admin")
    dup = client.put("/api/v1/units/TEST_API", json={"name": "容桂街道", "kind": "town"}, headers=admin)
    assert dup.status_code == 422 and dup.json()["error"]["code"] == "duplicate_unit_name" and "ronggui" in dup.json()["error"]["message"]
    letters = client.put("/api/v1/units/TEST_API", json={"name": "区测试局", "kind": "department", "phone": "abc"}, headers=admin)
    assert letters.status_code == 422 and "联系电话须为 7–20 个字符" in letters.json()["error"]["message"]
    assert org.find_unit(session, code="TEST_API") is None
