"""智能分拨 evidence an operator can read: the catalogue rule by what it matches, the classifier's confidence as a
percentage with 高/中/低 against the auto-dispatch threshold, similarity as a percentage; raw values in title."""

import re

from baishitong.routing import service as routing
from baishitong.web.ticket import confidence_view
from tests.web.test_console_after import CONFIDENT, intake, ticket_of
from tests.web.test_pages import login, token

STREET_LIGHTS = {"category_prefix": "01", "region_code": "440606006", "type": "投诉", "keywords": ["路灯", "井盖"], "lead": "ronggui"}


def _with_rule(session, rule: dict) -> None:
    _, rules = routing.current_catalogue(session)
    routing.replace_catalogue(session, rules=[*({f: getattr(r, f) for f in routing.RULE_FIELDS} for r in rules), rule], actor="test", note="路灯试点")


def _row(html: str, label: str) -> str:
    return re.search(rf'<th scope="row">{label}</th><td>(.*?)</td>', html).group(1)


def test_confidence_is_high_at_the_auto_dispatch_threshold_medium_from_half_of_it_low_below():
    assert confidence_view(0.8, 0.8)["text"] == "80%（高）"
    assert confidence_view(0.79, 0.8)["text"] == "79%（中）" and confidence_view(0.4, 0.8)["word"] == "中"
    assert confidence_view(0.39, 0.8)["text"] == "39%（低）"
    assert confidence_view(0.6, 0.5)["word"] == "高", "the configured threshold, not a fixed one"
    assert confidence_view(0.38123, 0.8)["title"] == "模型输出 0.3812；自动派单阈值 80%"
    assert confidence_view(None, 0.8) is None


def test_the_console_panel_names_the_rule_by_what_it_matched_and_says_how_sure_the_classifier_is(web, session, model):
    _with_rule(session, STREET_LIGHTS)
    login(web, "t_operator")
    page = web.get("/staff/console").text
    panel = web.post("/staff/console/suggest", data={"csrf_token": token(page), "type": "投诉", "content": CONFIDENT, "address": "容桂街道高黎社区"}).text
    rule = _row(panel, "匹配规则")
    assert "问题分类“城乡建设”、容桂、投诉类、关键词“路灯、井盖” → 容桂街道</span>" in rule
    assert re.search(r'title="派单目录 v\d+，规则 #\d+，关键词：路灯、井盖"', rule) and ">#" not in rule
    confidence = _row(panel, "置信度")
    assert re.search(r'data-level="高" title="模型输出 \d\.\d{4}；自动派单阈值 80%">\d+%（高）</span>', confidence)


def test_a_rule_for_the_town_names_the_town_it_chose(web, session, model):
    login(web, "t_operator")
    page = web.get("/staff/console").text
    panel = web.post("/staff/console/suggest", data={"csrf_token": token(page), "type": "投诉", "content": CONFIDENT, "address": "容桂街道高黎社区"}).text
    assert "问题分类“城乡建设” → 事发镇街（容桂街道）" in _row(panel, "匹配规则")


def test_the_ticket_page_shows_the_same_evidence_in_words(web, session, model):
    _with_rule(session, STREET_LIGHTS)
    login(web, "t_operator")
    intake(web, "13800003101", after="none")
    page = web.get(f"/staff/tickets/{ticket_of(session, '13800003101').number}").text
    evidence = page[page.index('id="routing"') :]
    rule = _row(evidence, "匹配规则")
    assert "问题分类“城乡建设”、容桂、投诉类、关键词“路灯、井盖” → 容桂街道" in rule and "规则 #" in rule and ">#" not in rule
    assert re.search(r'title="模型输出 \d\.\d{4}；自动派单阈值 80%">\d+%（高）', _row(evidence, "置信度"))


def test_a_rule_whose_unit_was_disabled_says_so_in_the_panel_and_when_the_call_is_registered(web, session, model):
    from baishitong.org import service as org
    from tests.web.test_console_after import intake, ticket_of

    _with_rule(session, STREET_LIGHTS | {"lead": "CGZF"})
    org.find_unit(session, code="CGZF").active = False
    session.flush()
    login(web, "t_operator")
    page = web.get("/staff/console").text
    panel = web.post("/staff/console/suggest", data={"csrf_token": token(page), "type": "投诉", "content": CONFIDENT, "address": "容桂街道高黎社区"}).text
    assert "关键词“路灯、井盖” → 顺德区城市管理和综合执法局（已停用）</span>" in _row(panel, "匹配规则")
    assert "—" in _row(panel, "建议主办")
    registered = intake(web, "13800003109", after="dispatch")
    assert "派单目录匹配的主办单位 顺德区城市管理和综合执法局 已停用，请在待派单中选择主办单位" in registered.text
    assert ticket_of(session, "13800003109").status == "registered"


def test_a_possible_duplicate_shows_its_similarity_as_a_percentage(web, session, model):
    login(web, "t_operator")
    intake(web, "13800003102", after="none")
    page = web.get("/staff/console").text
    panel = web.post("/staff/console/suggest", data={"csrf_token": token(page), "type": "投诉", "content": CONFIDENT, "address": "容桂街道高黎社区"}).text
    duplicates = panel[panel.index('id="sg-duplicates"') :]
    assert re.search(r'<span title="相似度 [01]\.\d+">内容相似度 \d+%</span>', duplicates), duplicates[:2000]
