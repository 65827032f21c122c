from datetime import datetime

import pytest

from baishitong.sla.calendar import BusinessCalendar, Deadline
from baishitong.sla.policy import Limit, SlaRule, Stage, Unit, compute_deadlines, default_rules, match


@pytest.fixture(scope="module")
def cal() -> BusinessCalendar:
    return BusinessCalendar.from_chinese_calendar()


def dt(text: str) -> datetime:
    return datetime.fromisoformat(text)


def effective(rules: list[SlaRule] | None = None, **ticket: str | None) -> SlaRule:
    criteria = {"type": "投诉", "channel": "hotline", "urgency": "normal", "category_code": None} | ticket
    return match(default_rules() if rules is None else rules, **criteria)


@pytest.mark.parametrize(
    ("ticket_type", "days"),
    [("咨询", 2), ("求助", 10), ("建议", 10), ("投诉", 15), ("举报", 15), ("表扬", 2)],
)
def test_close_limits_by_type(ticket_type: str, days: int) -> None:
    rule = effective(type=ticket_type)
    assert rule.stages[Stage.CLOSE] == Limit(days, Unit.WORKING_DAYS)
    assert rule.stages[Stage.SIGN] == Limit(2, Unit.WORKING_HOURS)


def test_every_stage_always_present() -> None:
    for rule in (effective(), effective(channel="enterprise"), effective(urgency="urgent")):
        assert set(rule.stages) == set(Stage)


def test_enterprise_contact_and_reply() -> None:
    rule = effective(channel="enterprise")
    assert rule.name == "企业诉求"
    assert rule.stages[Stage.CONTACT] == Limit(1, Unit.WORKING_HOURS)
    assert rule.stages[Stage.REPLY] == Limit(24, Unit.HOURS)
    # The type still decides what the enterprise rule leaves unset.
    assert rule.stages[Stage.CLOSE] == Limit(15, Unit.WORKING_DAYS)
    assert rule.sources[Stage.CLOSE] == "投诉类"


def test_urgent_beats_enterprise_and_type() -> None:
    rule = effective(channel="enterprise", urgency="urgent")
    assert rule.name == "紧急工单"
    assert rule.stages == {
        Stage.SIGN: Limit(0.5, Unit.HOURS),
        Stage.CONTACT: Limit(1, Unit.HOURS),
        Stage.REPLY: Limit(4, Unit.HOURS),
        Stage.CLOSE: Limit(24, Unit.HOURS),
    }


def test_precedence_order() -> None:
    rules = [
        SlaRule(None, None, None, None, name="兜底", stages={s: Limit(10, "working_days") for s in Stage}),
        SlaRule("投诉", None, None, None, name="类型", stages={Stage.CLOSE: Limit(9, "working_days")}),
        SlaRule(None, None, None, "03", name="大类", stages={Stage.CLOSE: Limit(8, "working_days")}),
        SlaRule(None, None, None, "0301", name="小类", stages={Stage.CLOSE: Limit(7, "working_days")}),
        SlaRule(None, "web", None, None, name="渠道", stages={Stage.CLOSE: Limit(6, "working_days")}),
        SlaRule(None, None, "urgent", None, name="紧急", stages={Stage.CLOSE: Limit(5, "working_days")}),
    ]
    close = lambda **t: effective(rules, **t).stages[Stage.CLOSE].amount  # noqa: E731
    assert close(type="求助") == 10
    assert close() == 9
    assert close(category_code="0399") == 8
    assert close(category_code="030105") == 7
    assert close(category_code="030105", channel="web") == 6
    assert close(category_code="030105", channel="web", urgency="urgent") == 5


def test_combined_criteria_beat_single() -> None:
    rules = [
        SlaRule(None, None, None, None, stages={s: Limit(10, "working_days") for s in Stage}),
        SlaRule(None, "web", None, None, name="渠道", stages={Stage.CLOSE: Limit(6, "working_days")}),
        SlaRule("投诉", "web", None, None, name="渠道+类型", stages={Stage.CLOSE: Limit(4, "working_days")}),
    ]
    assert effective(rules, channel="web").name == "渠道+类型"


def test_ties_go_to_the_first_listed() -> None:
    rules = [
        SlaRule(None, None, None, None, stages={s: Limit(10, "working_days") for s in Stage}),
        SlaRule(None, "web", None, None, name="甲", stages={Stage.CLOSE: Limit(6, "working_days")}),
        SlaRule(None, "web", None, None, name="乙", stages={Stage.CLOSE: Limit(3, "working_days")}),
    ]
    assert effective(rules, channel="web").stages[Stage.CLOSE].amount == 6


def test_no_category_code_skips_category_rules() -> None:
    rules = [
        SlaRule(None, None, None, None, stages={s: Limit(10, "working_days") for s in Stage}),
        SlaRule(None, None, None, "03", stages={Stage.CLOSE: Limit(3, "working_days")}),
    ]
    assert effective(rules, category_code=None).stages[Stage.CLOSE].amount == 10


def test_missing_catch_all_rejected() -> None:
    with pytest.raises(ValueError):
        effective([SlaRule("投诉", None, None, None, stages={Stage.CLOSE: Limit(3, "working_days")})])


def test_rule_validation() -> None:
    with pytest.raises(ValueError):
        SlaRule("complaint", None, None, None, stages={})
    with pytest.raises(ValueError):
        SlaRule(None, "fax", None, None, stages={})
    with pytest.raises(ValueError):
        Limit(0, Unit.HOURS)
    with pytest.raises(ValueError):
        Limit(1, "minutes")


def test_limit_labels_and_clock() -> None:
    assert Limit(15, Unit.WORKING_DAYS).label == "15个工作日"
    assert Limit(0.5, Unit.HOURS).label == "0.5小时"
    assert Limit(1, Unit.WORKING_HOURS).clock == "working"
    assert Limit(24, Unit.HOURS).clock == "calendar"
    assert Stage.CONTACT.label == "首次联系"


def test_compute_deadlines_complaint_over_national_day(cal: BusinessCalendar) -> None:
    deadlines = compute_deadlines(cal, effective(), dt("2026-09-30 16:00"))
    assert deadlines == {
        Stage.SIGN: Deadline(dt("2026-10-08 09:00")),
        Stage.CONTACT: Deadline(dt("2026-10-08 16:00")),
        Stage.REPLY: Deadline(dt("2026-10-27 16:00")),
        Stage.CLOSE: Deadline(dt("2026-10-27 16:00")),
    }


def test_compute_deadlines_enterprise(cal: BusinessCalendar) -> None:
    deadlines = compute_deadlines(cal, effective(type="咨询", channel="enterprise"), dt("2026-09-11 16:59"))
    assert deadlines[Stage.SIGN].at == dt("2026-09-11 17:29")
    assert deadlines[Stage.CONTACT].at == dt("2026-09-14 08:59")
    assert deadlines[Stage.REPLY].at == dt("2026-09-12 16:59")
    assert deadlines[Stage.CLOSE].at == dt("2026-09-15 16:59")


def test_compute_deadlines_urgent_with_pause(cal: BusinessCalendar) -> None:
    pause = [(dt("2026-10-01 01:00"), dt("2026-10-01 03:00"))]
    deadlines = compute_deadlines(cal, effective(urgency="urgent"), dt("2026-09-30 22:00"), pause)
    assert deadlines[Stage.SIGN].at == dt("2026-09-30 22:30")
    assert deadlines[Stage.REPLY].at == dt("2026-10-01 04:00")
    assert deadlines[Stage.CLOSE].at == dt("2026-10-02 00:00")


def test_compute_deadlines_provisional_in_unknown_year(cal: BusinessCalendar) -> None:
    deadlines = compute_deadlines(cal, effective(), dt("2031-03-03 09:00"))
    assert all(d.provisional for d in deadlines.values())
