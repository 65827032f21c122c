import json

import numpy as np

import httpx
import pytest

from baishitong.assistant.core import (
    ASK_MATTER_TEXT,
    HANDOVER_TEXT,
    SURE_CONFIDENCE,
    Turn,
    answer,
    asks_for_person,
    current_matter,
    is_phatic,
    expand_question,
    group_questions,
    phrase_with_llm,
    prefill_ticket,
)
from baishitong.knowledge.search import SearchIndex

ARTICLES = [
    {"id": "gjj", "title": "住房公积金提取", "keywords": ["公积金"],
     "body": "职工购买自住住房可以申请提取住房公积金。办理时需要带身份证、购房合同和银行卡。"
             "可在区行政服务中心公积金窗口办理，也可以网上办理。审核通过后3个工作日内到账。"},
    {"id": "sb", "title": "社会保险参保登记", "keywords": ["社保"],
     "body": "新参保人员到社保经办机构办理社会保险登记。需要提供身份证原件。办理地点为各镇街社保服务窗口。"},
    {"id": "yy", "title": "营业执照办理", "keywords": ["执照"],
     "body": "个体工商户申请营业执照，到区行政服务中心市场监管窗口。需要带身份证和经营场所证明。一般当场办结。"},
]


def index() -> SearchIndex:
    return SearchIndex(ARTICLES)


def test_answer_cites_best_article():
    result = answer("怎么提取公积金？", [], index())
    assert not result.handover
    assert result.text.startswith("根据《住房公积金提取》：")
    assert result.citations[0].id == "gjj" and result.citations[0].title == "住房公积金提取"
    assert 0.35 <= result.confidence <= 1.0
    assert "需要带什么材料？" in result.follow_ups


def test_unknown_question_hands_over():
    result = answer("火星移民有什么政策", [], index())
    assert result.handover and result.text == HANDOVER_TEXT
    assert result.citations == [] and result.confidence < 0.35
    assert "转人工" in result.follow_ups and "转为工单" in result.follow_ups


def test_words_no_article_contains_are_not_answered_from_shared_characters():
    # 养猫/办证 share 养, 办 and 证 with the articles; 火星 is what the question is about.
    for question in ("养猫需要办证吗", "火星移民的营业执照政策"):
        result = answer(question, [], index())
        assert result.handover, (question, result.confidence)


def test_a_message_that_names_no_matter_is_asked_what_it_is_about():
    # 3 is in 3个工作日内到账, a phone number shares digit pairs with articles: neither says what the matter is.
    for message in ("13812345678", "3", "？？", "电话13812345678", "怎么办"):
        result = answer(message, [], index())
        assert result.text == ASK_MATTER_TEXT and result.handover, message
        assert result.citations == [] and result.confidence == 0.0 and result.follow_ups == ["转人工", "转为工单"]
    # After an answer, ？？ is no follow-up that repeats the article.
    history = [Turn("user", "怎么提取公积金？"), Turn("assistant", "根据《住房公积金提取》：……")]
    assert answer("？？", history, index()).text == ASK_MATTER_TEXT


def test_a_phone_number_typed_after_the_question_leaves_the_answer_sure():
    result = answer("怎么提取公积金？13812345678", [], index())
    assert result.citations[0].id == "gjj" and result.confidence >= SURE_CONFIDENCE
    assert result.confidence == answer("怎么提取公积金？", [], index()).confidence


@pytest.mark.parametrize("given", ["我电话13812345678", "联系电话：0757-22334455", "我的手机号是 138 1234 5678"])
def test_a_number_the_citizen_gives_is_no_question_about_the_hotline(given):
    result = answer(f"怎么提取公积金？{given}", [], index())
    assert result.citations[0].id == "gjj" and "没有写明" not in result.text
    asked = answer("电话多少？", [Turn("user", "社保参保登记怎么办？"), Turn("assistant", "根据《社会保险参保登记》：…")], index())
    assert asked.text.startswith("《社会保险参保登记》没有写明咨询电话"), "asking for the number still is one"


def test_how_long_the_citizen_has_waited_is_no_question_about_the_time_limit():
    """路灯坏了好几天了谁来修 was answered 《路灯…》没有写明办理时限: 好几天 read as 要几天？."""
    articles = [*ARTICLES, {"id": "ld", "title": "路灯不亮找谁？", "keywords": ["路灯"],
                            "body": "市政道路路灯由所在镇街的市政管理部门负责维护，小区内部路灯由物业负责。"}]  # fmt: skip
    for question in ("路灯坏了好几天了找谁", "路灯不亮几天了找谁", "路灯前几天就不亮了找谁", "这几天路灯一直不亮找谁"):
        result = answer(question, [], SearchIndex(articles))
        assert result.citations[0].id == "ld" and "没有写明" not in result.text, (question, result.text)
    asked = answer("路灯不亮找谁，要几天？", [], SearchIndex(articles))
    assert asked.text.startswith("《路灯不亮找谁？》没有写明办理时限"), "asking how long still is one"


def test_a_one_character_verb_does_not_sink_a_known_matter():
    result = answer("提取公积金用什么证件", [], index())
    assert not result.handover and result.citations[0].id == "gjj"


def _with_meaning(similarity: float) -> SearchIndex:
    """The index with sentence vectors: every article at `similarity` to any question but 营业执照 (0.5)."""
    idx = index()
    question = np.array([1.0, 0.0])
    vector = np.array([similarity, np.sqrt(1 - similarity**2)])
    idx.set_vectors({"gjj": vector, "sb": vector, "yy": np.array([0.5, np.sqrt(0.75)])})
    idx.query_vector = lambda text: question
    return idx


def test_a_question_close_in_meaning_is_answered_in_words_no_article_uses():
    question = "买房子能不能取出来公积金"  # 买房子 and 取出来 appear in no article
    assert answer(question, [], index()).handover
    result = answer(question, [], _with_meaning(0.93))
    assert not result.handover and result.citations[0].id == "gjj"
    assert answer(question, [], _with_meaning(0.84)).handover


def test_threshold_controls_handover():
    assert answer("怎么提取公积金？", [], index(), threshold=1.01).handover


def test_follow_up_uses_history_topic():
    history = [Turn("user", "营业执照怎么办理？"), Turn("assistant", "根据《营业执照办理》：…")]
    assert expand_question("那需要带什么材料？", history).startswith("营业执照怎么办理？")
    result = answer("那需要带什么材料？", history, index())
    assert result.citations[0].id == "yy"
    assert "经营场所证明" in result.text
    assert "需要带什么材料？" not in result.follow_ups


def test_follow_up_picks_the_matching_passage():
    history = [Turn("user", "公积金怎么提取？")]
    assert "工作日" in answer("要多久？", history, index()).text


def test_self_contained_question_is_not_expanded():
    history = [Turn("user", "营业执照怎么办理？")]
    assert expand_question("社保怎么登记", history) == "社保怎么登记"
    assert answer("社保怎么登记", history, index()).citations[0].id == "sb"


def test_prefill_ticket_extracts_fields():
    draft = prefill_ticket([
        Turn("user", "我要投诉，我住在容桂街道红旗社区，楼下大排档噪音扰民到凌晨"),
        Turn("assistant", "请留下联系电话"),
        Turn("user", "电话138-1234-5678"),
    ])
    assert draft["type"] == "投诉"
    assert draft["phone"] == "13812345678"
    assert draft["address"] == "容桂街道红旗社区"
    assert "请留下联系电话" not in draft["content"] and "大排档" in draft["content"]


def test_prefill_ticket_types_and_street_address():
    assert prefill_ticket([Turn("user", "举报有工厂夜里偷排污水")])["type"] == "举报"
    assert prefill_ticket([Turn("user", "建议在公园增设路灯")])["type"] == "建议"
    assert prefill_ticket([Turn("user", "公积金怎么提取")])["type"] == "咨询"
    draft = prefill_ticket([Turn("user", "大良街道凤山中路12号门口路灯坏了，号码12345678901不是手机")])
    assert draft["address"] == "大良街道凤山中路12号"
    assert draft["phone"] is None


def _client(handler) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(handler))


def test_llm_hook_sends_only_retrieved_articles():
    seen = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen["url"] = str(request.url)
        seen["auth"] = request.headers["authorization"]
        seen["body"] = json.loads(request.content)
        return httpx.Response(200, json={"choices": [{"message": {"content": " 请带身份证。《住房公积金提取》 "}}]})

    text = phrase_with_llm("要带什么？", [ARTICLES[0]], base_url="http://llm.local/v1/", api_key="k",
                           model="m", timeout=2, client=_client(handler))
    assert text == "请带身份证。《住房公积金提取》"
    assert seen["url"] == "http://llm.local/v1/chat/completions" and seen["auth"] == "Bearer k"
    user = seen["body"]["messages"][-1]["content"]
    assert "住房公积金提取" in user and "营业执照" not in user
    assert "只能依据" in seen["body"]["messages"][0]["content"]


def test_llm_hook_returns_none_on_errors():
    def fail(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("down", request=request)

    kwargs = {"base_url": "http://llm.local/v1", "api_key": "k", "model": "m", "timeout": 1}
    assert phrase_with_llm("问", [ARTICLES[0]], client=_client(fail), **kwargs) is None
    assert phrase_with_llm("问", [ARTICLES[0]], client=_client(lambda r: httpx.Response(500)), **kwargs) is None
    assert phrase_with_llm("问", [ARTICLES[0]], client=_client(lambda r: httpx.Response(200, text="oops")), **kwargs) is None
    assert phrase_with_llm("问", [ARTICLES[0]], client=_client(lambda r: httpx.Response(200, json={})), **kwargs) is None
    assert phrase_with_llm("问", [], client=_client(fail), **kwargs) is None


def test_group_questions():
    groups = group_questions(
        ["公积金怎么提取", "如何提取住房公积金", "提取公积金的流程", "社保卡丢了怎么补办", "社保卡补办", "今天天气如何"]
    )
    sets = [set(g.questions) for g in groups]
    assert sets[0] == {"公积金怎么提取", "如何提取住房公积金", "提取公积金的流程"}
    assert {"社保卡丢了怎么补办", "社保卡补办"} in sets
    assert {"今天天气如何"} in sets
    assert all(g.label in g.questions for g in groups)
    assert [g.size for g in groups] == sorted((g.size for g in groups), reverse=True)
    assert group_questions([]) == [] and group_questions(["一个问题"])[0].size == 1


def test_broken_facility_is_not_drafted_as_a_question():
    from baishitong.assistant.core import guess_ticket_type

    assert guess_ticket_type("容桂高黎社区的路灯坏了很多天没人修") in ("求助", "投诉")
    assert guess_ticket_type("小区门口下水道堵塞，雨后积水") == "求助"
    assert guess_ticket_type("请问社保卡在哪里补办") == "咨询"


def test_noise_however_it_is_put_is_drafted_as_a_complaint():
    """转为工单 drafted “烧烤摊每天半夜很吵怎么办” as 求助: only 太吵 counted, and 怎么办 asks for help."""
    from baishitong.assistant.core import guess_ticket_type

    for text in ("我家楼下的烧烤摊每天半夜很吵怎么办", "隔壁工地晚上好吵", "广场舞吵得老人睡不着", "邻居的狗太吵了"):
        assert guess_ticket_type(text) == "投诉", text


def test_intent_follow_up_answers_with_that_sentence_only():
    history = [Turn("user", "公积金怎么提取？"), Turn("assistant", "根据《住房公积金提取》：…")]
    materials = answer("需要带什么材料？", history, index()).text
    assert "身份证、购房合同和银行卡" in materials
    assert "职工购买自住住房" not in materials and "到账" not in materials
    place = answer("在哪里办理？", history, index()).text
    assert "公积金窗口" in place and "身份证" not in place


def test_follow_up_the_article_does_not_answer_says_so():
    history = [Turn("user", "社保参保登记怎么办？"), Turn("assistant", "根据《社会保险参保登记》：…")]
    result = answer("要多少钱？", history, index())
    assert result.citations[0].id == "sb"
    assert result.text.startswith("《社会保险参保登记》没有写明收费标准")
    assert "社保服务窗口" in result.text or "身份证原件" in result.text
    stated = answer("需要带什么材料？", history, index()).text
    assert stated.startswith("根据《社会保险参保登记》：") and "身份证原件" in stated


def test_explicit_request_for_a_person_is_recognised():
    for text in ("我要找人工客服", "转人工", "人工服务", "我要投诉，找个真人", "人工", "有没有人工？", "我不想跟机器人聊"):
        assert asks_for_person(text), text
    for text in ("顺德有人工湖吗", "需要人工审核吗", "社保卡客服电话是多少", "社保怎么转移？"):
        assert not asks_for_person(text), text


def test_prefill_ticket_carries_only_the_current_matter():
    draft = prefill_ticket([
        Turn("user", "社保怎么转移？"),
        Turn("assistant", "根据《社会保险参保登记》：…"),
        Turn("user", "电话13900001111"),
        Turn("user", "容桂街道高黎社区路灯坏了一个星期"),
        Turn("user", "那在哪里办？"),
        Turn("user", "我住在容桂街道红旗社区"),
        Turn("user", "电话138-1234-5678"),
        Turn("user", "转人工"),
    ])
    assert draft["content"] == "容桂街道高黎社区路灯坏了一个星期\n那在哪里办？\n我住在容桂街道红旗社区\n电话138-1234-5678"
    assert draft["phone"] == "13812345678" and draft["address"] == "容桂街道高黎社区"


def test_request_for_a_person_joins_the_matter_it_follows():
    said = ["社保怎么转移？", "楼下大排档噪音扰民到凌晨", "我要投诉，找个真人"]
    assert current_matter(said) == ["楼下大排档噪音扰民到凌晨", "我要投诉，找个真人"]
    assert prefill_ticket([Turn("user", s) for s in said])["type"] == "投诉"
    assert current_matter(["我要找人工客服"]) == ["我要找人工客服"]


def test_a_message_passed_on_to_a_person_starts_no_matter():
    said = ["社保怎么转移？", "楼下大排档噪音扰民到凌晨", "每晚都吵到两点多"]
    assert current_matter(said, [False, False, True]) == ["楼下大排档噪音扰民到凌晨", "每晚都吵到两点多"]
    assert "楼下大排档噪音扰民到凌晨" not in current_matter(said)  # put to 政务君, it is a matter of its own


def test_waiting_and_greetings_said_to_the_operator_stay_out_of_the_work_order():
    """有人吗？ and 还在等 typed while waiting say nothing about the matter; what the citizen adds about it stays."""
    said = [
        "容桂街道高黎社区幸福路的路灯坏了一个星期，晚上很黑",
        "有人吗？",
        "你好",
        "还在等……",
        "您好，有人在吗？？",
        "有人吗？路灯下面还有个坑，老人差点摔倒",
        "在高黎市场门口，电话13800138000",
        "谢谢",
    ]
    matter = current_matter(said, [False, True, True, True, True, True, True, True])
    assert matter == ["容桂街道高黎社区幸福路的路灯坏了一个星期，晚上很黑", "有人吗？路灯下面还有个坑，老人差点摔倒", "在高黎市场门口，电话13800138000"]
    draft = prefill_ticket([Turn("user", s, to_person=i > 0) for i, s in enumerate(said)])
    assert "有人吗？\n" not in draft["content"] and "还在等" not in draft["content"] and draft["phone"] == "13800138000"


def test_only_short_messages_of_nothing_but_waiting_words_are_phatic():
    for text in ("有人吗？", "有人吗", "在吗", "你好", "您好！", "还在等", "我还在等", "等了好久了", "人呢？", "还要等多久啊", "？？", "喂，有人吗"):
        assert is_phatic(text), text
    for text in ("有人吗？我家停水了", "等了三天路灯还没修", "请问公积金怎么提取", "在高黎市场门口", "是的", "13800138000", "你好，楼下大排档太吵了"):
        assert not is_phatic(text), text


def test_materials_follow_up_says_the_article_lists_none():
    """提供一站式服务 and 带来便利 name no materials, so the article is silent on them."""
    articles = [{"id": "yb", "title": "新生儿怎么参加医保？", "keywords": ["医保"],
                 "body": "新生儿可在出生后办理城乡居民医保参保。可在镇街医保窗口办理，部分医院产科也提供一站式服务。"
                         "线上办理为家长带来便利。"}]  # fmt: skip
    history = [Turn("user", "新生儿怎么参加医保？")]
    first = answer("新生儿怎么参加医保？", [], SearchIndex(articles))
    assert "需要带什么材料？" not in first.follow_ups and "在哪里办理？" in first.follow_ups
    result = answer("那需要带什么材料？", history, SearchIndex(articles))
    assert result.text.startswith("《新生儿怎么参加医保？》没有写明所需材料")


def test_suggested_articles_read_as_questions():
    articles = [*ARTICLES, {"id": "item:ZR002", "title": "不动产转移登记（二手房）", "body": "二手房买卖应共同申请转移登记。"},
                {"id": "ga", "title": "二手房过户怎么办？", "body": "二手房过户需共同申请不动产转移登记。"}]  # fmt: skip
    result = answer("二手房过户怎么办？", [], SearchIndex(articles))
    assert "不动产转移登记（二手房）怎么办理？" in result.follow_ups
    assert all(q.endswith("？") and not q.endswith("）？") for q in result.follow_ups)


def test_loose_words_do_not_count_as_stating_time_fees_or_phone():
    article = {"id": "yb", "title": "城乡居民医保参保", "keywords": ["医保"],
               "body": "城乡居民应在规定期限内参保，参保缴费后享受医保待遇。参保后住院的医疗费用按比例报销。可向社区工作人员咨询。"}
    history = [Turn("user", "城乡居民医保怎么参保？"), Turn("assistant", "根据《城乡居民医保参保》：…")]
    for question, missing in (("办理时限多久？", "办理时限"), ("要多少钱？", "收费标准"), ("电话是多少？", "咨询电话")):
        text = answer(question, history, SearchIndex([article, *ARTICLES])).text
        assert text.startswith(f"《城乡居民医保参保》没有写明{missing}"), (question, text)


def test_greetings_and_thanks_are_answered_as_such():
    from baishitong.assistant.core import small_talk

    assert small_talk("你好！").startswith("您好！我是政务君")
    assert small_talk("好的，谢谢你").startswith("不客气")
    assert small_talk("你好，社保怎么交") is None and small_talk("谢谢办理") is None


def test_a_short_question_ending_in_ne_keeps_the_topic():
    history = [Turn("user", "怎么提取公积金？")]
    assert expand_question("租房呢？", history) == "怎么提取公积金？ 租房呢？"
    assert expand_question("去哪里投诉", [Turn("user", "营业执照怎么办理？")]).startswith("营业执照怎么办理？")


def test_a_request_for_a_work_order_is_told_from_a_question_about_one():
    from baishitong.assistant.core import asks_for_ticket, current_matter

    assert all(asks_for_ticket(s) for s in ("帮我转工单", "请转为工单", "转成投诉单吧", "我要投诉，帮我转个工单"))
    assert not any(asks_for_ticket(s) for s in ("工单编号是多少", "我的工单怎么查进度", "怎么查询工单进度", "帮我转人工", "法院立案需要什么材料"))
    assert current_matter(["楼下噪音每天晚上11点还在，电话13800138000", "帮我转工单"]) == ["楼下噪音每天晚上11点还在，电话13800138000"]


def test_an_answer_cut_at_a_clause_ends_as_a_sentence():
    articles = [{"id": "sbk", "title": "社保卡丢了怎么补办？", "keywords": ["社保卡", "补办"],
                 "body": "社保卡遗失后，请第一时间办理挂失。\n\n挂失后，可携带居民身份证到合作银行网点补办，一般当场可取新卡；"
                         "也可在线申请补办并邮寄到家。"}]  # fmt: skip
    result = answer("那需要带什么材料？", [Turn("user", "社保卡丢了怎么补办？")], SearchIndex(articles))
    assert result.citations[0].id == "sbk" and "居民身份证" in result.text
    assert result.text.endswith("一般当场可取新卡。"), "not …新卡；"
