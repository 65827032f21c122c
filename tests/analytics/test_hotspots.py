"""Hot-topic clustering: many people on one matter rank first; one person's repeats and one-offs do not count."""

from dataclasses import replace
from datetime import datetime, timedelta, timezone

from baishitong.analytics.hotspots import Item, find_topics

NOW = datetime(2026, 11, 20, 12, tzinfo=timezone.utc)

BIN = [
    ("高黎社区垃圾站臭味扰民", "容桂街道高黎社区桂洲大道旁的垃圾站夏天臭味很大，附近居民无法开窗，希望尽快处理垃圾站臭味问题。"),
    ("投诉高黎社区垃圾站臭味", "高黎社区桂洲大道垃圾站每天散发臭味，垃圾清运不及时，居民投诉多次未解决。"),
    ("高黎社区垃圾站太臭了", "我住在高黎社区，桂洲大道的垃圾站臭味严重，蚊蝇很多，请环卫部门处理垃圾站。"),
    ("反映高黎垃圾站臭味问题", "容桂高黎社区桂洲大道垃圾站臭味熏天，垃圾堆放没有及时清运，影响周边居民生活。"),
    ("高黎社区桂洲大道垃圾站臭味", "垃圾站臭味影响小区居民，高黎社区桂洲大道这个垃圾站需要整改。"),
]
LIGHTS = [
    ("北滘镇林港路路灯不亮", "北滘镇林港路一段路灯已经一个多月不亮了，晚上骑车很危险，请尽快维修路灯。"),
    ("林港路路灯坏了", "北滘林港路的路灯坏了很久，晚上一片漆黑，希望维修林港路路灯。"),
    ("北滘林港路路灯长期不亮", "林港路路灯长期不亮，夜间出行不安全，请北滘镇安排维修。"),
]
ONE_OFFS = [
    ("咨询新生儿入户", "小孩刚出生，想咨询新生儿入户需要哪些材料。"),
    ("乐从镇某工地夜间施工噪音", "乐从镇某工地晚上十二点还在施工，噪音很大。"),
    ("大良公交站候车亭破损", "大良某公交站候车亭玻璃破损，存在安全隐患。"),
]


def items() -> list[Item]:
    out = []
    for i, (title, content) in enumerate(BIN):
        out.append(Item(key=f"bin{i}", title=title, content=content, created_at=NOW - timedelta(hours=6 * i), region="容桂·高黎", category="城乡建设", requester=f"1380000000{i}"))
    for i, (title, content) in enumerate(LIGHTS):
        out.append(Item(key=f"light{i}", title=title, content=content, created_at=NOW - timedelta(days=3, hours=i), region="北滘", category="城乡建设", requester=f"1390000000{i}"))
    # One person filing the same complaint four times is a persistent requester, not a hot topic.
    for i in range(4):
        out.append(Item(key=f"same{i}", title="伦教某小区电梯故障", content="伦教某小区3栋电梯经常故障停运，物业不处理。", created_at=NOW - timedelta(days=i), requester="13700000000"))
    for i, (title, content) in enumerate(ONE_OFFS):
        out.append(Item(key=f"one{i}", title=title, content=content, created_at=NOW - timedelta(days=1, hours=i), requester=f"1360000000{i}"))
    return out


def test_the_matter_most_people_raise_ranks_first_with_its_place_and_keywords():
    topics = find_topics(items(), now=NOW)
    first = topics[0]
    assert sorted(first.keys) == [f"bin{i}" for i in range(5)]
    assert first.people == 5 and first.region == "容桂·高黎" and first.category == "城乡建设"
    assert any("垃圾站" in p for p in first.phrases)
    assert first.recent == 5 and first.first_at == NOW - timedelta(hours=24) and first.last_at == NOW
    second = topics[1]
    assert sorted(second.keys) == ["light0", "light1", "light2"] and second.people == 3 and second.recent == 0


def test_repeats_by_one_person_and_one_off_requests_are_not_topics():
    keys = {k for t in find_topics(items(), now=NOW) for k in t.keys}
    assert not keys & {"same0", "same1", "same2", "same3", "one0", "one1", "one2"}


def test_a_message_naming_two_matters_does_not_chain_them_into_one_topic():
    both = Item(key="both", title="高黎社区垃圾站臭味，林港路路灯不亮", content="高黎社区桂洲大道垃圾站臭味严重；北滘林港路路灯不亮。", created_at=NOW, requester="13500000000")
    topics = find_topics([*items(), both], now=NOW)
    bins = next(t for t in topics if "bin0" in t.keys)
    lights = next(t for t in topics if "light0" in t.keys)
    assert bins is not lights
    assert not {"light0", "light1", "light2"} & set(bins.keys)


def test_support_from_others_raises_a_topic():
    boosted = [replace(it, support=500) if it.key.startswith("light") else it for it in items()]
    assert "light0" in find_topics(boosted, now=NOW)[0].keys


def test_nothing_in_nothing_out():
    assert find_topics([], now=NOW) == []


def test_a_topic_spread_over_many_places_names_no_single_one():
    spread = [replace(it, region=f"容桂·社区{i}") if it.key.startswith("bin") else it for i, it in enumerate(items())]
    assert find_topics(spread, now=NOW)[0].region == "容桂"
    spread = [replace(it, region=f"镇{i}·社区{i}") if it.key.startswith("bin") else it for i, it in enumerate(items())]
    assert find_topics(spread, now=NOW)[0].region == "多地"


def test_two_requests_from_two_places_name_neither():
    from baishitong.analytics.hotspots import _common_place

    assert _common_place(["杏坛·马东村", "容桂·高黎社区"]) == "多地"
    assert _common_place(["容桂·高黎社区", "容桂·红星社区"]) == "容桂"
    assert _common_place(["容桂·高黎社区", "容桂·高黎社区", "杏坛·马东村"]) == "容桂·高黎社区"
