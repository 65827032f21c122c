"""Staff accounts."""

import pytest

from baishitong.errors import Conflict
from baishitong.org import service as org


def test_a_username_differing_only_in_case_is_refused(session):
    with pytest.raises(Conflict, match="用户 t_ronggui 已存在（用户名不区分大小写）"):
        org.create_user(session, username="T_RongGui", password="long-enough-1", role="handler", unit_code="ronggui")
