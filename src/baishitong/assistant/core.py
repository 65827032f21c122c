"""政务君: extractive answers over the knowledge base, multi-turn topic carry-over, ticket prefill,
an optional LLM phrasing hook and grouping of unanswered questions. No I/O except the LLM hook."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import httpx
import numpy as np

from baishitong.knowledge.search import Document, Hit, SearchIndex, best_passage, char_ngrams, default_synonyms, field_text, sentences, words

DEFAULT_THRESHOLD = 0.35
# Cosines of multilingual-e5-small between a question and its best article, mapped onto the
# confidence scale: 0.88 (where bench/answering.py's in-scope and out-of-scope questions part) is
# the default threshold.
SEMANTIC_ZERO, SEMANTIC_FULL = 0.826, 0.98
HANDOVER_TEXT = "抱歉，政务君暂时没有找到确切答案。您可以选择转人工客服，或将问题转为工单，我们会尽快为您处理。"
# A message that names no matter (13812345678, ？？, 怎么办) is asked what it is about, not answered from an article.
ASK_MATTER_TEXT = "请问您想咨询或反映什么事情？请用一句话说明，例如：社保卡丢了怎么补办？您也可以转人工客服，或将问题转为工单。"
# The replies that offer 转人工 and 转为工单.
HANDOVER_TEXTS = (HANDOVER_TEXT, ASK_MATTER_TEXT)
TRANSFER_TEXT = "好的，正在为您转接人工客服，客服人员会在这里回复您。如不便等待，也可以将问题转为工单，我们会尽快为您处理。"
SURE_CONFIDENCE = 0.6  # at or above: 匹配度高; below, the answer is 仅供参考 and a person stays on offer
TICKET_TEXT = "好的，请点“转为工单”，核对政务君为您填好的内容后提交，我们会尽快为您处理。"
HANDOVER_ACTIONS = ("转人工", "转为工单")
GENERIC_FOLLOW_UPS = {"需要带什么材料？": "材料", "在哪里办理？": "地点", "办理时限多久？": "时限"}

# 转人工, 找个真人, 人工客服 — but not 人工湖, 需要人工审核 or 客服电话 (a question about a number).
_PERSON_REQUEST = re.compile(
    r"(?:转|找|接|换|叫|请|我要|要求|联系|有没有)(?:个|一个|一下|位)?"
    r"(?:人工(?=客服|服务|坐席|座席|[吗呢啊吧呀]|[^\u4e00-\u9fff]|$)|真人|客服(?!电话|热线|号码))"
    r"|人工(?:客服|服务|坐席|座席|接听|接待)|不(?:想|要)(?:跟|和)?机器人"
)

# 帮我转工单, 转成投诉单 — but not 工单编号 or 工单怎么查 (questions about an order).
_TICKET_REQUEST = re.compile(r"(?:转|帮我|给我|我要|我想|请)(?:转|提交|提|立|建|开|报)?(?:成|为)?(?:个|一个|一张)?(?:工单|投诉单)(?!编号|号|怎么|如何|进度)")

# Words that only say *what about* the topic (materials, place, time, cost); a short question made of
# nothing else leans on the topic of the previous turns.
_INTENT_TERMS: dict[str, tuple[str, ...]] = {
    # 携带/需提供, not a bare 带 or 提供: "产科也提供一站式服务" names no materials.
    "材料": ("材料", "资料", "证件", "身份证", "携带", "带上", "带齐", "需提供", "需要提供", "原件", "复印件"),
    "地点": ("地点", "地址", "窗口", "中心", "大厅", "网点", "网上", "线上", "指尖办", "自助办"),
    # 办理期限, not a bare 期限 ("在规定期限内参保"); 工本费, not any 费用 ("医疗费用") or 元 ("单元", "补贴500元").
    "时限": ("时限", "工作日", "日内", "天内", "当场", "办结", "到账", "办理期限"),
    "费用": ("收费", "免费", "工本费", "办理费用", "缴纳"),
    "电话": ("电话", "热线", "拨打"),
}
_INTENT_NAMES = {"材料": "所需材料", "地点": "办理地点", "时限": "办理时限", "费用": "收费标准", "电话": "咨询电话"}
_INTENT_CUES: dict[str, tuple[str, ...]] = {
    "材料": ("材料", "资料", "证件", "带什么"),
    "地点": ("哪里", "哪儿", "在哪", "地址", "地点", "网上", "线上"),
    "时限": ("多久", "几天", "时限", "多长时间", "什么时候"),
    "费用": ("多少钱", "费用", "收费", "要钱"),
    "电话": ("电话", "热线"),
}
_INTENT_WORDS = frozenset(
    "那 那么 还有 另外 然后 需要 要 带 什么 材料 资料 证件 哪里 哪儿 在 哪 办 办理 去 地址 地点 多久 几天 时限 时间 "
    "多长时间 什么时候 多少 钱 多少钱 费用 收费 条件 流程 电话 热线 网上 线上 呢 可以 行 吗 能 怎么 怎么办 "
    "找 找谁 谁 投诉 举报 申请 咨询 联系 反映 部门 窗口".split()
)
# 我电话138…: a number the citizen gives, not a question about the 咨询电话.
_OWN_NUMBER = re.compile(r"(?:联系)?(?:电话|手机)(?:号码?)?\s*(?:是|为|：|:)?\s*\+?\d[\d\-\s]{6,}")
# 坏了好几天了, 前几天, 几天来: how long the citizen has put up with it, not a question about the time limit (要几天？).
_ELAPSED = re.compile(r"(?:好|这|前|最近)几天|几天(?:了|前|来)")
# Numbers (a phone number, 123, 2024) name no matter: an article holding the same digits is not about it.
_NUMBER = re.compile(r"\d+")
_LETTER = re.compile(r"[^\W\d_]")
# 小孩呢 / 外地人呢: a short question ending in 呢 asks about the same matter for someone or something else.
_ELLIPTICAL_MAX_CHARS = 8
_FOLLOW_UP_MAX_CHARS = 14


@dataclass(frozen=True)
class Turn:
    role: Literal["user", "assistant"]
    text: str
    # A citizen's message passed on to a person after 转人工 (有人吗？), not a question put to 政务君.
    to_person: bool = False


@dataclass(frozen=True)
class Citation:
    id: str
    title: str
    score: float


@dataclass(frozen=True)
class Answer:
    text: str
    citations: list[Citation]
    confidence: float
    follow_ups: list[str]
    handover: bool
    query: str


@dataclass(frozen=True)
class Group:
    label: str
    questions: list[str] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.questions)


def asks_for_person(text: str) -> bool:
    """An explicit request for a person, which no article answers."""
    return bool(_PERSON_REQUEST.search(text)) or text.strip(" ，。！？!?,.") in ("人工", "客服", "真人")


def asks_for_ticket(text: str) -> bool:
    """An explicit request to file the matter as a work order: answered with the pre-filled form, not an article."""
    return bool(_TICKET_REQUEST.search(text))


def is_follow_up(question: str) -> bool:
    text = question.strip()
    if not _LETTER.search(text):
        return False  # ？？ or 138… follows up nothing: it is asked what it is about
    if len(text) <= _ELLIPTICAL_MAX_CHARS and text.rstrip("？?。 ").endswith("呢"):
        return True
    return len(text) <= _FOLLOW_UP_MAX_CHARS and all(w in _INTENT_WORDS for w in words(text))


def intents(question: str) -> list[str]:
    question = _ELAPSED.sub(" ", _OWN_NUMBER.sub(" ", question))
    return [intent for intent, cues in _INTENT_CUES.items() if any(c in question for c in cues)]


def expand_question(question: str, history: Sequence[Turn]) -> str:
    """Prefix a short follow-up with the latest self-contained user question, so 在哪里办 keeps its topic."""
    if not is_follow_up(question):
        return question
    for turn in reversed(history):
        if turn.role == "user" and turn.text.strip() and not is_follow_up(turn.text) and not asks_for_person(turn.text):
            return f"{turn.text.strip()} {question.strip()}"
    return question


def names_matter(text: str) -> bool:
    """Whether a message says what it is about: a word besides numbers, punctuation, question words and
    contact details (电话138…, 我住在红旗社区), which add to a matter but are none."""
    return bool(words(_NUMBER.sub(" ", text))) and not _is_detail(text)


def confidence(question: str, hits: Sequence[Hit], index: SearchIndex) -> float:
    """The stronger of two signals. Words: how much of the question the best article covers, and its
    margin over the runner-up. Meaning: the sentence vectors' cosine, which answers a question put in
    words no article uses (老板不发工资 → 被拖欠工资怎么维权) and keeps 养猫需要办证吗 away from 退休申请.
    Numbers count for neither way: 1 is in every article that says 1个工作日, and a phone number typed
    after the question says nothing about how well an article answers it."""
    matter = _NUMBER.sub(" ", question)
    if not hits or not words(matter):
        return 0.0
    best = hits[0]
    coverage = index.coverage(matter, index.text(best))
    margin = 1.0 - hits[1].score / best.score if len(hits) > 1 and best.score > 0 else 1.0
    lexical = coverage * (0.7 + 0.3 * margin)
    cosine = index.cosine(question, best.id)
    semantic = 0.0 if cosine is None else (cosine - SEMANTIC_ZERO) / (SEMANTIC_FULL - SEMANTIC_ZERO)
    return round(float(np.clip(max(lexical, semantic), 0.0, 1.0)), 3)


def _states(body: str, intent: str) -> bool:
    return any(t in body for t in _INTENT_TERMS[intent])


def _as_question(title: str) -> str:
    """A service name such as 不动产转移登记（二手房） becomes a question a citizen would ask."""
    return title if title.endswith(("？", "?")) else f"{title}怎么办理？"


def _follow_ups(question: str, hits: Sequence[Hit], history: Sequence[Turn], body: str) -> list[str]:
    """Related articles, then the generic questions the cited article can answer and that weren't asked yet."""
    asked = " ".join([question, *(t.text for t in history if t.role == "user")])
    out = [_as_question(h.title) for h in hits[1:3] if h.title]
    done = set(intents(asked))
    out += [q for q, intent in GENERIC_FOLLOW_UPS.items() if intent not in done and _states(body, intent)]
    return list(dict.fromkeys(out))[:4]


def _full_stop(passage: str) -> str:
    """A passage cut at a clause (…当场可取新卡；) reads as an answer that stops mid-way: end it as a sentence."""
    trimmed = passage.rstrip("；;，,、：: ")
    return trimmed + "。" if trimmed != passage and trimmed else passage


def _intent_passage(body: str, asked: Sequence[str], terms: dict[str, float], max_chars: int = 120) -> str | None:
    """For 需要带什么材料？ only the sentences that state the materials, not the article's opening once more.

    Sentences are kept in article order; the topic's own terms only rank sentences that name the intent.
    """
    cues = [t for intent in asked for t in _INTENT_TERMS[intent]]
    if not cues:
        return None
    parts = sentences(body)
    ranked = sorted(
        ((sum(c in s for c in cues), sum(w for t, w in terms.items() if t in s), i) for i, s in enumerate(parts)),
        reverse=True,
    )
    chosen: list[int] = []
    length = 0
    for hits, _, i in ranked:
        if not hits or length + len(parts[i]) > max_chars and chosen:
            break
        chosen.append(i)
        length += len(parts[i])
    if not chosen or len(chosen) == len(parts):
        return None
    passage = "".join(parts[i] for i in sorted(chosen))
    return passage if len(passage) <= max_chars else passage[: max_chars - 1] + "…"


def answer(
    question: str,
    history: Sequence[Turn],
    index: SearchIndex,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    top_k: int = 3,
) -> Answer:
    query = expand_question(question, history)
    if not names_matter(query):
        return Answer(ASK_MATTER_TEXT, [], 0.0, list(HANDOVER_ACTIONS), True, query)
    hits = index.search(query, top_k=top_k)
    score = confidence(query, hits, index)
    if not hits or score < threshold:
        return Answer(HANDOVER_TEXT, [], score, list(HANDOVER_ACTIONS), True, query)
    best = hits[0]
    # The follow-up's own words pick the passage (材料 → the materials sentence), the topic only breaks ties.
    terms = dict(index.query_terms(query))
    for term, weight in index.query_terms(question).items():
        terms[term] = terms.get(term, 0.0) + 2 * weight
    asked = intents(question)
    for intent in asked:
        for term in _INTENT_TERMS[intent]:
            terms[term] = terms.get(term, 0.0) + 3.0
    body = field_text(best.document.get(index.snippet_field)) or best.title
    passage = _full_stop(_intent_passage(body, asked, terms) or best_passage(body, terms, max_chars=120))
    # Saying plainly that the article is silent beats passing its opening off as the answer.
    unstated = [_INTENT_NAMES[i] for i in asked if not _states(body, i)]
    if unstated:
        text = f"《{best.title}》没有写明{'、'.join(unstated)}，建议转人工或致电12345确认。该事项的要点：{passage}"
    else:
        text = f"根据《{best.title}》：{passage}"
    related = [h for h in hits[1:] if h.score >= 0.8 * best.score]
    if related:
        text += "\n您也可以参考：" + "、".join(f"《{h.title}》" for h in related)
    citations = [Citation(h.id, h.title, round(h.score, 3)) for h in [best, *related]]
    return Answer(text, citations, score, _follow_ups(question, hits, history, body), False, query)


_PHONE = re.compile(r"(?<!\d)(1[3-9]\d)[\s-]?(\d{4})[\s-]?(\d{4})(?!\d)")
_ADDRESS = re.compile(
    r"[\u4e00-\u9fa5A-Za-z\d]{1,24}(?:\d+号(?:楼|院|铺)?|社区|村委会|村|小区|花园|大厦|市场|街道|镇)"
)
_ADDRESS_LEAD = re.compile(r"^.*?(?:住在|位于|地址是|地址为|地址|家住|家在|我在|是在|在)")
_TICKET_CUES: dict[str, tuple[str, ...]] = {
    "举报": ("举报", "违法", "违规", "非法", "偷排", "偷倒", "黑作坊", "传销", "赌博", "无证经营"),
    "投诉": ("投诉", "不满", "态度差", "态度恶劣", "乱收费", "扰民", "不作为", "推诿", "拖延", "欺骗", "没人管", "没人修", "没人处理", "无人处理", "油烟", "噪音", "吵", "异味", "臭味"),
    # A broken or blocked public facility is a request for help, not a question.
    "求助": ("求助", "帮忙", "帮帮", "救助", "紧急", "困难", "怎么办", "被困", "停水", "停电", "坏了", "不亮", "漏水", "堵塞", "积水", "维修"),
    "建议": ("建议", "希望能", "希望可以", "提议", "能否增设", "应该增加", "呼吁"),
}


_SMALL_TALK = (
    (re.compile(r"(你好|您好|哈喽|嗨|hi|hello|在吗|在不在|早上好|上午好|下午好|晚上好|政务君)+", re.I),
     "您好！我是政务君，可以解答社保、公积金、户籍、证照、企业开办等办事问题，也可以帮您转人工或把诉求转为工单。请问有什么可以帮您？"),
    (re.compile(r"(好的|好|嗯|明白了|知道了|收到)?(谢谢|谢谢你|谢谢您|多谢|感谢|辛苦了)+(政务君|你|您|啦|了)?"),
     "不客气，很高兴为您服务！还有其他问题随时问我。"),
    (re.compile(r"(再见|拜拜|bye)+", re.I), "再见，祝您生活愉快！如需帮助，随时找政务君。"),
)


def small_talk(text: str) -> str | None:
    """A greeting or a thank-you is answered as one, not searched for and logged as unanswered."""
    bare = re.sub(r"[\s，。！？!?,.~～…、]+", "", text)
    for pattern, reply in _SMALL_TALK:
        if bare and pattern.fullmatch(bare):
            return reply
    return None


def guess_ticket_type(text: str) -> str:
    """Most cue words wins; ties go to the more serious type (举报 > 投诉 > 求助 > 建议); default 咨询."""
    counts = {kind: sum(text.count(c) for c in cues) for kind, cues in _TICKET_CUES.items()}
    best = max(counts, key=lambda k: counts[k])
    return best if counts[best] else "咨询"


def find_phone(text: str) -> str | None:
    match = _PHONE.search(text)
    return "".join(match.groups()) if match else None


def find_address(text: str) -> str | None:
    """The longest address-like phrase in one clause; the caller resolves it with the gazetteer."""
    found = []
    for clause in re.split(r"[，,。！？!?；;：:\s]+", text):
        for match in _ADDRESS.finditer(clause):
            candidate = _ADDRESS_LEAD.sub("", match.group())
            if len(candidate) >= 2:
                found.append(candidate)
    return max(found, key=len) if found else None


_PERSON_WORDS = frozenset("转 转接 找 找个 接 换 叫 请 帮 我要 要 要求 联系 有没有 人工 真人 客服 服务 坐席 机器人 不想 不要 跟 和 聊".split())
_TICKET_WORDS = _PERSON_WORDS | frozenset("帮我 给我 我想 转成 转为 提交 提 立 建 开 报 个 一个 一张 工单 投诉单".split())
_DETAIL_WORDS = frozenset("电话 手机 手机号 号码 联系 联系方式 联系电话 住 住址 地址 家 家住 位于 地点 位置".split())


def _is_detail(text: str) -> bool:
    """电话138…, 我住在红旗社区: contact details for the matter before, not a new matter."""
    address = find_address(text)
    rest = _PHONE.sub("", text).replace(address or "", "")
    return bool(address or find_phone(text)) and all(w in _DETAIL_WORDS for w in words(rest))


# 有人吗？ 还在等 你好: what a citizen says while waiting for a person is about the wait, not the matter. Only a
# short message made of nothing but these words and punctuation counts: 有人吗？我家停水了 is the matter.
_PHATIC = re.compile(
    r"(?:你好|您好|哈喽|嗨|喂|hello|hi|请问|有人吗|有人在吗|有没有人|在吗|在不在|还在吗|人呢|客服呢|"
    r"我?还?在等|等着呢|等了?好久|等很久了|等半天了|还要等多久|要等多久|怎么没人回|没人回复?|没人理|"
    r"快点|麻烦快点|谢谢|麻烦了|啊|呀|吗|呢|哦|了|嘛)+",
    re.I,
)
PHATIC_MAX_CHARS = 12


def is_phatic(text: str) -> bool:
    """A greeting, a 有人吗 or a 还在等, and nothing else (punctuation aside): left out of the work order."""
    bare = re.sub(r"[\s，。！？!?,.~～…、：:；;]+", "", text)
    return len(bare) <= PHATIC_MAX_CHARS and (not bare or bool(_PHATIC.fullmatch(bare)))


def current_matter(said: Sequence[str], to_person: Sequence[bool] = ()) -> list[str]:
    """The latest self-contained question and what followed it; earlier matters and a bare 转人工 are left out.

    A request for a person never starts a matter: 我要投诉，找个真人 belongs to what was said before it. Nor does a
    message passed on to a person (`to_person`, one flag per message): 就在高黎市场门口 is said about the matter
    handed over, nor one that names no matter (电话138…). Greetings and 有人吗？ (`is_phatic`) are left out altogether;
    the transcript keeps them for the staff.
    """
    passed = [*to_person, *[False] * (len(said) - len(to_person))]
    said = [(s.strip(), p) for s, p in zip(said, passed) if s.strip() and not is_phatic(s)]
    bare = lambda s: (asks_for_person(s) and all(w in _PERSON_WORDS for w in words(s))) or (asks_for_ticket(s) and all(w in _TICKET_WORDS for w in words(s)))  # noqa: E731
    kept = [(s, p) for s, p in said if not bare(s)] or said
    starts = (i for i in range(len(kept) - 1, -1, -1) if not (kept[i][1] or is_follow_up(kept[i][0]) or not names_matter(kept[i][0]) or asks_for_person(kept[i][0])))
    return [s for s, _ in kept[next(starts, 0):]]


def prefill_ticket(history: Sequence[Turn]) -> dict[str, str | None]:
    """智能填单: draft a work order from what the citizen said about the current matter."""
    said = [t for t in history if t.role == "user"]
    content = "\n".join(current_matter([t.text for t in said], [t.to_person for t in said]))
    return {
        "type": guess_ticket_type(content),
        "content": content,
        "phone": find_phone(content),
        "address": find_address(content),
    }


_LLM_SYSTEM = (
    "你是佛山市顺德区12345政务服务助手“政务君”。只能依据用户消息中提供的资料回答，不得使用资料以外的知识，"
    "不得编造政策、电话、地址或时限。资料中没有答案时，只回答：“资料中没有相关信息”。"
    "请用简体中文简洁作答，并在句末用《标题》注明依据。"
)


def phrase_with_llm(
    question: str,
    articles: Sequence[Document],
    *,
    base_url: str,
    api_key: str,
    model: str,
    timeout: float = 15.0,
    client: httpx.Client | None = None,
) -> str | None:
    """Rephrase with an OpenAI-compatible model restricted to `articles`; None means use the extractive answer."""
    if not articles:
        return None
    material = "\n\n".join(
        f"资料{i}：《{field_text(a.get('title'))}》\n{field_text(a.get('body'))[:1500]}"
        for i, a in enumerate(articles, 1)
    )
    payload = {
        "model": model,
        "temperature": 0.2,
        "messages": [
            {"role": "system", "content": _LLM_SYSTEM},
            {"role": "user", "content": f"{material}\n\n问题：{question}"},
        ],
    }
    try:
        http = client or httpx.Client(timeout=timeout)
        try:
            response = http.post(
                base_url.rstrip("/") + "/chat/completions",
                json=payload,
                headers={"Authorization": f"Bearer {api_key}"},
                timeout=timeout,
            )
        finally:
            if client is None:
                http.close()
        response.raise_for_status()
        text = response.json()["choices"][0]["message"]["content"]
    except (httpx.HTTPError, ValueError, KeyError, IndexError, TypeError):
        return None
    return text.strip() if isinstance(text, str) and text.strip() else None


def _group_features(text: str) -> list[str]:
    # Synonym concepts make 住房公积金 and 公积金 the same feature, whatever the segmenter does.
    return words(text) + char_ngrams(text) + default_synonyms().concepts(text)


def group_questions(questions: Sequence[str], *, threshold: float = 0.4) -> list[Group]:
    """Average-linkage clusters of TF-IDF cosine ≥ `threshold`, biggest first, labelled by their medoid."""
    # scikit-learn costs the web process ~70 MB; only this admin report needs it.
    from sklearn.cluster import AgglomerativeClustering
    from sklearn.feature_extraction.text import TfidfVectorizer

    items = [q.strip() for q in questions if q and q.strip()]
    if len(items) < 2:
        return [Group(q, [q]) for q in items]
    vectors = TfidfVectorizer(analyzer=_group_features, sublinear_tf=True).fit_transform(items)
    similarity = np.asarray((vectors @ vectors.T).todense())
    labels = AgglomerativeClustering(
        n_clusters=None, metric="precomputed", linkage="average", distance_threshold=1.0 - threshold
    ).fit_predict(np.clip(1.0 - similarity, 0.0, None))
    groups = []
    for label in dict.fromkeys(labels):
        members = np.flatnonzero(labels == label)
        medoid = members[np.argmax(similarity[np.ix_(members, members)].sum(axis=1))]
        groups.append(Group(items[medoid], [items[i] for i in members]))
    return sorted(groups, key=lambda g: -g.size)


__all__ = [
    "Answer",
    "Citation",
    "Group",
    "Turn",
    "answer",
    "asks_for_person",
    "asks_for_ticket",
    "names_matter",
    "confidence",
    "current_matter",
    "expand_question",
    "find_address",
    "find_phone",
    "group_questions",
    "guess_ticket_type",
    "intents",
    "is_follow_up",
    "is_phatic",
    "phrase_with_llm",
    "prefill_ticket",
]
