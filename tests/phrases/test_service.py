"""常用答复语: who sees which phrases, who may change them, and that every change is audited."""

import pytest

from baishitong.audit import service as audit
from baishitong.errors import Forbidden, InvalidInput
from baishitong.phrases import service as phrases
from tests.conftest import actor


@pytest.fixture
def three(session):
    """One shared phrase, one of 容桂街道's, one of 大良街道's."""
    admin = actor(session, "t_admin")
    shared = phrases.create(session, actor=admin, title="结束语", body="感谢您对我区工作的支持。", unit_code=None)
    ronggui = phrases.create(session, actor=admin, title="路灯已修复", body="容桂街道已安排维修，路灯恢复照明。", unit_code="ronggui")
    daliang = phrases.create(session, actor=admin, title="大良占道", body="大良街道已整治占道经营。", unit_code="daliang")
    return shared, ronggui, daliang


def test_a_handler_sees_their_units_phrases_first_then_shared_never_other_units(session, three):
    shared, ronggui, daliang = three
    assert phrases.usable(session, actor=actor(session, "t_ronggui")) == [ronggui, shared]
    assert phrases.usable(session, actor=actor(session, "t_daliang")) == [daliang, shared]
    assert phrases.usable(session, actor=actor(session, "t_operator")) == [shared]


def test_a_communitys_handler_also_sees_their_towns_phrases_after_their_own(session, three):
    shared, ronggui, _ = three
    gaoli = phrases.create(session, actor=actor(session, "t_admin"), title="高黎社区", body="高黎社区已上门核实。", unit_code="440606006023")
    assert phrases.usable(session, actor=actor(session, "t_gaoli")) == [gaoli, ronggui, shared]
    assert gaoli not in phrases.usable(session, actor=actor(session, "t_ronggui"))


def test_a_disabled_phrase_is_no_longer_offered_and_can_come_back(session, three):
    shared, ronggui, _ = three
    unit_admin = actor(session, "t_ronggui_admin")
    phrases.set_active(session, actor=unit_admin, phrase_id=ronggui.id, active=False)
    assert phrases.usable(session, actor=actor(session, "t_ronggui")) == [shared]
    assert ronggui in phrases.listed(session, actor=unit_admin)
    phrases.set_active(session, actor=unit_admin, phrase_id=ronggui.id, active=True)
    assert ronggui in phrases.usable(session, actor=actor(session, "t_ronggui"))


def test_a_unit_admin_manages_only_their_own_units_phrases(session, three):
    shared, ronggui, daliang = three
    unit_admin = actor(session, "t_ronggui_admin")
    mine = phrases.create(session, actor=unit_admin, title="占道经营已整治", body="执法人员已到场劝导整治。", unit_code="ronggui")
    assert mine.unit.code == "ronggui" and mine.created_by == "t_ronggui_admin"
    phrases.update(session, actor=unit_admin, phrase_id=ronggui.id, title="路灯已修复（更新）", body="已更换灯具。", unit_code="ronggui")
    assert ronggui.title == "路灯已修复（更新）"
    for attempt in (
        lambda: phrases.create(session, actor=unit_admin, title="通用", body="全部单位通用的内容", unit_code=None),
        lambda: phrases.create(session, actor=unit_admin, title="别的单位", body="大良街道的内容", unit_code="daliang"),
        lambda: phrases.update(session, actor=unit_admin, phrase_id=shared.id, title="改通用", body="不允许", unit_code="ronggui"),
        lambda: phrases.update(session, actor=unit_admin, phrase_id=ronggui.id, title="移给大良", body="不允许", unit_code="daliang"),
        lambda: phrases.set_active(session, actor=unit_admin, phrase_id=daliang.id, active=False),
    ):
        with pytest.raises(Forbidden):
            attempt()
    assert shared.title == "结束语" and daliang.active and ronggui.unit.code == "ronggui"
    assert daliang not in phrases.listed(session, actor=unit_admin)


def test_handlers_and_operators_cannot_change_phrases(session, three):
    shared, ronggui, _ = three
    for username in ("t_ronggui", "t_operator", "t_supervisor"):
        who = actor(session, username)
        with pytest.raises(Forbidden):
            phrases.create(session, actor=who, title="试试", body="不允许", unit_code=who.unit_code)
        with pytest.raises(Forbidden):
            phrases.set_active(session, actor=who, phrase_id=ronggui.id, active=False)
        with pytest.raises(Forbidden):
            phrases.listed(session, actor=who)


def test_title_and_body_are_required_and_bounded(session):
    admin = actor(session, "t_admin")
    for title, body, code in (("  ", "内容", "phrase_title_required"), ("标" * 41, "内容", "phrase_title_too_long"), ("标题", " ", "phrase_body_required"), ("标题", "字" * 2001, "phrase_body_too_long")):
        with pytest.raises(InvalidInput) as caught:
            phrases.create(session, actor=admin, title=title, body=body, unit_code=None)
        assert caught.value.code == code
    ok = phrases.create(session, actor=admin, title=" 标" * 20, body="字" * 2000, unit_code=None)
    assert len(ok.title) == 39 and len(ok.body) == 2000


def test_every_change_is_written_to_the_audit_trail(session):
    admin = actor(session, "t_admin")
    phrase = phrases.create(session, actor=admin, title="开头", body="您好，现答复如下：", unit_code="ronggui")
    phrases.update(session, actor=admin, phrase_id=phrase.id, title="开头语", body="您好！现答复如下：", unit_code=None)
    phrases.set_active(session, actor=admin, phrase_id=phrase.id, active=False)
    entries = audit.entries_for(session, object_type="reply_phrase", object_id=str(phrase.id))
    assert [(e.action, e.actor, e.data.get("unit")) for e in entries] == [
        ("reply_phrase.create", "t_admin", "ronggui"),
        ("reply_phrase.update", "t_admin", None),
        ("reply_phrase.disable", "t_admin", None),
    ]
    assert entries[1].data["body"] == "您好！现答复如下："
