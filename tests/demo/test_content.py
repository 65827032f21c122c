"""Consistency checks for the bundled demo/reference content."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest

from baishitong.demo import catalogue, categories, orders, units

TODAY = date(2026, 12, 4)


@pytest.fixture(scope="module")
def demo_orders():
    return orders.generate_orders(today=TODAY)


def _walk(nodes, parent=""):
    for n in nodes:
        yield n, parent
        yield from _walk(n["children"], n["code"])


# ------------------------------------------------------------------ units
def test_unit_codes_unique():
    codes = [u["code"] for u in units.UNITS]
    assert len(codes) == len(set(codes))


def test_unit_kinds_and_counts():
    kinds = {}
    for u in units.UNITS:
        kinds.setdefault(u["kind"], []).append(u)
        assert set(u) == {"code", "name", "kind", "parent", "phone", "region_code"}
    assert [u["code"] for u in kinds["centre"]] == ["ZX"]
    assert len(kinds["department"]) >= 30
    assert {u["code"] for u in kinds["town"]} == {
        "daliang", "ronggui", "lunjiao", "leliu", "chencun",
        "beijiao", "lecong", "longjiang", "xingtan", "junan"}
    assert len(kinds["community"]) == 206
    assert {"GD", "GS", "RQ"} <= {u["code"] for u in kinds["utility"]}
    for u in kinds["department"]:
        assert u["parent"] is None and re.fullmatch(r"[A-Z]{2,5}", u["code"])


def test_every_community_has_town_parent():
    by_code = units.UNITS_BY_CODE
    gaz = units.load_gazetteer()
    for town in gaz["towns"]:
        tunit = by_code[units.TOWN_CODES[town["code"]]]
        assert tunit["kind"] == "town" and tunit["region_code"] == town["code"]
        assert tunit["name"] == town["name"]
    for u in units.UNITS:
        if u["kind"] == "community":
            parent = by_code[u["parent"]]
            assert parent["kind"] == "town"
            assert u["code"].startswith(parent["region_code"])


# ------------------------------------------------------------------ categories
def test_required_level1_names():
    names = {c["name"] for c in categories.CATEGORIES}
    for n in ("城乡建设", "劳动和社会保障", "教育文体", "商贸旅游", "环境保护", "卫生计生", "交通运输"):
        assert n in names


def test_category_codes_hierarchical_and_unique():
    seen = set()
    for node, parent in _walk(categories.CATEGORIES):
        code = node["code"]
        assert code not in seen
        seen.add(code)
        assert re.fullmatch(r"(\d\d){1,3}", code)
        assert code[:-2] == parent
        if len(code) == 6:
            assert node["children"] == []
        else:
            assert node["children"], code
    assert 120 <= len(categories.LEAVES) <= 220


def test_default_lead_targets_exist():
    for prefix, target in categories.DEFAULT_LEAD.items():
        assert prefix in categories.BY_CODE
        assert target == categories.TOWN or target in units.UNITS_BY_CODE, (prefix, target)
    for leaf in categories.LEAVES:
        assert categories.default_lead(leaf, "ronggui") in units.UNITS_BY_CODE


# ------------------------------------------------------------------ orders
def test_orders_deterministic(demo_orders):
    again = orders.generate_orders(today=TODAY)
    assert again == demo_orders
    assert orders.generate_orders(n=20, seed=1, today=TODAY) != demo_orders[:20]


def test_orders_cover_types_channels_states(demo_orders):
    assert len(demo_orders) == 360
    assert {o["type"] for o in demo_orders} == set(orders.TYPES)
    assert {o["channel"] for o in demo_orders} == set(orders.CHANNELS)
    assert {o["target_status"] for o in demo_orders} == set(orders.TARGET_STATES)
    level1 = {o["category_code"][:2] for o in demo_orders}
    assert level1 == {c["code"] for c in categories.CATEGORIES}
    assert len(orders.SCENARIOS) >= 80
    assert len({o["content"] for o in demo_orders}) > 300


def test_orders_fields_valid(demo_orders):
    leaves = set(categories.LEAVES)
    refs = {}
    gaz = {t["code"]: {c["code"] for c in t["communities"]} for t in units.load_gazetteer()["towns"]}
    for o in demo_orders:
        assert o["category_code"] in leaves
        assert o["town_code"] in gaz
        assert o["community_code"] is None or o["community_code"] in gaz[o["town_code"]]
        assert o["lead_unit"] in units.UNITS_BY_CODE
        assert o["urgency"] in ("normal", "urgent")
        assert isinstance(o["created_at"], datetime)
        assert (TODAY - o["created_at"].date()).days in range(0, 60)
        phone = o["requester"]["phone"]
        assert re.fullmatch(r"1[3-9]\d{9}", phone)
        idn = o["requester"]["id_number"]
        if idn is not None:
            assert idn.startswith("440606") and orders.id_number_valid(idn)
        st = o["target_status"]
        if st in ("replied", "callback-done", "closed", "archived", "redone", "answered"):
            assert o["reply"] and o["reply"].startswith("您好") and o["replied_at"] >= o["created_at"]
        else:
            assert o["reply"] is None
        if st in ("callback-done", "closed", "archived", "redone"):
            cb = o["callback"]
            assert isinstance(cb["solved"], bool) and cb["satisfaction"] in ("满意", "基本满意", "不满意")
        else:
            assert o["callback"] is None
        if st == "answered":
            assert o["type"] == "咨询" and o["channel"] == "hotline" and o["replied_at"] - o["created_at"] < timedelta(minutes=10)
        if st == "merged":
            target = refs[o["merged_into"]]
            assert target["category_code"] == o["category_code"]
            assert target["created_at"] < o["created_at"]
        if st == "returned":
            assert o["return_reason"]
        if st == "extension-requested":
            assert o["extension_days"] > 0 and o["extension_reason"]
        if st == "voided":
            assert o["void_reason"]
        if o["channel"] == "enterprise":
            assert o["category_code"].startswith("09")
        assert "{" not in o["content"] + o["title"] + (o["reply"] or "")
        refs[o["ref"]] = o
    assert any(o["anonymous"] for o in demo_orders)
    assert any(o["confidential"] for o in demo_orders)
    assert any(o["urgency"] == "urgent" for o in demo_orders)


def test_id_checksum_known_value():
    # GB 11643 worked example
    assert orders.id_checksum("11010519491231002") == "X"
    first17 = "44060619900101123"
    good = first17 + orders.id_checksum(first17)
    assert orders.id_number_valid(good)
    bad_check = "0" if good[-1] != "0" else "1"
    assert not orders.id_number_valid(first17 + bad_check)


# ------------------------------------------------------------------ catalogue
def test_service_items():
    items = catalogue.SERVICE_ITEMS
    assert len(items) >= 40
    codes = [i["code"] for i in items]
    assert len(codes) == len(set(codes))
    for i in items:
        assert i["department"] in units.UNITS_BY_CODE
        assert i["channels"] and set(i["channels"]) <= set(catalogue.CHANNELS)
        assert i["materials"] and i["description"]
        assert 0 <= i["promised_days"] <= i["time_limit_days"]
        assert i["online_url"] == f"/items/{i['code']}"


def test_kb_articles():
    arts = catalogue.KB_ARTICLES
    assert len(arts) >= 40
    assert len({a["code"] for a in arts}) == len(arts)
    leaves = set(categories.LEAVES)
    for a in arts:
        assert a["category_code"] in leaves
        assert a["unit"] in units.UNITS_BY_CODE
        assert a["keywords"] and a["title"]
        paras = [p for p in a["body"].split("\n\n") if p.strip()]
        assert 2 <= len(paras) <= 6, a["code"]


def test_assistant_starter_questions_each_have_their_own_demo_article():
    """The 政务君 page offers these questions first; each must be answered by an article on that subject."""
    from baishitong.assistant.core import answer
    from baishitong.knowledge.search import SearchIndex
    from baishitong.web.assistant import STARTERS

    index = SearchIndex([{"id": a["code"], "title": a["title"], "keywords": a["keywords"], "body": a["body"]} for a in catalogue.KB_ARTICLES])
    for question in STARTERS:
        best = index.search(question, top_k=1)[0]
        assert question[:3] in best.title, (question, best.title)  # 社保卡, 新生儿, 公积金, 身份证
        # …and 政务君 answers it from that article, not with "the article does not say".
        reply = answer(question, [], index).text
        assert reply.startswith(f"根据《{best.title}》") and "没有写明" not in reply, reply


def test_demo_policy_bodies_use_only_markdown_the_pages_render():
    """The pages' Markdown subset has no blockquote: a '> ' line would show as a literal '>'."""
    from baishitong.demo.enterprise import POLICIES
    from baishitong.web.kb import markdown

    for policy in POLICIES:
        assert "&gt;" not in str(markdown(policy["body"])), policy["title"]


def test_keyword_rules_lead_to_a_unit_the_taxonomy_gives_that_area():
    for prefix, leads in categories.KEYWORD_LEADS.items():
        under = {lead for code, lead in categories.DEFAULT_LEAD.items() if code.startswith(prefix)}
        for lead, words in leads:
            assert lead in under and words, (prefix, lead)
