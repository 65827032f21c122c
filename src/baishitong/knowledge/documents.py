"""What the knowledge base hands to search and to the sentence encoder: each article's and service item's
search document, the vectors stored for them, and the revision that says when any of it changed.

Kept apart from `service` (which builds search indexes with jieba and SciPy) so that the short-lived
`kb embed` child imports only what it needs and stays small.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from baishitong import clock
from baishitong.knowledge.models import Article, SearchVector, ServiceItem
from baishitong.text import embedding

ITEM_PREFIX = "item:"

_MARKDOWN = re.compile(r"(^\s{0,3}#{1,6}\s+|^\s*[-*+]\s+|^\s*>\s?|\*\*|__|`|!?\[([^\]]*)\]\([^)]*\))", re.M)


def plain_text(markdown: str) -> str:
    """Markdown without markup, for indexing and answer passages."""
    return _MARKDOWN.sub(lambda m: m.group(2) or "", markdown)


def article_document(article: Article) -> dict:
    return {
        "id": article.external_id,
        "kind": "article",
        "title": article.title,
        "keywords": [*article.keywords, *article.synonyms],
        "body": plain_text(article.body),
        "unit": article.unit_code,
        "status": article.status,
    }


def item_text(item: ServiceItem) -> str:
    parts = [item.description.strip()]
    if item.materials:
        parts.append(f"办理{item.name}需要提供的材料：{'、'.join(item.materials)}。")
    if item.channels:
        parts.append(f"办理渠道：{'、'.join(item.channels)}。")
    if item.promised_days is not None:
        promise = "即办" if item.promised_days == 0 else f"承诺{item.promised_days}个工作日内办结"
        legal = f"法定办结时限{item.time_limit_days}个工作日，" if item.time_limit_days else ""
        parts.append(f"办理时限：{legal}{promise}。")
    if item.fee:
        parts.append(f"收费标准：{item.fee}。")
    return "\n".join(p for p in parts if p)


def item_document(item: ServiceItem, *, prefix: str = "") -> dict:
    return {
        "id": prefix + item.code,
        "kind": "item",
        "title": item.name,
        "keywords": list(item.materials),
        "body": item_text(item),
        "unit": item.department,
    }


def item_guide_document(item: ServiceItem) -> dict:
    """For 办事指南's own search: what the item is, not what to bring. Nearly every item asks for 居民身份证,
    so indexing the materials made 身份证 a word of no weight and 身份证丢了怎么补办 found 社保卡挂失补办 first."""
    return {**item_document(item), "keywords": [], "body": item.description}


def vector_key(doc: Mapping) -> str:
    """`article:<external id>` or `item:<code>`, whichever index the document sits in."""
    doc_id = str(doc["id"])
    return doc_id if doc_id.startswith(ITEM_PREFIX) else f"{doc['kind']}:{doc_id}"


def embedding_text(doc: Mapping) -> str:
    """What the sentence vector describes: the title (unless the body opens with it), the keywords, the body."""
    title, body = str(doc["title"]), str(doc.get("body") or "")
    parts = ("" if body.startswith(title) else title, "、".join(doc.get("keywords") or ()), body)
    return "\n".join(part for part in parts if part)


def embedding_inputs(session: Session) -> dict[str, str]:
    """Every document a search may return (articles not retired, service items), by vector key."""
    docs = [article_document(a) for a in session.scalars(select(Article).where(Article.status != "retired"))]
    docs += [item_document(i) for i in session.scalars(select(ServiceItem).order_by(ServiceItem.code))]
    return {vector_key(doc): embedding_text(doc) for doc in docs}


def stored_vector_hashes(session: Session) -> dict[str, str]:
    return dict(session.execute(select(SearchVector.doc_key, SearchVector.content_hash).where(SearchVector.model == embedding.MODEL_NAME)).all())


def save_vectors(session: Session, *, vectors: Mapping[str, tuple[str, bytes]]) -> None:
    """Insert or replace vectors, `doc_key → (content hash, packed vector)`."""
    existing = {v.doc_key: v for v in session.scalars(select(SearchVector).where(SearchVector.doc_key.in_(list(vectors))))}
    now = clock.now()
    for doc_key, (content_hash, blob) in vectors.items():
        row = existing.get(doc_key) or SearchVector(doc_key=doc_key)
        row.model, row.content_hash, row.vector, row.updated_at = embedding.MODEL_NAME, content_hash, blob, now
        session.add(row)
    session.flush()


def drop_vectors(session: Session, *, keep: Iterable[str]) -> int:
    """Vectors of retired or deleted documents, and any made by another model."""
    keep = set(keep)
    stale = [v for v in session.scalars(select(SearchVector)) if v.doc_key not in keep or v.model != embedding.MODEL_NAME]
    for row in stale:
        session.delete(row)
    session.flush()
    return len(stale)


def article_revision(session: Session) -> tuple:
    """Changes whenever any article is saved, here or in another process."""
    return tuple(session.execute(select(func.count(Article.id), func.max(Article.updated_at), func.sum(Article.version))).one())


def item_revision(session: Session) -> tuple:
    return tuple(session.execute(select(func.count(ServiceItem.id), func.max(ServiceItem.updated_at), func.sum(ServiceItem.id))).one())


def vector_revision(session: Session) -> tuple:
    """Changes whenever the worker stores or drops a sentence vector."""
    return tuple(session.execute(select(func.count(SearchVector.id), func.max(SearchVector.updated_at))).one())


def knowledge_revision(session: Session) -> tuple:
    """Articles, items and vectors together: unchanged means nothing new to embed."""
    return (*article_revision(session), *item_revision(session), *vector_revision(session))
