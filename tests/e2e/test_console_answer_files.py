"""话务受理台's 直接答复办结 with a 答复附件 in headless Chromium: the suggestion panel still follows the typing without
sending the chosen file each time, the file goes with the answer, and a half-taken call with a file chosen comes
back from its draft after a reload (the file to choose again, the rest as typed)."""

import pytest

from tests.attachments.files import png
from tests.e2e.test_story import staff_page

pytestmark = pytest.mark.e2e

QUESTION = "请问在容桂街道办理居住证需要带什么材料，到哪里办理？"
ANSWER = "您好，办理居住证需携带身份证和租房合同到所在社区服务站申请，详见附件。"


def test_a_direct_answer_with_a_photo_from_the_console(server, browser, shot):
    operator = staff_page(browser, server, "operator1", shot)
    errors: list[str] = []
    operator.on("pageerror", lambda exc: errors.append(str(exc)))
    suggested: list[bytes] = []
    operator.on("request", lambda r: suggested.append(r.post_data_buffer or b"") if r.url.endswith("/staff/console/suggest") else None)

    operator.check("input[name=type][value=咨询]")
    operator.fill("#f-phone", "13900007001")
    operator.check("input[name=after][value=answer]")
    operator.fill("#f-answer", ANSWER)
    operator.set_input_files("#f-files", [{"name": "窗口.png", "mimeType": "image/png", "buffer": png(width=40, height=30)}])
    with operator.expect_response(lambda r: r.url.endswith("/staff/console/suggest")):
        operator.fill("#f-content", QUESTION)
    assert suggested and all(b"\x89PNG" not in body and "窗口.png".encode() not in body for body in suggested)

    # Reloaded half-way: the typed call comes back from its draft (a file input cannot be refilled, so it is left).
    operator.reload()
    assert operator.input_value("#f-content") == QUESTION and operator.input_value("#f-answer") == ANSWER
    assert operator.is_checked("input[name=after][value=answer]")
    assert operator.eval_on_selector("#f-files", "f => f.files.length") == 0

    operator.set_input_files("#f-files", [{"name": "窗口.png", "mimeType": "image/png", "buffer": png(width=40, height=30)}])
    with operator.expect_navigation():
        operator.press("#f-phone", "Control+Enter")
    assert "已受理并直接答复办结（答复附件 1 个）" in operator.inner_text("#flash")
    shot(operator, "console-answer-files")
    assert errors == []
