"""The console's 更多 in headless Chromium: folded away on a new call; a 问题分类 chosen there shows in the
suggestion panel beside the classifier's; a kept call brings back its note and co-handlers with 更多 open."""

import pytest

from tests.e2e.test_story import staff_page

pytestmark = pytest.mark.e2e

LAMP = "容桂街道高黎社区桂洲大道东路段路灯不亮，井盖缺失，道路破损，希望尽快处理。"
NOTE = "来电人下午三点后在家，请先电话联系再上门"


def seed_server(session) -> None:
    """An active router, so the panel has a classifier's category to show beside the chosen one."""
    from tests.routing.factories import train_router

    train_router(session)


def test_more_fields_fold_away_follow_the_panel_and_survive_a_reload(server, browser, shot):
    operator = staff_page(browser, server, "operator1", shot)
    assert not operator.is_visible("#f-dispatch_note")
    operator.fill("#f-content", LAMP)
    operator.fill("#f-phone", "13900006001")
    operator.wait_for_selector("#sg-routing :text('城乡建设')")

    operator.click(".intake-more summary")
    operator.select_option("#f-category_code", "050102")
    operator.wait_for_selector("#sg-routing :text('（已改选；智能分类建议：城乡建设）')")
    operator.fill("#f-dispatch_note", NOTE)
    operator.select_option("#f-co_units", ["SJJ", "daliang"])
    assert operator.eval_on_selector("#f-co_units", "s => getComputedStyle(s).backgroundImage") == "none", "a list box, with no dropdown arrow over its options"
    assert operator.eval_on_selector("#f-category_code", "s => getComputedStyle(s).backgroundImage") != "none"
    gaps = operator.eval_on_selector_all(".intake-more > .form-row", "rows => rows.slice(1).map((r, i) => r.getBoundingClientRect().top - rows[i].getBoundingClientRect().bottom)")
    assert len(gaps) == 3 and min(gaps) >= 12, "a field's hint is set apart from the next field's label, as elsewhere on the form"
    shot(operator, "console-more")

    operator.reload()
    assert operator.evaluate("document.querySelector('.intake-more').open")
    assert operator.input_value("#f-dispatch_note") == NOTE and operator.input_value("#f-category_code") == "050102"
    assert operator.eval_on_selector("#f-co_units", "s => [...s.selectedOptions].map(o => o.value).sort()") == ["SJJ", "daliang"]

    with operator.expect_navigation():
        operator.press("#f-phone", "Control+Enter")
    assert "已受理并派至" in operator.inner_text("#flash")
    assert not operator.evaluate("document.querySelector('.intake-more').open")
