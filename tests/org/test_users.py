"""Staff accounts."""

import pytest

from baishitong.errors import Conflict, Forbidden
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
