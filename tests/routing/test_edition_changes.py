"""派单目录's 版本记录 says what each edition added, removed and changed against the one before it
(routing.catalogue.edition_changes, pure: the admin page passes the rules of both editions)."""

from baishitong.routing.catalogue import EditionChanges, edition_changes


def rule(prefix: str, lead: str, **fields) -> dict:
    return {"id": None, "priority": 0, "category_prefix": prefix, "region_code": None, "type": None, "keywords": None, "lead": lead, "co_units": [], "active": True, "note": None} | fields


LIGHTS, ROADS, NOISE = rule("0101", "ronggui"), rule("0102", "JTJ"), rule("0201", "HBJ")


def test_a_lead_moved_is_a_change_a_rule_with_another_match_an_addition_and_one_left_out_a_removal():
    after = [rule("0101", "SJJ", id=9), ROADS, rule("0101", "SJJ", keywords=["彩灯"])]
    changes = edition_changes([LIGHTS, ROADS, NOISE], after)
    assert changes == EditionChanges(added=1, removed=1, changed=1)
    assert changes.summary() == "新增 1 条、删除 1 条、修改 1 条"


def test_the_same_rules_saved_again_are_no_change_whatever_their_ids_and_unset_defaults():
    saved = [rule("0101", "ronggui", id=7, priority=None, co_units=None, active=None), {**ROADS, "id": 8}]
    assert edition_changes([LIGHTS, ROADS], saved).summary() == "无规则变化"


def test_rules_with_the_same_match_pair_off_an_identical_one_first():
    twins = [rule("0101", "ronggui", keywords=["路灯"]), rule("0101", "SJJ", keywords=["路灯"])]
    assert edition_changes(twins, [twins[1]]) == EditionChanges(added=0, removed=1, changed=0), "the SJJ one kept, not changed"
    assert edition_changes(twins, [*twins, rule("0101", "JTJ", keywords=["路灯"])]) == EditionChanges(added=1, removed=0, changed=0)
    assert edition_changes([], [LIGHTS]).summary() == "新增 1 条"
    assert edition_changes([LIGHTS, NOISE], [{**LIGHTS, "active": False}]).summary() == "删除 1 条、修改 1 条"
