"""Knowledge base and service catalogue: versioned edits, import/export, search and review reminders."""

from __future__ import annotations

import csv
import io
import re
import threading
import uuid
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from baishitong import bounds, clock
from baishitong.actors import Actor
from baishitong.audit import service as audit
from baishitong.dates import day_text
from baishitong.db import claim_version
from baishitong.errors import Conflict, Forbidden, InvalidInput, NotFound
from baishitong.jobs.service import enqueue
from baishitong.knowledge.documents import ITEM_PREFIX, article_document, article_revision, item_document, item_guide_document, item_revision, plain_text, vector_key, vector_revision
from baishitong.knowledge.models import ARTICLE_STATUSES, Article, ArticleVersion, SearchVector, ServiceItem
from baishitong.knowledge.search import Hit, SearchIndex, shown
from baishitong.notify import service as notify
from baishitong.org import service as org
from baishitong.org.models import Category
from baishitong.text import embedding
from baishitong.tickets.schemas import visible_length

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
REVIEW_WINDOW_DAYS = 14
REVIEW_JOB = "knowledge.review_reminders"
# Roles that may edit any article; a unit admin edits only their own unit's.
ALL_UNITS_EDITORS = {"admin", "supervisor", "system"}
EDITOR_ROLES = ALL_UNITS_EDITORS | {"unit_admin"}
# Who reads which articles (`visible_to`): the all-units roles every article; a unit's staff their own unit's in
# every status and other units' published ones; everyone else, the 12345 operators included, published ones only:
# operators answer callers from the knowledge base, and a draft is not approved content.
ALL_UNITS_READERS = ALL_UNITS_EDITORS
UNIT_SCOPED_ROLES = {"unit_admin", "handler"}
_EXTERNAL_ID = re.compile(r"^[^\s:/\\?#]{1,64}$")
_LIST_SPLIT = re.compile(r"[,，、;；\n]+")

TITLE_MAX = 200  # the column's length
ARTICLE_FIELDS = ("title", "body", "category_code", "unit_code", "keywords", "synonyms", "valid_from", "valid_to", "review_due")


def today() -> date:
    return clock.now().astimezone(LOCAL_TZ).date()


def split_list(value: object) -> list[str]:
    """Keywords from a cell or a list: 社保、医保,公积金 → [社保, 医保, 公积金]."""
    if value is None:
        return []
    items = value if isinstance(value, (list, tuple)) else _LIST_SPLIT.split(str(value))
    return list(dict.fromkeys(s for s in (str(i).strip() for i in items) if s))


# --- articles ----------------------------------------------------------------


def get_article(session: Session, *, external_id: str, include_unpublished: bool = False, viewer: Actor | None = None) -> Article:
    """`viewer` limits what is found to what `visible_to` lets them read: another unit's draft is not found."""
    query = select(Article).where(Article.external_id == external_id)
    if (scope := visible_to(viewer)) is not None:
        query = query.where(scope)
    article = session.scalar(query)
    if article is None or (not include_unpublished and not is_public(article, today())):
        raise NotFound("article_not_found", f"知识库文章 {external_id} 不存在")
    return article


def answer_texts(session: Session, *, external_ids: list[str]) -> dict[str, str]:
    """The whole article as plain text, for an operator who files it as the answer to a call: the passage
    a search shows is only what matched, and a caller told one sentence of a procedure is told too little."""
    if not external_ids:
        return {}
    rows = session.execute(select(Article.external_id, Article.body).where(Article.external_id.in_(external_ids)))
    return {external_id: plain_text(body).strip() for external_id, body in rows}


def is_public(article: Article, day: date) -> bool:
    return (
        article.status == "published"
        and (article.valid_from is None or article.valid_from <= day)
        and (article.valid_to is None or article.valid_to >= day)
    )


def visible_to(actor: Actor | None):
    """The one statement of who reads which articles, as a condition on Article; None for every article (the
    all-units roles, and no actor: the command line). Every staff view applies it in the query it reads with:
    the list, the search, the export and a single article or its history."""
    if actor is None or actor.role in ALL_UNITS_READERS:
        return None
    published = Article.status == "published"
    return published if reads_published_only(actor) else or_(Article.unit_code == actor.unit_code, published)


def reads_published_only(actor: Actor | None) -> bool:
    """The readers `visible_to` gives published articles only (neither all units' nor their own unit's drafts), the
    operators among them: they read a policy out to a caller as it stands, so their list and search hold only what
    is in force today, as the public's do, and an article's history only the versions that were published."""
    return actor is not None and actor.role not in ALL_UNITS_READERS and not (actor.role in UNIT_SCOPED_ROLES and actor.unit_code)


def validity_note(article: Article, day: date) -> str | None:
    """已过期 or 未生效 for an article opened directly outside its validity, so it is not read out as current."""
    if article.valid_to is not None and article.valid_to < day:
        return "已过期"
    if article.valid_from is not None and article.valid_from > day:
        return "未生效"
    return None


def _in_force(day: date):
    return and_(
        Article.status == "published",
        or_(Article.valid_from.is_(None), Article.valid_from <= day),
        or_(Article.valid_to.is_(None), Article.valid_to >= day),
    )


def _articles_query(
    columns, *, include_unpublished: bool, status: str | None, unit_code: str | None, category_code: str | None, viewer: Actor | None
):
    """One query for the list and for the ids a search may return, so the two never disagree on what matches."""
    query = select(columns)
    if (scope := visible_to(viewer)) is not None:
        query = query.where(scope)
    if not include_unpublished or reads_published_only(viewer):
        query = query.where(_in_force(today()))
    if status:
        query = query.where(Article.status == status)
    if unit_code:
        query = query.where(Article.unit_code == unit_code)
    if category_code:
        query = query.where(Article.category_code.startswith(category_code))
    return query


def list_articles(
    session: Session,
    *,
    include_unpublished: bool = False,
    status: str | None = None,
    unit_code: str | None = None,
    category_code: str | None = None,
    limit: int | None = 100,
    offset: int = 0,
    viewer: Actor | None = None,
    newest_first: bool = False,
) -> list[Article]:
    """`limit` None lists every match (the staff list pages them after its own filters); `viewer` limits a unit's
    staff to what `visible_to` allows; `newest_first` orders by last update (the staff list, where a new article
    with a generated id would otherwise land on some other page)."""
    query = _articles_query(Article, include_unpublished=include_unpublished, status=status, unit_code=unit_code, category_code=category_code, viewer=viewer)
    # Ties (one import's articles saved in the same instant) keep one order from page to page: the later created first.
    order = (Article.updated_at.desc(), Article.id.desc()) if newest_first else (Article.external_id,)
    return list(session.scalars(query.order_by(*order).limit(limit).offset(offset)))


def article_ids(
    session: Session,
    *,
    include_unpublished: bool = False,
    status: str | None = None,
    unit_code: str | None = None,
    category_code: str | None = None,
    viewer: Actor | None = None,
) -> set[str]:
    """The ids `list_articles` would list, unordered and unlimited: what a filtered search may return (`search`'s `among`)."""
    query = _articles_query(Article.external_id, include_unpublished=include_unpublished, status=status, unit_code=unit_code, category_code=category_code, viewer=viewer)
    return set(session.scalars(query))


def history(session: Session, *, external_id: str, viewer: Actor | None = None) -> list[ArticleVersion]:
    """The versions `viewer` may read: for those who read published articles only, the published versions (an
    earlier draft of a published article is no more approved content than a draft is)."""
    article = get_article(session, external_id=external_id, include_unpublished=True, viewer=viewer)
    query = select(ArticleVersion).where(ArticleVersion.article_id == article.id)
    if reads_published_only(viewer):
        query = query.where(ArticleVersion.status == "published")
    return list(session.scalars(query.order_by(ArticleVersion.version)))


def _check_editor(actor: Actor, unit_code: str | None) -> None:
    if actor.role in ALL_UNITS_EDITORS:
        return
    if actor.role != "unit_admin":
        raise Forbidden("role_not_allowed", "您的角色无权编辑知识库")
    if not unit_code or unit_code != actor.unit_code:
        raise Forbidden("not_own_unit", "单位管理员只能编辑本单位的知识库文章")


def _validate(fields: dict) -> None:
    # A zero-width space or a right-to-left mark survives strip() and would be an article listed with no title.
    if not visible_length(str(fields.get("title") or "")):
        raise InvalidInput("title_required", "文章标题不能为空")
    if len(fields["title"]) > TITLE_MAX:
        raise InvalidInput("title_too_long", f"文章标题不能超过 {TITLE_MAX} 个字")
    valid_from, valid_to = fields.get("valid_from"), fields.get("valid_to")
    if valid_from and valid_to and valid_to < valid_from:
        raise InvalidInput("invalid_validity", "失效日期不能早于生效日期")


def _check_category(session: Session, code: str | None) -> None:
    """An unknown code would be shown as it is on every list and filter nothing."""
    if code and session.scalar(select(Category.id).where(Category.code == code)) is None:
        raise InvalidInput("category_not_found", f"分类编码 {code} 不存在，请使用系统管理“问题分类”中的编码")


def _check_unit(session: Session, code: str | None) -> None:
    """An unknown code would be listed as it is, under no unit's filter, and no unit admin could edit it."""
    if code and org.find_unit(session, code=code) is None:
        raise InvalidInput("unit_not_found", f"单位编码 {code} 不存在，请使用系统管理“单位”中的编码")


def _save_version(session: Session, article: Article, *, action: str, actor: str) -> None:
    """Every saved version is also a step in the audit trail, like every other change: the version row keeps the
    text, the audit entry who did what to which version, without the body a second time."""
    session.add(
        ArticleVersion(
            article=article,
            version=article.version,
            action=action,
            status=article.status,
            saved_by=actor,
            saved_at=article.updated_at,
            **{name: getattr(article, name) for name in ARTICLE_FIELDS},
        )
    )
    audit.record(
        session, actor=actor, action=f"kb_article.{action}", object_type="kb_article", object_id=article.external_id,
        data={"version": article.version, "status": article.status, "unit": article.unit_code},
    )


def _claim_version(session: Session, article: Article, expected: int | None) -> None:
    claim_version(session, article, expected, message="文章已被修改（可能是您在其他窗口的操作或他人的操作），请刷新后重试")


def create_article(
    session: Session,
    *,
    actor: Actor,
    external_id: str | None = None,
    status: str = "draft",
    action: str = "create",
    **fields,
) -> Article:
    fields = _normalise(fields)
    _validate(fields)
    _check_category(session, fields.get("category_code"))
    _check_unit(session, fields.get("unit_code"))
    _check_editor(actor, fields.get("unit_code"))
    if status not in ARTICLE_STATUSES:
        raise InvalidInput("invalid_status", "文章状态必须是 draft、published 或 retired")
    external_id = (external_id or "").strip() or f"kb-{uuid.uuid4().hex[:10]}"
    if not _EXTERNAL_ID.match(external_id):
        raise InvalidInput("invalid_article_id", "文章编号不能含空格、冒号或斜杠，且不超过 64 个字符")
    if session.scalar(select(Article.id).where(Article.external_id == external_id)) is not None:
        _refuse_taken_id(session, external_id, actor)
    article = Article(external_id=external_id, status=status, version=1, updated_by=actor.name, updated_at=clock.now(), **fields)
    session.add(article)
    _save_version(session, article, action=action, actor=actor.name)
    return article


def _refuse_taken_id(session: Session, external_id: str, actor: Actor) -> None:
    """409 naming the article only to whom `visible_to` shows it: to anyone else the id would confirm, and point
    at, another unit's unpublished draft."""
    query = select(Article.id).where(Article.external_id == external_id)
    if (scope := visible_to(actor)) is not None:
        query = query.where(scope)
    if session.scalar(query) is not None:
        raise Conflict("article_exists", f"知识库文章 {external_id} 已存在")
    raise Conflict("article_exists", "该文章编号已被其他单位尚未发布的文章占用，请换一个编号")


def update_article(session: Session, *, external_id: str, version: int | None, actor: Actor, action: str = "update", **fields) -> Article:
    """Full replacement of the editable fields; `version` is the one the editor started from. An article the actor
    may not read is not found (404), as on reading it: a 403 would tell that another unit's draft exists."""
    article = get_article(session, external_id=external_id, include_unpublished=True, viewer=actor)
    fields = _normalise(fields)
    _validate(fields)
    if fields.get("category_code") != article.category_code:
        _check_category(session, fields.get("category_code"))
    if fields.get("unit_code") != article.unit_code:
        _check_unit(session, fields.get("unit_code"))
    _check_editor(actor, article.unit_code)
    _check_editor(actor, fields.get("unit_code"))
    if fields == _normalise(_fields_of(article)) and version in (None, article.version):
        return article  # saved as it was opened: no version that changes nothing (a stale one still conflicts)
    _claim_version(session, article, version)
    for name, value in fields.items():
        setattr(article, name, value)
    _touch(session, article, action=action, actor=actor)
    return article


def set_status(session: Session, *, external_id: str, status: str, version: int | None, actor: Actor) -> Article:
    """Publish or retire; a status change is a saved version like any edit (of an article the actor can read)."""
    article = get_article(session, external_id=external_id, include_unpublished=True, viewer=actor)
    _check_editor(actor, article.unit_code)
    if status not in ARTICLE_STATUSES:
        raise InvalidInput("invalid_status", "文章状态必须是 draft、published 或 retired")
    if article.status == status:
        return article
    _claim_version(session, article, version)
    article.status = status
    _touch(session, article, action={"published": "publish", "retired": "retire"}.get(status, "update"), actor=actor)
    return article


def publish(session: Session, *, external_id: str, actor: Actor, version: int | None = None) -> Article:
    return set_status(session, external_id=external_id, status="published", version=version, actor=actor)


def retire(session: Session, *, external_id: str, actor: Actor, version: int | None = None) -> Article:
    return set_status(session, external_id=external_id, status="retired", version=version, actor=actor)


def _touch(session: Session, article: Article, *, action: str, actor: Actor) -> None:
    article.updated_at = clock.now()
    article.updated_by = actor.name
    _save_version(session, article, action=action, actor=actor.name)


def _fields_of(article: Article) -> dict:
    return {name: getattr(article, name) for name in ARTICLE_FIELDS}


def _normalise(fields: dict) -> dict:
    unknown = set(fields) - set(ARTICLE_FIELDS)
    if unknown:
        raise TypeError(f"unknown article fields: {sorted(unknown)}")
    out = {name: fields.get(name) for name in ARTICLE_FIELDS}
    out["title"] = str(out["title"] or "").strip()
    # A textarea sends CRLF and Excel keeps LF: the same text must compare equal after an export and import.
    out["body"] = str(out["body"] or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    out["keywords"] = split_list(out["keywords"])
    out["synonyms"] = split_list(out["synonyms"])
    for name in ("category_code", "unit_code"):
        out[name] = (str(out[name]).strip() or None) if out[name] else None
    return out


# --- import / export -----------------------------------------------------------


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    # Rows exported before someone edited the article: importing them would undo that edit.
    stale: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged, "stale": self.stale}

    def summary(self) -> str:
        text = f"导入完成：新增 {self.created} 篇，更新 {self.updated} 篇，未变 {self.unchanged} 篇"
        if self.stale:
            text += f"；跳过 {len(self.stale)} 篇（文件中的版本旧于系统中的当前版本，请重新导出后再改）：{'、'.join(self.stale[:10])}"
        return text


# Column → accepted headers (English or Chinese); the first three are required.
COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("id", "编号", "文章编号"),
    "title": ("title", "标题"),
    "body": ("body", "正文", "内容"),
    "category": ("category", "分类", "分类编码"),
    "unit": ("unit", "单位", "单位编码"),
    "keywords": ("keywords", "关键词"),
    "synonyms": ("synonyms", "同义词"),
    "status": ("status", "状态"),
    "version": ("version", "版本"),
    "valid_from": ("valid_from", "生效日期"),
    "valid_to": ("valid_to", "失效日期"),
    "review_due": ("review_due", "复核日期"),
}
REQUIRED_COLUMNS = ("id", "title", "body")
_STATUS_NAMES = {"draft": "draft", "published": "published", "retired": "retired", "草稿": "draft", "已发布": "published", "发布": "published", "已下线": "retired", "下线": "retired"}
_ROW_FIELDS = {"title": "title", "body": "body", "category": "category_code", "unit": "unit_code", "keywords": "keywords", "synonyms": "synonyms"}
_DATE_COLUMNS = {"valid_from": "生效日期", "valid_to": "失效日期", "review_due": "复核日期"}


def _header_map(header: Iterable[object]) -> dict[str, int]:
    lookup = {alias.lower(): column for column, aliases in COLUMNS.items() for alias in aliases}
    found: dict[str, int] = {}
    for position, name in enumerate(header):
        column = lookup.get(str(name or "").strip().lstrip("\ufeff").lower())
        if column and column not in found:
            found[column] = position
    missing = [c for c in REQUIRED_COLUMNS if c not in found]
    if missing:
        raise InvalidInput(
            "missing_columns",
            f"导入文件缺少必需的列：{'、'.join(missing)}（表头须包含 id,title,body，可选 category,unit,keywords,synonyms）",
        )
    return found


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):  # a date typed into an Excel cell
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _table_rows(rows: Iterable[Iterable[object]]) -> list[dict[str, str]]:
    iterator = iter(rows)
    try:
        header = next(iterator)
    except StopIteration:
        raise InvalidInput("empty_file", "导入文件为空") from None
    columns = _header_map(header)
    out = []
    for values in iterator:
        values = list(values)
        if not any(_cell(v) for v in values):
            continue
        out.append({c: _cell(values[i]) if i < len(values) else "" for c, i in columns.items()})
    return out


def read_table(*, filename: str, content: bytes) -> list[dict[str, str]]:
    """Rows of a CSV (UTF-8 or GB18030) or XLSX file, keyed by our column names."""
    suffix = Path(filename).suffix.lower()
    if suffix == ".xlsx":
        from openpyxl import load_workbook

        try:
            workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except Exception:
            raise InvalidInput("invalid_xlsx", "无法读取该 Excel 文件，请确认是 .xlsx 格式") from None
        try:
            return _table_rows(workbook.worksheets[0].iter_rows(values_only=True))
        finally:
            workbook.close()
    if suffix == ".csv":
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = content.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise InvalidInput("invalid_encoding", "无法识别 CSV 文件编码，请另存为 UTF-8")
        return _table_rows(csv.reader(io.StringIO(text)))
    raise InvalidInput("unsupported_format", "仅支持导入 CSV、Excel（.xlsx）文件（表头为 id,title,body，可加 category,unit），或一篇文章的 Markdown（.md）文件")


_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*(?:\n|\Z)", re.S)
_HEADING = re.compile(r"^#\s+(.+?)\s*#*\s*$", re.M)


def read_markdown(path: Path) -> dict[str, str]:
    return parse_markdown(path.read_text("utf-8-sig"), stem=path.stem)


def parse_markdown(text: str, *, stem: str) -> dict[str, str]:
    """One article per file: optional `key: value` front matter, the first `# ` heading is the title, the stem the id."""
    text = text.replace("\r\n", "\n")
    meta: dict[str, str] = {}
    match = _FRONT_MATTER.match(text)
    if match:
        for line in match.group(1).splitlines():
            key, sep, value = line.partition(":")
            if sep:
                meta[key.strip().lower()] = value.strip().strip("\"'").strip("[]")
        text = text[match.end() :]
    title = meta.get("title", "")
    heading = _HEADING.search(text)
    if heading:
        title = title or heading.group(1)
        text = text[: heading.start()] + text[heading.end() :]
    row = {"id": meta.get("id") or stem, "title": title or stem, "body": text.strip()}
    for column in ("category", "unit", "keywords", "synonyms", "status", "version", *_DATE_COLUMNS):
        if column in meta:
            row[column] = meta[column]
    return row


def read_markdown_folder(folder: Path) -> list[dict[str, str]]:
    files = sorted(p for p in folder.rglob("*.md") if p.is_file())
    if not files:
        raise InvalidInput("empty_folder", f"文件夹 {folder.name} 中没有 Markdown（.md）文件")
    return [read_markdown(p) for p in files]


def import_rows(session: Session, *, rows: list[dict[str, str]], actor: Actor, status: str = "published") -> ImportResult:
    """Upsert by external id. New articles get the row's status or `status`; an existing one changes when its content
    or the row's status differs, unless the row carries a version older than the article's (exported before an edit)."""
    result = ImportResult()
    seen: set[str] = set()
    for number, row in enumerate(rows, start=2):
        external_id = row.get("id", "").strip()
        if not external_id:
            raise InvalidInput("missing_id", f"第 {number} 行缺少 id")
        if external_id in seen:
            raise InvalidInput("duplicate_id", f"第 {number} 行的 id {external_id} 在文件中重复出现")
        seen.add(external_id)
        if not row.get("title", "").strip():
            raise InvalidInput("missing_title", f"第 {number} 行（id {external_id}）缺少标题")
        # An exported file says each article's status (a retired or draft one must not come back published).
        row_status = _STATUS_NAMES.get((row.get("status") or "").strip().lower())
        if (row.get("status") or "").strip() and row_status is None:
            raise InvalidInput("invalid_status", f"第 {number} 行（id {external_id}）：状态应为 draft、published 或 retired（草稿、已发布、已下线）")
        article = session.scalar(select(Article).where(Article.external_id == external_id))
        try:
            given = {_ROW_FIELDS[c]: v for c, v in row.items() if c in _ROW_FIELDS}
            for column, label in _DATE_COLUMNS.items():
                if column in row:
                    try:
                        given[column] = bounds.parse_day(row[column], label) if row[column].strip() else None
                    except ValueError as exc:
                        raise InvalidInput("invalid_date", str(exc)) from None
            if article is None:
                create_article(session, actor=actor, external_id=external_id, status=row_status or status, action="import", **given)
                result.created += 1
                continue
            fields = _fields_of(article) | given
            edited = _normalise(fields) != _normalise(_fields_of(article))
            # The status a row gives (an exported sheet's 状态 edited to 已下线) is applied like its text.
            restatus = row_status is not None and row_status != article.status
            if not edited and not restatus:
                result.unchanged += 1
                continue
            exported = (row.get("version") or "").strip()
            if exported.isdigit() and int(exported) < article.version:
                result.stale.append(external_id)
                continue
            if edited:
                update_article(session, external_id=external_id, version=None, actor=actor, action="import", **fields)
            if restatus:
                set_status(session, external_id=external_id, status=row_status, version=None, actor=actor)
        except InvalidInput as exc:
            raise InvalidInput(exc.code, f"第 {number} 行（id {external_id}）：{exc.message}") from None
        result.updated += 1
    return result


def import_file(session: Session, *, filename: str, content: bytes, actor: Actor) -> ImportResult:
    """A CSV or XLSX table, or one article as a Markdown file (as a file of the command line's folder)."""
    if Path(filename).suffix.lower() == ".md":
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InvalidInput("invalid_encoding", "无法识别 Markdown 文件编码，请另存为 UTF-8") from None
        if not text.strip():
            raise InvalidInput("empty_file", "导入文件为空")
        return import_rows(session, rows=[parse_markdown(text, stem=Path(filename).stem)], actor=actor)
    return import_rows(session, rows=read_table(filename=filename, content=content), actor=actor)


def import_path(session: Session, *, path: Path, actor: Actor) -> ImportResult:
    """A CSV/XLSX file or a folder of Markdown files."""
    if path.is_dir():
        return import_rows(session, rows=read_markdown_folder(path), actor=actor)
    if not path.is_file():
        raise NotFound("file_not_found", f"找不到文件 {path}")
    try:
        return import_file(session, filename=path.name, content=path.read_bytes(), actor=actor)
    except InvalidInput as exc:
        if exc.code != "unsupported_format":
            raise
        # Only the command line reads a folder; an upload's message cannot offer one.
        raise InvalidInput(exc.code, "仅支持导入 .csv、.xlsx 文件（表头 id,title,body，可加 category,unit）、.md 文件或 Markdown 文件夹") from None


EXPORT_COLUMNS = ("id", "title", "body", "category", "unit", "keywords", "synonyms", "status", "version", "valid_from", "valid_to", "review_due")


def _exported(session: Session, actor: Actor | None) -> Iterable[Article]:
    """Every article, or for a unit's staff what their article list shows them (`visible_to`)."""
    query = select(Article).order_by(Article.external_id)
    if (scope := visible_to(actor)) is not None:
        query = query.where(scope)
    return session.scalars(query)


def export_rows(session: Session, *, actor: Actor | None = None) -> list[list[str]]:
    rows = [list(EXPORT_COLUMNS)]
    for a in _exported(session, actor):
        rows.append([
            a.external_id, a.title, a.body, a.category_code or "", a.unit_code or "", "、".join(a.keywords),
            "、".join(a.synonyms), a.status, str(a.version), a.valid_from.isoformat() if a.valid_from else "", a.valid_to.isoformat() if a.valid_to else "",
            a.review_due.isoformat() if a.review_due else "",
        ])  # fmt: skip
    return rows


def export_csv(session: Session, *, actor: Actor | None = None) -> bytes:
    """UTF-8 with BOM, so Excel opens the Chinese text correctly; re-importable as is."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows(export_rows(session, actor=actor))
    return buffer.getvalue().encode("utf-8-sig")


def export_xlsx(session: Session, *, actor: Actor | None = None) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "知识库"
    for row in export_rows(session, actor=actor):
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def export_markdown(session: Session, *, folder: Path, actor: Actor | None = None) -> int:
    """One `<id>.md` per article with front matter, readable back by the folder import."""
    folder.mkdir(parents=True, exist_ok=True)
    count = 0
    for a in _exported(session, actor):
        # Everything the folder import reads back: the status and dates (a retired article must not return
        # published), and the version, so a file exported before a later edit is skipped as stale.
        meta = {"category": a.category_code, "unit": a.unit_code, "keywords": ", ".join(a.keywords), "synonyms": ", ".join(a.synonyms), "status": a.status, "version": a.version}
        meta |= {name: getattr(a, name).isoformat() if getattr(a, name) else None for name in _DATE_COLUMNS}
        front = "\n".join(f"{k}: {v}" for k, v in meta.items() if v)
        (folder / f"{a.external_id}.md").write_text(f"---\n{front}\n---\n# {a.title}\n\n{a.body}\n", "utf-8")
        count += 1
    return count


# --- search ---------------------------------------------------------------------

@dataclass
class _Cached:
    revision: tuple
    index: SearchIndex
    vectors: tuple = ()


_cache: dict[tuple[str, str], _Cached] = {}
_cache_lock = threading.Lock()
# One refresh at a time, so two requests after an edit do not both analyse the same articles.
_refresh_lock = threading.Lock()


def _database_key(session: Session) -> str:
    return session.get_bind().engine.url.render_as_string(hide_password=True)


def _cached_index(session: Session, scope: str, revision: tuple, build: Callable[[], Iterable[dict]]) -> SearchIndex:
    """The process's index for `scope`, brought up to date when the data revision (or the day) changed.

    Only documents that differ are analysed again: segmenting 10,000 articles takes about 17 s,
    so rebuilding from scratch would stall the first search after every edit. Sentence vectors
    are read again only when the worker has stored new ones.
    """
    key = (_database_key(session), scope)
    vectors = vector_revision(session)
    with _cache_lock:
        cached = _cache.get(key)
    if cached is not None and cached.revision == revision and cached.vectors == vectors:
        return cached.index
    with _refresh_lock:
        with _cache_lock:
            cached = _cache.get(key)
        if cached is not None and cached.revision == revision and cached.vectors == vectors:
            return cached.index
        if cached is None or cached.revision != revision:
            wanted = {str(doc["id"]): doc for doc in build()}
            if cached is None:
                index = SearchIndex(wanted.values())
            else:
                index = cached.index
                for doc in index.documents():
                    if str(doc["id"]) not in wanted:
                        index.remove(str(doc["id"]))
                index.add_many(doc for doc_id, doc in wanted.items() if index.get(doc_id) != doc)
        else:
            index = cached.index
        if vectors[0] or index.has_vectors():
            _attach_vectors(session, index)
        with _cache_lock:
            _cache[key] = _Cached(revision, index, vectors)
    return index


def _attach_vectors(session: Session, index: SearchIndex) -> None:
    """The documents' stored vectors, and the question encoder to compare them with (loaded on first use)."""
    by_key = {vector_key(doc): str(doc["id"]) for doc in index.documents()}
    stored = session.execute(select(SearchVector.doc_key, SearchVector.vector).where(SearchVector.model == embedding.MODEL_NAME))
    index.set_vectors({by_key[k]: embedding.unpack(blob) for k, blob in stored if k in by_key})
    encoder = embedding.encoder() if index.has_vectors() else None
    index.query_vector = encoder.query if encoder is not None else None


def _articles_for_index(session: Session, *, include_unpublished: bool) -> list[dict]:
    if include_unpublished:
        articles = session.scalars(select(Article))
    else:
        articles = list_articles(session, limit=1_000_000)
    return [article_document(a) for a in articles]


def article_index(session: Session, *, include_unpublished: bool = False) -> SearchIndex:
    """Published, currently valid articles, or for staff every article: the retired ones too, so that a search for
    them (`search`'s include_retired) needs no second index; every other staff search leaves them out."""
    scope = "articles:all" if include_unpublished else "articles:public"
    revision = (*article_revision(session), today())
    return _cached_index(session, scope, revision, lambda: _articles_for_index(session, include_unpublished=include_unpublished))


def item_index(session: Session) -> SearchIndex:
    return _cached_index(session, "items", item_revision(session), lambda: [item_guide_document(i) for i in list_items(session)])


def combined_index(session: Session) -> SearchIndex:
    """Public articles and service items together, for the assistant; item ids carry the `item:` prefix."""
    revision = (*article_revision(session), *item_revision(session), today())

    def build() -> list[dict]:
        items = [item_document(i, prefix=ITEM_PREFIX) for i in list_items(session)]
        return _articles_for_index(session, include_unpublished=False) + items

    return _cached_index(session, "combined", revision, build)


def search(
    session: Session,
    *,
    query: str,
    top_k: int = 10,
    include_unpublished: bool = False,
    include_retired: bool = False,
    cut_tail: bool = True,
    among: Collection[str] | None = None,
) -> list[Hit]:
    """The best articles, without the long tail that scores far below them (`shown`); none when no article
    is about the query (asdfgh, 火星移民签证), so the page says 未找到. `kb search --json` keeps the top_k it was
    asked for (cut_tail=False): a script measuring Recall@k reads ranks, not what a person is shown.
    `among` (from `article_ids`) keeps only those articles before the top_k are taken, so a unit admin's own
    drafts are not crowded out of their results by the drafts of units they cannot see. `include_retired` searches
    the staff index with its retired articles (staff looking up what citizens were told before); callers that
    search for the public or the assistant never pass it."""
    staff = include_unpublished or include_retired
    index = article_index(session, include_unpublished=staff)
    skip_retired = staff and not include_retired

    def allowed(doc) -> bool:
        return not (skip_retired and doc["status"] == "retired") and (among is None or doc["id"] in among)

    # Without a filter the index takes its top_k in one partial sort: the public search keeps that.
    hits = index.found(query, index.search(query, top_k=top_k, filter=allowed if skip_retired or among is not None else None))
    if not cut_tail:
        return hits
    # 含已下线 adds the retired articles to what the search shows without them: a retired article matching far
    # better (often the one looked for) does not set the bar, or it would cut articles in force from the list.
    return shown(hits, measured_by=(lambda h: h.document["status"] != "retired") if include_retired else None)


def related(session: Session, *, article: Article, limit: int) -> list[Hit]:
    """Other published articles on the same matter. The article is its own best hit, far above the rest, so
    `search`'s cut relative to the best would leave almost nothing: here the next `limit` are shown."""
    query = article.title + " " + " ".join(article.keywords)
    return [h for h in search(session, query=query, top_k=limit + 1, cut_tail=False) if h.id != article.external_id][:limit]


def search_many(session: Session, *, queries: list[str], top_k: int = 10) -> list[list[Hit]]:
    """Batch search over published articles with one index build and one matrix product; for measuring,
    so every query keeps its top_k (no `found` cut: a miss shows in the recall, not as an empty row)."""
    return article_index(session).search_many(queries, top_k=top_k)


def search_items(session: Session, *, query: str, top_k: int = 10) -> list[Hit]:
    """The best service items, without the long tail and none for nonsense, as in `search`."""
    index = item_index(session)
    return shown(index.found(query, index.search(query, top_k=top_k)))


# --- review reminders ------------------------------------------------------------


def review_reminders(session: Session, *, today: date) -> int:
    """Queues one reminder per article and due date (valid_to or review_due) within the window; returns how many are new."""
    horizon = today + timedelta(days=REVIEW_WINDOW_DAYS)
    articles = session.scalars(
        select(Article).where(
            Article.status != "retired",
            or_(Article.valid_to.between(today, horizon), Article.review_due.between(today, horizon)),
        )
    )
    queued = 0
    for article in articles:
        dues = {d for d in (article.valid_to, article.review_due) if d is not None and today <= d <= horizon}
        for due in sorted(dues):
            job = enqueue(session, REVIEW_JOB, dedupe_key=f"kb_review:{article.id}:{due.isoformat()}", article_id=article.id, due=due.isoformat())
            queued += job is not None
    return queued


def send_review_reminder(session: Session, *, article_id: int, due: str) -> int:
    """Notifies the owning unit's staff; returns the number of messages (0 if the article or unit is gone)."""
    article = session.get(Article, article_id)
    unit = org.find_unit(session, code=article.unit_code) if article is not None else None
    if article is None or unit is None or article.status == "retired":
        return 0
    day = date.fromisoformat(due)
    messages = notify.to_unit(session, unit_id=unit.id, template_code="kb_review_due", context={"title": article.title, "due": day_text(day), "article_id": article.external_id})
    return len(messages)


# --- service catalogue -------------------------------------------------------------


def list_items(session: Session, *, department: str | None = None) -> list[ServiceItem]:
    query = select(ServiceItem)
    if department:
        query = query.where(ServiceItem.department == department)
    return list(session.scalars(query.order_by(ServiceItem.code)))


def get_item(session: Session, *, code: str) -> ServiceItem:
    item = session.scalar(select(ServiceItem).where(ServiceItem.code == code))
    if item is None:
        raise NotFound("item_not_found", f"服务事项 {code} 不存在")
    return item


def save_item(session: Session, *, code: str, **fields) -> tuple[ServiceItem, bool]:
    """Insert or replace an item by code; returns (item, created)."""
    item = session.scalar(select(ServiceItem).where(ServiceItem.code == code))
    created = item is None
    if created:
        item = ServiceItem(code=code)
        session.add(item)
    for name, value in fields.items():
        setattr(item, name, value)
    item.updated_at = clock.now()
    session.flush()
    return item, created


def load_demo(session: Session) -> dict[str, int]:
    """Demo service items and published KB articles; leaves existing ones (and their edits) alone."""
    from baishitong.actors import SYSTEM
    from baishitong.demo.catalogue import KB_ARTICLES, SERVICE_ITEMS

    counts = {"items": 0, "articles": 0}
    existing_items = set(session.scalars(select(ServiceItem.code)))
    for spec in SERVICE_ITEMS:
        if spec["code"] in existing_items:
            continue
        save_item(
            session,
            code=spec["code"],
            name=spec["name"],
            department=spec.get("department"),
            channels=list(spec.get("channels", [])),
            materials=list(spec.get("materials", [])),
            fee=spec.get("fee"),
            time_limit_days=spec.get("time_limit_days"),
            promised_days=spec.get("promised_days"),
            online_url=spec.get("online_url"),
            description=spec.get("description", ""),
        )
        counts["items"] += 1
    existing_articles = set(session.scalars(select(Article.external_id)))
    rows = [
        {"id": a["code"], "title": a["title"], "body": a["body"], "category": a.get("category_code") or "", "unit": a.get("unit") or "", "keywords": "、".join(a.get("keywords", []))}
        for a in KB_ARTICLES
        if a["code"] not in existing_articles
    ]
    counts["articles"] = import_rows(session, rows=rows, actor=SYSTEM).created
    return counts
