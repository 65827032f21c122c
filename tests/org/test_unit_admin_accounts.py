"""本单位人员: a unit admin manages the handler accounts of their unit and the units under it, and nothing else."""

import pytest

from baishitong.audit import service as audit
from baishitong.errors import Conflict, Forbidden, InvalidInput, NotFound
from baishitong.org import service as org
from tests.conftest import actor

GAOLI = "440606006023"  # a 村居 under 容桂街道


@pytest.fixture
def scope(session):
    return org.account_scope(session, actor=actor(session, "t_ronggui_admin"))


def test_a_unit_admin_sees_their_unit_and_its_communities_only(session, scope):
    seen = {u.username for u in org.list_users(session, scope=scope)}
    assert {"t_ronggui", "t_ronggui2", "t_ronggui_admin", "t_gaoli"} <= seen
    assert not seen & {"t_daliang", "t_sjj", "t_operator", "t_admin"}
    with pytest.raises(NotFound, match="用户 t_daliang 不存在"):
        org.get_user(session, username="t_daliang", scope=scope)
    assert org.account_scope(session, actor=actor(session, "t_admin")) is None
    with pytest.raises(Forbidden):
        org.account_scope(session, actor=actor(session, "t_ronggui"))


def test_a_unit_admin_creates_a_handler_in_their_unit_or_a_community_under_it(session, scope):
    made = org.create_user(session, username="rg_new", password="long-enough-1", role="handler", unit_code=GAOLI, display_name="高黎社区 新同事", phone="138 0000 1234", actor="t_ronggui_admin", scope=scope)
    assert (made.unit.code, made.phone) == (GAOLI, "13800001234")
    entry = audit.entries_for(session, object_type="user", object_id="rg_new")[-1]
    assert (entry.actor, entry.action, entry.data["unit"]) == ("t_ronggui_admin", "user.create", GAOLI)


@pytest.mark.parametrize(("role", "unit"), [("unit_admin", "ronggui"), ("operator", "ronggui"), ("supervisor", None), ("admin", None), ("handler", "daliang"), ("handler", "SJJ")])
def test_a_unit_admin_cannot_create_other_roles_or_in_other_units(session, scope, role, unit):
    with pytest.raises(Forbidden):
        org.create_user(session, username="rg_bad", password="long-enough-1", role=role, unit_code=unit, actor="t_ronggui_admin", scope=scope)


def test_a_taken_name_does_not_tell_a_unit_admin_how_another_units_login_is_spelt(session, scope):
    with pytest.raises(Conflict) as refused:
        org.create_user(session, username="T_DALIANG", password="long-enough-1", role="handler", unit_code="ronggui", scope=scope)
    assert "t_daliang" not in refused.value.message and "已被使用" in refused.value.message


def test_a_unit_admin_edits_resets_and_disables_a_handler_and_each_is_audited(session, scope):
    org.update_user(session, username="t_gaoli", display_name="高黎社区 陈", role="handler", unit_code=GAOLI, phone="0757-2838 1234", password="another-pass-1", actor="t_ronggui_admin", scope=scope)
    user = org.get_user(session, username="t_gaoli")
    assert (user.display_name, user.phone) == ("高黎社区 陈", "075728381234")
    assert org.authenticate(session, username="t_gaoli", password="another-pass-1") is not None
    org.disable_user(session, username="t_gaoli", actor="t_ronggui_admin", scope=scope)
    org.enable_user(session, username="t_gaoli", actor="t_ronggui_admin", scope=scope)
    trail = audit.entries_for(session, object_type="user", object_id="t_gaoli")
    assert [e.action for e in trail[-3:]] == ["user.update", "user.disable", "user.enable"]
    assert trail[-3].data == {"display_name": "高黎社区 陈", "phone": "075****1234", "password": "reset"}, "no password and no full phone in the trail"


def test_a_unit_admin_cannot_promote_move_out_or_touch_unit_admins_or_themselves(session, scope):
    with pytest.raises(Forbidden):
        org.update_user(session, username="t_ronggui", display_name="x", role="unit_admin", unit_code="ronggui", scope=scope)
    with pytest.raises(Forbidden):
        org.update_user(session, username="t_ronggui", display_name="x", role="handler", unit_code="daliang", scope=scope)
    for change in (org.disable_user, org.enable_user):
        with pytest.raises(Forbidden, match="单位管理员账号由系统管理员管理"):
            change(session, username="t_ronggui_admin", actor="t_ronggui_admin", scope=scope)
        with pytest.raises(NotFound):
            change(session, username="t_daliang", actor="t_ronggui_admin", scope=scope)
    assert org.get_user(session, username="t_ronggui").role == "handler" and org.get_user(session, username="t_ronggui_admin").active


def test_a_wrong_phone_is_refused_and_an_empty_one_clears_it(session, scope):
    with pytest.raises(InvalidInput, match="请填写正确的手机号码"):
        org.update_user(session, username="t_ronggui", display_name="何", role="handler", unit_code="ronggui", phone="12345", scope=scope)
    org.update_user(session, username="t_ronggui", display_name="何", role="handler", unit_code="ronggui", phone="13800001234", scope=scope)
    org.update_user(session, username="t_ronggui", display_name="何", role="handler", unit_code="ronggui", scope=scope)
    assert org.get_user(session, username="t_ronggui").phone == "13800001234", "no phone given keeps it (the CLI's passwd)"
    org.update_user(session, username="t_ronggui", display_name="何", role="handler", unit_code="ronggui", phone="", scope=scope)
    assert org.get_user(session, username="t_ronggui").phone is None


# --- REST API ---------------------------------------------------------------------------------------


def test_api_unit_admin_lists_creates_and_the_handler_can_log_in(client, login, session):
    headers = login("t_ronggui_admin")
    listed = {u["username"] for u in client.get("/api/v1/users", headers=headers).json()}
    assert "t_gaoli" in listed and "t_daliang" not in listed
    made = client.post("/api/v1/users", json={"username": "rg_api", "password": "long-enough-1", "role": "handler", "phone": "13800001234"}, headers=headers)
    assert made.status_code == 201 and made.json()["unit"] == "ronggui", "a unit admin's new handler joins their own unit by default"
    assert "password_hash" not in made.json() and "password" not in made.json()
    assert client.post("/api/v1/auth/token", json={"username": "rg_api", "password": "long-enough-1"}).status_code == 200


def test_api_unit_admin_edits_with_the_state_they_read_and_a_stale_one_is_409(client, login):
    headers = login("t_ronggui_admin")
    read = client.get("/api/v1/users/t_ronggui2", headers=headers).json()
    first = client.patch("/api/v1/users/t_ronggui2", json={"display_name": "容桂 甲", "base_state": read["state"]}, headers=headers)
    assert first.status_code == 200 and first.json()["display_name"] == "容桂 甲"
    second = client.patch("/api/v1/users/t_ronggui2", json={"phone": "13800001234", "base_state": read["state"]}, headers=headers)
    assert second.status_code == 409 and second.json()["error"]["code"] == "user_changed"
    reset = client.patch("/api/v1/users/t_ronggui2", json={"password": "another-pass-1"}, headers=headers)
    assert reset.status_code == 200
    assert client.post("/api/v1/auth/token", json={"username": "t_ronggui2", "password": "another-pass-1"}).status_code == 200
    disabled = client.post("/api/v1/users/t_ronggui2/disable", headers=headers)
    assert disabled.status_code == 200 and disabled.json()["active"] is False


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/api/v1/users/t_daliang", None),
        ("patch", "/api/v1/users/t_daliang", {"display_name": "x"}),
        ("post", "/api/v1/users/t_daliang/disable", None),
        ("post", "/api/v1/users/t_operator/disable", None),
        ("post", "/api/v1/users/no_such_user/enable", None),
    ],
)
def test_api_accounts_outside_the_unit_are_not_found(client, login, method, path, body):
    response = getattr(client, method)(path, headers=login("t_ronggui_admin"), **({"json": body} if body else {}))
    assert response.status_code == 404 and response.json()["error"]["message"].endswith("不存在")


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/api/v1/users", {"username": "rg_boss", "password": "long-enough-1", "role": "unit_admin"}),
        ("post", "/api/v1/users", {"username": "rg_op", "password": "long-enough-1", "role": "admin"}),
        ("post", "/api/v1/users", {"username": "rg_dl", "password": "long-enough-1", "role": "handler", "unit": "daliang"}),
        ("patch", "/api/v1/users/t_ronggui", {"role": "supervisor"}),
        ("patch", "/api/v1/users/t_ronggui", {"role": "unit_admin"}),
        ("patch", "/api/v1/users/t_ronggui", {"unit": "SJJ"}),
        ("patch", "/api/v1/users/t_ronggui_admin", {"password": "another-pass-1"}),
        ("post", "/api/v1/users/t_ronggui_admin/disable", None),
    ],
)
def test_api_escalation_by_a_unit_admin_is_forbidden(client, login, session, method, path, body):
    response = getattr(client, method)(path, headers=login("t_ronggui_admin"), **({"json": body} if body else {}))
    assert response.status_code == 403, response.text
    assert response.json()["error"]["message"]
    assert org.get_user(session, username="t_ronggui").role == "handler" and org.get_user(session, username="t_ronggui_admin").active


def test_api_a_handler_manages_no_accounts_and_an_admin_still_sees_all(client, login):
    assert client.get("/api/v1/users", headers=login("t_ronggui")).status_code == 403
    everyone = {u["username"] for u in client.get("/api/v1/users", headers=login("t_admin")).json()}
    assert {"t_daliang", "t_operator", "t_ronggui"} <= everyone
    assert client.post("/api/v1/users/t_admin/disable", headers=login("t_admin")).json()["error"]["message"] == "不能停用自己的账号"
