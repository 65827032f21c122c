"""The compact segmenter must cut exactly like jieba set up the same way (same added words)."""

import io
import threading
from datetime import date

import jieba
import pytest

from baishitong.demo.catalogue import KB_ARTICLES, SERVICE_ITEMS
from baishitong.demo.orders import generate_orders
from baishitong.text import segment
from baishitong.text.compact_jieba import CompactJieba, load_or_build

MIXED = [
    "",
    " ",
    "\n\t \r\n",
    "　",  # ideographic space
    "容桂街道高黎社区",
    "佛山市顺德区容桂街道高黎社区居委会旁边的路灯不亮",
    "大良街道金榜社区、伦教街道三洲社区和北滘镇碧江社区",
    "我的手机号是13800138000，身份证号44060619900101123X，请回电。",
    "iPhone 15 Pro Max在顺德区哪里维修？GDP增长7.5%，CPI为2.1%",
    "Wi-Fi密码是abc_123#456&789+0.5，网址https://www.gov.cn/zhengce?id=1",
    "C++和C#哪个好学？Python3.11版本，node.js v20",
    "ＡＢＣ全角字母１２３全角数字，！？。；：“引号”（括号）【方括号】《书名号》",
    "2026年12月4日上午10:30分，在12345热线反映，编号GD-2026-000123。",
    "老王說：這個問題已經反映了三次了！！！",
    "😀表情符号和emoji🚧施工中",
    "一二三四五六七八九十百千万亿",
    "的的的的的的的的的的",
    "abcdefghijklmnopqrstuvwxyz" * 20,
    "1234567890" * 50,
    "住房公积金住房公积金提取住房公积金贷款",
    "南京市长江大桥",
    "结婚的和尚未结婚的",
    "他说的确实在理",
]


@pytest.fixture(scope="module")
def reference() -> jieba.Tokenizer:
    """What segment.py used to run: jieba with the project's add_word calls."""
    jieba.setLogLevel(60)
    tokenizer = jieba.Tokenizer()
    for name in (*segment.place_names(), *segment.gov_terms()):
        tokenizer.add_word(name, freq=20000)
    return tokenizer


def _corpus(reference: jieba.Tokenizer) -> list[str]:
    texts = list(MIXED)
    for article in KB_ARTICLES:
        texts += [article["title"], article["body"], " ".join(article["keywords"])]
    for item in SERVICE_ITEMS:
        texts += [item["name"], item["description"], "、".join(item["materials"])]
    for order in generate_orders(today=date(2026, 12, 1)):
        texts += [order["title"], order["content"], order["address"], order["reply"] or ""]
    names = segment.place_names()
    texts += [a + b + "附近" for a, b in zip(names, names[1:])]
    # Characters that only begin words (no word of their own) have no one-character DAG edge.
    prefix_only = [c for c in map(chr, range(0x4E00, 0x9FD6)) if reference.FREQ.get(c) == 0][:300]
    texts += ["".join(prefix_only), "在".join(prefix_only)]
    bodies = "\n".join(a["body"] for a in KB_ARTICLES)
    # Very long inputs: one long text, and one block of Chinese with no break at all.
    texts += [bodies, "".join(c for c in bodies if "\u4e00" <= c <= "\u9fd5")]
    return texts


def test_segmentation_is_jieba_word_for_word(reference):
    texts = _corpus(reference)
    assert len(texts) > 1000 and max(map(len, texts)) > 4000
    compact = segment._tokenizer()
    for text in texts:
        assert list(compact.cut(text)) == reference.lcut(text), text
        assert list(compact.cut_for_search(text)) == list(reference.cut_for_search(text)), text
        assert segment.tokenize(text) == [w for w in reference.lcut(text) if w.strip()]
        assert segment.tokenize_for_search(text) == [w for w in reference.cut_for_search(text) if w.strip()]


def test_small_dictionary_with_added_words(tmp_path):
    """Re-adding a word replaces its frequency but still grows the total; later additions win.

    Also the corner cases a real corpus rarely hits: 甲 begins a word but is none, so jieba offers
    no one-character 甲 (甲乙/丙, not 甲/乙丙); 子丑/寅 and 子/丑寅 score exactly the same and
    jieba takes the longer first word.
    """
    lines = (
        "北京 2000 ns\n北京大学 1500 nt\n大学 2000 n\n生 500 v\n活 400 v\n大学生 300 n\n学生 1000 n\n"
        "活动 800 n\n甲乙 1\n乙丙 100000\n丙 10\n子 100\n子丑 100\n寅 100\n丑寅 100\n"
    )
    added = [("北京大学", 5), ("大学生活", 10), ("生活", 50000), ("大学生活", 3), ("北京", 2000)]
    path = tmp_path / "dict.txt"
    path.write_text(lines, encoding="utf-8")
    jieba.setLogLevel(60)
    reference = jieba.Tokenizer(str(path))
    reference.tmp_dir = str(tmp_path)
    for word, freq in added:
        reference.add_word(word, freq)
    compact = CompactJieba.build(lambda: io.BytesIO(lines.encode()), added)
    for text in ["北京大学生活动", "北京大学生活", "大学生活动中心", "学生活动", "北京北京大学", "甲乙丙", "子丑寅"]:
        assert list(compact.cut(text)) == reference.lcut(text)
        assert list(compact.cut_for_search(text)) == list(reference.cut_for_search(text))


def test_saved_segmenter_loads_and_cuts_the_same(tmp_path):
    added = [(name, 20000) for name in (*segment.place_names(), *segment.gov_terms())]
    built = load_or_build(jieba.get_dict_file, added, tmp_path)
    (saved,) = tmp_path.iterdir()
    loaded = CompactJieba.load(saved)
    # The same words, ids and weights, so the same cuts for any text.
    assert loaded._trie.tobytes() == built._trie.tobytes()
    assert list(loaded._weight) == list(built._weight)
    texts = [*MIXED, *(a["body"] for a in KB_ARTICLES)]
    assert [list(loaded.cut(t)) for t in texts] == [list(built.cut(t)) for t in texts]
    assert [list(loaded.cut_for_search(t)) for t in texts] == [list(built.cut_for_search(t)) for t in texts]


def test_load_or_build_reuses_only_a_matching_file(tmp_path, monkeypatch):
    def open_dict():
        return io.BytesIO("北京 2000 ns\n大学 2000 n\n".encode())

    builds = []
    build = CompactJieba.build
    monkeypatch.setattr(CompactJieba, "build", lambda *args: builds.append(args) or build(*args))
    added = [("北京大学", 100000)]

    assert list(load_or_build(open_dict, added, tmp_path).cut("北京大学")) == ["北京大学"]
    assert list(load_or_build(open_dict, added, tmp_path).cut("北京大学")) == ["北京大学"]
    assert len(builds) == 1
    # Other added words: another file.
    load_or_build(open_dict, [*added, ("北京", 1)], tmp_path)
    assert len(builds) == 2 and len(list(tmp_path.iterdir())) == 2
    # A damaged file is built again and replaced.
    for path in tmp_path.iterdir():
        path.write_bytes(path.read_bytes()[:-10])
    load_or_build(open_dict, added, tmp_path)
    load_or_build(open_dict, added, tmp_path)
    assert len(builds) == 3


def test_concurrent_first_use_builds_once(monkeypatch):
    calls = []

    def counting(*args):
        calls.append(1)
        return load_or_build(*args)

    monkeypatch.setattr(segment, "_segmenter", None)
    monkeypatch.setattr(segment, "load_or_build", counting)
    start = threading.Barrier(6)
    results = []

    def worker():
        start.wait()
        results.append(segment.tokenize("顺德区容桂街道办理住房公积金提取"))

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1
    assert results == [["顺德区", "容桂街道", "办理", "住房公积金", "提取"]] * 6
