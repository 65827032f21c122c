"""知识库 and 办事指南: public search and reading pages over knowledge.service."""

import re

from fastapi import APIRouter, Depends, Request
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import Session

from baishitong.deps import get_db_session
from baishitong.knowledge import service as kb
from baishitong.knowledge.models import Article
from baishitong.org.models import Category, Unit
from baishitong.points import service as points
from baishitong.web.views import render

router = APIRouter(include_in_schema=False)

CHANNELS = ("代送件", "指尖办", "自助办", "网办", "窗口")
CHANNEL_HELP = {
    "代送件": "银行网点门口办，代收代送材料",
    "指尖办": "粤省事、粤商通等手机小程序办理",
    "自助办": "政务自助终端 24 小时办理",
    "网办": "广东政务服务网在线办理",
    "窗口": "行政服务中心窗口办理",
}
MAX_QUERY = 100
RELATED = 4

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*$")
_BULLET = re.compile(r"^\s*[-*+]\s+(.*)$")
_NUMBERED = re.compile(r"^\s*\d+[.、)]\s+(.*)$")
_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
_BOLD = re.compile(r"\*\*(.+?)\*\*|__(.+?)__")
_SAFE_URL = re.compile(r"^(https?://|/(?!/)|#)", re.I)


def _inline(text: str) -> str:
    """Escaped text with **bold** and [links](url); only http(s) and same-site links survive."""
    out = str(escape(text))

    def link(match: re.Match) -> str:
        label, url = match.group(1), match.group(2)
        if not _SAFE_URL.match(url):
            return label
        external = ' rel="noopener nofollow" target="_blank"' if url.lower().startswith("http") else ""
        return f'<a href="{url}"{external}>{label}</a>'

    out = _LINK.sub(link, out)
    return _BOLD.sub(lambda m: f"<strong>{m.group(1) or m.group(2)}</strong>", out)


def markdown(text: str, *, top: int | None = None) -> Markup:
    """A small Markdown subset (headings, paragraphs, lists, bold, links) with all HTML escaped.

    `#` is an h2 (the page title is the h1); with `top`, the body's highest heading is h{top} whatever its
    number of #, so a body that starts at `##` does not jump from the page's h1 to an h3."""
    lines = (text or "").replace("\r\n", "\n").split("\n")
    levels = [len(m.group(1)) for m in map(_HEADING.match, (line.rstrip() for line in lines)) if m]
    shift = top - min(levels) if top and levels else 1
    html: list[str] = []
    paragraph: list[str] = []
    list_tag: str | None = None

    def close_paragraph() -> None:
        if paragraph:
            html.append("<p>" + "<br>".join(_inline(line) for line in paragraph) + "</p>")
            paragraph.clear()

    def close_list() -> None:
        nonlocal list_tag
        if list_tag:
            html.append(f"</{list_tag}>")
            list_tag = None

    for raw in lines:
        line = raw.rstrip()
        heading, bullet, numbered = _HEADING.match(line), _BULLET.match(line), _NUMBERED.match(line)
        if not line.strip():
            close_paragraph()
            close_list()
        elif heading:
            close_paragraph()
            close_list()
            level = min(len(heading.group(1)) + shift, 6)
            html.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
        elif bullet or numbered:
            close_paragraph()
            tag = "ul" if bullet else "ol"
            if list_tag != tag:
                close_list()
                html.append(f"<{tag}>")
                list_tag = tag
            html.append(f"<li>{_inline((bullet or numbered).group(1))}</li>")
        else:
            close_list()
            paragraph.append(line.strip())
    close_paragraph()
    close_list()
    return Markup("\n".join(html))


def highlight(text: str, terms: tuple[str, ...] | list[str]) -> Markup:
    """Escaped text with the matched search terms wrapped in <mark>, longest term first."""
    escaped = str(escape(text))
    wanted = sorted({str(escape(t)) for t in terms if t and t.strip()}, key=len, reverse=True)
    if not wanted:
        return Markup(escaped)
    pattern = re.compile("|".join(re.escape(t) for t in wanted))
    return Markup(pattern.sub(lambda m: f"<mark>{m.group(0)}</mark>", escaped))


def _top_categories(session: Session) -> list[tuple[str, str]]:
    """The first-level categories that have a published article, for the filter."""
    used = sorted({a.category_code[:2] for a in kb.list_articles(session, limit=1000) if a.category_code})
    names = dict(session.execute(select(Category.code, Category.name).where(Category.code.in_(used))).all()) if used else {}
    return [(code, names.get(code, code)) for code in used]


def _unit_names(session: Session, codes: set[str]) -> dict[str, str]:
    codes = {c for c in codes if c}
    return dict(session.execute(select(Unit.code, Unit.name).where(Unit.code.in_(codes))).all()) if codes else {}


@router.get("/kb")
def kb_list(request: Request, q: str = "", category: str = "", session: Session = Depends(get_db_session)):
    query, category = q.strip()[:MAX_QUERY], category.strip()[:2]
    categories = _top_categories(session)
    if query:
        hits = kb.search(session, query=query, top_k=30)
        articles = {a.external_id: a for a in session.scalars(select(Article).where(Article.external_id.in_([h.id for h in hits])))}
        results = [
            {"id": h.id, "title": highlight(h.title, h.highlights), "snippet": highlight(h.snippet, h.highlights), "article": articles[h.id]}
            for h in hits
            if h.id in articles and (not category or (articles[h.id].category_code or "").startswith(category))
        ]
    else:
        results = [
            {"id": a.external_id, "title": a.title, "snippet": kb.plain_text(a.body)[:90], "article": a}
            for a in kb.list_articles(session, category_code=category or None, limit=200)
        ]
    units = _unit_names(session, {r["article"].unit_code for r in results})
    return render(
        request,
        "public/kb.html",
        {"q": query, "category": category, "categories": categories, "category_names": dict(categories), "results": results, "units": units, "nav": "/kb"},
    )


@router.get("/kb/{external_id}")
def kb_article(external_id: str, request: Request, session: Session = Depends(get_db_session)):
    article = kb.get_article(session, external_id=external_id)
    related = kb.related(session, article=article, limit=RELATED)
    category = session.scalar(select(Category).where(Category.code == article.category_code)) if article.category_code else None
    unit = session.scalar(select(Unit).where(Unit.code == article.unit_code)) if article.unit_code else None
    return render(
        request,
        "public/kb_article.html",
        {"article": article, "body": markdown(article.body, top=2), "related": related, "category": category, "unit": unit, "nav": "/kb"},
    )


# --- 办事指南 ---------------------------------------------------------------------


@router.get("/items")
def items_list(request: Request, q: str = "", department: str = "", session: Session = Depends(get_db_session)):
    query = q.strip()[:MAX_QUERY]
    all_items = kb.list_items(session)
    departments = _unit_names(session, {i.department for i in all_items})
    if query:
        by_code = {i.code: i for i in all_items}
        hits = kb.search_items(session, query=query, top_k=30)
        results = [{"item": by_code[h.id], "name": highlight(h.title, h.highlights)} for h in hits if h.id in by_code]
    else:
        results = [{"item": i, "name": i.name} for i in all_items]
    if department:
        results = [r for r in results if r["item"].department == department]
    return render(
        request,
        "public/items.html",
        {"q": query, "department": department, "departments": sorted(departments.items(), key=lambda kv: kv[0]), "department_names": departments, "results": results, "channels": CHANNELS, "nav": "/items"},
    )


@router.get("/items/{code}")
def item_detail(code: str, request: Request, session: Session = Depends(get_db_session)):
    item = kb.get_item(session, code=code)
    offering = points.list_points(session, service=item.code)
    unit = session.scalar(select(Unit).where(Unit.code == item.department)) if item.department else None
    bookable = [p for p in offering if p.bookable]
    return render(
        request,
        "public/items_detail.html",
        {
            "item": item,
            "unit": unit,
            "point_count": len(offering),
            "bookable_count": len(bookable),
            "channel_help": CHANNEL_HELP,
            "online_url": item.online_url if item.online_url and item.online_url.lower().startswith("https://") else None,
            "nav": "/items",
        },
    )
