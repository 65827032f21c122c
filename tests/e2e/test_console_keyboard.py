"""The console in headless Chromium: a stray Enter does not register a half-taken call, and what was typed
survives a reload, an expired page and a slip of the 新建 shortcut."""

import pytest

from tests.e2e.test_story import staff_page

pytestmark = pytest.mark.e2e

LAMP = "容桂街道高黎社区桂洲大道东路段路灯连续一周不亮，晚上行人很不安全。"


def intake_posts(page) -> list:
    """The registrations the page sends (not the suggestion panel's requests)."""
    sent = []
    page.on("request", lambda r: sent.append(r) if r.method == "POST" and r.url.endswith("/staff/console") else None)
    return sent


def test_plain_enter_does_not_register_the_call_and_ctrl_enter_does(server, browser, shot):
    operator = staff_page(browser, server, "operator1", shot)
    sent = intake_posts(operator)
    operator.fill("#f-content", LAMP)
    operator.fill("#f-address", "容桂街道高黎社区桂洲大道东 38 号")
    operator.fill("#f-name", "周先生")
    # Sent without the number: the message names the console's field, and the cursor is in it.
    with operator.expect_navigation():
        operator.press("#f-name", "Control+Enter")
    assert "请填写来电号码" in operator.inner_text("#intake-form")
    assert operator.evaluate("document.activeElement.id") == "f-phone"
    sent.clear()
    operator.keyboard.type("13900005001")
    for field in ("#f-address", "#f-phone", "#f-name", "#f-urgency"):
        operator.press(field, "Enter")
    operator.wait_for_timeout(500)
    assert sent == [] and operator.input_value("#f-content") == LAMP

    operator.check("#f-urgency")
    with operator.expect_navigation():
        operator.press("#f-phone", "Control+Enter")
    assert len(sent) == 1
    assert "紧急工单 SD" in operator.inner_text("#flash") and operator.input_value("#f-content") == ""


def test_a_half_taken_call_survives_a_reload_an_expired_page_and_a_slip_of_the_new_call_key(server, browser, shot):
    operator = staff_page(browser, server, "operator1", shot)
    operator.fill("#f-content", LAMP)
    operator.fill("#f-phone", "13900005002")
    operator.check("#f-confidential")
    operator.check("input[name=after][value=none]")

    operator.reload()
    assert operator.input_value("#f-content") == LAMP and operator.input_value("#f-phone") == "13900005002"
    assert operator.is_checked("#f-confidential") and operator.is_checked("input[name=after][value=none]")
    assert f"{len(LAMP)} / 5000" in operator.inner_text(".char-count")
    operator.wait_for_selector("#sg-routing")  # the suggestion panel follows the restored text
    shot(operator, "console-draft-restored")

    # Esc, then N by habit: asked first, and 取消 keeps the call.
    asked = []
    operator.once("dialog", lambda d: (asked.append(d.message), d.dismiss()))
    operator.press("#f-content", "Escape")
    operator.keyboard.press("n")
    assert asked == ["已填写的内容还没有提交，确定放弃吗？"] and operator.input_value("#f-content") == LAMP

    # The session expired meanwhile: 页面已过期, and 返回填写页面 brings the call back.
    operator.evaluate("document.querySelector('#intake-form [name=csrf_token]').value = 'expired'")
    operator.press("#f-phone", "Control+Enter")
    operator.wait_for_selector("text=页面已过期")
    shot(operator, "console-expired")
    with operator.expect_navigation():
        operator.click("a:has-text('返回填写页面')")
    assert operator.input_value("#f-content") == LAMP and operator.is_checked("#f-confidential")

    # A screen pop for another caller is another call: its page is not overwritten with this draft.
    operator.goto(server + "/staff/console?phone=13900005999")
    assert operator.input_value("#f-content") == "" and operator.input_value("#f-phone") == "13900005999"
    operator.goto(server + "/staff/console")
    assert operator.input_value("#f-content") == LAMP

    # Registered: the draft is gone, and the next reload shows an empty form.
    with operator.expect_navigation():
        operator.press("#f-phone", "Control+Enter")
    assert "保密工单 SD" in operator.inner_text("#flash") and operator.input_value("#f-content") == ""
    operator.reload()
    assert operator.input_value("#f-content") == "" and not operator.is_checked("#f-confidential")

    # N with a call typed, confirmed: a new, empty form.
    operator.fill("#f-content", LAMP)
    operator.once("dialog", lambda d: d.accept())
    operator.press("#f-content", "Escape")
    with operator.expect_navigation():
        operator.keyboard.press("n")
    assert operator.input_value("#f-content") == ""
    operator.reload()
    assert operator.input_value("#f-content") == ""


def test_back_after_registering_does_not_bring_the_registered_call_back(server, browser, shot):
    """Back (Alt+←, a mouse's back button) after 受理 must not show the call just registered in a fresh form:
    registering it again would be a second order, sent to the unit twice."""
    operator = staff_page(browser, server, "operator1", shot)
    operator.fill("#f-content", LAMP)
    operator.fill("#f-phone", "13900005006")
    with operator.expect_navigation():
        operator.press("#f-phone", "Control+Enter")
    assert "工单 SD" in operator.inner_text("#flash")
    operator.go_back()
    operator.wait_for_load_state()
    shot(operator, "console-back-after-register")
    assert operator.input_value("#f-content") == "" and operator.input_value("#f-phone") == ""


def test_back_after_registering_does_not_show_an_old_calls_success_message(server, browser, shot):
    """Back after the second call's 受理 showed the page as the browser kept it: 工单 … 已受理 of the first call over
    an empty form, as if the call in hand had gone through."""
    operator = staff_page(browser, server, "operator1", shot)
    numbers = []
    for phone in ("13900005007", "13900005008"):
        operator.fill("#f-content", LAMP)
        operator.fill("#f-phone", phone)
        with operator.expect_navigation():
            operator.press("#f-phone", "Control+Enter")
        numbers.append(operator.inner_text("#flash").split("工单 ")[1].split(" ")[0])
    assert numbers[0] != numbers[1]
    operator.go_back()
    operator.wait_for_load_state()
    assert "已受理" not in operator.inner_text("#flash") and operator.input_value("#f-content") == ""
    # Nor after going on to the order from the message and coming back.
    operator.goto(f"{server}/staff/tickets/{numbers[1]}")
    operator.go_back()
    operator.wait_for_load_state()
    assert "已受理" not in operator.inner_text("#flash")


def test_the_shortcut_help_writes_the_keys_as_the_page_does(server, browser, shot):
    operator = staff_page(browser, server, "operator1", shot)
    operator.press("#f-content", "Escape")
    operator.keyboard.press("?")
    dialog = operator.locator("dialog.hotkey-dialog")
    dialog.wait_for()
    shot(operator, "console-shortcut-help")
    keys = [[k.inner_text() for k in row.locator("kbd").all()] for row in dialog.locator("li").all()]
    assert keys == [["N"], ["Ctrl", "Enter"], ["?"]], "as 来电受理：N 新建，Ctrl+Enter 提交 above the form"


def test_signing_out_forgets_the_call_kept_in_the_tab(server, browser, shot):
    from tests.e2e.test_story import PASSWORD

    operator = staff_page(browser, server, "operator1", shot)
    operator.fill("#f-content", LAMP)
    operator.fill("#f-phone", "13900005003")
    with operator.expect_navigation():
        operator.click("button:has-text('退出')")
    operator.fill("#f-username", "operator1")  # the next shift, or the same operator back from a break
    operator.fill("#f-password", PASSWORD)
    with operator.expect_navigation():
        operator.click("button:has-text('登录')")
    operator.goto(server + "/staff/console")
    assert operator.input_value("#f-content") == "" and operator.input_value("#f-phone") == ""



def test_a_page_form_goes_once_until_the_page_is_shown_again(server, browser, shot):
    """A double click must not send 催办 (append-only: recorded and texted each time) twice: the second submit
    of a page's POST form is stopped, and a page restored from history can send again."""
    import httpx

    from tests.e2e.conftest import PASSWORD
    from tests.e2e.test_story import open_action

    headers = {"Authorization": "Bearer " + httpx.post(server + "/api/v1/auth/token", json={"username": "operator1", "password": PASSWORD}).json()["access_token"]}
    number = httpx.post(server + "/api/v1/tickets", json={"type": "投诉", "content": LAMP, "requester": {"phone": "13900005004"}}, headers=headers).json()["number"]
    ticket = httpx.get(f"{server}/api/v1/tickets/{number}", headers=headers).json()
    if ticket["status"] == "registered":
        httpx.post(f"{server}/api/v1/tickets/{number}/actions/dispatch", json={"version": ticket["version"], "lead_unit": "ronggui"}, headers=headers)
    operator = staff_page(browser, server, "operator1", shot)
    operator.goto(f"{server}/staff/tickets/{number}")
    open_action(operator, "urge")
    sent = operator.evaluate("""() => {
        const form = document.querySelector('form[data-action-form=urge]');
        const submit = () => form.dispatchEvent(new SubmitEvent('submit', {bubbles: true, cancelable: true}));
        const first = submit(), second = submit();
        window.dispatchEvent(new PageTransitionEvent('pageshow', {persisted: true}));
        return [first, second, submit()];
    }""")
    assert sent == [True, False, True]
