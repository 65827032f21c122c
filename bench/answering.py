"""When does 政务君 answer, and when does it hand over? Measured on the demo knowledge base.

Two hand-written sets of citizen questions (written before measuring, not tuned on): questions the
demo articles and service items answer, each with the documents that count as a right answer, and
questions nothing in the demo answers. For each set the assistant's answer is counted as right,
wrong (an answer citing another document, or any answer to an out-of-scope question) or a handover
(转人工 / 转为工单). The rows compare the confidence formula in use with the one before session 6.

command: python bench/answering.py
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from common import run

from baishitong.assistant import core
from baishitong.db import Database
from baishitong.knowledge import service as kb
from baishitong.knowledge.search import SearchIndex, words

IN_SCOPE: dict[str, tuple[str, ...]] = {
    "社保卡不见了怎么办": ("KB001", "RS002"),
    "医保卡丢了去哪补": ("KB001", "RS002"),
    "租房可以提公积金吗": ("KB002", "GJ001"),
    "买房子怎么取公积金": ("KB002", "GJ002"),
    "外地孩子在顺德怎么读书": ("KB003", "JY002", "JY001"),
    "小孩上小学怎么报名": ("JY001", "KB003", "JY002"),
    "刚出生的宝宝怎么买医保": ("KB004", "YB001"),
    "开个体店怎么办执照": ("KB005", "SJ001"),
    "明天停不停水在哪里看": ("KB006",),
    "晚上工地太吵怎么投诉": ("KB007",),
    "门口办是什么": ("KB008", "ZS001"),
    "老板不发工资怎么办": ("KB009",),
    "失业了能领钱吗": ("KB010", "RS004"),
    "自由职业怎么交社保": ("KB011", "RS003"),
    "以前在外省交的社保能转过来吗": ("KB012",),
    "去外地看病怎么报销": ("KB013", "YB002"),
    "办居住证要什么材料": ("KB014", "GA004"),
    "宝宝怎么上户口": ("KB015", "GA003"),
    "身份证丢了怎么补": ("KB016", "GA002"),
    "驾照过期了怎么换": ("KB017", "JJ001"),
    "电动车怎么上牌": ("KB018", "JJ002"),
    "家里困难能申请低保吗": ("KB019", "MZ001"),
    "八十岁老人有补贴吗": ("KB020", "MZ002"),
    "残疾证在哪里办": ("KB022", "CL001"),
    "二手房过户要多久": ("KB023", "ZR002"),
    "路灯坏了找谁": ("KB024",),
    "旧沙发怎么扔": ("KB026",),
    "健身房老板跑路了怎么退卡": ("KB028",),
    "注册公司要几天": ("KB029", "SJ002"),
    "上班路上受伤算工伤吗": ("KB032", "RS005"),
    "请不起律师怎么办": ("KB034",),
    "和邻居吵架找谁调解": ("KB035",),
    "被骗了钱怎么办": ("KB037",),
    "公租房申请条件": ("KB040",),
    "身份证快过期了怎么换": ("KB041", "GA001"),
    "怎么领发票": ("SW001",),
    "个税汇算怎么弄": ("SW002",),
    "结婚登记要带什么": ("MZ004",),
    "港澳通行证续签": ("GA005",),
    "退休手续怎么办": ("RS007",),
}

OUT_OF_SCOPE = (
    "养猫需要办证吗", "火星移民有什么政策", "宇宙飞船停车费怎么算", "怎么申请出国留学奖学金", "彩票中奖怎么领奖",
    "股票怎么开户", "明天天气怎么样", "推荐一家好吃的餐厅", "考驾照科目二怎么练", "怎么养多肉植物",
    "手机坏了去哪修", "航班延误怎么赔偿", "护照怎么办理", "钓鱼证在哪里办", "狗咬人了怎么赔",
    "游泳馆几点开门", "养老院怎么收费", "高考志愿怎么填", "宠物疫苗在哪打", "去日本的签证在哪里办",
)


# Written after the semantic threshold was chosen on the sets above, to check it.
IN_SCOPE_CHECK: dict[str, tuple[str, ...]] = {
    "社保卡坏了能换新的吗": ("KB001", "RS001", "RS002"),
    "公积金贷款怎么申请": ("GJ003",),
    "积分入学要什么条件": ("KB003", "JY002"),
    "个体户营业执照在哪办": ("KB005", "SJ001"),
    "楼上装修太吵怎么办": ("KB007",),
    "工资被拖欠了去哪投诉": ("KB009",),
    "怎么领失业金": ("KB010", "RS004"),
    "异地看病要备案吗": ("KB013", "YB002"),
    "小孩出生了怎么落户": ("KB015", "GA003"),
    "换驾照需要体检吗": ("KB017", "JJ001"),
    "低保每个月多少钱": ("KB019", "MZ001"),
    "井盖坏了打哪个电话": ("KB024",),
    "小区物业不作为怎么投诉": ("KB025",),
    "餐馆卫生太差去哪举报": ("KB027",),
    "开公司有什么税收优惠": ("KB030",),
    "创业有补贴吗": ("RS006",),
    "企业注销怎么办": ("SJ004",),
}

OUT_OF_SCOPE_CHECK = (
    "演唱会门票怎么退", "怎么减肥最快", "信用卡逾期了怎么办", "哪里可以学游泳", "二手车怎么估价",
    "电脑中病毒怎么办", "周末去哪里玩", "怎么做红烧肉", "世界杯什么时候开始", "孩子近视怎么治疗",
    "房价会不会跌", "手机号码怎么注销", "宠物狗走丢了怎么找", "怎么考研究生", "翡翠怎么鉴定",
)


def coverage_before(question: str, text: str, index: SearchIndex) -> float:
    """The confidence's coverage before session 6: unseen words weighed 1, single characters earned credit."""
    terms = index.query_terms(question)
    total = matched = 0.0
    for word in dict.fromkeys(words(question)):
        weight = terms.get(word, 1.0) if word in index._vocab else 1.0
        total += weight
        if any(v in text for v in (word, *index.synonyms.variants(word))):
            matched += weight
        else:
            grams = list(word) if len(word) <= 2 else [word[i : i + 2] for i in range(len(word) - 1)]
            matched += 0.8 * weight * sum(g in text for g in grams) / len(grams)
    return matched / total if total else 0.0


def outcome(question: str, index: SearchIndex, right: tuple[str, ...]) -> str:
    result = core.answer(question, [], index)
    if result.handover:
        return "handover"
    cited = result.citations[0].id.removeprefix(kb.ITEM_PREFIX)
    return "right" if cited in right else "wrong"


def tally(index: SearchIndex, in_scope: dict[str, tuple[str, ...]], out_of_scope: tuple[str, ...]) -> tuple[dict[str, int], dict[str, int], list[str]]:
    inside = {"right": 0, "wrong": 0, "handover": 0}
    outside = {"right": 0, "wrong": 0, "handover": 0}
    misses = []
    for question, right in in_scope.items():
        got = outcome(question, index, right)
        inside[got] += 1
        if got != "right":
            misses.append(f"{question}→{got}")
    for question in out_of_scope:
        got = outcome(question, index, ())
        outside["handover" if got == "handover" else "wrong"] += 1
        if got != "handover":
            misses.append(f"{question}→answered")
    return inside, outside, misses


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        env = {**os.environ, "BAISHITONG_VAR_DIR": tmp}
        cli = str(Path(sys.executable).with_name("baishitong"))
        run([cli, "init", "--db", url, "--demo"], env)
        run([cli, "kb", "embed", "--db", url], env)
        os.environ["BAISHITONG_VAR_DIR"] = tmp
        db = Database(url)
        with db.session(write=False) as session:
            index = kb.combined_index(session)
            print(f"demo knowledge base: {len(index)} articles and service items, vectors: {index.has_vectors()}")
            print(
                f"first set: {len(IN_SCOPE)} questions it answers, {len(OUT_OF_SCOPE)} it does not; check set (written after "
                f"the cosine mapping was chosen): {len(IN_SCOPE_CHECK)} and {len(OUT_OF_SCOPE_CHECK)}; threshold {core.DEFAULT_THRESHOLD}"
            )
            print("| questions | confidence               | in scope: right | wrong | handed over | out of scope: handed over | answered |")
            print("|-----------|--------------------------|-----------------|-------|-------------|---------------------------|----------|")
            current, cosine = index.coverage, index.cosine
            rows: list[tuple[str, Callable, bool]] = [
                ("before session 6", lambda question, text: coverage_before(question, text, index), False),
                ("words only (no encoder)", current, False),
                ("words or meaning: in use", current, True),
            ]
            for sets, inside_set, outside_set in (("first", IN_SCOPE, OUT_OF_SCOPE), ("check", IN_SCOPE_CHECK, OUT_OF_SCOPE_CHECK)):
                for name, coverage, semantic in rows:
                    index.coverage = coverage
                    index.cosine = cosine if semantic else (lambda query, doc_id: None)
                    inside, outside, misses = tally(index, inside_set, outside_set)
                    print(
                        f"| {sets:<9} | {name:<24} | {inside['right']:15d} | {inside['wrong']:5d} | {inside['handover']:11d} | "
                        f"{outside['handover']:25d} | {outside['wrong']:8d} |"
                    )
                    if semantic:
                        print("   not right: " + "；".join(misses))
            index.coverage, index.cosine = current, cosine
        db.dispose()


if __name__ == "__main__":
    main()
