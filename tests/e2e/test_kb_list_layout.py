"""知识库管理 in headless Chromium: on a phone seven columns wrapped the titles and categories a few characters a line."""

import pytest

from tests.e2e.test_story import staff_page

pytestmark = pytest.mark.e2e


def seed_server(session) -> None:
    from baishitong.knowledge import service as kb

    kb.load_demo(session)


def kb_page(browser, server, viewport):
    page = staff_page(browser, server, "operator1", viewport=viewport)
    page.goto(server + "/staff/kb")
    return page


def test_on_a_phone_each_article_stacks_with_its_fields_labelled(server, browser):
    page = kb_page(browser, server, {"width": 390, "height": 844})
    row = page.locator("table tbody tr").first
    widths = row.locator("td").evaluate_all("tds => tds.map(td => td.getBoundingClientRect().width)")
    assert min(widths) > 300, "every cell takes the card's width, not a column of a few characters"
    title = row.locator("td.title-cell strong")
    assert title.bounding_box()["height"] < 30, "a short title reads on one line"
    category = row.locator("td[data-label='分类']")
    assert "›" in category.inner_text() and category.bounding_box()["height"] < 30
    assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 1
    assert page.eval_on_selector(".table-wrap", "t => t.scrollWidth - t.clientWidth") <= 1


def test_on_a_desktop_the_articles_stay_a_table(server, browser):
    page = kb_page(browser, server, {"width": 1366, "height": 900})
    assert page.locator("table thead th:visible").count() == 7
    tops = page.locator("table tbody tr").first.locator("td").evaluate_all("tds => tds.map(td => Math.round(td.getBoundingClientRect().top))")
    assert len(tops) == 7 and len(set(tops)) == 1, "the cells of an article side by side"
