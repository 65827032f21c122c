"""惠企政策 at phone width: an enterprise fills its profile, sees a match and why, and asks about it."""

import pytest

from tests.e2e.conftest import SCREENSHOTS

pytestmark = pytest.mark.e2e

MOBILE = {"width": 390, "height": 844}


def seed_server(session) -> None:
    from baishitong.enterprise import service as enterprise

    enterprise.load_demo(session)


def test_an_enterprise_finds_a_matching_policy_with_its_reasons(server, browser):
    context = browser.new_context(locale="zh-CN", viewport=MOBILE, device_scale_factor=2, is_mobile=True, has_touch=True)
    page = context.new_page()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.goto(server + "/")
    page.click("a.tile[href='/enterprise']")
    page.select_option("#f-industry", "robotics")
    page.select_option("#f-size", "small")
    page.select_option("#f-town", label="北滘镇")
    page.fill("#f-year", "2019")
    page.check("#f-tag-tech_sme")
    page.click("form[action^='/enterprise'] button[type=submit]")
    page.wait_for_selector("#policy-results")
    page.screenshot(path=str(SCREENSHOTS / "e01-enterprise-matches.png"), full_page=True)

    match = page.locator("#policy-results li.offer", has_text="北滘镇机器人及智能装备产业扶持")
    assert match.get_attribute("data-full") == "yes"
    assert "符合：机器人及智能装备、位于北滘镇" in match.inner_text()
    near = page.locator("#policy-results li.offer[data-full=no]").first
    assert "差一项：" in near.inner_text()
    # Full matches come first.
    flags = page.locator("#policy-results li.offer").evaluate_all("items => items.map(i => i.dataset.full)")
    assert flags == sorted(flags, key=lambda f: f != "yes")
    assert page.evaluate("document.documentElement.scrollWidth") <= MOBILE["width"]

    match.locator("a.list-title").click()
    page.wait_for_selector("#consult")
    assert "符合：机器人及智能装备、位于北滘镇" in page.inner_text("#fit")
    page.screenshot(path=str(SCREENSHOTS / "e02-enterprise-policy.png"), full_page=True)
    page.click("#consult")
    page.wait_for_selector("form[action='/submit']")
    assert page.is_checked("input[name=type][value=咨询]")
    assert "北滘镇机器人及智能装备产业扶持" in page.input_value("#f-content")
    assert page.locator("input[name=channel]").get_attribute("value") == "enterprise"
    context.close()
