from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Query, Request, Response
from sqlalchemy.orm import Session

from baishitong import idempotency
from baishitong.actors import Actor
from baishitong.bounds import MAX_OFFSET
from baishitong.config import Settings
from baishitong.deps import _bearer, get_db_session, get_settings, user_from_token
from baishitong.errors import InvalidInput, Unauthorized
from baishitong.knowledge import schemas, service
from baishitong.org.api import require_roles

router = APIRouter(prefix="/api/v1", tags=["知识库"])

STAFF_ROLES = ("operator", "handler", "unit_admin", "supervisor", "admin")
editor = require_roles(*sorted(service.EDITOR_ROLES - {"system"}))


def optional_actor(request: Request, session: Session = Depends(get_db_session), settings: Settings = Depends(get_settings)) -> Actor | None:
    """The logged-in staff member, or None for the public; a bad token is still an error."""
    token = _bearer(request)
    if not token:
        return None
    user = user_from_token(session, settings, token)
    if user is None:
        raise Unauthorized("unauthorized", "请先登录或提供有效的访问令牌")
    return Actor.for_user(user)


def _is_staff(actor: Actor | None) -> bool:
    return actor is not None and actor.role in STAFF_ROLES


def article_url(external_id: str) -> str:
    return f"/kb/{external_id}"


def item_url(code: str) -> str:
    return f"/items/{code}"


def article_out(a) -> schemas.ArticleOut:
    return schemas.ArticleOut(
        id=a.external_id,
        title=a.title,
        body=a.body,
        category_code=a.category_code,
        unit_code=a.unit_code,
        keywords=a.keywords,
        synonyms=a.synonyms,
        valid_from=a.valid_from,
        valid_to=a.valid_to,
        review_due=a.review_due,
        status=a.status,
        version=a.version,
        validity_note=service.validity_note(a, service.today()),
        updated_at=a.updated_at,
        updated_by=a.updated_by,
        url=article_url(a.external_id),
    )


def item_out(i) -> schemas.ItemOut:
    return schemas.ItemOut(
        code=i.code,
        name=i.name,
        department=i.department,
        channels=i.channels,
        materials=i.materials,
        fee=i.fee,
        time_limit_days=i.time_limit_days,
        promised_days=i.promised_days,
        online_url=i.online_url,
        description=i.description,
        url=item_url(i.code),
    )


def hit_out(hit, url: str) -> dict:
    return {"id": hit.id, "title": hit.title, "score": round(hit.score, 4), "snippet": hit.snippet, "highlights": list(hit.highlights), "url": url}


@router.get("/kb/search", response_model=list[schemas.ArticleHitOut])
def search(
    q: str = Query(min_length=1, max_length=200),
    top: int = Query(default=10, ge=1, le=50),
    include_retired: bool = Query(default=False, description="工作人员查找已下线的文章（status 为 retired）；公众带此参数无效"),
    actor: Actor | None = Depends(optional_actor),
    session: Session = Depends(get_db_session),
):
    """Search over published, currently valid articles; staff with `include_retired` also find the retired ones
    they may read (`visible_to`), to see what citizens were told before or to publish one again."""
    if include_retired and _is_staff(actor):
        among = service.article_ids(session) | service.article_ids(session, include_unpublished=True, status="retired", viewer=actor)
        hits = service.search(session, query=q, top_k=top, include_retired=True, among=among)
    else:
        hits = service.search(session, query=q, top_k=top)
    # A retired article has no public page: staff open it in the editor, where it can be published again.
    return [{**hit_out(h, article_url(h.id) if h.document["status"] != "retired" else f"/staff/kb/{h.id}/edit"), "status": h.document["status"]} for h in hits]


@router.get(
    "/kb/articles",
    response_model=list[schemas.ArticleOut],
    description=(
        "文章列表，按最近更新时间（`updated_at`，修改、发布、下线都算更新）从新到旧排列；同一时刻保存的文章按创建先后，后创建的在前。"
        "顺序是确定的：翻页期间没有文章更新时，用 `limit`、`offset` 逐页读取不会重复或遗漏（更新过的文章移到最前）。"
        "公众只看到已发布且在有效期内的文章；工作人员带 `include_drafts=true` 看到自己可读的文章（12345 话务员仍只看到已发布且在有效期内的）。"
    ),
)
def list_articles(
    include_drafts: bool = False,
    status: str | None = None,
    unit: str | None = None,
    category: str | None = None,
    limit: int = Query(default=100, ge=1, le=1000),
    offset: int = Query(default=0, ge=0, le=MAX_OFFSET),
    actor: Actor | None = Depends(optional_actor),
    session: Session = Depends(get_db_session),
):
    staff_view = include_drafts and _is_staff(actor)
    articles = service.list_articles(
        session,
        include_unpublished=staff_view,
        status=status if staff_view else None,
        unit_code=unit,
        category_code=category,
        limit=limit,
        offset=offset,
        viewer=actor if staff_view else None,
        newest_first=True,
    )
    return [article_out(a) for a in articles]


@router.get("/kb/articles/{external_id}", response_model=schemas.ArticleOut)
def get_article(external_id: str, actor: Actor | None = Depends(optional_actor), session: Session = Depends(get_db_session)):
    """A draft is found only by the staff who may read it (`visible_to`), as in their list."""
    return article_out(service.get_article(session, external_id=external_id, include_unpublished=_is_staff(actor), viewer=actor))


@router.get("/kb/articles/{external_id}/history", response_model=list[schemas.ArticleVersionOut])
def article_history(external_id: str, actor: Actor = Depends(require_roles(*STAFF_ROLES)), session: Session = Depends(get_db_session)):
    """The versions of an article this user may read: another unit's draft, or any draft for an operator, is not found."""
    return [schemas.ArticleVersionOut.model_validate(v, from_attributes=True) for v in service.history(session, external_id=external_id, viewer=actor)]


@router.post("/kb/articles", response_model=schemas.ArticleOut, status_code=201, responses=idempotency.replayed_response(schemas.ArticleOut))
def create_article(
    data: schemas.ArticleCreate, response: Response, actor: Actor = Depends(editor), session: Session = Depends(get_db_session), idempotency_key: idempotency.Key = None
):
    """A retry with the same Idempotency-Key returns the article the first one created (200)."""
    scope, body = idempotency.scope("kb.articles.create", actor=actor), data.model_dump(mode="json")
    first = idempotency.replayed(session, scope=scope, key=idempotency_key, body=body)
    if first is not None:
        response.status_code = 200
        return article_out(service.get_article(session, external_id=first, include_unpublished=True))
    fields = data.model_dump(exclude={"id", "status"})
    article = service.create_article(session, actor=actor, external_id=data.id, status=data.status, **fields)
    idempotency.remember(session, scope=scope, key=idempotency_key, body=body, resource_id=article.external_id)
    return article_out(article)


@router.put("/kb/articles/{external_id}", response_model=schemas.ArticleOut)
def update_article(external_id: str, data: schemas.ArticleUpdate, actor: Actor = Depends(editor), session: Session = Depends(get_db_session)):
    fields = data.model_dump(exclude={"version", "status"})
    article = service.update_article(session, external_id=external_id, version=data.version, actor=actor, **fields)
    if data.status is not None and data.status != article.status:
        article = service.set_status(session, external_id=external_id, status=data.status, version=article.version, actor=actor)
    return article_out(article)


@router.post("/kb/import", response_model=schemas.ArticleImportOut)
async def import_articles(
    request: Request, upload: Annotated[schemas.ArticleImportIn, File()], actor: Actor = Depends(require_roles("admin")), session: Session = Depends(get_db_session)
):
    file = upload.file
    limit = request.app.state.settings.upload_max_bytes
    content = await file.read(limit + 1)
    if len(content) > limit:
        raise InvalidInput("file_too_large", f"文件不能超过 {limit // (1024 * 1024)} MB")
    result = service.import_file(session, filename=file.filename or "", content=content, actor=actor)
    return result.as_dict()


@router.get("/kb/export")
def export_articles(
    format: Literal["csv", "xlsx"] = "csv", actor: Actor = Depends(editor), session: Session = Depends(get_db_session)
):
    """A unit admin gets what their article list holds: their unit's articles and other units' published ones."""
    if format == "xlsx":
        content, media = service.export_xlsx(session, actor=actor), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        content, media = service.export_csv(session, actor=actor), "text/csv; charset=utf-8"
    return Response(content, media_type=media, headers={"Content-Disposition": f'attachment; filename="knowledge.{format}"'})


@router.get("/items", response_model=list[schemas.ItemHitOut] | list[schemas.ItemOut])
def list_items(
    q: str | None = Query(default=None, max_length=200),
    department: str | None = None,
    top: int = Query(default=10, ge=1, le=50),
    session: Session = Depends(get_db_session),
):
    """The service catalogue; with `q`, the best matches first."""
    if q:
        return [
            schemas.ItemHitOut(**hit_out(h, item_url(h.id)), item=item_out(service.get_item(session, code=h.id)))
            for h in service.search_items(session, query=q, top_k=top)
        ]
    return [item_out(i) for i in service.list_items(session, department=department)]


@router.get("/items/{code}", response_model=schemas.ItemOut)
def get_item(code: str, session: Session = Depends(get_db_session)):
    return item_out(service.get_item(session, code=code))
