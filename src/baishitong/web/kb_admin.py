"""知识库管理: staff list, edit with version checks and live preview, history, import/export, unanswered questions."""

import difflib
from datetime import date, timedelta
from math import ceil
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from baishitong import bounds
from baishitong.assistant import core as assistant_core
from baishitong.assistant import service as assistant
from baishitong.deps import get_db_session
from baishitong.errors import Conflict, DomainError, Forbidden, InvalidInput
from baishitong.knowledge import service as kb
from baishitong.knowledge.documents import ITEM_PREFIX
from baishitong.knowledge.models import Article, ArticleVersion
from baishitong.org import service as org
from baishitong.web.auth import Staff, require
from baishitong.web.csrf import checked_form
from baishitong.web.kb import markdown
from baishitong.web.views import flash, fragment, page_number, redirect, render

router = APIRouter(include_in_schema=False)

READERS = ("admin", "supervisor", "unit_admin", "operator")
EDITORS = ("admin", "supervisor", "unit_admin")
ALL_UNITS = ("admin", "supervisor")
STATUS_LABELS = {"draft": "草稿", "published": "已发布", "retired": "已下线"}
STATUS_KINDS = {"draft": "neutral", "published": "success", "retired": "warning"}
ACTION_LABELS = {"create": "新建", "update": "修改", "publish": "发布", "retire": "下线", "import": "导入"}
FLAGS = {"due": "即将到期", "expired": "已过期", "review": "需复核"}
# The editor keeps the user's text beside the current version, so "refresh" would be the wrong advice there.
STALE_TEXT = "文章已被修改（可能是您在其他窗口的操作或他人的操作）：下方并列显示最新版本和您的修改，请合并后再保存"
STALE_STATUS_TEXT = "文章已被修改（可能是您在其他窗口的操作或他人的操作），请查看最新内容后再操作"
STATUS_DONE = {"draft": "已改回草稿", "published": "已发布", "retired": "已下线"}
TEXT_FIELDS = ("title", "body", "category_code", "unit_code", "keywords", "synonyms", "valid_from", "valid_to", "review_due", "status", "external_id")
DATE_FIELDS = {"valid_from": "生效日期", "valid_to": "失效日期", "review_due": "复核日期"}
MAX_QUERY = 100
PER_PAGE = 50
ANSWER_CHECKS = 200  # groups come largest first; past these the page would be slow for what few read


def can_edit(staff: Staff, article: Article | None) -> bool:
    """Mirrors knowledge.service._check_editor, so the page hides what the service would refuse."""
    if staff.role in ALL_UNITS:
        return True
    return staff.role == "unit_admin" and (article is None or (article.unit_code is not None and article.unit_code == staff.actor.unit_code))


def flags(article: Article, day: date) -> list[str]:
    """Why an article needs attention: validity ending within the review window, already ended, or review due."""
    horizon = day + timedelta(days=kb.REVIEW_WINDOW_DAYS)
    out = []
    if article.valid_to and article.valid_to < day:
        out.append("expired")
    elif article.valid_to and article.valid_to <= horizon:
        out.append("due")
    if article.review_due and article.review_due <= horizon:
        out.append("review")
    return out


def _choices(session: Session) -> dict:
    # Named as staff know them (城乡建设 › 市政设施), the code only the option's value.
    categories = [(c.code, c.path) for c in org.list_categories(session)]
    units = [(u.code, u.name) for u in org.list_units(session)]
    return {"categories": categories, "units": units, "category_names": {c: n for c, n in categories}, "unit_names": dict(units)}


def _get(session: Session, external_id: str, staff: Staff) -> Article:
    """Editing finds what reading finds: another unit's draft is 404, not a 403 telling that it exists."""
    return kb.get_article(session, external_id=external_id, include_unpublished=True, viewer=staff.actor)


@router.get("/staff/kb")
def kb_list(
    request: Request,
    q: str = "",
    status: str = "",
    category: str = "",
    unit: str = "",
    flag: str = "",
    include_retired: bool = False,
    staff: Staff = Depends(require(*READERS)),
    session: Session = Depends(get_db_session),
):
    query = q.strip()[:MAX_QUERY]
    status = status if status in STATUS_LABELS else ""
    flag = flag if flag in FLAGS else ""
    # An operator's list and search hold only the articles in force (kb.reads_published_only): no status to pick, none expired.
    published_only = kb.reads_published_only(staff.actor)
    # Retired articles are searched only when asked for (含已下线, or the status 已下线 itself).
    include_retired = (include_retired or status == "retired") and not published_only
    if query:
        # The staff index holds drafts too. What this user may see and the filters narrow the search itself:
        # filtered after its best 100, a unit's own drafts could be lost.
        among = kb.article_ids(session, include_unpublished=True, status=status or None, unit_code=unit or None, category_code=category or None, viewer=staff.actor)
        ids = [h.id for h in kb.search(session, query=query, top_k=100, include_unpublished=True, include_retired=include_retired, among=among)]
        found = {a.external_id: a for a in session.scalars(select(Article).where(Article.external_id.in_(ids)))} if ids else {}
        articles = [found[i] for i in ids if i in found]
    else:
        articles = kb.list_articles(
            session, include_unpublished=True, status=status or None, unit_code=unit or None, category_code=category or None, limit=None, viewer=staff.actor, newest_first=True
        )
    day = kb.today()
    rows = [{"article": a, "flags": flags(a, day), "editable": can_edit(staff, a)} for a in articles]
    if flag:
        rows = [r for r in rows if flag in r["flags"]]
    pages = max(1, ceil(len(rows) / PER_PAGE))
    page = min(page_number(request), pages)
    query_string = {k: v for k, v in (("q", query), ("status", status), ("category", category), ("unit", unit), ("flag", flag), ("include_retired", "1" if include_retired else "")) if v}
    return render(
        request,
        "staff/kb.html",
        {
            **_choices(session),
            "rows": rows[(page - 1) * PER_PAGE : page * PER_PAGE],
            "total": len(rows),
            "first": (page - 1) * PER_PAGE + 1,
            "page": page,
            "pages": pages,
            "page_url": lambda p: "/staff/kb?" + urlencode({**query_string, "page": p}),
            "filters": {"q": query, "status": status, "category": category, "unit": unit, "flag": flag, "include_retired": include_retired},
            "statuses": [] if published_only else list(STATUS_LABELS.items()),
            "flag_options": [(k, v) for k, v in FLAGS.items() if not (published_only and k == "expired")],
            "published_only": published_only,
            "flag_labels": FLAGS,
            "status_labels": STATUS_LABELS,
            "status_kinds": STATUS_KINDS,
            "can_create": can_edit(staff, None),
            "can_import": staff.role in ALL_UNITS,
            "nav": "/staff/kb",
        },
    )


# --- the editor -------------------------------------------------------------------


def _values_from(article: Article) -> dict:
    values = {name: getattr(article, name) for name in kb.ARTICLE_FIELDS}
    values["keywords"] = "、".join(article.keywords)
    values["synonyms"] = "、".join(article.synonyms)
    for name in DATE_FIELDS:
        values[name] = values[name].isoformat() if values[name] else ""
    values.update(status=article.status, version=article.version, external_id=article.external_id)
    return {k: v or "" for k, v in values.items()} | {"version": article.version}


def _editor(request: Request, session: Session, staff: Staff, *, article: Article | None, values: dict, error: str | None = None, current: Article | None = None, status_code: int = 200):
    return render(
        request,
        "staff/kb_edit.html",
        {
            **_choices(session),
            "article": article,
            "values": values,
            "error": error,
            "current": current,
            "preview": markdown(values.get("body", "")),
            "statuses": list(STATUS_LABELS.items()),
            "unit_locked": staff.role not in ALL_UNITS,
            "status_labels": STATUS_LABELS,
            "nav": "/staff/kb",
        },
        status_code=status_code,
    )


def _parse(form: FormData, staff: Staff) -> tuple[dict, dict]:
    """(what the user typed, to re-show it; the service fields), or InvalidInput for a bad date."""
    values = {name: str(form.get(name, "")).strip() for name in TEXT_FIELDS}
    values["body"] = str(form.get("body", ""))
    if staff.role not in ALL_UNITS:
        values["unit_code"] = staff.actor.unit_code or ""
    fields = {name: values[name] for name in kb.ARTICLE_FIELDS}
    for name, label in DATE_FIELDS.items():
        try:
            fields[name] = bounds.parse_day(values[name], label) if values[name] else None
        except ValueError as exc:
            raise InvalidInput("invalid_date", str(exc)) from None
    if values["status"] not in STATUS_LABELS:
        values["status"] = "draft"
    return values, fields


@router.get("/staff/kb/new")
def new_form(request: Request, title: str = "", staff: Staff = Depends(require(*EDITORS)), session: Session = Depends(get_db_session)):
    values = {"title": title.strip()[:200], "status": "draft", "unit_code": staff.actor.unit_code or ""}
    return _editor(request, session, staff, article=None, values=values)


@router.post("/staff/kb/new")
def create(request: Request, form: FormData = Depends(checked_form), staff: Staff = Depends(require(*EDITORS)), session: Session = Depends(get_db_session)):
    values = {name: str(form.get(name, "")) for name in TEXT_FIELDS}
    try:
        values, fields = _parse(form, staff)
        article = kb.create_article(session, actor=staff.actor, external_id=values["external_id"] or None, status=values["status"], **fields)
    except (InvalidInput, Conflict, Forbidden) as exc:
        session.rollback()
        return _editor(request, session, staff, article=None, values=values, error=exc.message, status_code=exc.status_code)
    flash(request, "success", f"已保存文章《{article.title}》（{STATUS_LABELS[article.status]}）")
    return redirect(f"/staff/kb/{article.external_id}/edit")


def _require_editable(staff: Staff, article: Article) -> None:
    if not can_edit(staff, article):
        raise Forbidden("not_own_unit", "单位管理员只能编辑本单位的知识库文章")


@router.get("/staff/kb/{external_id}/edit")
def edit_form(external_id: str, request: Request, staff: Staff = Depends(require(*EDITORS)), session: Session = Depends(get_db_session)):
    article = _get(session, external_id, staff)
    _require_editable(staff, article)
    return _editor(request, session, staff, article=article, values=_values_from(article))


@router.post("/staff/kb/{external_id}/edit")
def save(external_id: str, request: Request, form: FormData = Depends(checked_form), staff: Staff = Depends(require(*EDITORS)), session: Session = Depends(get_db_session)):
    article = _get(session, external_id, staff)
    _require_editable(staff, article)
    values = {name: str(form.get(name, "")) for name in TEXT_FIELDS}
    try:
        version = int(str(form.get("version", "")))
    except ValueError:
        version = 0
    try:
        values, fields = _parse(form, staff)
        article = kb.update_article(session, external_id=external_id, version=version, actor=staff.actor, **fields)
        if values["status"] != article.status:
            article = kb.set_status(session, external_id=external_id, status=values["status"], version=article.version, actor=staff.actor)
    except Conflict:
        session.rollback()
        current = _get(session, external_id, staff)
        # The user's text stays in the form; the version moves on so they can save once they have merged.
        return _editor(request, session, staff, article=current, values={**values, "version": current.version}, error=STALE_TEXT, current=current, status_code=409)
    except (InvalidInput, Forbidden) as exc:
        session.rollback()
        return _editor(request, session, staff, article=_get(session, external_id, staff), values={**values, "version": version}, error=exc.message, status_code=exc.status_code)
    if article.version == version:
        flash(request, "info", f"文章没有修改，仍为第 {article.version} 版")
    else:
        flash(request, "success", f"已保存文章《{article.title}》，当前为第 {article.version} 版")
    return redirect(f"/staff/kb/{external_id}/edit")


@router.post("/staff/kb/{external_id}/status")
def change_status(external_id: str, request: Request, form: FormData = Depends(checked_form), staff: Staff = Depends(require(*EDITORS)), session: Session = Depends(get_db_session)):
    """The publish and retire buttons."""
    article = _get(session, external_id, staff)
    _require_editable(staff, article)
    status = str(form.get("status", ""))
    if status not in ("published", "retired"):
        raise InvalidInput("invalid_status", "只能发布或下线文章")
    try:
        version = int(str(form.get("version", "")))
    except ValueError:
        version = 0
    try:
        article = kb.set_status(session, external_id=external_id, status=status, version=version, actor=staff.actor)
    except Conflict:
        session.rollback()
        flash(request, "error", STALE_STATUS_TEXT)
        return redirect(f"/staff/kb/{external_id}/edit")
    flash(request, "success", f"文章《{article.title}》{STATUS_DONE[status]}")
    return redirect(f"/staff/kb/{external_id}/edit")


@router.post("/staff/kb/preview")
def preview(request: Request, form: FormData = Depends(checked_form), staff: Staff = Depends(require(*READERS))):
    """htmx: the body as the public article page will show it."""
    return fragment(request, "staff/kb_preview.html", {"preview": markdown(str(form.get("body", "")))})


# --- history ----------------------------------------------------------------------


# What a version changed from the one before, in the words of the editor's fields.
CHANGE_LABELS = {
    "title": "标题", "body": "正文", "category_code": "分类", "unit_code": "所属单位", "keywords": "关键词", "synonyms": "同义词",
    "valid_from": "生效日期", "valid_to": "失效日期", "review_due": "复核日期", "status": "状态",
}  # fmt: skip


def _field(version: ArticleVersion, name: str):
    value = getattr(version, name)
    return value.replace("\r\n", "\n") if name == "body" else value  # bodies saved before 3cfdb4f kept the browser's CRLF


def _changed(before: ArticleVersion, after: ArticleVersion) -> list[str]:
    return [label for name, label in CHANGE_LABELS.items() if _field(before, name) != _field(after, name)]


def _body_diff(before: ArticleVersion, after: ArticleVersion) -> list[tuple[str, str]]:
    """The body's lines removed ("del") and added ("ins"), with a line of context ("same") around each change."""
    old, new = _field(before, "body").split("\n"), _field(after, "body").split("\n")
    out: list[tuple[str, str]] = []
    for group in difflib.SequenceMatcher(None, old, new, autojunk=False).get_grouped_opcodes(1):
        if out:
            out.append(("gap", "…"))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                out += [("same", line) for line in old[i1:i2]]
                continue
            out += [("del", line) for line in old[i1:i2]] + [("ins", line) for line in new[j1:j2]]
    return out if any(kind != "same" for kind, _ in out) else []


@router.get("/staff/kb/{external_id}/history")
def history(external_id: str, request: Request, v: int | None = None, staff: Staff = Depends(require(*READERS)), session: Session = Depends(get_db_session)):
    # A draft this user may not read (another unit's, or any for an operator) is not found, as in their list.
    article = kb.get_article(session, external_id=external_id, include_unpublished=True, viewer=staff.actor)
    versions = kb.history(session, external_id=external_id, viewer=staff.actor)
    changes = {after.version: _changed(before, after) for before, after in zip(versions, versions[1:])}
    shown: ArticleVersion | None = next((x for x in versions if x.version == v), None) if v is not None else None
    previous = next((x for x in reversed(versions) if shown and x.version < shown.version), None)
    return render(
        request,
        "staff/kb_history.html",
        {
            **_choices(session),
            "article": article,
            "validity_note": kb.validity_note(article, kb.today()),
            "versions": list(reversed(versions)),
            "shown": shown,
            "shown_body": markdown(shown.body) if shown else None,
            "changes": changes,
            "previous": previous,
            "body_diff": _body_diff(previous, shown) if shown and previous else [],
            "editable": can_edit(staff, article),
            "status_labels": STATUS_LABELS,
            "status_kinds": STATUS_KINDS,
            "action_labels": ACTION_LABELS,
            "nav": "/staff/kb",
        },
    )


# --- import / export ----------------------------------------------------------------


@router.get("/staff/kb/import")
def import_form(request: Request, staff: Staff = Depends(require(*ALL_UNITS))):
    return render(request, "staff/kb_import.html", {"result": None, "error": None, "nav": "/staff/kb"})


@router.post("/staff/kb/import")
async def import_upload(request: Request, form: FormData = Depends(checked_form), staff: Staff = Depends(require(*ALL_UNITS)), session: Session = Depends(get_db_session)):
    upload = form.get("file")
    limit = request.app.state.settings.upload_max_bytes
    error, result, filename = None, None, ""
    if not isinstance(upload, UploadFile) or not upload.filename:
        error = "请选择要导入的 CSV、Excel（.xlsx）或 Markdown（.md）文件"
    else:
        filename = upload.filename
        content = await upload.read(limit + 1)
        if len(content) > limit:
            error = f"文件不能超过 {limit // (1024 * 1024)} MB"
        else:
            try:
                result = kb.import_file(session, filename=filename, content=content, actor=staff.actor)
            except DomainError as exc:
                session.rollback()
                error = exc.message
    return render(request, "staff/kb_import.html", {"result": result, "error": error, "filename": filename, "nav": "/staff/kb"}, status_code=422 if error else 200)


@router.get("/staff/kb/export")
def export(format: str = "csv", staff: Staff = Depends(require(*EDITORS)), session: Session = Depends(get_db_session)):
    """What the article list shows this user: a unit admin gets their unit's articles and other units' published ones."""
    if format == "xlsx":
        content, media = kb.export_xlsx(session, actor=staff.actor), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        format, content, media = "csv", kb.export_csv(session, actor=staff.actor), "text/csv; charset=utf-8"
    return Response(content, media_type=media, headers={"Content-Disposition": f'attachment; filename="knowledge.{format}"'})


# --- what 政务君 could not answer ------------------------------------------------------


def _answered_now(index, question: str) -> dict | None:
    """The article 政务君 would cite for the question today, so a gap already filled can be told from an open one."""
    result = assistant_core.answer(question, [], index, threshold=assistant.DEFAULT_THRESHOLD)
    cited = next((c for c in result.citations if not c.id.startswith(ITEM_PREFIX)), None) if not result.handover else None
    return {"id": cited.id, "title": cited.title} if cited else None


@router.get("/staff/kb/unanswered")
def unanswered(request: Request, days: int = 30, staff: Staff = Depends(require(*ALL_UNITS)), session: Session = Depends(get_db_session)):
    days = min(max(days, 1), 365)
    index = kb.combined_index(session)
    groups = [
        {"group": g, "new_url": "/staff/kb/new?" + urlencode({"title": g.label}), "answered": _answered_now(index, g.label) if n < ANSWER_CHECKS else None}
        for n, g in enumerate(assistant.unanswered(session, days=days))
    ]
    return render(request, "staff/kb_unanswered.html", {"groups": groups, "days": days, "day_options": [(7, "近 7 天"), (30, "近 30 天"), (90, "近 90 天")], "nav": "/staff/kb/unanswered"})
