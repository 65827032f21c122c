"""Staff accounts."""

import pytest

from baishitong.errors import Conflict, Forbidden, InvalidInput
from baishitong.org import service as org


def test_a_username_differing_only_in_case_is_refused(session):
    with pytest.raises(Conflict, match="用户 t_ronggui 已存在（用户名不区分大小写）"):
        org.create_user(session, username="T_RongGui", password="long-enough-1", role="handler", unit_code="ronggui")


def test_a_disabled_account_is_told_so_only_with_its_password(session):
    org.create_user(session, username="t_left", password="long-enough-1", role="handler", unit_code="ronggui")
    org.disable_user(session, username="t_left")
    assert org.authenticate(session, username="t_left", password="wrong-password") is None
    with pytest.raises(Forbidden, match="该账号已停用"):
        org.authenticate(session, username="t_left", password="long-enough-1")
    org.enable_user(session, username="t_left")
    assert org.authenticate(session, username="t_left", password="long-enough-1").username == "t_left"


@pytest.mark.parametrize("change", ["password", "role", "disable"])
def test_an_integration_token_ends_with_the_account_change_and_stays_ended(session, change):
    token = org.create_api_token(session, username="t_operator", name="对接测试")
    assert org.user_for_api_token(session, token=token).username == "t_operator"
    if change == "password":
        org.update_user(session, username="t_operator", display_name="话务员", role="operator", unit_code=None, password="another-pass-1")
    elif change == "role":
        org.update_user(session, username="t_operator", display_name="话务员", role="supervisor", unit_code=None)
    else:
        org.disable_user(session, username="t_operator")
        org.enable_user(session, username="t_operator")
    assert org.user_for_api_token(session, token=token) is None
    assert org.user_for_api_token(session, token=org.create_api_token(session, username="t_operator", name="新令牌")) is not None


def test_a_unit_chosen_for_a_centre_account_is_dropped_so_it_gets_no_unit_messages(session):
    from baishitong.notify import service as notify

    for username, role in (("t_new_operator", "operator"), ("t_new_supervisor", "supervisor")):
        assert org.create_user(session, username=username, password="long-enough-1", role=role, unit_code="ronggui").unit is None
    handler = org.create_user(session, username="t_new_handler", password="long-enough-1", role="handler", unit_code="ronggui")
    recipients = {m.recipient for m in notify.to_unit(session, unit_id=handler.unit_id, template_code="ticket_urged", context={"number": "SD1", "title": "路灯不亮", "note": ""})}
    assert "t_new_handler" in recipients and not recipients & {"t_new_operator", "t_new_supervisor"}


@pytest.mark.parametrize("username", ["   ", "张 三<b>x</b>", "ab", "u" * 65])
def test_a_username_that_cannot_be_managed_is_refused(session, username):
    with pytest.raises(InvalidInput, match="用户名为 3–64 位字母、数字或"):
        org.create_user(session, username=username, password="long-enough-1", role="operator")


def test_an_edit_made_on_an_account_someone_else_just_changed_is_refused(session):
    user = org.get_user(session, username="t_ronggui2")
    seen = org.account_state(user)
    org.update_user(session, username="t_ronggui2", display_name=user.display_name, role="unit_admin", unit_code="ronggui", base_state=seen)
    with pytest.raises(Conflict, match="刚刚已被修改（可能是您在其他窗口的操作或他人的操作）"):
        org.update_user(session, username="t_ronggui2", display_name="改名", role="handler", unit_code="ronggui", base_state=seen)
    assert user.role == "unit_admin" and user.display_name != "改名"


def test_a_template_edit_on_a_stale_version_is_refused(session):
    from baishitong.notify import service as notify

    current = next(t for t in notify.list_templates(session) if t["code"] == "ticket_registered")["version"]
    notify.save_template(session, code="ticket_registered", body="【顺德12345】您的诉求已受理，编号{number}。", actor="a", base_version=current)
    with pytest.raises(Conflict, match=r"已被修改为 v\d+（可能是您在其他窗口的操作或他人的操作）"):
        notify.save_template(session, code="ticket_registered", body="【顺德12345】受理编号{number}", actor="b", base_version=current)
    with pytest.raises(InvalidInput, match="模板内容不能为空"):
        notify.save_template(session, code="ticket_registered", body="   ", actor="b")
