"""Matching against stored policies, and the admin's upkeep."""

from datetime import timedelta

import pytest

from baishitong.audit.models import AuditEntry
from baishitong.enterprise import service
from baishitong.enterprise.models import Policy
from baishitong.enterprise.schemas import PolicyIn, ProfileIn
from baishitong.errors import Forbidden, InvalidInput
from tests.conftest import actor
from tests.enterprise.factories import BEIJIAO, RONGGUI, make_policy, make_product

MAKER = ProfileIn(industry="manufacturing", size="small", town=BEIJIAO, year_established=2018)


def test_only_published_policies_with_open_windows_are_matched(session):
    today = service.today()
    make_policy(session, title="已发布", industries=["manufacturing"], towns=[BEIJIAO])
    make_policy(session, title="草稿", status="draft")
    make_policy(session, title="已截止", apply_to=today - timedelta(days=1))
    make_policy(session, title="差一项", tags=["high_tech"])
    make_product(session, name="小微快贷", sizes=["micro", "small"])
    policies, products = service.match(session, data=MAKER)
    assert [(m.item.title, m.full) for m in policies] == [("已发布", True), ("差一项", False)]
    assert service.reason_text(policies[0]) == "符合：制造业、位于北滘镇"
    assert service.reason_text(policies[1]) == "差一项：需具备高新技术企业资质"
    assert [m.item.name for m in products] == ["小微快贷"] and products[0].met == ["小型企业"]


def test_a_retired_policy_is_no_longer_matched_and_the_change_is_audited(session):
    policy = make_policy(session)
    service.retire(session, Policy, actor=actor(session, "t_admin"), row_id=policy.id)
    assert service.match(session, data=MAKER)[0] == []
    actions = [e.action for e in session.query(AuditEntry).filter(AuditEntry.object_type == "enterprise_policy", AuditEntry.object_id == str(policy.id))]
    assert actions == ["enterprise_policy.create", "enterprise_policy.retire"]


def test_only_the_system_admin_keeps_policies(session):
    data = PolicyIn(title="t", unit="GXJ", summary="s", benefit="b")
    with pytest.raises(Forbidden):
        service.create(session, Policy, actor=actor(session, "t_ronggui_admin"), data=data)


def test_unknown_units_and_towns_are_refused(session):
    with pytest.raises(InvalidInput, match="单位 NOPE 不存在"):
        make_policy(session, unit="NOPE")
    with pytest.raises(InvalidInput, match="镇街编码"):
        make_policy(session, towns=["440606999"])
    with pytest.raises(InvalidInput, match="请选择企业所在镇街"):
        service.match(session, data=ProfileIn(industry="food", size="micro", town="440606999", year_established=2020))


def test_an_update_replaces_the_eligibility(session):
    policy = make_policy(session, towns=[RONGGUI])
    assert service.match(session, data=MAKER)[0][0].missing == ["需位于容桂街道"]
    service.update(session, Policy, actor=actor(session, "t_admin"), row_id=policy.id, data=PolicyIn(title="新标题", unit="beijiao", summary="s", benefit="b", status="published", towns=[BEIJIAO]))
    [found] = service.match(session, data=MAKER)[0]
    assert found.full and found.item.title == "新标题" and found.item.unit.code == "beijiao"
