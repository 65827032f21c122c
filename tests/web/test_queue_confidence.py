"""待派单 and 待审核 say how sure the router was as the console and the order page do: 92%（高） against the
auto-dispatch threshold, with the raw score in title; the console's panel names the catalogue version once."""

import re

from tests.routing.test_service import register
from tests.web.test_console_after import CONFIDENT, intake, ticket_of
from tests.web.test_desk_priorities import _section
from tests.web.test_pages import login, token

WORDED = r'<span class="muted" data-level="(高|中|低)" title="模型输出 \d\.\d{4}；自动派单阈值 80%">\d+%（\1）</span>'


def _row(page: str, number: str) -> str:
    return re.search(rf'<tr data-ticket="{number}".*?</tr>', page, re.S).group(0)


def test_the_dispatch_queue_words_the_confidence_against_the_threshold(web, session, model):
    login(web, "t_operator")
    intake(web, "13800003201", after="none")  # held: registered, the proposal recorded
    vague = register(session, content="你好，我想问一下这个事情怎么办。", address="容桂街道")
    session.commit()
    page = web.get("/staff/console/dispatch").text
    confident = re.search(WORDED, _row(page, ticket_of(session, "13800003201").number))
    assert confident and confident.group(1) == "高"
    unsure = re.search(WORDED, _row(page, vague.number))
    assert unsure and unsure.group(1) != "高"


def test_the_routing_review_words_the_confidence_against_the_threshold(web, session, model):
    vague = register(session, content="你好，我想问一下这个事情怎么办。", address="容桂街道")
    session.commit()
    login(web, "t_operator")
    row = _row(_section(web.get("/staff/console/review").text, "routing-review"), vague.number)
    assert re.search(WORDED, row) and not re.search(r">\d+%<", row)


def test_the_console_panel_names_the_catalogue_version_in_the_rule_only(web, session, model):
    login(web, "t_operator")
    page = web.get("/staff/console").text
    panel = web.post("/staff/console/suggest", data={"csrf_token": token(page), "type": "投诉", "content": CONFIDENT, "address": "容桂街道高黎社区"}).text
    assert "目录版本" not in panel
    assert re.search(r'<th scope="row">匹配规则</th><td><span data-rule="\d+" title="派单目录 v\d+，规则 #\d+', panel)
