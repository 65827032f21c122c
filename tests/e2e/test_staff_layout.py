"""Staff desk layout in headless Chromium: a row of stat cards is one height, hint line or not."""

import pytest

from tests.e2e.test_story import staff_page

pytestmark = pytest.mark.e2e


def test_stat_cards_in_a_row_share_one_height(server, browser, shot):
    page = staff_page(browser, server, "ronggui", shot)
    page.goto(server + "/staff/unit")
    heights = page.eval_on_selector_all(".stats .stat", "cards => cards.map(c => c.getBoundingClientRect().height)")
    tops = page.eval_on_selector_all(".stats .stat", "cards => cards.map(c => Math.round(c.getBoundingClientRect().top))")
    assert len(heights) >= 4 and len(set(tops)) == 1
    assert max(heights) - min(heights) < 1, heights
