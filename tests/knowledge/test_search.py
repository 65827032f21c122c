import numpy as np

from baishitong.knowledge.search import SHOWN_SHARE, SearchIndex, Synonyms, best_passage, shown

ARTICLES = [
    {"id": "gjj", "title": "住房公积金提取指南", "body": "职工购买自住住房可以申请提取住房公积金。需要带身份证和购房合同。",
     "keywords": ["公积金", "提取"], "category": "住房"},
    {"id": "sb", "title": "社会保险参保登记", "body": "新参保人员到社保经办机构办理社会保险登记，需要身份证原件。",
     "keywords": ["社保"], "category": "社保"},
    {"id": "yy", "title": "个体工商户营业执照办理", "body": "申请营业执照请到区行政服务中心市场监管窗口。",
     "keywords": ["执照"], "category": "企业"},
    {"id": "hk", "title": "户籍迁入办理", "body": "符合条件的人员可以申请把户口迁入顺德，需要提供居民身份证。",
     "keywords": ["落户"], "category": "公安"},
]


def top(index: SearchIndex, query: str, **kwargs) -> str | None:
    hits = index.search(query, **kwargs)
    return hits[0].id if hits else None


def test_finds_article_with_snippet_and_highlights():
    hits = SearchIndex(ARTICLES).search("怎么提取公积金")
    assert hits[0].id == "gjj"
    assert "公积金" in hits[0].snippet
    assert "公积金" in hits[0].highlights
    assert hits[0].title == "住房公积金提取指南"


def test_found_keeps_hits_about_the_query_and_drops_nonsense():
    index = SearchIndex(ARTICLES)
    for nonsense in ("asdfgh", "火星移民签证", "啊啊啊啊"):
        assert index.found(nonsense, index.search(nonsense)) == [], nonsense
    hits = index.search("公积金提取需要什么")
    assert index.found("公积金提取需要什么", hits) == hits and hits[0].id == "gjj"
    assert index.coverage("公积金提取", index.text(hits[0])) == 1.0


def test_shown_cuts_the_tail_far_below_the_best_and_keeps_what_is_close():
    index = SearchIndex(ARTICLES)
    hits = index.search("公积金提取需要身份证")
    assert [h.id for h in hits] == ["gjj", "sb", "hk"], "身份证 alone finds the others"
    assert [h.id for h in shown(hits)] == ["gjj"]
    close = [h for h in hits if h.score >= SHOWN_SHARE * hits[0].score]
    assert shown(hits) == close and shown([]) == []
    assert [h.id for h in shown(hits, share=0.0)] == ["gjj", "sb", "hk"]


def test_synonyms_match_other_variant():
    index = SearchIndex(ARTICLES)
    assert top(index, "社会保障怎么登记") == "sb"
    assert top(index, "户口迁移") == "hk"
    assert top(index, "个体户开店") == "yy"


def test_synonyms_can_be_disabled():
    # 二代证 shares no word or sub-word with the articles, only the 身份证 concept.
    assert top(SearchIndex(ARTICLES, ngram_fields={}), "二代证") is not None
    plain = SearchIndex(ARTICLES, synonyms=Synonyms(()), ngram_fields={})
    assert top(plain, "二代证") is None


def test_typo_tolerance_by_char_ngrams():
    index = SearchIndex(ARTICLES)
    assert top(index, "公积检提取") == "gjj"
    assert top(index, "社宝") == "sb"


def test_title_outweighs_body():
    docs = [
        {"id": "body", "title": "办事指南", "body": "本页介绍居住证相关事项以及其他内容。"},
        {"id": "title", "title": "居住证办理", "body": "本页介绍相关事项以及其他内容。"},
    ]
    assert top(SearchIndex(docs), "居住证") == "title"


def test_filter_skips_documents():
    index = SearchIndex(ARTICLES)
    hits = index.search("身份证", top_k=10, filter=lambda d: d["category"] == "公安")
    assert [h.id for h in hits] == ["hk"]


def test_update_and_remove():
    index = SearchIndex(ARTICLES)
    index.update({"id": "sb", "title": "新生儿医保参保", "body": "新生儿可以参加医疗保险。"})
    assert top(index, "新生儿医疗保险") == "sb"
    assert top(index, "经办机构") != "sb"
    assert index.remove("sb") and not index.remove("sb")
    assert "sb" not in index and len(index) == 3
    assert all(h.id != "sb" for h in index.search("医保"))
    index.add({"id": "new", "title": "新增文章：老年证办理", "body": "60周岁以上可办理。"})
    assert top(index, "长者卡") == "new"


def test_search_many_matches_search():
    index = SearchIndex(ARTICLES)
    queries = ["公积金", "营业执照", "火星"]
    batch = index.search_many(queries, top_k=2)
    assert [[h.id for h in hits] for hits in batch] == [[h.id for h in index.search(q, top_k=2)] for q in queries]
    assert batch[2] == []


def test_empty_index_and_query():
    assert SearchIndex().search("公积金") == []
    assert SearchIndex(ARTICLES).search("？？") == []


def test_generic_fields_for_past_cases():
    cases = [
        {"id": "c1", "title": "楼下大排档噪音扰民", "content": "每晚营业到凌晨，噪声很大。"},
        {"id": "c2", "title": "路灯不亮", "content": "小区门口路灯坏了。"},
    ]
    index = SearchIndex(cases, fields={"title": 2.0, "content": 1.0}, snippet_field="content")
    hit = index.search("晚上噪音太大")[0]
    assert hit.id == "c1" and "噪声" in hit.snippet


def test_best_passage_prefers_matching_sentence():
    text = "第一句无关。办理需要身份证。第三句也无关。"
    assert best_passage(text, {"身份证": 1.0}, max_chars=8) == "办理需要身份证。"


def test_scores_match_reference_bm25():
    """The packed 32-bit builder must equal field-weighted BM25 with a query-side idf factor, term by term."""
    from collections import Counter

    from baishitong.knowledge.search import char_ngrams, places, search_words

    fields, ngrams, place_fields, k1, b = {"title": 3.0, "body": 1.0}, {"title": 0.9}, {"body": 4.0}, 1.2, 0.75
    index = SearchIndex(ARTICLES, fields=fields, ngram_fields=ngrams, place_fields=place_fields, synonyms=Synonyms(()), k1=k1, b=b)
    channels = [(f, search_words, w) for f, w in fields.items()] + [(f, char_ngrams, w) for f, w in ngrams.items()]
    channels += [(f, places, w) for f, w in place_fields.items()]
    bags = [[Counter(analyzer(d[f])) for f, analyzer, _ in channels] for d in ARTICLES]
    avg = [sum(sum(bag[c].values()) for bag in bags) / len(bags) for c in range(len(channels))]
    query = "在顺德提取住房公积金需要身份证"
    terms = set(search_words(query)) | set(char_ngrams(query)) | set(places(query))
    assert places(query)
    n = len(ARTICLES)
    expected = []
    for bag in bags:
        score = 0.0
        for term in terms:
            df = sum(any(term in ch for ch in other) for other in bags)
            if not df:
                continue
            idf = np.log1p((n - df + 0.5) / (df + 0.5))
            weight = sum(
                w * ch[term] * (k1 + 1) / (ch[term] + k1 * (1 - b + b * sum(ch.values()) / avg[c]))
                for c, ((_, _, w), ch) in enumerate(zip(channels, bag))
            )
            score += weight * idf * idf
        expected.append(score)
    assert np.allclose(index.scores(query), expected, rtol=1e-4)
