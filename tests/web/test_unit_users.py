"""本单位人员 page: what a unit admin sees and may do with their unit's accounts."""

from baishitong.org import service as org
from tests.web.test_pages import login, token

PAGE = "/staff/unit/users"


def post(web, action: str, data: dict, page: str = PAGE):
    return web.post(action, data={"csrf_token": token(web.get(page).text), **data}, follow_redirects=False)


def test_a_unit_admin_finds_their_unit_and_only_its_handlers_can_be_changed(web):
    login(web, "t_ronggui_admin")
    page = web.get("/staff/unit")
    assert f'href="{PAGE}"' in page.text and "本单位人员" in page.text, "in the unit admin's navigation"
    listed = web.get(PAGE).text
    assert 'data-user="t_gaoli"' in listed and 'data-user="t_ronggui2"' in listed and "t_daliang" not in listed and "t_operator" not in listed
    own_row = listed.split('data-user="t_ronggui_admin"', 1)[1].split("</tr>", 1)[0]
    assert "由系统管理员管理" in own_row and "disable" not in own_row
    assert "password_hash" not in listed and "$argon2" not in listed
    picker = listed.split('action="/staff/unit/users"', 1)[1].split("</form>", 1)[0]
    assert '<option value="ronggui" selected' in picker and 'value="440606006023"' in picker and 'value="daliang"' not in picker
    assert 'name="role"' not in picker, "a unit admin creates handlers only"


def test_a_handler_cannot_open_the_page(web):
    login(web, "t_ronggui")
    assert web.get(PAGE).status_code == 403


def test_a_refused_new_account_comes_back_as_typed_with_the_reason(web, session):
    login(web, "t_ronggui_admin")
    refused = post(web, PAGE, {"username": "rg_new", "display_name": "高黎社区 新同事", "phone": "13800001234", "unit": "440606006023", "password": "short"})
    assert refused.status_code == 422
    form = refused.text.split('action="/staff/unit/users"', 1)[1].split("</form>", 1)[0]
    assert "未创建" in form and "密码至少 8 位" in form
    assert 'value="rg_new"' in form and 'value="高黎社区 新同事"' in form and 'value="13800001234"' in form and '<option value="440606006023" selected' in form
    assert "short" not in form
    outside = post(web, PAGE, {"username": "rg_new", "unit": "daliang", "password": "long-enough-1"})
    assert outside.status_code == 403 and "只能在本单位或下属单位中设置账号" in outside.text
    assert "rg_new" not in {u.username for u in org.list_users(session)}


def test_an_edit_saved_meanwhile_by_someone_else_is_409_and_keeps_what_was_typed(web, session):
    login(web, "t_ronggui_admin")
    opened = web.get(PAGE + "?edit=t_ronggui2").text
    state = opened.split('name="base_state" value="', 1)[1].split('"', 1)[0]
    org.update_user(session, username="t_ronggui2", display_name="系统管理员改的名", role="handler", unit_code="ronggui", actor="t_admin")
    session.commit()
    refused = post(web, PAGE + "/t_ronggui2", {"base_state": state, "display_name": "容桂 乙", "phone": "13800005678", "unit": "ronggui", "password": ""}, page=PAGE + "?edit=t_ronggui2")
    assert refused.status_code == 409 and "刚刚已被修改（可能是您在其他窗口的操作或他人的操作）" in refused.text
    form = refused.text.split('action="/staff/unit/users/t_ronggui2"', 1)[1].split("</form>", 1)[0]
    assert 'value="容桂 乙"' in form and 'value="13800005678"' in form
    assert org.get_user(session, username="t_ronggui2").display_name == "系统管理员改的名"
    saved = post(web, PAGE + "/t_ronggui2", {"base_state": form.split('name="base_state" value="', 1)[1].split('"', 1)[0], "display_name": "容桂 乙", "phone": "13800005678", "unit": "ronggui"})
    assert saved.status_code == 303
    after = web.get(PAGE).text
    assert "已保存 t_ronggui2" in after and "13800005678" in after.split('data-user="t_ronggui2"', 1)[1].split("</tr>", 1)[0]


def test_a_unit_admin_disables_a_handler_but_not_another_units(web, session):
    login(web, "t_ronggui_admin")
    assert post(web, PAGE + "/t_gaoli/disable", {}).status_code == 303
    assert "已停用 t_gaoli" in web.get(PAGE).text and not org.get_user(session, username="t_gaoli").active
    post(web, PAGE + "/t_daliang/disable", {})
    assert "用户 t_daliang 不存在" in web.get(PAGE).text and org.get_user(session, username="t_daliang").active
