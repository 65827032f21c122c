"""Routing below level 1: a deployment whose closed orders carry sub-categories gets a model that names them
when it is sure, so the catalogue's finer rules (停电 → 供电局, not the 水电气 default) can decide."""

import random

import pytest

from baishitong.actors import REQUESTER
from baishitong.org import service as org
from baishitong.routing import classifier, service
from baishitong.routing.models import RoutingDecision
from baishitong.tickets import service as tickets
from tests.routing.factories import FILLER
from tests.tickets.factories import intake

# Leaf categories of the reference taxonomy and words that only their orders use.
STREET_LIGHTS, BROKEN_ROADS = "010101", "010102"  # 城乡建设 › 市政设施 › 路灯 / 道路破损
UNPAID_WAGES, PENSIONS = "020101", "020201"  # 劳动和社会保障 › 劳动关系 › 拖欠工资 / 社会保险 › 养老保险
RUBBISH = "010601"  # 城乡建设 › 环境卫生 › 垃圾清运
WORDS = {
    STREET_LIGHTS: ["路灯不亮", "路灯坏了", "灯杆倾斜", "照明设施", "晚上很黑", "路灯闪烁"],
    BROKEN_ROADS: ["路面坑洼", "道路破损", "坑槽积水", "沥青开裂", "路面塌陷", "破损路段"],
    UNPAID_WAGES: ["拖欠工资", "老板欠薪", "工资不发", "讨薪无门", "欠薪半年", "克扣工钱"],
    PENSIONS: ["养老保险", "退休金", "养老金领取", "缴费年限", "社保断缴", "补缴养老"],
    RUBBISH: ["垃圾没人清运", "垃圾桶满了", "垃圾堆放", "清运不及时", "垃圾发臭", "垃圾站"],
}


def close_orders(session, counts: dict[str, int], seed: int = 7, words: dict[str, list[str]] | None = None) -> None:
    rng = random.Random(seed)
    for code, n in counts.items():
        category = org.get_category(session, code=code)
        for _ in range(n):
            text = "，".join(rng.sample((words or WORDS)[code], 3) + rng.sample(FILLER, 3)) + "。"
            ticket, _ = tickets.create_ticket(session, data=intake(content=text, address="容桂街道"), actor=REQUESTER)
            ticket.category, ticket.status = category, "closed"  # the lifecycle is tested in tests/tickets
    session.flush()


def test_sub_categories_with_enough_closed_orders_are_learnt_apart_and_thin_ones_teach_their_parent(session):
    close_orders(session, {STREET_LIGHTS: 6, BROKEN_ROADS: 6, UNPAID_WAGES: 6, PENSIONS: 6})
    _, labels = service.training_set_from_database(session, label="category")
    assert set(labels) == {STREET_LIGHTS, BROKEN_ROADS, UNPAID_WAGES, PENSIONS}
    _, level1 = service.training_set_from_database(session, label="category_l1")
    assert set(level1) == {"01", "02"}

    # Two rubbish orders under 城乡建设: too few to learn apart, and too few to leave 城乡建设 as a class of its own
    # beside 市政设施, so 市政设施's orders teach 城乡建设 too (every class keeps 5 orders to learn and score).
    close_orders(session, {RUBBISH: 2}, seed=8)
    _, labels = service.training_set_from_database(session, label="category")
    assert set(labels) == {"01", UNPAID_WAGES, PENSIONS}
    assert labels.count("01") == 14


def test_a_model_of_sub_categories_names_the_finest_one_it_is_sure_of(session):
    service.ensure_default_catalogue(session)
    # Here 路灯 and 道路破损 orders read alike (both about the street at night); 拖欠工资 and 养老保险 do not.
    alike = WORDS[STREET_LIGHTS] + WORDS[BROKEN_ROADS]
    close_orders(session, {STREET_LIGHTS: 10, BROKEN_ROADS: 10, UNPAID_WAGES: 10, PENSIONS: 10}, words={**WORDS, STREET_LIGHTS: alike, BROKEN_ROADS: alike})
    model = service.train_from_database(session, label="category", actor="test")
    assert model.active and sorted(model.labels) == [STREET_LIGHTS, BROKEN_ROADS, UNPAID_WAGES, PENSIONS]
    assert model.metrics["cv_macro_f1_l1"] > 0.95 > model.metrics["cv_macro_f1"]
    assert "细类" in model.note

    sure = service.suggest(session, text="公司老板欠薪半年，工资不发，讨薪无门。", threshold=0.8)
    assert sure.category.code == sure.label == UNPAID_WAGES and sure.category_source == "model" and sure.confidence >= 0.8
    assert sure.top3[0]["label"] == UNPAID_WAGES and len(sure.top3) == 3

    # Sure of 市政设施, not of either category below it.
    street = "路灯坏了，晚上很黑，路面坑洼，沥青开裂。"
    split = service.suggest(session, text=street, threshold=0.8)
    halves = [model_probability(session, street, code) for code in (STREET_LIGHTS, BROKEN_ROADS)]
    assert max(halves) < 0.8 <= sum(halves)
    assert split.category.code == split.label == "0101" and split.category.path == "城乡建设 › 市政设施"
    assert split.confidence == pytest.approx(sum(halves), abs=1e-3)
    assert split.top3[0]["label"] == "0101" and {c["label"] for c in split.top3[1:]} == {"0201", "0202"}

    # Asked to be surer than any sub-category can be, it stays at level 1 with its best guess.
    wary = service.suggest(session, text=street, threshold=1.01)
    assert wary.category.code == wary.label == "01" and [c["label"] for c in wary.top3] == ["01", "02"]
    assert wary.confidence >= split.confidence


def model_probability(session, text: str, label: str) -> float:
    return service.reference(session).model.model.probabilities(text)[label]


def test_a_registered_order_gets_the_sub_category_and_an_operator_level1_choice_still_agrees(session):
    service.ensure_default_catalogue(session)
    close_orders(session, {STREET_LIGHTS: 8, BROKEN_ROADS: 8, UNPAID_WAGES: 8, PENSIONS: 8})
    service.train_from_database(session, label="category", actor="test")
    ticket, _ = tickets.create_ticket(
        session, data=intake(content="容桂街道高黎社区路灯坏了，路灯闪烁，晚上很黑。", address="容桂街道高黎社区桂洲大道东"), actor=REQUESTER
    )
    decision = session.query(RoutingDecision).filter_by(ticket_id=ticket.id).one()
    assert ticket.category.code == decision.category_code == STREET_LIGHTS
    assert decision.label == STREET_LIGHTS and decision.status == "auto" and ticket.lead_unit.code == "ronggui"

    # The operator filed it under 城乡建设 only: the model's 路灯 is the same branch, so it may still go out unattended.
    s = service.suggest(session, text="路灯坏了，路灯闪烁，晚上很黑。", address="容桂街道高黎社区", category_code="01")
    assert s.category.code == "01" and s.suggested_category.code == STREET_LIGHTS and s.auto_dispatch


def test_a_finer_model_is_compared_with_the_active_one_at_level_1(session):
    close_orders(session, {STREET_LIGHTS: 8, BROKEN_ROADS: 8, UNPAID_WAGES: 8, PENSIONS: 8})
    coarse = service.train_from_database(session, label="category_l1", actor="test")
    finer = service.train_from_database(session, label="category", actor="test", activate_now=False)
    finer.metrics = {**finer.metrics, "cv_macro_f1": coarse.metrics["cv_macro_f1"] - 0.2, "cv_macro_f1_l1": coarse.metrics["cv_macro_f1"]}
    assert service.reason_not_to_replace(session, candidate=finer) is None
    finer.metrics = {**finer.metrics, "cv_macro_f1_l1": coarse.metrics["cv_macro_f1"] - 0.2}
    assert "低于当前启用的" in service.reason_not_to_replace(session, candidate=finer)


def test_sub_categories_that_cannot_be_told_apart_still_score_as_right_at_level_1():
    rng = random.Random(5)
    texts, labels = [], []
    for label, words in (("0101", WORDS[STREET_LIGHTS]), ("0102", WORDS[STREET_LIGHTS]), ("0201", WORDS[UNPAID_WAGES])):
        for _ in range(20):
            texts.append("，".join(rng.sample(words, 3) + rng.sample(FILLER, 3)))
            labels.append(label)
    m = classifier.train(texts, labels, cv_folds=3, level1={"0101": "01", "0102": "01", "0201": "02"})
    assert m.metrics["cv_macro_f1"] < 0.85
    assert m.metrics["cv_macro_f1_l1"] > 0.95
